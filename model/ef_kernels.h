/* The kernels the network spends its time in, one set per instruction set.
 *
 * Convolution over frequency and time:
 *
 *   out[co][f] = b[co] + sum over ci, time tap i, frequency tap j of
 *                w[co][ci][i][j] * taps[i][ci][stride * f + j - 1]
 *
 * (zero outside 0..n_in-1; taps[i] == NULL is an all-zero frame). Kernels: a
 * portable C one and, on x86-64, AVX2+FMA and AVX-512 ones picked at run time by
 * what the CPU supports. The two SIMD kernels compute the convolutions that
 * c->wino is set for by Winograd F(2,3) over frequency (below), the rest directly.
 * tests/unit/test_conv_kernels.c proves every kernel, both ways, equal to a
 * double-precision reference.
 *
 * Group normalization within one frame fused with SiLU:
 *
 *   y[c][f] = silu((x[c][f] - mean_g) / sqrt(var_g + 1e-5) * w[c] + b[c])
 *
 * over groups of channels/groups channels; one C source (ef_norm_silu.c) compiled
 * for each instruction set, with a vectorizable exp (ef_fast_exp.h). */
#ifndef EF_KERNELS_H
#define EF_KERNELS_H

#include <stddef.h>

typedef struct ef_conv {
    const float *w, *b; /* [cout][cin][kt][3], [cout] */
    int cout, cin, kt, dil, stride;
    /* NULL, or w transformed for the SIMD kernels' Winograd F(2,3) over frequency
     * (ef_conv_winograd_weights): [4][kt][cin][cout] */
    const float *wino;
} ef_conv;

/* scratch: ef_conv_scratch_floats(c, n_in) floats (may be NULL when that is 0). */
typedef void (*ef_conv_kernel)(const ef_conv *c, const float *const *taps, int n_in,
                               float *scratch, float *out);

/* Winograd F(2,3) computes a tile of two output bins from four transformed inputs with
 * four multiplies per weight instead of six. It serves stride-1 convolutions with
 * output channels in 8s and at most EF_CONV_WINOGRAD_MAX_ROWS input rows (kt x cin). */
#define EF_CONV_WINOGRAD_MAX_ROWS 1024
#define EF_CONV_WINOGRAD_BLOCK_FLOATS (4 * 8 * 2 * 16)
/* Floats of c's transformed weights; 0 when the transform does not serve c. */
size_t ef_conv_winograd_floats(const ef_conv *c);
/* u (ef_conv_winograd_floats(c) floats) = G w for every (co, ci, time tap):
 * (w0, (w0 + w1 + w2) / 2, (w0 - w1 + w2) / 2, w2), laid out [4][kt][cin][cout]. */
void ef_conv_winograd_weights(const ef_conv *c, float *u);
/* Tiles of two output bins per transformed plane for n_in bins, padded to 16 (what both
 * SIMD kernels' blocks step by). */
int ef_conv_winograd_tiles(int n_in);
/* Scratch floats one call of a kernel on c with n_in input bins needs. */
size_t ef_conv_scratch_floats(const ef_conv *c, int n_in);

typedef void (*ef_norm_silu_kernel)(const float *x, int channels, int groups, int n_bins,
                                    const float *w, const float *b, float *y);

typedef enum ef_conv_isa {
    EF_CONV_PORTABLE,
    EF_CONV_AVX2,   /* AVX2 + FMA */
    EF_CONV_AVX512, /* AVX-512F */
    EF_CONV_ISA_COUNT,
} ef_conv_isa;

typedef struct ef_kernels {
    ef_conv_isa isa;
    ef_conv_kernel conv;
    ef_norm_silu_kernel norm_silu;
} ef_kernels;

/* The kernels for `isa`: 0, or -1 when this build or this CPU lacks it. */
int ef_kernels_for(ef_conv_isa isa, ef_kernels *k);
/* The fastest kernel this CPU runs; the environment variable EARFLOW_KERNEL
 * (portable, avx2, avx512) forces one, for benchmarks and tests (ignored when the
 * CPU lacks it). */
ef_conv_isa ef_conv_best_isa(void);
const char *ef_conv_isa_name(ef_conv_isa isa);

void ef_conv_portable(const ef_conv *c, const float *const *taps, int n_in, float *scratch,
                      float *out);
void ef_norm_silu_portable(const float *x, int channels, int groups, int n_bins,
                           const float *w, const float *b, float *y);
#if defined(EF_HAVE_X86_KERNELS)
void ef_conv_avx2(const ef_conv *c, const float *const *taps, int n_in, float *scratch, float *out);
void ef_conv_avx512(const ef_conv *c, const float *const *taps, int n_in, float *scratch,
                    float *out);
void ef_norm_silu_avx2(const float *x, int channels, int groups, int n_bins,
                       const float *w, const float *b, float *y);
void ef_norm_silu_avx512(const float *x, int channels, int groups, int n_bins,
                         const float *w, const float *b, float *y);
#endif

#endif
