// Matrix products with quantized weights: type metadata, kernel selection,
// activation quantization, tiling and the split of output rows across threads.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE  // clock_gettime, pthread extras even under a strict -std=c11
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"

// ---------------------------------------------------------------------------
// Type metadata.

int shoal_quant_block_size(int type) {
    switch (type) {
    case SHOAL_GGML_F32: case SHOAL_GGML_F16: case SHOAL_GGML_BF16: return 1;
    case SHOAL_GGML_Q4_0: case SHOAL_GGML_Q4_1: case SHOAL_GGML_Q5_0: case SHOAL_GGML_Q5_1:
    case SHOAL_GGML_Q8_0: case SHOAL_GGML_Q8_1: return 32;
    case SHOAL_GGML_Q2_K: case SHOAL_GGML_Q3_K: case SHOAL_GGML_Q4_K: case SHOAL_GGML_Q5_K:
    case SHOAL_GGML_Q6_K: case SHOAL_GGML_Q8_K: return 256;
    default: return 0;
    }
}

int shoal_quant_type_size(int type) {
    switch (type) {
    case SHOAL_GGML_F32: return 4;
    case SHOAL_GGML_F16: case SHOAL_GGML_BF16: return 2;
    case SHOAL_GGML_Q4_0: return 18;
    case SHOAL_GGML_Q4_1: return 20;
    case SHOAL_GGML_Q5_0: return 22;
    case SHOAL_GGML_Q5_1: return 24;
    case SHOAL_GGML_Q8_0: return 34;
    case SHOAL_GGML_Q8_1: return 36;
    case SHOAL_GGML_Q2_K: return 84;
    case SHOAL_GGML_Q3_K: return 110;
    case SHOAL_GGML_Q4_K: return 144;
    case SHOAL_GGML_Q5_K: return 176;
    case SHOAL_GGML_Q6_K: return 210;
    case SHOAL_GGML_Q8_K: return 292;
    default: return 0;
    }
}

int64_t shoal_quant_row_bytes(int type, int64_t k) {
    const int bs = shoal_quant_block_size(type);
    if (bs == 0 || k < 0 || k % bs != 0) return -1;
    return k / bs * shoal_quant_type_size(type);
}

static int act_kind(int type) {
    switch (type) {
    case SHOAL_GGML_F32: case SHOAL_GGML_F16: case SHOAL_GGML_BF16: return SHOAL_ACT_F32;
    case SHOAL_GGML_Q4_0: case SHOAL_GGML_Q4_1: case SHOAL_GGML_Q5_0: case SHOAL_GGML_Q5_1:
    case SHOAL_GGML_Q8_0: return SHOAL_ACT_Q8;
    case SHOAL_GGML_Q2_K: case SHOAL_GGML_Q3_K: case SHOAL_GGML_Q4_K: case SHOAL_GGML_Q5_K:
    case SHOAL_GGML_Q6_K: return SHOAL_ACT_Q8K;
    default: return -1;
    }
}

int shoal_qmatmul_supported(int type) { return act_kind(type) >= 0; }

// ---------------------------------------------------------------------------
// Kernel set selection: decided once, on first use.

static _Atomic int features = -1;

static int cpu_has_avx2(void) {
#if SHOAL_X86
    __builtin_cpu_init();
    // Every AVX2 CPU made has FMA and F16C, but check all three we compile for.
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
    return 0;
#endif
}

int shoal_cpu_features(void) {
    int f = atomic_load_explicit(&features, memory_order_relaxed);
    if (f < 0) {
        const char *e = getenv("SHOAL_QUANT_PORTABLE");
        const int portable = e && e[0] && e[0] != '0';
        f = (!portable && cpu_has_avx2()) ? SHOAL_CPU_AVX2 : SHOAL_CPU_SCALAR;
        atomic_store_explicit(&features, f, memory_order_relaxed);
    }
    return f;
}

const char *shoal_cpu_features_name(void) {
    return shoal_cpu_features() == SHOAL_CPU_AVX2 ? "avx2" : "scalar";
}

int shoal_set_cpu_features(int f) {
    f = (f == SHOAL_CPU_AVX2 && cpu_has_avx2()) ? SHOAL_CPU_AVX2 : SHOAL_CPU_SCALAR;
    atomic_store(&features, f);
    return f;
}

static shoal_row_kernel pick_kernel(int type, int feat) {
#if SHOAL_X86
    if (feat == SHOAL_CPU_AVX2) return shoal_avx2_kernel(type);
#endif
    (void)feat;
    return shoal_scalar_kernel(type);
}

static shoal_quantize_q8_fn pick_quantizer_q8(int feat) {
#if SHOAL_X86
    if (feat == SHOAL_CPU_AVX2) return shoal_quantize_q8_avx2;
#endif
    (void)feat;
    return shoal_quantize_q8_scalar;
}

static shoal_quantize_q8k_fn pick_quantizer_q8k(int feat) {
#if SHOAL_X86
    if (feat == SHOAL_CPU_AVX2) return shoal_quantize_q8k_avx2;
#endif
    (void)feat;
    return shoal_quantize_q8k_scalar;
}

// ---------------------------------------------------------------------------
// Per-thread scratch for quantized activations, reused across calls (a decode
// step makes ~100 calls) and freed when the thread exits.

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

typedef struct { void *p; size_t size; } scratch;

static void scratch_free(void *v) {
    scratch *s = v;
    if (s) free(s->p);
    free(s);
}

static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

static void *get_scratch(size_t size) {
    pthread_once(&scratch_once, scratch_init);
    scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        pthread_setspecific(scratch_key, s);
    }
    if (s->size < size) {
        free(s->p);
        s->size = 0;
        s->p = aligned_alloc(64, (size + 63) & ~(size_t)63);
        if (!s->p) return NULL;
        s->size = size;
    }
    return s->p;
}

// ---------------------------------------------------------------------------
// Work split. Output rows are handed out in chunks from an atomic counter, so
// a thread slowed by a noisy neighbour simply takes fewer chunks.

typedef struct {
    shoal_row_kernel kern;
    const uint8_t *w;
    size_t row_bytes;
    int64_t nb;           // weight blocks per row (elements for float types)
    act_view act;         // all activation rows, in the kernel's form
    size_t group_stride;  // interleaved Q8: bytes per 8-row group (else 0)
    int nrows;
    float *out;
    int64_t out_stride;
    int64_t n_out;
    int64_t chunk;        // output rows per work item
    int64_t tile;         // output rows whose weights stay in L1 while all activation rows pass
    _Atomic int64_t next;
} mm_job;

static void mm_range(const mm_job *j, int64_t o0, int64_t o1) {
    for (int64_t ot = o0; ot < o1; ot += j->tile) {
        const int64_t oe = ot + j->tile < o1 ? ot + j->tile : o1;
        for (int r0 = 0; r0 < j->nrows; r0 += SHOAL_MAX_R) {
            const int R = j->nrows - r0 < SHOAL_MAX_R ? j->nrows - r0 : SHOAL_MAX_R;
            act_view a = j->act;
            a.q += j->group_stride ? (size_t)(r0 / SHOAL_MAX_R) * j->group_stride : (size_t)r0 * a.q_stride;
            if (a.d) {
                a.d += r0;
                a.s += r0;
            }
            float *out = j->out + (int64_t)r0 * j->out_stride;
            j->kern(j->w + (size_t)ot * j->row_bytes, j->row_bytes, oe - ot, j->nb, &a, R, out + ot, j->out_stride);
        }
    }
}

static void mm_task(void *arg, int index, int count) {
    (void)index;
    (void)count;
    mm_job *j = arg;
    for (;;) {
        const int64_t o0 = atomic_fetch_add_explicit(&j->next, j->chunk, memory_order_relaxed);
        if (o0 >= j->n_out) break;
        mm_range(j, o0, o0 + j->chunk < j->n_out ? o0 + j->chunk : j->n_out);
    }
}

static void run_job(mm_job *j, int n_threads) {
    // ~16 KB of weight rows per tile keeps them in L1 across activation row groups.
    j->tile = (int64_t)(16384 / (j->row_bytes ? j->row_bytes : 1));
    if (j->tile < 1) j->tile = 1;
    if (n_threads < 1) n_threads = 1;
    // Several chunks per thread for balance, but whole tiles when there is room.
    int64_t chunk = j->n_out / ((int64_t)n_threads * 8);
    if (chunk >= j->tile) chunk = chunk / j->tile * j->tile;
    j->chunk = chunk < 1 ? 1 : chunk;
    atomic_init(&j->next, 0);
    if (n_threads == 1 || !shoal_pool_run(n_threads, mm_task, j)) mm_task(j, 0, 1);
}

int shoal_qmatmul(int type, const void *w, int64_t n_out, int64_t k, const float *x, int nrows,
                  float *out, int64_t out_stride, int n_threads) {
    const int kind = act_kind(type);
    const int64_t row_bytes = shoal_quant_row_bytes(type, k);
    if (kind < 0 || row_bytes < 0 || n_out < 0 || nrows < 0) return -1;
    if (n_out == 0 || nrows == 0) return 0;
    const int feat = shoal_cpu_features();

    mm_job j;
    j.kern = pick_kernel(type, feat);
    j.w = w;
    j.row_bytes = (size_t)row_bytes;
    j.nb = k / shoal_quant_block_size(type);
    j.nrows = nrows;
    j.out = out;
    j.out_stride = out_stride;
    j.n_out = n_out;
    memset(&j.act, 0, sizeof j.act);
    j.group_stride = 0;
    if (kind == SHOAL_ACT_F32) {
        j.act.q = (const uint8_t *)x;
        j.act.q_stride = (size_t)k * sizeof(float);
    } else if (kind == SHOAL_ACT_Q8) {
        // Quantize each activation row once; every weight row then reuses it.
        // Layout: qs (plain rows, or 8-row interleaved groups for the AVX2
        // kernels when there are 2+ rows), then d and s transposed with ld =
        // nrows rounded up to 8. A single row keeps its scales contiguous
        // (ld = 1), which the one-row kernels use to load 8 consecutive blocks'
        // scales at once; 8 floats of padding cover their vector loads.
        const int il8 = feat == SHOAL_CPU_AVX2 && nrows >= 2;
        const int64_t ld = nrows == 1 ? 1 : ((int64_t)nrows + 7) & ~(int64_t)7;
        const size_t qbytes = ((size_t)(il8 ? ld : nrows) * (size_t)k + 63) & ~(size_t)63;
        const size_t fbytes = ((size_t)(ld * j.nb) + 8) * sizeof(float);
        uint8_t *buf = get_scratch(qbytes + 2 * fbytes);
        if (!buf) return -1;
        float *d = (float *)(buf + qbytes), *sum = (float *)(buf + qbytes + fbytes);
        memset(d, 0, 2 * fbytes);  // padding lanes are read (and ignored) by kernels
        const shoal_quantize_q8_fn quant = pick_quantizer_q8(feat);
        if (il8) {
            const size_t group_bytes = (size_t)j.nb * SHOAL_IL8_BLOCK;
            if (nrows % 8) memset(buf + (size_t)(nrows / 8) * group_bytes, 0, group_bytes);  // missing rows = 0
            for (int r = 0; r < nrows; r++)
                quant(x + (int64_t)r * k, (int8_t *)buf + (size_t)(r / 8) * group_bytes + (size_t)(r % 8) * 4, 32,
                      SHOAL_IL8_BLOCK, d + r, sum + r, ld, k);
            j.group_stride = group_bytes;
            j.act.q_stride = 0;
        } else {
            for (int r = 0; r < nrows; r++)
                quant(x + (int64_t)r * k, (int8_t *)buf + (size_t)r * (size_t)k, 4, 32, d + r, sum + r, ld, k);
            j.act.q_stride = (size_t)k;
        }
        j.act.q = buf;
        j.act.d = d;
        j.act.s = sum;
        j.act.ld = ld;
    } else {
        j.act.q_stride = (size_t)j.nb * sizeof(act_q8k);
        act_q8k *buf = get_scratch(j.act.q_stride * (size_t)nrows);
        if (!buf) return -1;
        const shoal_quantize_q8k_fn quant = pick_quantizer_q8k(feat);
        for (int r = 0; r < nrows; r++) quant(x + (int64_t)r * k, buf + (size_t)r * (size_t)j.nb, k);
        j.act.q = (const uint8_t *)buf;
    }
    run_job(&j, n_threads);
    return 0;
}

// ---------------------------------------------------------------------------
// Reference mode: exact dequantization, fp64 accumulation.

typedef struct {
    int type;
    const uint8_t *w;
    size_t row_bytes;
    int64_t k;
    const float *x;
    int nrows;
    float *out;
    int64_t out_stride;
    int64_t n_out;
    float *rows;  // one dequantized weight row per participant
    _Atomic int64_t next;
} ref_job;

static void ref_task(void *arg, int index, int count) {
    (void)count;
    ref_job *j = arg;
    float *row = j->rows + (size_t)index * (size_t)j->k;
    for (;;) {
        const int64_t o = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (o >= j->n_out) break;
        shoal_dequantize_row(j->type, j->w + (size_t)o * j->row_bytes, row, j->k);
        for (int r = 0; r < j->nrows; r++) {
            const float *xr = j->x + (int64_t)r * j->k;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // four chains to hide FP latency
            int64_t e = 0;
            for (; e + 4 <= j->k; e += 4) {
                s0 += (double)row[e] * xr[e];
                s1 += (double)row[e + 1] * xr[e + 1];
                s2 += (double)row[e + 2] * xr[e + 2];
                s3 += (double)row[e + 3] * xr[e + 3];
            }
            for (; e < j->k; e++) s0 += (double)row[e] * xr[e];
            j->out[(int64_t)r * j->out_stride + o] = (float)((s0 + s1) + (s2 + s3));
        }
    }
}

int shoal_matmul_f32ref(int type, const void *w, int64_t n_out, int64_t k, const float *x, int nrows,
                        float *out, int64_t out_stride, int n_threads) {
    const int64_t row_bytes = shoal_quant_row_bytes(type, k);
    if (act_kind(type) < 0 || row_bytes < 0 || n_out < 0 || nrows < 0) return -1;
    if (n_out == 0 || nrows == 0) return 0;
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 64) n_threads = 64;
    ref_job j;
    j.type = type;
    j.w = w;
    j.row_bytes = (size_t)row_bytes;
    j.k = k;
    j.x = x;
    j.nrows = nrows;
    j.out = out;
    j.out_stride = out_stride;
    j.n_out = n_out;
    j.rows = malloc((size_t)n_threads * (size_t)(k > 0 ? k : 1) * sizeof(float));
    if (!j.rows) return -1;
    atomic_init(&j.next, 0);
    if (n_threads == 1 || !shoal_pool_run(n_threads, ref_task, &j)) ref_task(&j, 0, 1);
    free(j.rows);
    return 0;
}
