// ShoalQuant: GGUF (ggml) quantized-block kernels for CPU inference.
//
// Block layouts follow ggml exactly; `type` arguments use ggml's numbering
// (SHOAL_GGML_* below). All functions are thread-safe unless noted.
#ifndef SHOAL_QUANT_H
#define SHOAL_QUANT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ggml tensor type ids (the values stored in GGUF tensor infos).
enum {
    SHOAL_GGML_F32  = 0,
    SHOAL_GGML_F16  = 1,
    SHOAL_GGML_Q4_0 = 2,
    SHOAL_GGML_Q4_1 = 3,
    SHOAL_GGML_Q5_0 = 6,
    SHOAL_GGML_Q5_1 = 7,
    SHOAL_GGML_Q8_0 = 8,
    SHOAL_GGML_Q8_1 = 9,
    SHOAL_GGML_Q2_K = 10,
    SHOAL_GGML_Q3_K = 11,
    SHOAL_GGML_Q4_K = 12,
    SHOAL_GGML_Q5_K = 13,
    SHOAL_GGML_Q6_K = 14,
    SHOAL_GGML_Q8_K = 15,
    SHOAL_GGML_BF16 = 30,
};

// Elements per block for `type` (1 for F32/F16/BF16, 32 or 256 for quants);
// 0 if the type is unknown to this library.
int shoal_quant_block_size(int type);

// Bytes per block for `type` (e.g. 18 for Q4_0, 144 for Q4_K); 0 if unknown.
int shoal_quant_type_size(int type);

// Bytes in one row of `k` elements of `type`: k / block_size * type_size.
// Returns -1 if the type is unknown or k is not a multiple of the block size.
int64_t shoal_quant_row_bytes(int type, int64_t k);

// Dequantizes `n` elements (n / block_size whole blocks) from `src` to `dst`.
// Bit-exact with gguf-py's gguf.quants.dequantize. Supported: F32, F16, BF16,
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
// Returns 0, or -1 for an unsupported type or n not a multiple of the block size.
int shoal_dequantize_row(int type, const void *src, float *dst, int64_t n);

// 1 if shoal_qmatmul supports weights of `type`, else 0. Same set as
// shoal_dequantize_row.
int shoal_qmatmul_supported(int type);

// out[r * out_stride + o] = dot(W[o, :], x[r, :]) for o < n_out, r < nrows.
// W: n_out rows of k elements of `type`, row-major, rows contiguous
// (shoal_quant_row_bytes(type, k) bytes each); may point into a read-only mmap.
// x: nrows rows of k fp32 values, contiguous (row r at x + r * k).
// Quantized weights are multiplied the llama.cpp way: each x row is quantized
// once to 8-bit blocks (32-element blocks with scale and sum for Q4_0..Q8_0,
// Q8_K-style 256-element blocks with bsums for K-quants) and dotted with
// integer arithmetic; F32/F16/BF16 weights use fp32 x directly (FMA).
// Results do not depend on n_threads (each output is computed by one thread).
// n_threads <= 1 runs on the calling thread only; larger values use the
// library's persistent thread pool (the caller participates; idle workers spin
// SHOAL_QUANT_SPIN_US microseconds, default 200, then sleep). Safe to call
// from several threads at once: if the pool is busy, the call runs on the
// calling thread alone. Returns 0, or -1 for unsupported type, k not a
// multiple of the block size, or out of memory.
int shoal_qmatmul(int type, const void *w, int64_t n_out, int64_t k,
                  const float *x, int nrows, float *out, int64_t out_stride,
                  int n_threads);

// Reference mode: same contract as shoal_qmatmul, but each weight row is
// dequantized exactly (as shoal_dequantize_row) and dotted with the unquantized
// fp32 x in double precision, rounded to float once. Slow; for parity tests.
int shoal_matmul_f32ref(int type, const void *w, int64_t n_out, int64_t k,
                        const float *x, int nrows, float *out, int64_t out_stride,
                        int n_threads);

// Kernel set in use: SHOAL_CPU_SCALAR (portable C) or SHOAL_CPU_AVX2
// (AVX2+FMA+F16C, chosen at run time). Setting the environment variable
// SHOAL_QUANT_PORTABLE=1 before the first call forces SHOAL_CPU_SCALAR.
enum { SHOAL_CPU_SCALAR = 0, SHOAL_CPU_AVX2 = 1 };
int shoal_cpu_features(void);

// Short name of the active kernel set ("scalar" or "avx2"), for bench lines.
const char *shoal_cpu_features_name(void);

// Testing hook: forces the kernel set (SHOAL_CPU_SCALAR, or SHOAL_CPU_AVX2 if
// the CPU has it) for later calls; calls already running keep theirs.
// Returns the set now active.
int shoal_set_cpu_features(int features);

#ifdef __cplusplus
}
#endif

#endif // SHOAL_QUANT_H
