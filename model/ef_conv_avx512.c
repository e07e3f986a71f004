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

/* ---- Winograd F(2,3) over frequency (ef_kernels.h): stride 1, output channels in 8s.
 * A tile is two output bins 2t, 2t+1; its inputs d_k = in[2t - 1 + k], k = 0..3, are
 * transformed once per input row into V = (d0 - d2, d1 + d2, d2 - d1, d1 - d3), 16 tiles
 * to a vector; then each of the four V planes is a small matrix product with the
 * transformed weights (c->wino), 8 output channels x 32 tiles in 16 accumulators as the
 * direct kernel holds them; the output transform y0 = M0 + M1 + M2, y1 = M1 - M2 - M3
 * interleaves the two bins back. Four FMAs per tile and weight instead of six. */

#define WINO_TILES 16

/* One input row (n bins) -> its four V planes, each `tp` tiles long, `plane` apart. */
static void wino_input_row(const float *src, int n, int tp, size_t plane, float *v)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (int t = 0; t < tp; t += WINO_TILES) {
        const int at = 2 * t;
        const __m512 a0 = load_shifted(src, at, 0, n), a1 = load_shifted(src, at, LANES, n);
        const __m512 b0 = load_shifted(src, at, -1, n), b1 = load_shifted(src, at, LANES - 1, n);
        const __m512 c0 = load_shifted(src, at, 2, n), c1 = load_shifted(src, at, LANES + 2, n);
        const __m512 d1 = _mm512_permutex2var_ps(a0, even, a1), d2 = _mm512_permutex2var_ps(a0, odd, a1);
        const __m512 d0 = _mm512_permutex2var_ps(b0, even, b1), d3 = _mm512_permutex2var_ps(c0, even, c1);
        _mm512_storeu_ps(v + t, _mm512_sub_ps(d0, d2));
        _mm512_storeu_ps(v + plane + t, _mm512_add_ps(d1, d2));
        _mm512_storeu_ps(v + 2 * plane + t, _mm512_sub_ps(d2, d1));
        _mm512_storeu_ps(v + 3 * plane + t, _mm512_sub_ps(d1, d3));
    }
}

/* 8 output channels from co0 over tiles t0 .. t0 + 16 * H - 1 (H = 1 or 2, a constant
 * after inlining): the four products, then the output transform into out. */
static inline __attribute__((always_inline)) void wino_block(const ef_conv *c,
                                                             const float *const *taps,
                                                             const float *v, size_t plane, int co0,
                                                             int t0, const int H, int n, float *m,
                                                             float *out)
{
    const size_t rows = (size_t)c->kt * (size_t)c->cin, cout = (size_t)c->cout;
    for (int k = 0; k < 4; k++) {
        __m512 acc[8][2];
        for (int cb = 0; cb < 8; cb++)
            for (int h = 0; h < H; h++)
                acc[cb][h] = _mm512_setzero_ps();
        for (int i = 0; i < c->kt; i++) {
            if (!taps[i])
                continue;
            const size_t r0 = (size_t)k * rows + (size_t)i * (size_t)c->cin;
            const float *vr = v + r0 * plane + t0, *u = c->wino + r0 * cout + co0;
            for (int ci = 0; ci < c->cin; ci++, vr += plane, u += cout) {
                __m512 x[2];
                for (int h = 0; h < H; h++)
                    x[h] = _mm512_loadu_ps(vr + h * WINO_TILES);
                for (int cb = 0; cb < 8; cb++) {
                    const __m512 w = _mm512_set1_ps(u[cb]);
                    for (int h = 0; h < H; h++)
                        acc[cb][h] = _mm512_fmadd_ps(w, x[h], acc[cb][h]);
                }
            }
        }
        for (int cb = 0; cb < 8; cb++)
            for (int h = 0; h < H; h++)
                _mm512_storeu_ps(m + ((size_t)(k * 8 + cb) * 2 + (size_t)h) * WINO_TILES, acc[cb][h]);
    }
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for (int cb = 0; cb < 8; cb++) {
        const __m512 bias = _mm512_set1_ps(c->b[co0 + cb]);
        float *o = out + (size_t)(co0 + cb) * (size_t)n;
        for (int h = 0; h < H; h++) {
            const float *mk = m + ((size_t)cb * 2 + (size_t)h) * WINO_TILES;
            const size_t kstep = 8 * 2 * WINO_TILES;
            const __m512 m0 = _mm512_loadu_ps(mk), m1 = _mm512_loadu_ps(mk + kstep),
                         m2 = _mm512_loadu_ps(mk + 2 * kstep), m3 = _mm512_loadu_ps(mk + 3 * kstep);
            const __m512 y0 = _mm512_add_ps(_mm512_add_ps(m0, m1), _mm512_add_ps(m2, bias));
            const __m512 y1 = _mm512_sub_ps(_mm512_sub_ps(m1, m2), _mm512_sub_ps(m3, bias));
            const int bin = 2 * (t0 + h * WINO_TILES);
            const __m512 first = _mm512_permutex2var_ps(y0, lo, y1), second = _mm512_permutex2var_ps(y0, hi, y1);
            if (bin + 2 * LANES <= n) {
                _mm512_storeu_ps(o + bin, first);
                _mm512_storeu_ps(o + bin + LANES, second);
            } else {
                if (bin < n)
                    _mm512_mask_storeu_ps(o + bin, lanes_inside(bin, 0, n), first);
                if (bin + LANES < n)
                    _mm512_mask_storeu_ps(o + bin + LANES, lanes_inside(bin + LANES, 0, n), second);
            }
        }
    }
}

static void conv_winograd(const ef_conv *c, const float *const *taps, int n_in, float *scratch,
                          float *out)
{
    const int tp = ef_conv_winograd_tiles(n_in);
    const size_t plane = (size_t)tp;
    const size_t kplane = (size_t)c->kt * (size_t)c->cin * plane;
    float *m = scratch, *v = scratch + EF_CONV_WINOGRAD_BLOCK_FLOATS;
    for (int i = 0; i < c->kt; i++)
        for (int ci = 0; taps[i] && ci < c->cin; ci++)
            wino_input_row(taps[i] + (size_t)ci * (size_t)n_in, n_in, tp, kplane,
                           v + (size_t)(i * c->cin + ci) * plane);
    for (int co = 0; co < c->cout; co += 8) {
        int t = 0;
        for (; t + 2 * WINO_TILES <= tp; t += 2 * WINO_TILES)
            wino_block(c, taps, v, plane, co, t, 2, n_in, m, out);
        if (t < tp)
            wino_block(c, taps, v, plane, co, t, 1, n_in, m, out);
    }
}

void ef_conv_avx512(const ef_conv *c, const float *const *taps, int n_in, float *scratch,
                    float *out)
{
    if (c->wino && scratch)
        conv_winograd(c, taps, n_in, scratch, out);
    else if (c->stride == 2)
        conv_all(c, taps, n_in, 2, out);
    else
        conv_all(c, taps, n_in, 1, out);
}
