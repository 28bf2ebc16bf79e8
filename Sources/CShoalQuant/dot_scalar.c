// Portable row kernels: the same integer arithmetic as dot_avx2.c, written in
// plain C. Each weight block is decoded once into small unsigned integers and
// reused for all R activation rows; per-block integer dots are scaled to float
// exactly as the AVX2 kernels do, so the two paths differ only in summation order.
#include "internal.h"

// Integer dot of n unsigned weight values with n int8 activations.
static inline int32_t idot(const uint8_t *u, const int8_t *y, int n) {
    int32_t s = 0;
    for (int l = 0; l < n; l++) s += (int32_t)u[l] * (int32_t)y[l];
    return s;
}

static inline const void *act_row(const act_view *a, int r) { return a->q + (size_t)r * a->q_stride; }

// ---------------------------------------------------------------------------
// 32-element formats. Each block decodes to unsigned u[32], a scale dw and an
// offset term: x = dw * u + bias, so that
//   dot(x, d_a * y) = (dw * d_a) * dot(u, y) + bias * s_a   (s_a = d_a * sum y).

static inline void nibbles(const uint8_t qs[16], uint8_t u[32]) {
    for (int l = 0; l < 16; l++) {
        u[l] = qs[l] & 0x0f;
        u[l + 16] = qs[l] >> 4;
    }
}

static inline void fifth_bits(const uint8_t qh[4], uint8_t u[32]) {
    const uint32_t h = (uint32_t)qh[0] | ((uint32_t)qh[1] << 8) | ((uint32_t)qh[2] << 16) | ((uint32_t)qh[3] << 24);
    for (int l = 0; l < 32; l++) u[l] |= (uint8_t)(((h >> l) & 1) << 4);
}

static inline void dec_q4_0(const void *p, uint8_t u[32], float *dw, float *bias) {
    const blk_q4_0 *b = p;
    nibbles(b->qs, u);
    *dw = shoal_f16_to_f32(b->d);
    *bias = -8.0f * *dw;
}
static inline void dec_q4_1(const void *p, uint8_t u[32], float *dw, float *bias) {
    const blk_q4_1 *b = p;
    nibbles(b->qs, u);
    *dw = shoal_f16_to_f32(b->d);
    *bias = shoal_f16_to_f32(b->m);
}
static inline void dec_q5_0(const void *p, uint8_t u[32], float *dw, float *bias) {
    const blk_q5_0 *b = p;
    nibbles(b->qs, u);
    fifth_bits(b->qh, u);
    *dw = shoal_f16_to_f32(b->d);
    *bias = -16.0f * *dw;
}
static inline void dec_q5_1(const void *p, uint8_t u[32], float *dw, float *bias) {
    const blk_q5_1 *b = p;
    nibbles(b->qs, u);
    fifth_bits(b->qh, u);
    *dw = shoal_f16_to_f32(b->d);
    *bias = shoal_f16_to_f32(b->m);
}

#define DEFINE_ROW32(name, blk_t, decode)                                                       \
    static void name##_one(const void *wrow, int64_t nb, const act_view *av, int R, float *out,  \
                     int64_t os) {                                                              \
        float acc[SHOAL_MAX_R] = {0};                                                           \
        const blk_t *b = wrow;                                                                  \
        for (int64_t i = 0; i < nb; i++) {                                                      \
            uint8_t u[32];                                                                      \
            float dw, bias;                                                                     \
            decode(&b[i], u, &dw, &bias);                                                       \
            for (int r = 0; r < R; r++) {                                                       \
                const int8_t *y = (const int8_t *)act_row(av, r) + 32 * i;                      \
                const float da = av->d[i * av->ld + r], sa = av->s[i * av->ld + r];             \
                acc[r] += (dw * da) * (float)idot(u, y, 32) + bias * sa;                        \
            }                                                                                   \
        }                                                                                       \
        for (int r = 0; r < R; r++) out[r * os] = acc[r];                                       \
    }

DEFINE_ROW32(row_q4_0, blk_q4_0, dec_q4_0)
DEFINE_ROW32(row_q4_1, blk_q4_1, dec_q4_1)
DEFINE_ROW32(row_q5_0, blk_q5_0, dec_q5_0)
DEFINE_ROW32(row_q5_1, blk_q5_1, dec_q5_1)

// Q8_0 weights are signed; no offset.
static void row_q8_0_one(const void *wrow, int64_t nb, const act_view *av, int R, float *out, int64_t os) {
    float acc[SHOAL_MAX_R] = {0};
    const blk_q8_0 *b = wrow;
    for (int64_t i = 0; i < nb; i++) {
        const float dw = shoal_f16_to_f32(b[i].d);
        for (int r = 0; r < R; r++) {
            const int8_t *y = (const int8_t *)act_row(av, r) + 32 * i;
            int32_t s = 0;
            for (int l = 0; l < 32; l++) s += (int32_t)b[i].qs[l] * (int32_t)y[l];
            acc[r] += (dw * av->d[i * av->ld + r]) * (float)s;
        }
    }
    for (int r = 0; r < R; r++) out[r * os] = acc[r];
}

// ---------------------------------------------------------------------------
// K-quants against act_q8k. Per super-block and row:
//   acc += (d * d_a) * sumi - (dmin * d_a) * summ
// where sumi = sum over sub-blocks of scale * dot(u, y) (with any fixed offset
// folded in through bsums) and summ = sum of min * bsum.

static void row_q2_k_one(const void *wrow, int64_t nb, const act_view *av, int R, float *out, int64_t os) {
    float acc[SHOAL_MAX_R] = {0};
    const blk_q2_k *b = wrow;
    for (int64_t i = 0; i < nb; i++, b++) {
        uint8_t u[256];
        for (int e = 0; e < 256; e++) u[e] = (b->qs[32 * (e >> 7) + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3;
        const float d = shoal_f16_to_f32(b->d), dmin = shoal_f16_to_f32(b->dmin);
        for (int r = 0; r < R; r++) {
            const act_q8k *a = (const act_q8k *)act_row(av, r) + i;
            int32_t sumi = 0, summ = 0;
            for (int g = 0; g < 16; g++) {
                sumi += (b->scales[g] & 0x0f) * idot(u + 16 * g, a->qs + 16 * g, 16);
                summ += (b->scales[g] >> 4) * a->bsums[g];
            }
            acc[r] += (d * a->d) * (float)sumi - (dmin * a->d) * (float)summ;
        }
    }
    for (int r = 0; r < R; r++) out[r * os] = acc[r];
}

// Q3_K: u = q + 4 in 0..7; the -4 offset is folded in via bsums.
static void row_q3_k_one(const void *wrow, int64_t nb, const act_view *av, int R, float *out, int64_t os) {
    float acc[SHOAL_MAX_R] = {0};
    const blk_q3_k *b = wrow;
    for (int64_t i = 0; i < nb; i++, b++) {
        uint8_t u[256], sc[16];
        for (int e = 0; e < 256; e++) {
            const int lo = (b->qs[32 * (e >> 7) + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3;
            const int hb = (b->hmask[e & 31] >> (e >> 5)) & 1;
            u[e] = (uint8_t)(lo | (hb << 2));
        }
        shoal_q3k_scales(b->scales, sc);
        const float d = shoal_f16_to_f32(b->d);
        for (int r = 0; r < R; r++) {
            const act_q8k *a = (const act_q8k *)act_row(av, r) + i;
            int32_t sumi = 0;
            for (int g = 0; g < 16; g++)
                sumi += ((int)sc[g] - 32) * (idot(u + 16 * g, a->qs + 16 * g, 16) - 4 * a->bsums[g]);
            acc[r] += (d * a->d) * (float)sumi;
        }
    }
    for (int r = 0; r < R; r++) out[r * os] = acc[r];
}

static void row_q4_k_one(const void *wrow, int64_t nb, const act_view *av, int R, float *out, int64_t os) {
    float acc[SHOAL_MAX_R] = {0};
    const blk_q4_k *b = wrow;
    for (int64_t i = 0; i < nb; i++, b++) {
        uint8_t u[256], sc[8], m[8];
        for (int e = 0; e < 256; e++) u[e] = (b->qs[32 * (e >> 6) + (e & 31)] >> (4 * ((e >> 5) & 1))) & 0x0f;
        for (int j = 0; j < 8; j++) shoal_k4_scale_min(b->scales, j, &sc[j], &m[j]);
        const float d = shoal_f16_to_f32(b->d), dmin = shoal_f16_to_f32(b->dmin);
        for (int r = 0; r < R; r++) {
            const act_q8k *a = (const act_q8k *)act_row(av, r) + i;
            int32_t sumi = 0, summ = 0;
            for (int j = 0; j < 8; j++) {
                sumi += sc[j] * idot(u + 32 * j, a->qs + 32 * j, 32);
                summ += m[j] * (a->bsums[2 * j] + a->bsums[2 * j + 1]);
            }
            acc[r] += (d * a->d) * (float)sumi - (dmin * a->d) * (float)summ;
        }
    }
    for (int r = 0; r < R; r++) out[r * os] = acc[r];
}

static void row_q5_k_one(const void *wrow, int64_t nb, const act_view *av, int R, float *out, int64_t os) {
    float acc[SHOAL_MAX_R] = {0};
    const blk_q5_k *b = wrow;
    for (int64_t i = 0; i < nb; i++, b++) {
        uint8_t u[256], sc[8], m[8];
        for (int e = 0; e < 256; e++)
            u[e] = (uint8_t)(((b->qs[32 * (e >> 6) + (e & 31)] >> (4 * ((e >> 5) & 1))) & 0x0f) |
                             (((b->qh[e & 31] >> (e >> 5)) & 1) << 4));
        for (int j = 0; j < 8; j++) shoal_k4_scale_min(b->scales, j, &sc[j], &m[j]);
        const float d = shoal_f16_to_f32(b->d), dmin = shoal_f16_to_f32(b->dmin);
        for (int r = 0; r < R; r++) {
            const act_q8k *a = (const act_q8k *)act_row(av, r) + i;
            int32_t sumi = 0, summ = 0;
            for (int j = 0; j < 8; j++) {
                sumi += sc[j] * idot(u + 32 * j, a->qs + 32 * j, 32);
                summ += m[j] * (a->bsums[2 * j] + a->bsums[2 * j + 1]);
            }
            acc[r] += (d * a->d) * (float)sumi - (dmin * a->d) * (float)summ;
        }
    }
    for (int r = 0; r < R; r++) out[r * os] = acc[r];
}

// Q6_K: u = q + 32 in 0..63; the -32 offset is folded in via bsums.
static void row_q6_k_one(const void *wrow, int64_t nb, const act_view *av, int R, float *out, int64_t os) {
    float acc[SHOAL_MAX_R] = {0};
    const blk_q6_k *b = wrow;
    for (int64_t i = 0; i < nb; i++, b++) {
        uint8_t u[256];
        for (int e = 0; e < 256; e++) {
            const int h = e >> 7, s = (e >> 5) & 3, l = e & 31;
            const int lo = (b->ql[64 * h + 32 * (s & 1) + l] >> (4 * (s >> 1))) & 0x0f;
            const int hi = (b->qh[32 * h + l] >> (2 * s)) & 3;
            u[e] = (uint8_t)(lo | (hi << 4));
        }
        const float d = shoal_f16_to_f32(b->d);
        for (int r = 0; r < R; r++) {
            const act_q8k *a = (const act_q8k *)act_row(av, r) + i;
            int32_t sumi = 0;
            for (int g = 0; g < 16; g++)
                sumi += b->scales[g] * (idot(u + 16 * g, a->qs + 16 * g, 16) - 32 * a->bsums[g]);
            acc[r] += (d * a->d) * (float)sumi;
        }
    }
    for (int r = 0; r < R; r++) out[r * os] = acc[r];
}

// ---------------------------------------------------------------------------
// Float weights against fp32 activations (nb = k elements).

#define DEFINE_ROWF(name, elem_t, conv)                                                         \
    static void name##_one(const void *wrow, int64_t k, const act_view *av, int R, float *out,   \
                     int64_t os) {                                                              \
        float acc[SHOAL_MAX_R] = {0};                                                           \
        const elem_t *w = wrow;                                                                 \
        for (int64_t e = 0; e < k; e++) {                                                       \
            const float we = conv(w[e]);                                                        \
            for (int r = 0; r < R; r++) acc[r] += we * ((const float *)act_row(av, r))[e];  \
        }                                                                                       \
        for (int r = 0; r < R; r++) out[r * os] = acc[r];                                       \
    }

static inline float f32_id(float v) { return v; }
DEFINE_ROWF(row_f32, float, f32_id)
DEFINE_ROWF(row_f16, uint16_t, shoal_f16_to_f32)
DEFINE_ROWF(row_bf16, uint16_t, shoal_bf16_to_f32)

// The kernel entry points: the single-row functions above over nw rows.
#define MULTI_ROW(name)                                                                                   \
    static void name(const void *w, size_t row_bytes, int64_t nw, int64_t nb, const act_view *av, int R, \
                     float *out, int64_t os) {                                                           \
        for (int64_t o = 0; o < nw; o++) name##_one((const uint8_t *)w + (size_t)o * row_bytes, nb, av, R, out + o, os); \
    }
MULTI_ROW(row_q4_0)
MULTI_ROW(row_q4_1)
MULTI_ROW(row_q5_0)
MULTI_ROW(row_q5_1)
MULTI_ROW(row_q8_0)
MULTI_ROW(row_q2_k)
MULTI_ROW(row_q3_k)
MULTI_ROW(row_q4_k)
MULTI_ROW(row_q5_k)
MULTI_ROW(row_q6_k)
MULTI_ROW(row_f32)
MULTI_ROW(row_f16)
MULTI_ROW(row_bf16)

shoal_row_kernel shoal_scalar_kernel(int type) {
    switch (type) {
    case SHOAL_GGML_F32: return row_f32;
    case SHOAL_GGML_F16: return row_f16;
    case SHOAL_GGML_BF16: return row_bf16;
    case SHOAL_GGML_Q4_0: return row_q4_0;
    case SHOAL_GGML_Q4_1: return row_q4_1;
    case SHOAL_GGML_Q5_0: return row_q5_0;
    case SHOAL_GGML_Q5_1: return row_q5_1;
    case SHOAL_GGML_Q8_0: return row_q8_0;
    case SHOAL_GGML_Q2_K: return row_q2_k;
    case SHOAL_GGML_Q3_K: return row_q3_k;
    case SHOAL_GGML_Q4_K: return row_q4_k;
    case SHOAL_GGML_Q5_K: return row_q5_k;
    case SHOAL_GGML_Q6_K: return row_q6_k;
    default: return 0;
    }
}
