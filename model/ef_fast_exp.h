/* A vectorizable expf: no library call, no branches, so loops that use it compile
 * to SIMD code at any -m flag. Cephes' method: exp(x) = 2^n exp(r) with
 * n = round(x / ln 2) and a degree-6 polynomial on |r| <= ln(2)/2; relative error
 * below 2e-7 on [-87, 88] (tests/unit/test_conv_kernels.c measures it). Inputs beyond
 * that range are clamped; NaN stays NaN. */
#ifndef EF_FAST_EXP_H
#define EF_FAST_EXP_H

#include <stdint.h>
#include <string.h>

/* The constants, named once: the SIMD SiLU rows in ef_norm_silu.c take the same ones. */
#define EF_EXP_MAX 88.0f
#define EF_EXP_MIN (-87.0f)
#define EF_EXP_LOG2E 1.44269504088896341f
#define EF_EXP_ROUND 12582912.0f /* 1.5 * 2^23 */
#define EF_EXP_LN2_HI 0.693359375f
#define EF_EXP_LN2_LO 2.12194440e-4f /* ln 2 = LN2_HI - LN2_LO */
#define EF_EXP_P5 1.9875691500e-4f
#define EF_EXP_P4 1.3981999507e-3f
#define EF_EXP_P3 8.3334519073e-3f
#define EF_EXP_P2 4.1665795894e-2f
#define EF_EXP_P1 1.6666665459e-1f
#define EF_EXP_P0 5.0000001201e-1f

static inline float ef_fast_expf(float x)
{
    x = x > EF_EXP_MAX ? EF_EXP_MAX : x;
    x = x < EF_EXP_MIN ? EF_EXP_MIN : x;
    /* round to nearest by the 1.5 * 2^23 trick (exact without -ffast-math) */
    float n = x * EF_EXP_LOG2E + EF_EXP_ROUND;
    n -= EF_EXP_ROUND;
    float r = x - n * EF_EXP_LN2_HI;
    r = r + n * EF_EXP_LN2_LO;
    float p = EF_EXP_P5;
    p = p * r + EF_EXP_P4;
    p = p * r + EF_EXP_P3;
    p = p * r + EF_EXP_P2;
    p = p * r + EF_EXP_P1;
    p = p * r + EF_EXP_P0;
    p = p * r * r + r + 1.0f;
    const float n_safe = n == n ? n : 0.0f; /* NaN: p is NaN already */
    const int32_t bits = ((int32_t)n_safe + 127) * 8388608; /* << 23 without UB */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float ef_fast_silu(float x) { return x / (1.0f + ef_fast_expf(-x)); }

#endif
