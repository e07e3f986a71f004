/* Picks the kernels for this CPU. */
#include "ef_kernels.h"

#include <stdlib.h>
#include <string.h>

const char *ef_conv_isa_name(ef_conv_isa isa)
{
    switch (isa) {
    case EF_CONV_AVX2: return "avx2";
    case EF_CONV_AVX512: return "avx512";
    default: return "portable";
    }
}

static int cpu_has(ef_conv_isa isa)
{
#if defined(EF_HAVE_X86_KERNELS)
    __builtin_cpu_init();
    if (isa == EF_CONV_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (isa == EF_CONV_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
    return isa == EF_CONV_PORTABLE;
}

int ef_kernels_for(ef_conv_isa isa, ef_kernels *k)
{
    if (!cpu_has(isa))
        return -1;
    k->isa = isa;
    k->conv = ef_conv_portable;
    k->norm_silu = ef_norm_silu_portable;
#if defined(EF_HAVE_X86_KERNELS)
    if (isa == EF_CONV_AVX2) {
        k->conv = ef_conv_avx2;
        k->norm_silu = ef_norm_silu_avx2;
    } else if (isa == EF_CONV_AVX512) {
        k->conv = ef_conv_avx512;
        k->norm_silu = ef_norm_silu_avx512;
    }
#endif
    return 0;
}

ef_conv_isa ef_conv_best_isa(void)
{
    const char *forced = getenv("EARFLOW_KERNEL");
    if (forced)
        for (int isa = 0; isa < EF_CONV_ISA_COUNT; isa++)
            if (strcmp(forced, ef_conv_isa_name((ef_conv_isa)isa)) == 0 && cpu_has((ef_conv_isa)isa))
                return (ef_conv_isa)isa;
    for (int isa = EF_CONV_ISA_COUNT - 1; isa > 0; isa--)
        if (cpu_has((ef_conv_isa)isa))
            return (ef_conv_isa)isa;
    return EF_CONV_PORTABLE;
}

size_t ef_conv_winograd_floats(const ef_conv *c)
{
    if (c->stride != 1 || c->cout % 8 || c->kt * c->cin > EF_CONV_WINOGRAD_MAX_ROWS)
        return 0;
    return (size_t)4 * (size_t)c->kt * (size_t)c->cin * (size_t)c->cout;
}

void ef_conv_winograd_weights(const ef_conv *c, float *u)
{
    const size_t plane = (size_t)c->kt * (size_t)c->cin * (size_t)c->cout;
    for (int co = 0; co < c->cout; co++)
        for (int ci = 0; ci < c->cin; ci++)
            for (int i = 0; i < c->kt; i++) {
                const float *g = c->w + (((size_t)co * (size_t)c->cin + (size_t)ci) * (size_t)c->kt + (size_t)i) * 3;
                const size_t at = ((size_t)i * (size_t)c->cin + (size_t)ci) * (size_t)c->cout + (size_t)co;
                u[at] = g[0];
                u[plane + at] = 0.5f * (g[0] + g[1] + g[2]);
                u[2 * plane + at] = 0.5f * (g[0] - g[1] + g[2]);
                u[3 * plane + at] = g[2];
            }
}

int ef_conv_winograd_tiles(int n_in) { return ((n_in + 1) / 2 + 15) / 16 * 16; }

size_t ef_conv_scratch_floats(const ef_conv *c, int n_in)
{
    if (!c->wino)
        return 0;
    return EF_CONV_WINOGRAD_BLOCK_FLOATS +
           (size_t)4 * (size_t)c->kt * (size_t)c->cin * (size_t)ef_conv_winograd_tiles(n_in);
}
