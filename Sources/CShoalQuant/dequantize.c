// Dequantization of ggml blocks to fp32, bit-exact with gguf-py's
// gguf.quants.dequantize: every value is produced by the same float32
// operations, in the same order, as the numpy reference (e.g. Q4_K computes
// (d * sc) * q - (dmin * m), each step rounded to float).
//
// Fused multiply-add would change the rounding of "a * b - c", so contraction
// is disabled for this file (the clang pragma; GCC's optimize pragma).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "internal.h"

static void deq_q4_0(const blk_q4_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += 32) {
        const float d = shoal_f16_to_f32(b->d);
        for (int l = 0; l < 16; l++) {
            y[l] = d * (float)((b->qs[l] & 0x0f) - 8);
            y[l + 16] = d * (float)((b->qs[l] >> 4) - 8);
        }
    }
}

static void deq_q4_1(const blk_q4_1 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += 32) {
        const float d = shoal_f16_to_f32(b->d);
        const float m = shoal_f16_to_f32(b->m);
        for (int l = 0; l < 16; l++) {
            const float p0 = d * (float)(b->qs[l] & 0x0f);
            const float p1 = d * (float)(b->qs[l] >> 4);
            y[l] = p0 + m;
            y[l + 16] = p1 + m;
        }
    }
}

// Q5: element l's 5th bit is bit l of the little-endian 32-bit qh.
static inline uint32_t load_qh32(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | ((uint32_t)qh[1] << 8) | ((uint32_t)qh[2] << 16) | ((uint32_t)qh[3] << 24);
}

static void deq_q5_0(const blk_q5_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += 32) {
        const float d = shoal_f16_to_f32(b->d);
        const uint32_t qh = load_qh32(b->qh);
        for (int l = 0; l < 16; l++) {
            const int q0 = (b->qs[l] & 0x0f) | (int)(((qh >> l) & 1) << 4);
            const int q1 = (b->qs[l] >> 4) | (int)(((qh >> (l + 16)) & 1) << 4);
            y[l] = d * (float)(q0 - 16);
            y[l + 16] = d * (float)(q1 - 16);
        }
    }
}

static void deq_q5_1(const blk_q5_1 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += 32) {
        const float d = shoal_f16_to_f32(b->d);
        const float m = shoal_f16_to_f32(b->m);
        const uint32_t qh = load_qh32(b->qh);
        for (int l = 0; l < 16; l++) {
            const int q0 = (b->qs[l] & 0x0f) | (int)(((qh >> l) & 1) << 4);
            const int q1 = (b->qs[l] >> 4) | (int)(((qh >> (l + 16)) & 1) << 4);
            const float p0 = d * (float)q0;
            const float p1 = d * (float)q1;
            y[l] = p0 + m;
            y[l + 16] = p1 + m;
        }
    }
}

static void deq_q8_0(const blk_q8_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += 32) {
        const float d = shoal_f16_to_f32(b->d);
        for (int l = 0; l < 32; l++) y[l] = (float)b->qs[l] * d;
    }
}

// Q2_K: element 128h + 32s + l (l < 32) is bits 2s..2s+1 of qs[32h + l];
// scale/min index is element / 16.
static void deq_q2_k(const blk_q2_k *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += 256) {
        const float d = shoal_f16_to_f32(b->d);
        const float dmin = shoal_f16_to_f32(b->dmin);
        for (int e = 0; e < 256; e++) {
            const int h = e >> 7, s = (e >> 5) & 3, l = e & 31;
            const uint8_t sc = b->scales[e >> 4];
            const float dl = d * (float)(sc & 0x0f);
            const float ml = dmin * (float)(sc >> 4);
            const float q = (float)((b->qs[32 * h + l] >> (2 * s)) & 3);
            const float p = dl * q;
            y[e] = p - ml;
        }
    }
}

// Q3_K: low 2 bits as Q2_K; bit (e / 32) of hmask[e % 32] clear means -4.
static void deq_q3_k(const blk_q3_k *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += 256) {
        const float d = shoal_f16_to_f32(b->d);
        uint8_t sc[16];
        shoal_q3k_scales(b->scales, sc);
        for (int e = 0; e < 256; e++) {
            const int h = e >> 7, s = (e >> 5) & 3, l = e & 31;
            const float dl = d * (float)((int)sc[e >> 4] - 32);
            const int lo = (b->qs[32 * h + l] >> (2 * s)) & 3;
            const int hb = (b->hmask[l] >> (e >> 5)) & 1;
            y[e] = dl * (float)(lo - (hb ? 0 : 4));
        }
    }
}

// Q4_K: element 64c + 32n + l is nibble n of qs[32c + l]; sub-block e / 32.
static void deq_q4_k(const blk_q4_k *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += 256) {
        const float d = shoal_f16_to_f32(b->d);
        const float dmin = shoal_f16_to_f32(b->dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            shoal_k4_scale_min(b->scales, j, &sc, &m);
            const float dl = d * (float)sc;
            const float ml = dmin * (float)m;
            const uint8_t *q = b->qs + 32 * (j >> 1);
            const int shift = 4 * (j & 1);
            for (int l = 0; l < 32; l++) {
                const float p = dl * (float)((q[l] >> shift) & 0x0f);
                y[32 * j + l] = p - ml;
            }
        }
    }
}

// Q5_K: as Q4_K plus bit j of qh[l] as the 5th bit of element 32j + l.
static void deq_q5_k(const blk_q5_k *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += 256) {
        const float d = shoal_f16_to_f32(b->d);
        const float dmin = shoal_f16_to_f32(b->dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            shoal_k4_scale_min(b->scales, j, &sc, &m);
            const float dl = d * (float)sc;
            const float ml = dmin * (float)m;
            const uint8_t *q = b->qs + 32 * (j >> 1);
            const int shift = 4 * (j & 1);
            for (int l = 0; l < 32; l++) {
                const int v = ((q[l] >> shift) & 0x0f) | (((b->qh[l] >> j) & 1) << 4);
                const float p = dl * (float)v;
                y[32 * j + l] = p - ml;
            }
        }
    }
}

// Q6_K: element 128h + 32s + l: low nibble (s < 2) or high nibble (s >= 2) of
// ql[64h + 32(s & 1) + l], high bits 2s..2s+1 of qh[32h + l]; scale e / 16.
static void deq_q6_k(const blk_q6_k *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, b++, y += 256) {
        const float d = shoal_f16_to_f32(b->d);
        for (int e = 0; e < 256; e++) {
            const int h = e >> 7, s = (e >> 5) & 3, l = e & 31;
            const float dl = d * (float)b->scales[e >> 4];
            const int lo = (b->ql[64 * h + 32 * (s & 1) + l] >> (4 * (s >> 1))) & 0x0f;
            const int hi = (b->qh[32 * h + l] >> (2 * s)) & 3;
            y[e] = dl * (float)((lo | (hi << 4)) - 32);
        }
    }
}

int shoal_dequantize_row(int type, const void *src, float *dst, int64_t n) {
    const int bs = shoal_quant_block_size(type);
    if (bs == 0 || n < 0 || n % bs != 0) return -1;
    const int64_t nb = n / bs;
    switch (type) {
    case SHOAL_GGML_F32: memcpy(dst, src, (size_t)n * sizeof(float)); return 0;
    case SHOAL_GGML_F16: {
        const uint16_t *h = (const uint16_t *)src;
        for (int64_t i = 0; i < n; i++) dst[i] = shoal_f16_to_f32(h[i]);
        return 0;
    }
    case SHOAL_GGML_BF16: {
        const uint16_t *h = (const uint16_t *)src;
        for (int64_t i = 0; i < n; i++) dst[i] = shoal_bf16_to_f32(h[i]);
        return 0;
    }
    case SHOAL_GGML_Q4_0: deq_q4_0(src, dst, nb); return 0;
    case SHOAL_GGML_Q4_1: deq_q4_1(src, dst, nb); return 0;
    case SHOAL_GGML_Q5_0: deq_q5_0(src, dst, nb); return 0;
    case SHOAL_GGML_Q5_1: deq_q5_1(src, dst, nb); return 0;
    case SHOAL_GGML_Q8_0: deq_q8_0(src, dst, nb); return 0;
    case SHOAL_GGML_Q2_K: deq_q2_k(src, dst, nb); return 0;
    case SHOAL_GGML_Q3_K: deq_q3_k(src, dst, nb); return 0;
    case SHOAL_GGML_Q4_K: deq_q4_k(src, dst, nb); return 0;
    case SHOAL_GGML_Q5_K: deq_q5_k(src, dst, nb); return 0;
    case SHOAL_GGML_Q6_K: deq_q6_k(src, dst, nb); return 0;
    default: return -1;
    }
}
