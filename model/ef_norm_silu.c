/* Group normalization within one frame fused with SiLU (ef_kernels.h). This one
 * source is compiled once per instruction set, named by EF_NORM_SILU_NAME: plain C
 * written so that the compiler vectorizes every loop (lane-wise partial sums
 * instead of one serial float sum, which it may not reorder). */
#include "ef_fast_exp.h"
#include "ef_kernels.h"

#include <math.h>
#include <stddef.h>

#ifndef EF_NORM_SILU_NAME
#define EF_NORM_SILU_NAME ef_norm_silu_portable
#endif

#define PARTS 16

#if defined(__AVX512F__)
#include <immintrin.h>

/* ef_fast_silu on 16 lanes, with fused multiply-adds (ef_fast_expf's constants and
 * steps; the products are rounded once instead of twice, within 1e-6 of libm as
 * test_conv_kernels checks). Rows go two vectors at a time: gcc's own vectorization of
 * ef_fast_silu ran the polynomial under masks, one long dependency chain per vector,
 * and took 1.45 times as long on the shipped separation network's norms. min/max
 * take the constant first so that a NaN input stays NaN. */
static inline __m512 silu16(__m512 v)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 a = _mm512_sub_ps(_mm512_setzero_ps(), v);
    a = _mm512_min_ps(_mm512_set1_ps(EF_EXP_MAX), a);
    a = _mm512_max_ps(_mm512_set1_ps(EF_EXP_MIN), a);
    const __m512 magic = _mm512_set1_ps(EF_EXP_ROUND);
    __m512 k = _mm512_fmadd_ps(a, _mm512_set1_ps(EF_EXP_LOG2E), magic);
    k = _mm512_sub_ps(k, magic);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(EF_EXP_LN2_HI), a);
    r = _mm512_fmadd_ps(k, _mm512_set1_ps(EF_EXP_LN2_LO), r);
    __m512 p = _mm512_set1_ps(EF_EXP_P5);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EF_EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EF_EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EF_EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EF_EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EF_EXP_P0));
    p = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), one);
    const __m512 k_safe = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(k, k, _CMP_ORD_Q), k); /* NaN -> 0 */
    const __m512i bits = _mm512_slli_epi32(
        _mm512_add_epi32(_mm512_cvttps_epi32(k_safe), _mm512_set1_epi32(127)), 23);
    return _mm512_div_ps(v, _mm512_fmadd_ps(p, _mm512_castsi512_ps(bits), one));
}

static void silu_row(const float *x, float scale, float shift, float *y, int n)
{
    const __m512 vs = _mm512_set1_ps(scale), vb = _mm512_set1_ps(shift);
    int f = 0;
    for (; f + 32 <= n; f += 32) {
        const __m512 v0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + f), vs, vb);
        const __m512 v1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + f + 16), vs, vb);
        _mm512_storeu_ps(y + f, silu16(v0));
        _mm512_storeu_ps(y + f + 16, silu16(v1));
    }
    for (; f + 16 <= n; f += 16)
        _mm512_storeu_ps(y + f, silu16(_mm512_fmadd_ps(_mm512_loadu_ps(x + f), vs, vb)));
    for (; f < n; f++)
        y[f] = ef_fast_silu(x[f] * scale + shift);
}
#elif defined(__AVX2__)
#include <immintrin.h>

/* y = silu(x * scale + shift) over a row, 8 lanes at a time: the same operations in
 * the same order as ef_fast_silu. Written out because gcc will not if-convert the
 * clamps of ef_fast_expf with AVX2 (it does with AVX-512 masks). min/max take the
 * constant first so that a NaN input stays NaN. */
static void silu_row(const float *x, float scale, float shift, float *y, int n)
{
    const __m256 vs = _mm256_set1_ps(scale), vb = _mm256_set1_ps(shift);
    const __m256 hi = _mm256_set1_ps(EF_EXP_MAX), lo = _mm256_set1_ps(EF_EXP_MIN);
    const __m256 log2e = _mm256_set1_ps(EF_EXP_LOG2E), magic = _mm256_set1_ps(EF_EXP_ROUND);
    const __m256 c1 = _mm256_set1_ps(EF_EXP_LN2_HI), c2 = _mm256_set1_ps(EF_EXP_LN2_LO);
    const __m256 one = _mm256_set1_ps(1.0f);
    int f = 0;
    for (; f + 8 <= n; f += 8) {
        const __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x + f), vs), vb);
        __m256 a = _mm256_sub_ps(_mm256_setzero_ps(), v);
        a = _mm256_min_ps(hi, a);
        a = _mm256_max_ps(lo, a);
        __m256 k = _mm256_add_ps(_mm256_mul_ps(a, log2e), magic);
        k = _mm256_sub_ps(k, magic);
        __m256 r = _mm256_sub_ps(a, _mm256_mul_ps(k, c1));
        r = _mm256_add_ps(r, _mm256_mul_ps(k, c2));
        __m256 p = _mm256_set1_ps(EF_EXP_P5);
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(EF_EXP_P4));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(EF_EXP_P3));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(EF_EXP_P2));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(EF_EXP_P1));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(EF_EXP_P0));
        p = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, r), r), r), one);
        const __m256 k_safe = _mm256_and_ps(k, _mm256_cmp_ps(k, k, _CMP_ORD_Q)); /* NaN -> 0 */
        const __m256i bits = _mm256_slli_epi32(
            _mm256_add_epi32(_mm256_cvttps_epi32(k_safe), _mm256_set1_epi32(127)), 23);
        const __m256 e = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
        _mm256_storeu_ps(y + f, _mm256_div_ps(v, _mm256_add_ps(one, e)));
    }
    for (; f < n; f++)
        y[f] = ef_fast_silu(x[f] * scale + shift);
}
#else
static void silu_row(const float *x, float scale, float shift, float *y, int n)
{
    for (int f = 0; f < n; f++)
        y[f] = ef_fast_silu(x[f] * scale + shift);
}
#endif

static float sum_of(const float *x, size_t len)
{
    float part[PARTS] = {0};
    size_t i = 0;
    for (; i + PARTS <= len; i += PARTS)
        for (int j = 0; j < PARTS; j++)
            part[j] += x[i + j];
    float s = 0.0f;
    for (; i < len; i++)
        s += x[i];
    for (int j = 0; j < PARTS; j++)
        s += part[j];
    return s;
}

static float squared_deviation_of(const float *x, size_t len, float mean)
{
    float part[PARTS] = {0};
    size_t i = 0;
    for (; i + PARTS <= len; i += PARTS)
        for (int j = 0; j < PARTS; j++) {
            const float d = x[i + j] - mean;
            part[j] += d * d;
        }
    float s = 0.0f;
    for (; i < len; i++)
        s += (x[i] - mean) * (x[i] - mean);
    for (int j = 0; j < PARTS; j++)
        s += part[j];
    return s;
}

void EF_NORM_SILU_NAME(const float *x, int channels, int groups, int n_bins, const float *w,
                       const float *b, float *y)
{
    const int cg = channels / groups;
    const size_t len = (size_t)cg * (size_t)n_bins;
    for (int g = 0; g < groups; g++) {
        const float *xg = x + (size_t)g * len;
        const float mean = sum_of(xg, len) / (float)len;
        const float var = squared_deviation_of(xg, len, mean) / (float)len;
        const float rstd = 1.0f / sqrtf(var + 1e-5f);
        for (int c = g * cg; c < (g + 1) * cg; c++) {
            const float *xc = x + (size_t)c * (size_t)n_bins;
            float *yc = y + (size_t)c * (size_t)n_bins;
            const float scale = w[c] * rstd, shift = b[c] - mean * scale;
            silu_row(xc, scale, shift, yc, n_bins);
        }
    }
}
