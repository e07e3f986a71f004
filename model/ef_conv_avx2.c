/* The AVX2 + FMA convolution kernel (this file is compiled with -mavx2 -mfma and
 * only called when the CPU has both). Register blocking: 4 output channels x 16
 * bins in 8 accumulators, so each input vector loaded feeds 12 FMAs and each
 * broadcast weight feeds 2. Edge bins use masked loads (zero padding for free). */
#include "ef_kernels.h"

#include <immintrin.h>
#include <stddef.h>

#define LANES 8
#define HALVES 2

/* Lanes base+l+shift that fall inside 0..n-1. */
static inline __m256i lanes_inside(int base, int shift, int n)
{
    const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32(base + shift),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_and_si256(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(-1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx));
}

static inline __m256 load_shifted(const float *src, int base, int shift, int n)
{
    if (base + shift >= 0 && base + shift + LANES <= n)
        return _mm256_loadu_ps(src + base + shift);
    return _mm256_maskload_ps(src + base + shift, lanes_inside(base, shift, n));
}

/* CB output channels from co0 (CB is a constant after inlining). */
static inline __attribute__((always_inline)) void conv_block(const ef_conv *c,
                                                             const float *const *taps, int n,
                                                             int co0, const int CB, float *out)
{
    const size_t wstride_co = (size_t)c->cin * (size_t)c->kt * 3;
    for (int f0 = 0; f0 < n; f0 += LANES * HALVES) {
        __m256 acc[4][HALVES];
        for (int cb = 0; cb < CB; cb++)
            for (int h = 0; h < HALVES; h++)
                acc[cb][h] = _mm256_set1_ps(c->b[co0 + cb]);
        for (int ci = 0; ci < c->cin; ci++)
            for (int i = 0; i < c->kt; i++) {
                if (!taps[i])
                    continue;
                const float *src = taps[i] + (size_t)ci * (size_t)n;
                __m256 sm[HALVES], s0[HALVES], sp[HALVES];
                for (int h = 0; h < HALVES; h++) {
                    const int base = f0 + h * LANES;
                    sm[h] = load_shifted(src, base, -1, n);
                    s0[h] = load_shifted(src, base, 0, n);
                    sp[h] = load_shifted(src, base, 1, n);
                }
                const float *w = c->w + (size_t)co0 * wstride_co + ((size_t)ci * (size_t)c->kt + (size_t)i) * 3;
                for (int cb = 0; cb < CB; cb++) {
                    const float *wc = w + (size_t)cb * wstride_co;
                    const __m256 w0 = _mm256_broadcast_ss(wc), w1 = _mm256_broadcast_ss(wc + 1),
                                 w2 = _mm256_broadcast_ss(wc + 2);
                    for (int h = 0; h < HALVES; h++) {
                        acc[cb][h] = _mm256_fmadd_ps(w0, sm[h], acc[cb][h]);
                        acc[cb][h] = _mm256_fmadd_ps(w1, s0[h], acc[cb][h]);
                        acc[cb][h] = _mm256_fmadd_ps(w2, sp[h], acc[cb][h]);
                    }
                }
            }
        for (int cb = 0; cb < CB; cb++)
            for (int h = 0; h < HALVES; h++) {
                const int base = f0 + h * LANES;
                float *o = out + (size_t)(co0 + cb) * (size_t)n + base;
                if (base + LANES <= n)
                    _mm256_storeu_ps(o, acc[cb][h]);
                else if (base < n)
                    _mm256_maskstore_ps(o, lanes_inside(base, 0, n), acc[cb][h]);
            }
    }
}

void ef_conv_avx2(const ef_conv *c, const float *const *taps, int n_in, float *out)
{
    if (c->stride != 1) {
        ef_conv_portable(c, taps, n_in, out);
        return;
    }
    int co = 0;
    for (; co + 4 <= c->cout; co += 4)
        conv_block(c, taps, n_in, co, 4, out);
    for (; co < c->cout; co++)
        conv_block(c, taps, n_in, co, 1, out);
}
