// AVX2 row kernels (compiled with per-function target attributes and chosen at
// run time, so the library still runs on any x86-64).
//
// Integer products use maddubs (u8 x s8 -> pairwise s16) then madd (s16 ->
// s32). Weights are decoded to *unsigned* values (e.g. Q4_0's q in 0..15
// rather than q - 8) so maddubs takes them directly; the constant offset is
// added back through the activation block sums (Q8 sums s, act_q8k.bsums).
//
// 32-element formats have two kernels: one activation row (decode), where 8
// blocks' lane sums are reduced together so scales are applied 8 blocks at a
// time; and 2..8 rows in the interleaved layout (internal.h), where each
// decoded weight block meets all 8 rows in the same instructions. K-quant and
// float kernels decode a weight block once and apply it to each of R rows.
#include "internal.h"

#if SHOAL_X86
#include <immintrin.h>

#define AVX2_FN __attribute__((target("avx2,fma,f16c")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

AVX2_INLINE float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2_INLINE float h2f(uint16_t h) { return _cvtsh_ss(h); }

// Runs `impl` over the nw weight rows, with R (a compile-time constant after
// inlining) expanded into one specialised instantiation per batch size.
// Inside, `w` and `out` name the current weight row and its output column.
#define ROWS_LOOP(stmt)                                               \
    for (int64_t o_ = 0; o_ < nw; o_++) {                             \
        const void *w = (const uint8_t *)w0 + (size_t)o_ * row_bytes; \
        float *out = out0 + o_;                                       \
        stmt;                                                         \
    }
#define DISPATCH_R(impl, ...)                               \
    switch (R) {                                            \
    case 1: ROWS_LOOP(impl(1, __VA_ARGS__)); break;         \
    case 2: ROWS_LOOP(impl(2, __VA_ARGS__)); break;         \
    case 3: ROWS_LOOP(impl(3, __VA_ARGS__)); break;         \
    case 4: ROWS_LOOP(impl(4, __VA_ARGS__)); break;         \
    case 5: ROWS_LOOP(impl(5, __VA_ARGS__)); break;         \
    case 6: ROWS_LOOP(impl(6, __VA_ARGS__)); break;         \
    case 7: ROWS_LOOP(impl(7, __VA_ARGS__)); break;         \
    default: ROWS_LOOP(impl(8, __VA_ARGS__)); break;        \
    }
#define KERNEL_ARGS \
    const void *w0, size_t row_bytes, int64_t nw, int64_t nb, const act_view *av, int R, float *out0, int64_t os

// ---------------------------------------------------------------------------
// 32-element formats against Q8 activations.

// 16 bytes of packed nibbles -> 32 bytes: low nibbles (elements 0-15) then high.
// A 128-bit broadcast load and a per-lane variable shift avoid the shuffle
// port, which the reductions below already keep busy.
AVX2_INLINE __m256i nibbles32(const uint8_t *qs) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    return _mm256_and_si256(_mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(0x0f));
}

// Q5 high bits: byte l of the result is 0x10 if bit l of the 32-bit qh is set.
AVX2_INLINE __m256i fifth_bits32(const uint8_t *qh) {
    uint32_t h;
    memcpy(&h, qh, 4);
    // Put byte l/8 of h into byte l, then test bit l%8 of it.
    const __m256i rep = _mm256_shuffle_epi8(_mm256_set1_epi32((int)h),
                                            _mm256_setr_epi64x(0, 0x0101010101010101LL, 0x0202020202020202LL,
                                                               0x0303030303030303LL));
    const __m256i sel = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(rep, sel), sel), _mm256_set1_epi8(0x10));
}

// Decodes one block: weights u (unsigned, or signed for Q8_0), scale dw and
// per-block offset `bias` (x = dw * u + bias).
AVX2_INLINE void dec32(const int type, const uint8_t *p, __m256i *u, float *dw, float *bias) {
    switch (type) {
    case SHOAL_GGML_Q4_0: {
        const blk_q4_0 *b = (const blk_q4_0 *)p;
        *u = nibbles32(b->qs);
        *dw = h2f(b->d);
        *bias = -8.0f * *dw;
        break;
    }
    case SHOAL_GGML_Q4_1: {
        const blk_q4_1 *b = (const blk_q4_1 *)p;
        *u = nibbles32(b->qs);
        *dw = h2f(b->d);
        *bias = h2f(b->m);
        break;
    }
    case SHOAL_GGML_Q5_0: {
        const blk_q5_0 *b = (const blk_q5_0 *)p;
        *u = _mm256_or_si256(nibbles32(b->qs), fifth_bits32(b->qh));
        *dw = h2f(b->d);
        *bias = -16.0f * *dw;
        break;
    }
    case SHOAL_GGML_Q5_1: {
        const blk_q5_1 *b = (const blk_q5_1 *)p;
        *u = _mm256_or_si256(nibbles32(b->qs), fifth_bits32(b->qh));
        *dw = h2f(b->d);
        *bias = h2f(b->m);
        break;
    }
    default: {  // Q8_0
        const blk_q8_0 *b = (const blk_q8_0 *)p;
        *u = _mm256_loadu_si256((const __m256i *)b->qs);
        *dw = h2f(b->d);
        *bias = 0.0f;
        break;
    }
    }
}

// Reduces 8 vectors of int32 lane sums to one vector whose lane r is the
// total of vector r (a tree of horizontal adds).
AVX2_INLINE __m256i reduce8_rows(__m256i p0, __m256i p1, __m256i p2, __m256i p3, __m256i p4, __m256i p5,
                                 __m256i p6, __m256i p7) {
    const __m256i h0 = _mm256_hadd_epi32(_mm256_hadd_epi32(p0, p1), _mm256_hadd_epi32(p2, p3));
    const __m256i h1 = _mm256_hadd_epi32(_mm256_hadd_epi32(p4, p5), _mm256_hadd_epi32(p6, p7));
    // h0 = [r0 r1 r2 r3 | r0 r1 r2 r3] partial sums of the low and high 128-bit halves.
    return _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20), _mm256_permute2x128_si256(h0, h1, 0x31));
}

// 2..8 rows in the 8-row interleaved layout (SHOAL_IL8_BLOCK): each 4-byte
// weight group is broadcast from memory and meets all 8 rows in one maddubs;
// lane r accumulates row r. The int16 partial sums are added across groups
// before widening where they cannot overflow (4-bit: 8 groups of at most
// 2*15*127; 5-bit: 4 groups of at most 2*31*127).
AVX2_INLINE void row32_il(const int type, const int bsize, const int R, const uint8_t *w, int64_t nb,
                          const act_view *av, float *out, int64_t os) {
    const int has_bias = type != SHOAL_GGML_Q8_0;
    const int five = type == SHOAL_GGML_Q5_0 || type == SHOAL_GGML_Q5_1;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps(), corr = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        __m256i u;
        float dw, bias;
        dec32(type, w + (size_t)b * bsize, &u, &dw, &bias);
        const uint8_t *yb = av->q + (size_t)b * SHOAL_IL8_BLOCK;
        // Through memory on purpose: broadcasts from memory use the load ports,
        // not the shuffle port that register broadcasts would compete for.
        _Alignas(32) int32_t ug[8], sg[8];
        __m256i isum;
        if (!has_bias) {  // Q8_0: |w| for maddubs, w's sign moved onto y
            _mm256_store_si256((__m256i *)ug, _mm256_sign_epi8(u, u));
            _mm256_store_si256((__m256i *)sg, u);
            __asm__("" : "+m"(ug), "+m"(sg));
            isum = _mm256_setzero_si256();
            for (int g = 0; g < 8; g++) {
                const __m256i yv = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(yb + 32 * g)), _mm256_set1_epi32(sg[g]));
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi32(ug[g]), yv), ones));
            }
        } else {
            _mm256_store_si256((__m256i *)ug, u);
            __asm__("" : "+m"(ug));
            __m256i s16[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
            for (int g = 0; g < 8; g++) {
                const __m256i p16 = _mm256_maddubs_epi16(_mm256_set1_epi32(ug[g]), _mm256_loadu_si256((const __m256i *)(yb + 32 * g)));
                const int h = five ? g >> 2 : 0;
                s16[h] = _mm256_add_epi16(s16[h], p16);
            }
            isum = _mm256_madd_epi16(s16[0], ones);
            if (five) isum = _mm256_add_epi32(isum, _mm256_madd_epi16(s16[1], ones));
        }
        const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(dw), _mm256_loadu_ps(av->d + b * av->ld));
        acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(isum), acc);
        if (has_bias) corr = _mm256_fmadd_ps(_mm256_set1_ps(bias), _mm256_loadu_ps(av->s + b * av->ld), corr);
    }
    _Alignas(32) float res[8];
    _mm256_store_ps(res, _mm256_add_ps(acc, corr));
    for (int r = 0; r < R; r++) out[r * os] = res[r];
}

static inline uint32_t load_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

// A single activation row whose scales are contiguous (ld == 1): blocks are
// taken 8 at a time, their 8 lane sums reduced into one vector (lane v =
// block b0 + v), and the block scales converted 8 at a time with F16C, so the
// per-block float work of a block-at-a-time loop disappears. `cnt` < 8 handles
// the row's last blocks: missing lanes get zero sums and zero scales (the
// activation scale arrays are zero-padded).
AVX2_INLINE void x1_group(const int type, const int bsize, const uint8_t *p, int64_t b0, const int cnt,
                          const act_view *av, __m256 *acc, __m256 *corr) {
    const int has_bias = type != SHOAL_GGML_Q8_0;
    const int8_t *y = (const int8_t *)av->q;
    // Every layout starts with the fp16 d; Q4_1/Q5_1 follow it with m. Take
    // those 4 bytes of each block and convert 8 d's (and m's) at once.
#define HEAD(v) (int)((v) < cnt ? load_u32(p + (size_t)(v) * bsize) : 0)
    const __m256i hw = _mm256_setr_epi32(HEAD(0), HEAD(1), HEAD(2), HEAD(3), HEAD(4), HEAD(5), HEAD(6), HEAD(7));
#undef HEAD
    const __m256i halves = _mm256_permute4x64_epi64(
        _mm256_packus_epi32(_mm256_and_si256(hw, _mm256_set1_epi32(0xffff)), _mm256_srli_epi32(hw, 16)), 0xd8);
    const __m256 d8 = _mm256_cvtph_ps(_mm256_castsi256_si128(halves));
    __m256 bias8;
    switch (type) {
    case SHOAL_GGML_Q4_0: bias8 = _mm256_mul_ps(d8, _mm256_set1_ps(-8.0f)); break;
    case SHOAL_GGML_Q5_0: bias8 = _mm256_mul_ps(d8, _mm256_set1_ps(-16.0f)); break;
    case SHOAL_GGML_Q8_0: bias8 = _mm256_setzero_ps(); break;
    default: bias8 = _mm256_cvtph_ps(_mm256_extracti128_si256(halves, 1)); break;  // m
    }
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i pv[8];
    for (int v = 0; v < 8; v++) {
        if (v >= cnt) {
            pv[v] = _mm256_setzero_si256();
            continue;
        }
        __m256i u;
        float dw_unused, bias_unused;  // the scales came from hw above
        dec32(type, p + (size_t)v * bsize, &u, &dw_unused, &bias_unused);
        __m256i yv = _mm256_loadu_si256((const __m256i *)(y + 32 * (b0 + v)));
        __m256i uw = u;
        if (!has_bias) {
            uw = _mm256_sign_epi8(u, u);
            yv = _mm256_sign_epi8(yv, u);
        }
        pv[v] = _mm256_madd_epi16(_mm256_maddubs_epi16(uw, yv), ones);
    }
    const __m256i t = reduce8_rows(pv[0], pv[1], pv[2], pv[3], pv[4], pv[5], pv[6], pv[7]);
    *acc = _mm256_fmadd_ps(_mm256_mul_ps(d8, _mm256_loadu_ps(av->d + b0)), _mm256_cvtepi32_ps(t), *acc);
    if (has_bias) *corr = _mm256_fmadd_ps(bias8, _mm256_loadu_ps(av->s + b0), *corr);
}

AVX2_INLINE void row32_x1(const int type, const int bsize, const uint8_t *w, int64_t nb, const act_view *av,
                          float *out) {
    __m256 acc = _mm256_setzero_ps(), corr = _mm256_setzero_ps();
    int64_t b0 = 0;
    for (; b0 + 8 <= nb; b0 += 8) x1_group(type, bsize, w + (size_t)b0 * bsize, b0, 8, av, &acc, &corr);
    switch (nb - b0) {  // constant counts keep the tail unrolled
    case 1: x1_group(type, bsize, w + (size_t)b0 * bsize, b0, 1, av, &acc, &corr); break;
    case 2: x1_group(type, bsize, w + (size_t)b0 * bsize, b0, 2, av, &acc, &corr); break;
    case 3: x1_group(type, bsize, w + (size_t)b0 * bsize, b0, 3, av, &acc, &corr); break;
    case 4: x1_group(type, bsize, w + (size_t)b0 * bsize, b0, 4, av, &acc, &corr); break;
    case 5: x1_group(type, bsize, w + (size_t)b0 * bsize, b0, 5, av, &acc, &corr); break;
    case 6: x1_group(type, bsize, w + (size_t)b0 * bsize, b0, 6, av, &acc, &corr); break;
    case 7: x1_group(type, bsize, w + (size_t)b0 * bsize, b0, 7, av, &acc, &corr); break;
    default: break;
    }
    out[0] = hsum_ps(_mm256_add_ps(acc, corr));
}

// The matmul driver gives these kernels either one plain row with contiguous
// scales (ld == 1) or an 8-row interleaved group (q_stride == 0).
#define ROW32_CALL(RR, type, bsize)                                      \
    ((RR) == 1 && av->q_stride != 0                                       \
         ? row32_x1(type, bsize, (const uint8_t *)w, nb, av, out)         \
         : row32_il(type, bsize, RR, (const uint8_t *)w, nb, av, out, os))
#define DEFINE_ROW32(name, type, blk_t)                                                               \
    AVX2_FN static void name(KERNEL_ARGS) {                                                            \
        DISPATCH_R(ROW32_CALL, type, (int)sizeof(blk_t))                                              \
    }

DEFINE_ROW32(row_q4_0, SHOAL_GGML_Q4_0, blk_q4_0)
DEFINE_ROW32(row_q4_1, SHOAL_GGML_Q4_1, blk_q4_1)
DEFINE_ROW32(row_q5_0, SHOAL_GGML_Q5_0, blk_q5_0)
DEFINE_ROW32(row_q5_1, SHOAL_GGML_Q5_1, blk_q5_1)
DEFINE_ROW32(row_q8_0, SHOAL_GGML_Q8_0, blk_q8_0)

// ---------------------------------------------------------------------------
// K-quants against act_q8k. For each super-block and row, integer sums stay in
// 8 int32 lanes (isum) and are converted to float once:
//   acc += (d * d_a) * isum - (dmin * d_a) * msum
// where scales are applied with madd (int16 scale x int16 pair sums), and mins
// or fixed offsets come from madd(bsums, per-16 scales).

// Scale vectors for madd: scale byte n widened into all 16 int16 lanes
// (per-32 scales), or scale bytes 2q and 2q+1 into the low and high 8 lanes
// (per-16 scales: maddubs lanes 0-7 hold elements 0-15 of the chunk).
AVX2_INLINE __m256i splat_u8_scale(__m128i sc8, int n) {
    return _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sc8, _mm_set1_epi8((char)n)));
}
AVX2_INLINE __m256i pair_scale_s8(__m128i sc8, int q) {
    const __m128i ctl = _mm_unpacklo_epi64(_mm_set1_epi8((char)(2 * q)), _mm_set1_epi8((char)(2 * q + 1)));
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, ctl));
}
AVX2_INLINE __m256i pair_scale_u8(__m128i sc8, int q) {
    const __m128i ctl = _mm_unpacklo_epi64(_mm_set1_epi8((char)(2 * q)), _mm_set1_epi8((char)(2 * q + 1)));
    return _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sc8, ctl));
}

AVX2_INLINE __m256i load_y(const act_q8k *a, int c) {
    return _mm256_loadu_si256((const __m256i *)(a->qs + 32 * c));
}
AVX2_INLINE __m256i load_bsums(const act_q8k *a) {
    return _mm256_loadu_si256((const __m256i *)a->bsums);
}

// Q4_K/Q5_K scales: 8 6-bit scales (bytes 0-7 of *sc) and mins (*mn).
static inline void k4_unpack(const uint8_t *s12, uint8_t sc[8], uint8_t mn[8]) {
    uint32_t s[3], o[4];
    memcpy(s, s12, 12);
    o[0] = s[0] & 0x3f3f3f3f;
    o[1] = (s[2] & 0x0f0f0f0f) | ((s[0] >> 2) & 0x30303030);
    o[2] = s[1] & 0x3f3f3f3f;
    o[3] = ((s[2] >> 4) & 0x0f0f0f0f) | ((s[1] >> 2) & 0x30303030);
    memcpy(sc, o, 8);
    memcpy(mn, o + 2, 8);
}

// Q4_K and Q5_K share everything but the fifth bit.
AVX2_INLINE void row_k45(const int five, const int R, const uint8_t *w, int64_t nb, const act_view *av,
                         float *out, int64_t os) {
    const act_q8k *a[SHOAL_MAX_R];
    __m256 acc[SHOAL_MAX_R];
    for (int r = 0; r < R; r++) {
        a[r] = (const act_q8k *)(av->q + (size_t)r * av->q_stride);
        acc[r] = _mm256_setzero_ps();
    }
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const size_t bsize = five ? sizeof(blk_q5_k) : sizeof(blk_q4_k);
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *p = w + (size_t)i * bsize;
        const uint16_t *dd = (const uint16_t *)p;  // d, dmin lead both layouts
        const uint8_t *scales = p + 4;
        const uint8_t *qh = five ? ((const blk_q5_k *)p)->qh : NULL;
        const uint8_t *qs = five ? ((const blk_q5_k *)p)->qs : ((const blk_q4_k *)p)->qs;
        uint8_t scm[16];
        k4_unpack(scales, scm, scm + 8);
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)scm);
        // Mins duplicated per 16-element half so they pair with bsums.
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(_mm_srli_si128(sc8, 8), _mm_srli_si128(sc8, 8)));
        const __m256 vd = _mm256_set1_ps(h2f(dd[0]));
        const __m256 vdmin = _mm256_set1_ps(h2f(dd[1]));
        const __m256i hbits = five ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();

        __m256i isum[SHOAL_MAX_R];
        for (int r = 0; r < R; r++) isum[r] = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            for (int n = 0; n < 2; n++) {
                const int j = 2 * c + n;  // sub-block
                __m256i u = n ? _mm256_and_si256(_mm256_srli_epi16(q, 4), m4) : _mm256_and_si256(q, m4);
                if (five) {
                    // Bit j of each qh byte -> 0x10 (16-bit shifts keep bytes apart after the mask).
                    const __m256i hb = j < 4 ? _mm256_slli_epi16(hbits, 4 - j) : _mm256_srli_epi16(hbits, j - 4);
                    u = _mm256_or_si256(u, _mm256_and_si256(hb, _mm256_set1_epi8(0x10)));
                }
                const __m256i sc = splat_u8_scale(sc8, j);
                for (int r = 0; r < R; r++) {
                    const __m256i p16 = _mm256_maddubs_epi16(u, load_y(a[r] + i, j));
                    isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(p16, sc));
                }
            }
        }
        for (int r = 0; r < R; r++) {
            const __m256 da = _mm256_broadcast_ss(&a[r][i].d);
            const __m256i msum = _mm256_madd_epi16(load_bsums(a[r] + i), mins);
            acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(vd, da), _mm256_cvtepi32_ps(isum[r]), acc[r]);
            acc[r] = _mm256_fnmadd_ps(_mm256_mul_ps(vdmin, da), _mm256_cvtepi32_ps(msum), acc[r]);
        }
    }
    for (int r = 0; r < R; r++) out[r * os] = hsum_ps(acc[r]);
}

#define K4_CALL(RR, five) row_k45(five, RR, (const uint8_t *)w, nb, av, out, os)
AVX2_FN static void row_q4_k(KERNEL_ARGS) {
    DISPATCH_R(K4_CALL, 0)
}
AVX2_FN static void row_q5_k(KERNEL_ARGS) {
    DISPATCH_R(K4_CALL, 1)
}

// Q6_K: u = q + 32 in 0..63, per-16 signed scales; the -32 offset is removed
// with 32 * madd(scales, bsums).
AVX2_INLINE void row_q6k_impl(const int R, const uint8_t *w, int64_t nb, const act_view *av, float *out,
                              int64_t os) {
    const act_q8k *a[SHOAL_MAX_R];
    __m256 acc[SHOAL_MAX_R];
    for (int r = 0; r < R; r++) {
        a[r] = (const act_q8k *)(av->q + (size_t)r * av->q_stride);
        acc[r] = _mm256_setzero_ps();
    }
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    for (int64_t i = 0; i < nb; i++) {
        const blk_q6_k *b = (const blk_q6_k *)w + i;
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)b->scales);
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        const __m256 vd = _mm256_set1_ps(h2f(b->d));
        __m256i isum[SHOAL_MAX_R];
        for (int r = 0; r < R; r++) isum[r] = _mm256_setzero_si256();
        for (int c = 0; c < 8; c++) {
            // Element 32c + l (c = 4h + s): nibble (s >> 1) of ql[64h + 32(s & 1) + l],
            // bits 2s..2s+1 of qh[32h + l]. Loaded per chunk to keep registers free for rows.
            const int h = c >> 2, s = c & 3;
            const __m256i lq = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32 * (s & 1)));
            const __m256i hq = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
            const __m256i lo = (s >> 1) ? _mm256_and_si256(_mm256_srli_epi16(lq, 4), m4) : _mm256_and_si256(lq, m4);
            __m256i hi;
            switch (s) {
            case 0: hi = _mm256_slli_epi16(hq, 4); break;
            case 1: hi = _mm256_slli_epi16(hq, 2); break;
            case 2: hi = hq; break;
            default: hi = _mm256_srli_epi16(hq, 2); break;
            }
            const __m256i u = _mm256_or_si256(lo, _mm256_and_si256(hi, m30));
            const __m256i sc = pair_scale_s8(sc8, c);
            for (int r = 0; r < R; r++) {
                const __m256i p16 = _mm256_maddubs_epi16(u, load_y(a[r] + i, c));
                isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(p16, sc));
            }
        }
        for (int r = 0; r < R; r++) {
            const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(load_bsums(a[r] + i), sc16), 5);
            const __m256 s = _mm256_mul_ps(vd, _mm256_broadcast_ss(&a[r][i].d));
            acc[r] = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(_mm256_sub_epi32(isum[r], off)), acc[r]);
        }
    }
    for (int r = 0; r < R; r++) out[r * os] = hsum_ps(acc[r]);
}

#define Q6K_CALL(RR, unused) row_q6k_impl(RR, (const uint8_t *)w, nb, av, out, os)
AVX2_FN static void row_q6_k(KERNEL_ARGS) {
    DISPATCH_R(Q6K_CALL, 0)
}

// Q2_K and Q3_K share the 2-bit layout: element 128h + 32s + l is bits 2s..2s+1
// of qs[32h + l]. Q3_K adds hmask bit (4h + s) of byte l as bit 2 (u = q + 4)
// and folds the -4 offset in via bsums; Q2_K subtracts dmin * min * bsum.
AVX2_INLINE void row_k23(const int three, const int R, const uint8_t *w, int64_t nb, const act_view *av,
                         float *out, int64_t os) {
    const act_q8k *a[SHOAL_MAX_R];
    __m256 acc[SHOAL_MAX_R];
    for (int r = 0; r < R; r++) {
        a[r] = (const act_q8k *)(av->q + (size_t)r * av->q_stride);
        acc[r] = _mm256_setzero_ps();
    }
    const __m256i m3 = _mm256_set1_epi8(3), m4b = _mm256_set1_epi8(4);
    const size_t bsize = three ? sizeof(blk_q3_k) : sizeof(blk_q2_k);
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *p = w + (size_t)i * bsize;
        const blk_q2_k *b2 = (const blk_q2_k *)p;
        const blk_q3_k *b3 = (const blk_q3_k *)p;
        const uint8_t *qs = three ? b3->qs : b2->qs;
        __m128i sc8;     // per-16 scales (signed for Q3_K, unsigned 4-bit for Q2_K)
        __m256i corr16;  // per-16 multipliers of bsums
        __m256 vd, vdmin = _mm256_setzero_ps();
        __m256i hm = _mm256_setzero_si256();
        if (three) {
            uint8_t sc[16];
            shoal_q3k_scales(b3->scales, sc);
            sc8 = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)sc), _mm_set1_epi8(32));
            corr16 = _mm256_cvtepi8_epi16(sc8);  // offset: 4 * sum scale * bsum
            vd = _mm256_set1_ps(h2f(b3->d));
            hm = _mm256_loadu_si256((const __m256i *)b3->hmask);
        } else {
            const __m128i raw = _mm_loadu_si128((const __m128i *)b2->scales);
            sc8 = _mm_and_si128(raw, _mm_set1_epi8(0x0f));
            corr16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0x0f)));  // mins
            vd = _mm256_set1_ps(h2f(b2->d));
            vdmin = _mm256_set1_ps(h2f(b2->dmin));
        }
        __m256i isum[SHOAL_MAX_R];
        for (int r = 0; r < R; r++) isum[r] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
            for (int s = 0; s < 4; s++) {
                __m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3);
                if (three) {
                    const int bit = 4 * h + s;  // -> bit 2 of each byte
                    const __m256i hb = bit < 2 ? _mm256_slli_epi16(hm, 2 - bit) : _mm256_srli_epi16(hm, bit - 2);
                    u = _mm256_or_si256(u, _mm256_and_si256(hb, m4b));
                }
                const __m256i sc = three ? pair_scale_s8(sc8, 4 * h + s) : pair_scale_u8(sc8, 4 * h + s);
                for (int r = 0; r < R; r++) {
                    const __m256i p16 = _mm256_maddubs_epi16(u, load_y(a[r] + i, 4 * h + s));
                    isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(p16, sc));
                }
            }
        }
        for (int r = 0; r < R; r++) {
            const __m256 da = _mm256_broadcast_ss(&a[r][i].d);
            const __m256i cs = _mm256_madd_epi16(load_bsums(a[r] + i), corr16);
            if (three) {
                const __m256i t = _mm256_sub_epi32(isum[r], _mm256_slli_epi32(cs, 2));
                acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(vd, da), _mm256_cvtepi32_ps(t), acc[r]);
            } else {
                acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(vd, da), _mm256_cvtepi32_ps(isum[r]), acc[r]);
                acc[r] = _mm256_fnmadd_ps(_mm256_mul_ps(vdmin, da), _mm256_cvtepi32_ps(cs), acc[r]);
            }
        }
    }
    for (int r = 0; r < R; r++) out[r * os] = hsum_ps(acc[r]);
}

#define K23_CALL(RR, three) row_k23(three, RR, (const uint8_t *)w, nb, av, out, os)
AVX2_FN static void row_q2_k(KERNEL_ARGS) {
    DISPATCH_R(K23_CALL, 0)
}
AVX2_FN static void row_q3_k(KERNEL_ARGS) {
    DISPATCH_R(K23_CALL, 1)
}

// ---------------------------------------------------------------------------
// Float weights against fp32 activations (nb = k elements).

AVX2_INLINE __m256 load8(const int type, const uint8_t *w, int64_t e) {
    switch (type) {
    case SHOAL_GGML_F32: return _mm256_loadu_ps((const float *)w + e);
    case SHOAL_GGML_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + e)));
    default: {  // BF16: the top half of an fp32
        const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + e)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    }
    }
}

AVX2_INLINE float load1(const int type, const uint8_t *w, int64_t e) {
    switch (type) {
    case SHOAL_GGML_F32: return ((const float *)w)[e];
    case SHOAL_GGML_F16: return shoal_f16_to_f32(((const uint16_t *)w)[e]);
    default: return shoal_bf16_to_f32(((const uint16_t *)w)[e]);
    }
}

AVX2_INLINE void rowf(const int type, const int R, const uint8_t *w, int64_t k, const act_view *av,
                      float *out, int64_t os) {
    const int U = R == 1 ? 4 : R == 2 ? 2 : 1;
    const float *x[SHOAL_MAX_R];
    __m256 acc[4][SHOAL_MAX_R];
    for (int r = 0; r < R; r++) {
        x[r] = (const float *)(av->q + (size_t)r * av->q_stride);
        for (int v = 0; v < U; v++) acc[v][r] = _mm256_setzero_ps();
    }
    int64_t e = 0;
    for (; e + 8 * U <= k; e += 8 * U) {
        for (int v = 0; v < U; v++) {
            const __m256 wv = load8(type, w, e + 8 * v);
            for (int r = 0; r < R; r++) acc[v][r] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x[r] + e + 8 * v), acc[v][r]);
        }
    }
    for (; e + 8 <= k; e += 8) {
        const __m256 wv = load8(type, w, e);
        for (int r = 0; r < R; r++) acc[0][r] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x[r] + e), acc[0][r]);
    }
    for (int r = 0; r < R; r++) {
        __m256 t = acc[0][r];
        for (int v = 1; v < U; v++) t = _mm256_add_ps(t, acc[v][r]);
        float s = hsum_ps(t);
        for (int64_t f = e; f < k; f++) s += load1(type, w, f) * x[r][f];
        out[r * os] = s;
    }
}

#define ROWF_CALL(RR, type) rowf(type, RR, (const uint8_t *)w, nb, av, out, os)
AVX2_FN static void row_f32(KERNEL_ARGS) {
    DISPATCH_R(ROWF_CALL, SHOAL_GGML_F32)
}
AVX2_FN static void row_f16(KERNEL_ARGS) {
    DISPATCH_R(ROWF_CALL, SHOAL_GGML_F16)
}
AVX2_FN static void row_bf16(KERNEL_ARGS) {
    DISPATCH_R(ROWF_CALL, SHOAL_GGML_BF16)
}

shoal_row_kernel shoal_avx2_kernel(int type) {
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

#else
typedef int shoal_no_avx2_on_this_arch;  // ISO C forbids an empty translation unit
#endif
