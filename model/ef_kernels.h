/* The kernels the network spends its time in, one set per instruction set.
 *
 * Convolution over frequency and time:
 *
 *   out[co][f] = b[co] + sum over ci, time tap i, frequency tap j of
 *                w[co][ci][i][j] * taps[i][ci][stride * f + j - 1]
 *
 * (zero outside 0..n_in-1; taps[i] == NULL is an all-zero frame). Kernels: a
 * portable C one and, on x86-64, AVX2+FMA and AVX-512 ones picked at run time by
 * what the CPU supports. tests/unit/test_conv_kernels.c proves every kernel equal to a
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

typedef struct ef_conv {
    const float *w, *b; /* [cout][cin][kt][3], [cout] */
    int cout, cin, kt, dil, stride;
} ef_conv;

typedef void (*ef_conv_kernel)(const ef_conv *c, const float *const *taps, int n_in,
                               float *out);

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

void ef_conv_portable(const ef_conv *c, const float *const *taps, int n_in, float *out);
void ef_norm_silu_portable(const float *x, int channels, int groups, int n_bins,
                           const float *w, const float *b, float *y);
#if defined(EF_HAVE_X86_KERNELS)
void ef_conv_avx2(const ef_conv *c, const float *const *taps, int n_in, float *out);
void ef_conv_avx512(const ef_conv *c, const float *const *taps, int n_in, float *out);
void ef_norm_silu_avx2(const float *x, int channels, int groups, int n_bins,
                       const float *w, const float *b, float *y);
void ef_norm_silu_avx512(const float *x, int channels, int groups, int n_bins,
                         const float *w, const float *b, float *y);
#endif

#endif
