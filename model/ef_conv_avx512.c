/* The AVX-512 convolution kernel (this file is compiled with -mavx512f -mfma and
 * only called when the CPU has AVX-512F). Register blocking: 8 output channels x 32
 * bins in 16 accumulators (25 of the 32 registers with the six input vectors and
 * three weights), so each input vector loaded feeds 8 FMAs and each broadcast weight
 * feeds 2; with 4 channels (8 accumulators) the loads and the FMA latency chains
 * held it to about 80 % of this speed on the shipped networks (docs/benchmarks.md).
 * Channel counts that are not a multiple of 8 finish in blocks of 4, then 1. Edge
 * bins use masked loads (zero padding for free); stride 2 splits even and odd bins
 * with two-source permutes. */
#include "ef_kernels.h"

#include <immintrin.h>
#include <stddef.h>

#define LANES 16
#define HALVES 2

/* Lanes base+l+shift that fall inside 0..n-1, as a mask. */
static inline __mmask16 lanes_inside(int base, int shift, int n)
{
    const int first = base + shift;
    unsigned lo = first >= 0 ? 0u : (unsigned)(-first);          /* lanes before 0 */
    int hi = n - first;                                            /* lanes before n */
    unsigned keep = hi >= LANES ? 0xFFFFu : hi <= 0 ? 0u : (1u << hi) - 1u;
    if (lo >= LANES)
        return 0;
    return (__mmask16)(keep & (0xFFFFu << lo));
}

static inline __m512 load_shifted(const float *src, int base, int shift, int n)
{
    if (base + shift >= 0 && base + shift + LANES <= n)
        return _mm512_loadu_ps(src + base + shift);
    return _mm512_maskz_loadu_ps(lanes_inside(base, shift, n), src + base + shift);
}

/* Stride 2: the inputs of output bins base..base+15 for the three frequency taps,
 * src[2f-1], src[2f], src[2f+1], split out of 32 (masked) loaded floats. */
static inline void load_stride2(const float *src, int base, int n_in, __m512 *sm, __m512 *s0,
                                __m512 *sp)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const int at = 2 * base;
    const __m512 a0 = load_shifted(src, at, 0, n_in), a1 = load_shifted(src, at, LANES, n_in);
    const __m512 b0 = load_shifted(src, at, -1, n_in), b1 = load_shifted(src, at, LANES - 1, n_in);
    *s0 = _mm512_permutex2var_ps(a0, even, a1);
    *sp = _mm512_permutex2var_ps(a0, odd, a1);
    *sm = _mm512_permutex2var_ps(b0, even, b1);
}

/* CB output channels from co0, input stride S (both constants after inlining). */
static inline __attribute__((always_inline)) void conv_block(const ef_conv *c,
                                                             const float *const *taps, int n_in,
                                                             int co0, const int CB, const int S,
                                                             float *out)
{
    const size_t wstride_co = (size_t)c->cin * (size_t)c->kt * 3;
    const int n = n_in / S;
    for (int f0 = 0; f0 < n; f0 += LANES * HALVES) {
        __m512 acc[8][HALVES];
        for (int cb = 0; cb < CB; cb++)
            for (int h = 0; h < HALVES; h++)
                acc[cb][h] = _mm512_set1_ps(c->b[co0 + cb]);
        for (int ci = 0; ci < c->cin; ci++)
            for (int i = 0; i < c->kt; i++) {
                if (!taps[i])
                    continue;
                const float *src = taps[i] + (size_t)ci * (size_t)n_in;
                __m512 sm[HALVES], s0[HALVES], sp[HALVES];
                for (int h = 0; h < HALVES; h++) {
                    const int base = f0 + h * LANES;
                    if (S == 2) {
                        load_stride2(src, base, n_in, &sm[h], &s0[h], &sp[h]);
                    } else {
                        sm[h] = load_shifted(src, base, -1, n);
                        s0[h] = load_shifted(src, base, 0, n);
                        sp[h] = load_shifted(src, base, 1, n);
                    }
                }
                const float *w = c->w + (size_t)co0 * wstride_co + ((size_t)ci * (size_t)c->kt + (size_t)i) * 3;
                for (int cb = 0; cb < CB; cb++) {
                    const float *wc = w + (size_t)cb * wstride_co;
                    const __m512 w0 = _mm512_set1_ps(wc[0]), w1 = _mm512_set1_ps(wc[1]),
                                 w2 = _mm512_set1_ps(wc[2]);
                    for (int h = 0; h < HALVES; h++) {
                        acc[cb][h] = _mm512_fmadd_ps(w0, sm[h], acc[cb][h]);
                        acc[cb][h] = _mm512_fmadd_ps(w1, s0[h], acc[cb][h]);
                        acc[cb][h] = _mm512_fmadd_ps(w2, sp[h], acc[cb][h]);
                    }
                }
            }
        for (int cb = 0; cb < CB; cb++)
            for (int h = 0; h < HALVES; h++) {
                const int base = f0 + h * LANES;
                float *o = out + (size_t)(co0 + cb) * (size_t)n + base;
                if (base + LANES <= n)
                    _mm512_storeu_ps(o, acc[cb][h]);
                else if (base < n)
                    _mm512_mask_storeu_ps(o, lanes_inside(base, 0, n), acc[cb][h]);
            }
    }
}

/* Every output channel, 8 at a time, then 4, then one by one, at stride S (a constant
 * after inlining). */
static inline __attribute__((always_inline)) void conv_all(const ef_conv *c,
                                                           const float *const *taps, int n_in,
                                                           const int S, float *out)
{
    int co = 0;
    for (; co + 8 <= c->cout; co += 8)
        conv_block(c, taps, n_in, co, 8, S, out);
    for (; co + 4 <= c->cout; co += 4)
        conv_block(c, taps, n_in, co, 4, S, out);
    for (; co < c->cout; co++)
        conv_block(c, taps, n_in, co, 1, S, out);
}

void ef_conv_avx512(const ef_conv *c, const float *const *taps, int n_in, float *out)
{
    if (c->stride == 2)
        conv_all(c, taps, n_in, 2, out);
    else
        conv_all(c, taps, n_in, 1, out);
}
