// Quantization of fp32 activation rows to the 8-bit forms the integer dot
// products consume (Q8 blocks for 32-element weight formats, act_q8k for
// K-quants; see internal.h). Symmetric: d = amax / 127, q = round-half-even(x * (127 / amax)).
//
// The scalar and AVX2 versions produce identical bytes (same float operations,
// same rounding), so the two kernel sets differ only in float summation order.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "internal.h"

#if SHOAL_X86
#include <immintrin.h>
#endif

// Scale and inverse scale for a block whose largest magnitude is amax.
static inline void q8_scales(float amax, float *d, float *id) {
    *d = amax / 127.0f;
    *id = amax > 0.0f ? 127.0f / amax : 0.0f;
}

// Round half to even, as cvtps2dq does under the default rounding mode:
// adding 1.5 * 2^23 leaves no fraction bits, so the FPU's own round-to-nearest-
// even does the work (exact for |v| < 2^22; here |v| <= 127.5). Avoids libm.
static inline int round_even(float v) {
    const float magic = 12582912.0f;
    return (int)((v + magic) - magic);
}

static inline float max_abs(float m, float v) {
    const float a = v < 0.0f ? -v : v;
    return a > m ? a : m;
}

void shoal_quantize_q8_scalar(const float *x, int8_t *q, int64_t qgs, int64_t qbs, float *dv, float *sv, int64_t ld,
                              int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        float amax = 0.0f;
        for (int l = 0; l < 32; l++) amax = max_abs(amax, x[l]);
        float d, id;
        q8_scales(amax, &d, &id);
        int sum = 0;
        for (int l = 0; l < 32; l++) {
            const int v = round_even(x[l] * id);
            q[b * qbs + (l >> 2) * qgs + (l & 3)] = (int8_t)v;
            sum += v;
        }
        dv[b * ld] = d;
        sv[b * ld] = d * (float)sum;
    }
}

void shoal_quantize_q8k_scalar(const float *x, act_q8k *out, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++, x += 256, out++) {
        float amax = 0.0f;
        for (int l = 0; l < 256; l++) amax = max_abs(amax, x[l]);
        float d, id;
        q8_scales(amax, &d, &id);
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int l = 16 * g; l < 16 * g + 16; l++) {
                const int q = round_even(x[l] * id);
                out->qs[l] = (int8_t)q;
                sum += q;
            }
            out->bsums[g] = (int16_t)sum;
        }
        out->d = d;
        memset(out->pad_, 0, sizeof out->pad_);
    }
}

#if SHOAL_X86
#define AVX2_FN __attribute__((target("avx2,fma,f16c")))

AVX2_FN static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

AVX2_FN static inline int hsum_i32x8(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// Quantizes 32 floats with inverse scale id into 32 int8 (returned in *q);
// returns 4-element partial int32 sums in lane order [e0-3, e8-11, e16-19,
// e24-27, e4-7, e12-15, e20-23, e28-31], from which the K-quant path forms its
// 16-element bsums.
AVX2_FN static inline __m256i quant32(const float *x, __m256 vid, __m256i *q) {
    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 0), vid));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), vid));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), vid));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), vid));
    // Sums: pair lanes of each 8-element group, then interleave the groups.
    __m256i s01 = _mm256_hadd_epi32(i0, i1);  // [i0 pairs lo, i1 pairs lo, i0 pairs hi, i1 pairs hi]
    __m256i s23 = _mm256_hadd_epi32(i2, i3);
    __m256i s = _mm256_hadd_epi32(s01, s23);
    // Packing interleaves 128-bit lanes; a final dword permute restores order.
    __m256i p01 = _mm256_packs_epi32(i0, i1);
    __m256i p23 = _mm256_packs_epi32(i2, i3);
    __m256i p = _mm256_packs_epi16(p01, p23);
    *q = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    return s;
}

AVX2_FN static inline float amax_n(const float *x, int n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int l = 0; l < n; l += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + l)));
    return hmax8(m);
}

AVX2_FN void shoal_quantize_q8_avx2(const float *x, int8_t *q, int64_t qgs, int64_t qbs, float *dv, float *sv,
                                    int64_t ld, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        float d, id;
        q8_scales(amax_n(x, 32), &d, &id);
        __m256i v;
        const __m256i s = quant32(x, _mm256_set1_ps(id), &v);
        int8_t *qb = q + b * qbs;
        if (qgs == 4) {
            _mm256_storeu_si256((__m256i *)qb, v);
        } else {  // scatter the 8 4-byte groups
            _Alignas(32) int32_t g[8];
            _mm256_store_si256((__m256i *)g, v);
            for (int i = 0; i < 8; i++) memcpy(qb + i * qgs, &g[i], 4);
        }
        dv[b * ld] = d;
        sv[b * ld] = d * (float)hsum_i32x8(s);
    }
}

AVX2_FN void shoal_quantize_q8k_avx2(const float *x, act_q8k *out, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++, x += 256, out++) {
        float d, id;
        q8_scales(amax_n(x, 256), &d, &id);
        const __m256 vid = _mm256_set1_ps(id);
        for (int c = 0; c < 8; c++) {
            // Adding s's halves gives 8-element sums [e0-7, e8-15, e16-23, e24-31].
            __m256i v;
            const __m256i s = quant32(x + 32 * c, vid, &v);
            _mm256_storeu_si256((__m256i *)(out->qs + 32 * c), v);
            __m128i q = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
            out->bsums[2 * c] = (int16_t)(_mm_extract_epi32(q, 0) + _mm_extract_epi32(q, 1));
            out->bsums[2 * c + 1] = (int16_t)(_mm_extract_epi32(q, 2) + _mm_extract_epi32(q, 3));
        }
        out->d = d;
        memset(out->pad_, 0, sizeof out->pad_);
    }
}
#endif
