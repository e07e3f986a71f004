/* A vectorizable expf: no library call, no branches, so loops that use it compile
 * to SIMD code at any -m flag. Cephes' method: exp(x) = 2^n exp(r) with
 * n = round(x / ln 2) and a degree-6 polynomial on |r| <= ln(2)/2; relative error
 * below 2e-7 on [-87, 88] (tests/unit/test_conv_kernels.c measures it). Inputs beyond
 * that range are clamped; NaN stays NaN. */
#ifndef EF_FAST_EXP_H
#define EF_FAST_EXP_H

#include <stdint.h>
#include <string.h>

static inline float ef_fast_expf(float x)
{
    x = x > 88.0f ? 88.0f : x;
    x = x < -87.0f ? -87.0f : x;
    /* round to nearest by the 1.5 * 2^23 trick (exact without -ffast-math) */
    float n = x * 1.44269504088896341f + 12582912.0f;
    n -= 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const float n_safe = n == n ? n : 0.0f; /* NaN: p is NaN already */
    const int32_t bits = ((int32_t)n_safe + 127) * 8388608; /* << 23 without UB */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float ef_fast_silu(float x) { return x / (1.0f + ef_fast_expf(-x)); }

#endif
