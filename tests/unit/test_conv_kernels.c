/* Every kernel of ef_kernels.h this CPU runs (portable, AVX2, AVX-512) against a
 * double-precision reference, over shapes that hit every edge: bin counts that are
 * not multiples of the vector width, 1 to 13 channels (the 8- and 4-channel blocks and
 * their remainders), strides 1 and 2, missing (zero) time taps; each shape the SIMD
 * kernels compute by Winograd F(2,3) (8, 16, 24 channels at stride 1) both ways. And
 * the fast exp behind the fused SiLU against libm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ef_fast_exp.h"
#include "ef_kernels.h"
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double reference_conv(const ef_conv *c, const float *const *taps, int n_in, int co, int f)
{
    double acc = c->b[co];
    for (int ci = 0; ci < c->cin; ci++)
        for (int i = 0; i < c->kt; i++) {
            if (!taps[i])
                continue;
            for (int j = 0; j < 3; j++) {
                int at = c->stride * f + j - 1;
                if (at < 0 || at >= n_in)
                    continue;
                double w = c->w[(((size_t)co * (size_t)c->cin + (size_t)ci) * (size_t)c->kt + (size_t)i) * 3 + (size_t)j];
                acc += w * taps[i][(size_t)ci * (size_t)n_in + (size_t)at];
            }
        }
    return acc;
}

static float *random_floats(size_t n, uint32_t *seed)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        p[i] = test_uniform(seed);
    return p;
}

/* out against the reference; fails naming the kernel and the shape. */
static void check_conv(const char *what, const ef_conv *c, const float *const *taps, int n_in,
                       const float *out)
{
    const int n_out = n_in / c->stride;
    for (int co = 0; co < c->cout; co++)
        for (int f = 0; f < n_out; f++) {
            double want = reference_conv(c, taps, n_in, co, f);
            double got = out[(size_t)co * (size_t)n_out + (size_t)f];
            if (fabs(got - want) > 1e-5 * (1.0 + fabs(want)))
                fail_msg("%s conv cout %d cin %d kt %d stride %d bins %d: [%d][%d] %g, want %g", what,
                         c->cout, c->cin, c->kt, c->stride, n_in, co, f, got, want);
        }
}

static void conv_kernels_match_reference(void **state)
{
    (void)state;
    const int bins[] = {2, 6, 16, 17, 31, 32, 33, 64, 100, 256};
    /* 1..13: the 8- and 4-channel blocks and their remainders; 16, 24: several blocks of 8,
     * which the SIMD kernels compute by Winograd F(2,3) at stride 1 */
    const int couts[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 24};
    uint32_t seed = 7;
    int checked = 0, winograd = 0;
    for (int isa = 0; isa < EF_CONV_ISA_COUNT; isa++) {
        ef_kernels k;
        if (ef_kernels_for((ef_conv_isa)isa, &k))
            continue;
        for (int bi = 0; bi < 10; bi++)
            for (int oi = 0; oi < 15; oi++)
                for (int stride = 1; stride <= 2; stride++) {
                    const int cout = couts[oi];
                    const int n_in = bins[bi], cin = 1 + (cout * 3 + bi) % 5, kt = stride == 1 ? 3 : 1;
                    if (stride == 2 && n_in % 2)
                        continue;
                    float *w = random_floats((size_t)cout * (size_t)cin * (size_t)kt * 3, &seed);
                    float *b = random_floats((size_t)cout, &seed);
                    float *frames[3];
                    for (int i = 0; i < 3; i++)
                        frames[i] = random_floats((size_t)cin * (size_t)n_in, &seed);
                    const float *taps[3] = {frames[0], kt > 1 ? NULL : frames[1], frames[2]};
                    ef_conv c = {w, b, cout, cin, kt, 1, stride, NULL};
                    const int n_out = n_in / stride;
                    float *out = calloc((size_t)cout * (size_t)n_out, sizeof(float));
                    k.conv(&c, taps, n_in, NULL, out);
                    check_conv(ef_conv_isa_name((ef_conv_isa)isa), &c, taps, n_in, out);
                    checked++;
                    const size_t u_floats = ef_conv_winograd_floats(&c);
                    if (u_floats) {
                        float *u = malloc(sizeof(float) * u_floats);
                        ef_conv_winograd_weights(&c, u);
                        c.wino = u;
                        float *scratch = malloc(sizeof(float) * ef_conv_scratch_floats(&c, n_in));
                        memset(out, 0, sizeof(float) * (size_t)cout * (size_t)n_out);
                        k.conv(&c, taps, n_in, scratch, out);
                        check_conv(isa == EF_CONV_PORTABLE ? "portable" : isa == EF_CONV_AVX2 ? "avx2 winograd" : "avx512 winograd",
                                   &c, taps, n_in, out);
                        winograd += isa != EF_CONV_PORTABLE;
                        free(scratch);
                        free(u);
                    }
                    free(out);
                    for (int i = 0; i < 3; i++)
                        free(frames[i]);
                    free(w);
                    free(b);
                }
        printf("conv kernel %s: matches the reference\n", ef_conv_isa_name((ef_conv_isa)isa));
    }
    printf("winograd (avx2, avx512): %d shapes\n", winograd);
    assert_true(checked >= 255); /* at least the portable kernel ran every shape */
}

static void norm_silu_kernels_match_reference(void **state)
{
    (void)state;
    uint32_t seed = 9;
    for (int isa = 0; isa < EF_CONV_ISA_COUNT; isa++) {
        ef_kernels k;
        if (ef_kernels_for((ef_conv_isa)isa, &k))
            continue;
        const int shapes[][3] = {{4, 1, 7}, {8, 4, 256}, {16, 4, 33}, {12, 3, 100}, {32, 8, 64}, {8, 2, 50}};
        double worst = 0.0;
        for (int s = 0; s < 6; s++) {
            const int C = shapes[s][0], G = shapes[s][1], F = shapes[s][2];
            float *x = random_floats((size_t)C * (size_t)F, &seed);
            for (int i = 0; i < C * F; i++)
                x[i] = 3.0f * x[i] + 0.5f; /* a mean and a spread to remove */
            float *w = random_floats((size_t)C, &seed), *b = random_floats((size_t)C, &seed);
            float *y = calloc((size_t)C * (size_t)F, sizeof(float));
            k.norm_silu(x, C, G, F, w, b, y);
            const int cg = C / G;
            for (int g = 0; g < G; g++) {
                double sum = 0, sq = 0;
                const size_t len = (size_t)cg * (size_t)F;
                for (size_t i = 0; i < len; i++)
                    sum += x[(size_t)g * len + i];
                double mean = sum / (double)len;
                for (size_t i = 0; i < len; i++)
                    sq += (x[(size_t)g * len + i] - mean) * (x[(size_t)g * len + i] - mean);
                double rstd = 1.0 / sqrt(sq / (double)len + 1e-5);
                for (int c = g * cg; c < (g + 1) * cg; c++)
                    for (int f = 0; f < F; f++) {
                        double v = (x[(size_t)c * (size_t)F + (size_t)f] - mean) * rstd * w[c] + b[c];
                        double want = v / (1.0 + exp(-v));
                        worst = fmax(worst, fabs(y[(size_t)c * (size_t)F + (size_t)f] - want));
                    }
            }
            free(x);
            free(w);
            free(b);
            free(y);
        }
        printf("norm+silu kernel %s: worst error %.2e\n", ef_conv_isa_name((ef_conv_isa)isa), worst);
        assert_true(worst < 2e-6);
        /* a NaN is not hidden: it reaches the output, where the engine catches it */
        float xn[4 * 40], wn[4] = {1, 1, 1, 1}, bn[4] = {0}, yn[4 * 40];
        for (int i = 0; i < 4 * 40; i++)
            xn[i] = (float)i;
        xn[37] = NAN;
        k.norm_silu(xn, 4, 1, 40, wn, bn, yn);
        for (int i = 0; i < 4 * 40; i++)
            assert_true(isnan(yn[i]));
    }
}

static void fast_exp_is_accurate(void **state)
{
    (void)state;
    double worst = 0.0;
    for (float x = -87.0f; x <= 88.0f; x += 0.0137f) {
        double want = exp((double)x);
        worst = fmax(worst, fabs(ef_fast_expf(x) - want) / want);
    }
    printf("fast exp: worst relative error %.2e on [-87, 88]\n", worst);
    assert_true(worst < 2e-7);
    assert_true(isnan(ef_fast_expf(NAN)));
    assert_true(ef_fast_expf(-1000.0f) >= 0.0f && ef_fast_expf(-1000.0f) < 1e-37f);
    assert_true(isfinite(ef_fast_expf(1000.0f)));
    assert_true(fabsf(ef_fast_silu(-1000.0f)) < 1e-30f && ef_fast_silu(1000.0f) == 1000.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_kernels_match_reference),
        cmocka_unit_test(norm_silu_kernels_match_reference),
        cmocka_unit_test(fast_exp_is_accurate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
