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
            for (int f = 0; f < n_bins; f++)
                yc[f] = ef_fast_silu(xc[f] * scale + shift);
        }
    }
}
