// Private declarations shared by the CShoalQuant sources: ggml block layouts,
// the 8-bit activation formats, half-precision conversion and kernel tables.
#ifndef SHOAL_QUANT_INTERNAL_H
#define SHOAL_QUANT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ShoalQuant.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHOAL_X86 1
#else
#define SHOAL_X86 0
#endif

#define SHOAL_QK 32    // elements per block for the 32-element formats
#define SHOAL_QKK 256  // elements per K-quant super-block

// ---------------------------------------------------------------------------
// ggml block layouts (ggml-common.h). Half values are raw IEEE binary16 bits.
// All members are bytes or uint16_t, so there is no padding: sizeof matches
// ggml's type_size exactly (checked below).

typedef struct { uint16_t d; uint8_t qs[16]; } blk_q4_0;                 // x = d * (q - 8)
typedef struct { uint16_t d, m; uint8_t qs[16]; } blk_q4_1;              // x = d * q + m
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } blk_q5_0;  // x = d * (q - 16)
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } blk_q5_1;
typedef struct { uint16_t d; int8_t qs[32]; } blk_q8_0;                  // x = d * q

// K-quants: 256-element super-blocks of 16 or 32-element sub-blocks.
typedef struct {
    uint8_t scales[16];  // per 16 elements: low nibble scale, high nibble min
    uint8_t qs[64];      // 2-bit quants
    uint16_t d, dmin;
} blk_q2_k;
typedef struct {
    uint8_t hmask[32];   // high bit of each 3-bit quant (set = no -4 offset)
    uint8_t qs[64];      // low 2 bits
    uint8_t scales[12];  // 16 6-bit scales, biased by 32
    uint16_t d;
} blk_q3_k;
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[12];  // 8 6-bit scales and 8 6-bit mins
    uint8_t qs[128];     // 4-bit quants
} blk_q4_k;
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qh[32];      // 5th bit
    uint8_t qs[128];     // low 4 bits
} blk_q5_k;
typedef struct {
    uint8_t ql[128];     // low 4 bits
    uint8_t qh[64];      // high 2 bits
    int8_t scales[16];   // per 16 elements
    uint16_t d;
} blk_q6_k;

_Static_assert(sizeof(blk_q4_0) == 18, "q4_0 layout");
_Static_assert(sizeof(blk_q4_1) == 20, "q4_1 layout");
_Static_assert(sizeof(blk_q5_0) == 22, "q5_0 layout");
_Static_assert(sizeof(blk_q5_1) == 24, "q5_1 layout");
_Static_assert(sizeof(blk_q8_0) == 34, "q8_0 layout");
_Static_assert(sizeof(blk_q2_k) == 84, "q2_k layout");
_Static_assert(sizeof(blk_q3_k) == 110, "q3_k layout");
_Static_assert(sizeof(blk_q4_k) == 144, "q4_k layout");
_Static_assert(sizeof(blk_q5_k) == 176, "q5_k layout");
_Static_assert(sizeof(blk_q6_k) == 210, "q6_k layout");

// ---------------------------------------------------------------------------
// Quantized activations (our own formats; never stored in files).
//
// Q8 (for the 32-element weight formats): each row is quantized in 32-element
// blocks to int8 qs with scale d; s = d * sum(qs) lets offset formats use
// unsigned weight values: dot(d_w*(u - 8), d_a*y) = d_w*d_a*dot(u,y) - 8*d_w*s.
// The qs of a row are contiguous (32 bytes per block), while d and s are kept
// transposed, d[b * ld + r], so a kernel loads block b's scales for 8
// activation rows with one vector load.
//
// act_q8k (for the K-quants): a 256-element block; bsums[g] = sum of qs over
// elements 16g..16g+15, used for the K-quants' mins and offsets.
typedef struct { int8_t qs[256]; int16_t bsums[16]; float d; int32_t pad_[7]; } act_q8k;
_Static_assert(sizeof(act_q8k) == 320, "act_q8k layout");

// The AVX2 kernels take Q8 activations of 2 or more rows "8-row interleaved":
// per group of 8 rows and per block, 256 bytes holding, for each 4-element
// group g, the 4 int8 of rows 0..7 in turn (32 bytes). A broadcast weight
// 4-byte group then meets all 8 rows in one maddubs, with row r's sum landing
// in 32-bit lane r, so no horizontal reduction is needed. Missing rows of the
// last group are zero.
#define SHOAL_IL8_BLOCK 256

// A group of up to SHOAL_MAX_R activation rows as a kernel sees them.
typedef struct {
    const uint8_t *q;  // row 0: int8 qs (Q8), act_q8k blocks, or fp32 values;
                       // for interleaved Q8, the group's first 256-byte block
    size_t q_stride;   // bytes between rows of q (0 when interleaved)
    const float *d;    // Q8 only: d[b * ld + r] for the group's row r
    const float *s;    // Q8 only: s[b * ld + r]
    int64_t ld;        // Q8 only: a multiple of 8; lanes past the group's rows are padding
} act_view;

// ---------------------------------------------------------------------------
// IEEE binary16 -> binary32, exact for every input (incl. subnormals, inf, NaN
// payloads), using integer operations only so no FP environment matters.
static inline float shoal_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);            // inf / NaN
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (man << 13);   // normal: rebias 15 -> 127
    } else if (man == 0) {
        bits = sign;                                        // +-0
    } else {
        // Subnormal: value = man * 2^-24. With p the index of man's top bit,
        // value = 1.f * 2^(p - 24), so the fp32 exponent field is p + 103.
        uint32_t p = 31u - (uint32_t)__builtin_clz(man);
        bits = sign | ((p + 103u) << 23) | ((man << (23u - p)) & 0x7fffffu);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline float shoal_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

// K-quant 6-bit scale/min unpacking for Q4_K and Q5_K (sub-block j of 8).
static inline void shoal_k4_scale_min(const uint8_t *s, int j, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (uint8_t)((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
        *m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

// Q3_K: the 16 6-bit scales (still biased by 32) from their 12 packed bytes.
static inline void shoal_q3k_scales(const uint8_t *s, uint8_t out[16]) {
    for (int i = 0; i < 16; i++) {
        uint8_t lo = (i < 8) ? (s[i] & 0x0f) : (s[i - 8] >> 4);
        uint8_t hi = (s[8 + (i & 3)] >> (2 * (i >> 2))) & 3;
        out[i] = (uint8_t)(lo | (hi << 4));
    }
}

// ---------------------------------------------------------------------------
// Kernels. A "row kernel" computes nw consecutive weight rows (row_bytes
// apart) against R (1..SHOAL_MAX_R) activation rows:
// out[r * out_stride + o] = dot(w_o, x_r). `nb` is the number of weight blocks
// per row (elements, for float types). Taking several weight rows per call
// keeps per-call set-up off the per-row cost.
#define SHOAL_MAX_R 8

typedef void (*shoal_row_kernel)(const void *w, size_t row_bytes, int64_t nw, int64_t nb, const act_view *a, int R,
                                 float *out, int64_t out_stride);

// Which activation form a weight type is multiplied with.
enum { SHOAL_ACT_F32 = 0, SHOAL_ACT_Q8 = 1, SHOAL_ACT_Q8K = 2 };

// Activation quantizers for one row of n elements (a multiple of the block
// size). Q8 writes block b's qs in 4-byte groups, group g of block b at
// q + b * qbs + g * qgs (qgs = 4, qbs = 32 for a plain row; qgs = 32, qbs =
// 256 for the 8-row interleaved layout, see SHOAL_IL8), and block b's scale
// and sum to d[b * ld], s[b * ld]. Q8K writes n/256 act_q8k blocks to q.
typedef void (*shoal_quantize_q8_fn)(const float *x, int8_t *q, int64_t qgs, int64_t qbs, float *d, float *s,
                                     int64_t ld, int64_t n);
typedef void (*shoal_quantize_q8k_fn)(const float *x, act_q8k *q, int64_t n);

// Portable kernels (dot_scalar.c, quantize_activations.c).
shoal_row_kernel shoal_scalar_kernel(int type);
void shoal_quantize_q8_scalar(const float *x, int8_t *q, int64_t qgs, int64_t qbs, float *d, float *s, int64_t ld,
                              int64_t n);
void shoal_quantize_q8k_scalar(const float *x, act_q8k *q, int64_t n);

#if SHOAL_X86
// AVX2+FMA+F16C kernels (dot_avx2.c, quantize_activations.c); call only when
// the CPU supports them.
shoal_row_kernel shoal_avx2_kernel(int type);
void shoal_quantize_q8_avx2(const float *x, int8_t *q, int64_t qgs, int64_t qbs, float *d, float *s, int64_t ld,
                            int64_t n);
void shoal_quantize_q8k_avx2(const float *x, act_q8k *q, int64_t n);
#endif

// ---------------------------------------------------------------------------
// Thread pool (pool.c). shoal_pool_run calls fn(arg, 0, n) on the calling
// thread and fn(arg, i, n) on up to n - 1 pool workers that join in time, so
// fn must share its work dynamically (e.g. an atomic counter) and, on the
// calling thread, return only when every work item has been claimed. Returns
// when all participants are done, or 0 without running anything if another
// thread is using the pool.
typedef void (*shoal_task_fn)(void *arg, int index, int count);
int shoal_pool_run(int n, shoal_task_fn fn, void *arg);

#endif // SHOAL_QUANT_INTERNAL_H
