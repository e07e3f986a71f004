/* The AVX2 + FMA convolution kernel (this file is compiled with -mavx2 -mfma and
 * only called when the CPU has both). Register blocking: 4 output channels x 16 bins
 * in 8 accumulators; the 3 frequency taps' input vectors (6) are loaded first and
 * each broadcast weight feeds 2 FMAs, so that 15 of the 16 ymm registers are used
 * and nothing spills. Blocks whose taps all fall inside the bins load plainly; the
 * edge blocks check each load and mask only the ones that cross an edge (zero padding
 * for free; a masked load is several times slower than a plain one on some CPUs, and
 * masking every load of the edge blocks cost 10 % of a whole render on a Zen 1 EPYC).
 * Stride 2 (the U-Net's down convolutions) takes the even lanes of two loads. Each
 * accumulator sums tap 0, 1, 2 of each input channel and time tap in turn, as the
 * kernel before this one did (stride 1: the same floats). */
#include "ef_kernels.h"

#include <immintrin.h>
#include <stddef.h>

#define LANES 8
#define CB_MAX 4
#define HALVES 2

/* Lanes base+l+shift that fall inside 0..n-1. */
static inline __m256i lanes_inside(int base, int shift, int n)
{
    const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32(base + shift),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_and_si256(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(-1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx));
}

/* src[base + shift + l], zero outside 0..n-1: a plain load where all 8 are inside
 * (a masked load is several times slower on some CPUs). */
static inline __m256 load_masked(const float *src, int base, int shift, int n)
{
    if (base + shift >= 0 && base + shift + LANES <= n)
        return _mm256_loadu_ps(src + base + shift);
    return _mm256_maskload_ps(src + base + shift, lanes_inside(base, shift, n));
}

/* Stride 2, tap j of output bins base..base+7: src[2 f + j - 1], zero outside 0..n-1.
 * Inside: two loads and a deinterleave (even or odd lanes of 16 floats). */
static inline __m256 load_stride2(const float *src, int base, int j, int n, const int EDGE)
{
    const int start = 2 * base + j - 1; /* the input bin of lane 0 */
    __m256 a, b;
    if (EDGE) {
        a = load_masked(src, start, 0, n);
        b = load_masked(src, start + LANES, 0, n);
    } else {
        a = _mm256_loadu_ps(src + start);
        b = _mm256_loadu_ps(src + start + LANES);
    }
    /* even lanes of a:b in order: a0 a2 b0 b2 | a4 a6 b4 b6 -> a0 a2 a4 a6 b0 b2 b4 b6 */
    const __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* CB output channels from co0, H vectors of bins from f0 (CB, H, S and EDGE are
 * constants after inlining; EDGE: some tap reaches outside the input). */
static inline __attribute__((always_inline)) void conv_block(const ef_conv *c,
                                                             const float *const *taps, int n_in,
                                                             int n_out, int co0, const int CB,
                                                             int f0, const int H, const int S,
                                                             const int EDGE, float *out)
{
    const size_t wstride_co = (size_t)c->cin * (size_t)c->kt * 3;
    __m256 acc[CB_MAX][HALVES];
    for (int cb = 0; cb < CB; cb++)
        for (int h = 0; h < H; h++)
            acc[cb][h] = _mm256_set1_ps(c->b[co0 + cb]);
    for (int ci = 0; ci < c->cin; ci++)
        for (int i = 0; i < c->kt; i++) {
            if (!taps[i])
                continue;
            const float *src = taps[i] + (size_t)ci * (size_t)n_in;
            const float *w = c->w + (size_t)co0 * wstride_co + ((size_t)ci * (size_t)c->kt + (size_t)i) * 3;
            __m256 s[3][HALVES];
            for (int j = 0; j < 3; j++)
                for (int h = 0; h < H; h++) {
                    const int base = f0 + h * LANES;
                    if (S == 2)
                        s[j][h] = load_stride2(src, base, j, n_in, EDGE);
                    else if (EDGE)
                        s[j][h] = load_masked(src, base, j - 1, n_in);
                    else
                        s[j][h] = _mm256_loadu_ps(src + base + j - 1);
                }
            for (int cb = 0; cb < CB; cb++)
                for (int j = 0; j < 3; j++) {
                    const __m256 wv = _mm256_broadcast_ss(w + (size_t)cb * wstride_co + (size_t)j);
                    for (int h = 0; h < H; h++)
                        acc[cb][h] = _mm256_fmadd_ps(wv, s[j][h], acc[cb][h]);
                }
        }
    for (int cb = 0; cb < CB; cb++)
        for (int h = 0; h < H; h++) {
            const int base = f0 + h * LANES;
            float *o = out + (size_t)(co0 + cb) * (size_t)n_out + base;
            if (base + LANES <= n_out)
                _mm256_storeu_ps(o, acc[cb][h]);
            else if (base < n_out)
                _mm256_maskstore_ps(o, lanes_inside(base, 0, n_out), acc[cb][h]);
        }
}

/* Every block of output channels co0..co0+CB-1: the bins in blocks of HALVES vectors,
 * plain where every tap of the block is inside the input, masked at the edges, and
 * the last bins (fewer than a block) one vector at a time. */
static inline __attribute__((always_inline)) void conv_channels(const ef_conv *c,
                                                                const float *const *taps, int n_in,
                                                                int co0, const int CB, const int S,
                                                                float *out)
{
    const int n_out = n_in / S, step = HALVES * LANES;
    int f0 = 0;
    for (; f0 + step <= n_out; f0 += step) {
        /* the block reads input bins S f0 - 1 .. S (f0 + step) (stride 2: its vector
         * loads of 16 end there too) */
        const int inside = f0 > 0 && S * (f0 + step) + 1 <= n_in;
        if (inside)
            conv_block(c, taps, n_in, n_out, co0, CB, f0, HALVES, S, 0, out);
        else
            conv_block(c, taps, n_in, n_out, co0, CB, f0, HALVES, S, 1, out);
    }
    for (; f0 < n_out; f0 += LANES)
        conv_block(c, taps, n_in, n_out, co0, CB, f0, 1, S, 1, out);
}

/* Every output channel, 4 at a time and then one by one, at stride S (a constant
 * after inlining). */
static inline __attribute__((always_inline)) void conv_all(const ef_conv *c,
                                                           const float *const *taps, int n_in,
                                                           const int S, float *out)
{
    int co = 0;
    for (; co + CB_MAX <= c->cout; co += CB_MAX)
        conv_channels(c, taps, n_in, co, CB_MAX, S, out);
    for (; co < c->cout; co++)
        conv_channels(c, taps, n_in, co, 1, S, out);
}

/* ---- Winograd F(2,3) over frequency, as the AVX-512 kernel computes it (see there):
 * 8 tiles of two output bins to a vector, 4 output channels x 16 tiles in 8
 * accumulators per transformed plane. */

#define WINO_TILES 16 /* per block: two vectors (ef_conv_winograd_tiles pads to 16) */

/* Even and odd lanes of the 16 floats a:b, in order. */
static inline __m256 even_lanes(__m256 a, __m256 b)
{
    const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
}

static inline __m256 odd_lanes(__m256 a, __m256 b)
{
    const __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* One input row (n bins) -> its four V planes of tp tiles, `plane` apart. */
static void wino_input_row(const float *src, int n, int tp, size_t plane, float *v)
{
    for (int t = 0; t < tp; t += LANES) {
        const int at = 2 * t;
        const __m256 a0 = load_masked(src, at, 0, n), a1 = load_masked(src, at, LANES, n);
        const __m256 b0 = load_masked(src, at, -1, n), b1 = load_masked(src, at, LANES - 1, n);
        const __m256 c0 = load_masked(src, at, 2, n), c1 = load_masked(src, at, LANES + 2, n);
        const __m256 d1 = even_lanes(a0, a1), d2 = odd_lanes(a0, a1);
        const __m256 d0 = even_lanes(b0, b1), d3 = even_lanes(c0, c1);
        _mm256_storeu_ps(v + t, _mm256_sub_ps(d0, d2));
        _mm256_storeu_ps(v + plane + t, _mm256_add_ps(d1, d2));
        _mm256_storeu_ps(v + 2 * plane + t, _mm256_sub_ps(d2, d1));
        _mm256_storeu_ps(v + 3 * plane + t, _mm256_sub_ps(d1, d3));
    }
}

/* 4 output channels from co0 over tiles t0 .. t0 + 15: the four products, then the
 * output transform into out. */
static void wino_block(const ef_conv *c, const float *const *taps, const float *v, size_t plane,
                       int co0, int t0, int n, float *m, float *out)
{
    const size_t rows = (size_t)c->kt * (size_t)c->cin, cout = (size_t)c->cout;
    for (int k = 0; k < 4; k++) {
        __m256 acc[CB_MAX][HALVES];
        for (int cb = 0; cb < CB_MAX; cb++)
            for (int h = 0; h < HALVES; h++)
                acc[cb][h] = _mm256_setzero_ps();
        for (int i = 0; i < c->kt; i++) {
            if (!taps[i])
                continue;
            const size_t r0 = (size_t)k * rows + (size_t)i * (size_t)c->cin;
            const float *vr = v + r0 * plane + t0, *u = c->wino + r0 * cout + co0;
            for (int ci = 0; ci < c->cin; ci++, vr += plane, u += cout) {
                const __m256 x0 = _mm256_loadu_ps(vr), x1 = _mm256_loadu_ps(vr + LANES);
                for (int cb = 0; cb < CB_MAX; cb++) {
                    const __m256 w = _mm256_broadcast_ss(u + cb);
                    acc[cb][0] = _mm256_fmadd_ps(w, x0, acc[cb][0]);
                    acc[cb][1] = _mm256_fmadd_ps(w, x1, acc[cb][1]);
                }
            }
        }
        for (int cb = 0; cb < CB_MAX; cb++)
            for (int h = 0; h < HALVES; h++)
                _mm256_storeu_ps(m + ((size_t)(k * CB_MAX + cb) * HALVES + (size_t)h) * LANES, acc[cb][h]);
    }
    const size_t kstep = CB_MAX * HALVES * LANES;
    for (int cb = 0; cb < CB_MAX; cb++) {
        const __m256 bias = _mm256_set1_ps(c->b[co0 + cb]);
        float *o = out + (size_t)(co0 + cb) * (size_t)n;
        for (int h = 0; h < HALVES; h++) {
            const float *mk = m + ((size_t)cb * HALVES + (size_t)h) * LANES;
            const __m256 m0 = _mm256_loadu_ps(mk), m1 = _mm256_loadu_ps(mk + kstep),
                         m2 = _mm256_loadu_ps(mk + 2 * kstep), m3 = _mm256_loadu_ps(mk + 3 * kstep);
            const __m256 y0 = _mm256_add_ps(_mm256_add_ps(m0, m1), _mm256_add_ps(m2, bias));
            const __m256 y1 = _mm256_sub_ps(_mm256_sub_ps(m1, m2), _mm256_sub_ps(m3, bias));
            /* y0 y1 interleaved: bins 2t, 2t + 1 of the vector's 8 tiles */
            const __m256 lo = _mm256_unpacklo_ps(y0, y1), hi = _mm256_unpackhi_ps(y0, y1);
            const __m256 first = _mm256_permute2f128_ps(lo, hi, 0x20),
                         second = _mm256_permute2f128_ps(lo, hi, 0x31);
            const int bin = 2 * (t0 + h * LANES);
            if (bin + 2 * LANES <= n) {
                _mm256_storeu_ps(o + bin, first);
                _mm256_storeu_ps(o + bin + LANES, second);
            } else {
                if (bin < n)
                    _mm256_maskstore_ps(o + bin, lanes_inside(bin, 0, n), first);
                if (bin + LANES < n)
                    _mm256_maskstore_ps(o + bin + LANES, lanes_inside(bin + LANES, 0, n), second);
            }
        }
    }
}

static void conv_winograd(const ef_conv *c, const float *const *taps, int n_in, float *scratch,
                          float *out)
{
    const int tp = ef_conv_winograd_tiles(n_in);
    const size_t plane = (size_t)tp, kplane = (size_t)c->kt * (size_t)c->cin * plane;
    float *m = scratch, *v = scratch + EF_CONV_WINOGRAD_BLOCK_FLOATS;
    for (int i = 0; i < c->kt; i++)
        for (int ci = 0; taps[i] && ci < c->cin; ci++)
            wino_input_row(taps[i] + (size_t)ci * (size_t)n_in, n_in, tp, kplane,
                           v + (size_t)(i * c->cin + ci) * plane);
    for (int co = 0; co < c->cout; co += CB_MAX)
        for (int t = 0; t < tp; t += WINO_TILES)
            wino_block(c, taps, v, plane, co, t, n_in, m, out);
}

void ef_conv_avx2(const ef_conv *c, const float *const *taps, int n_in, float *scratch, float *out)
{
    if (c->wino && scratch)
        conv_winograd(c, taps, n_in, scratch, out);
    else if (c->stride == 1)
        conv_all(c, taps, n_in, 1, out);
    else
        conv_all(c, taps, n_in, 2, out);
}
