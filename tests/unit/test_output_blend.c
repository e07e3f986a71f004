/* The engine's output blend (mix, attenuation limit, bypass, gain) against its
 * definition, computed from separate runs of the same engine:
 *   out = gain * (dry + wet * (processed - dry)), dry = input delayed by the latency.
 * usage: test_output_blend GOLDEN_DIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "earflow.h"
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 44100

static const char *golden_dir;
/* Samples every case renders: 24,000; EF_TEST_SHORT=1 (memcheck) 16,000, which still
 * holds the bypass test's two fades (at samples 6,000 and 15,000). Set by main. */
static int n_samples = 24000;

typedef void (*configure_fn)(ef_engine *e);

/* test_short_schedule below: under EF_TEST_SHORT=1 one network evaluation a frame
 * instead of the models' 4; the blend is the same algebra whatever the network gives. */

/* The test signal every case renders: a sine plus noise, n_samples long (caller frees). */
static float *test_input(void)
{
    float *in = malloc(sizeof(float) * (size_t)n_samples);
    uint32_t seed = 11;
    for (int i = 0; i < n_samples; i++)
        in[i] = 0.3f * sinf(0.01f * (float)i) + 0.1f * test_uniform(&seed);
    return in;
}

/* Renders the test signal through a fresh engine configured by `configure`
 * (before the reset, so the blend starts at its target). */
static void render(const ef_model *m, configure_fn configure, float *out[2])
{
    ef_error err = {{0}};
    ef_engine *e = ef_engine_new(m, RATE, 300, &err);
    assert_non_null(e);
    test_short_schedule(e);
    if (configure)
        configure(e);
    ef_engine_reset(e);
    float *in = test_input();
    const int sizes[] = {0};
    test_stream(e, in, out, ef_model_out_channels(m), n_samples, sizes, 1, 300, 3);
    free(in);
    ef_engine_free(e);
}

static ef_model *load(const char *name)
{
    char path[1024];
    ef_error err = {{0}};
    snprintf(path, sizeof path, "%s/%s", golden_dir, name);
    ef_model *m = ef_model_load(path, &err);
    assert_non_null(m);
    return m;
}

static void dry_of(const ef_model *m, float *dry)
{
    ef_error err = {{0}};
    ef_engine *e = ef_engine_new(m, RATE, 300, &err);
    int latency = ef_engine_latency(e);
    ef_engine_free(e);
    float *in = test_input();
    for (int i = 0; i + latency < n_samples; i++)
        dry[i + latency] = in[i];
    memset(dry, 0, sizeof(float) * (size_t)(latency < n_samples ? latency : n_samples));
    free(in);
}

static void mix_30(ef_engine *e) { ef_engine_set_mix(e, 0.3f); }
static void limit_6(ef_engine *e) { ef_engine_set_attenuation_limit(e, 6.0f); }
static void limit_0(ef_engine *e) { ef_engine_set_attenuation_limit(e, 0.0f); }
static void gain_m6_mix_half(ef_engine *e)
{
    ef_engine_set_output_gain(e, -6.0f);
    ef_engine_set_mix(e, 0.5f);
}
static void bypassed(ef_engine *e) { ef_engine_set_bypass(e, 1); }

static float expect_err(float *const got[2], float *const wet[2], const float *dry, int ch,
                        float w, float g)
{
    float worst = 0.0f;
    for (int c = 0; c < ch; c++)
        for (int i = 0; i < n_samples; i++) {
            float want = g * (dry[i] + w * (wet[c][i] - dry[i]));
            worst = fmaxf(worst, fabsf(got[c][i] - want));
        }
    return worst;
}

/* The signals a blend is checked against: the dry input (delayed by the latency), the
 * fully processed output (wet) and room for the output under test (got). */
typedef struct signals {
    float *wet[2], *got[2], *dry;
} signals;

static void signals_new(signals *sg, const ef_model *m)
{
    sg->dry = calloc((size_t)n_samples, sizeof(float));
    for (int c = 0; c < 2; c++) {
        sg->wet[c] = calloc((size_t)n_samples, sizeof(float));
        sg->got[c] = calloc((size_t)n_samples, sizeof(float));
    }
    dry_of(m, sg->dry);
    render(m, NULL, sg->wet);
}

static void signals_free(signals *sg)
{
    for (int c = 0; c < 2; c++) {
        free(sg->wet[c]);
        free(sg->got[c]);
    }
    free(sg->dry);
}

static void blend_matches_definition(void **state)
{
    (void)state;
    const char *names[] = {"binaural_tiny.safetensors", "separate_tiny.safetensors"};
    for (int k = 0; k < 2; k++) {
        ef_model *m = load(names[k]);
        const int ch = ef_model_out_channels(m);
        const int sep = ef_model_kind(m) == EF_KIND_SEPARATE;
        signals sg;
        signals_new(&sg, m);
        float **wet = sg.wet, **got = sg.got, *dry = sg.dry;

        render(m, mix_30, got);
        assert_true(expect_err(got, wet, dry, ch, 0.3f, 1.0f) < 1e-6f);
        render(m, gain_m6_mix_half, got);
        assert_true(expect_err(got, wet, dry, ch, 0.5f, powf(10.0f, -6.0f / 20.0f)) < 1e-6f);
        render(m, bypassed, got); /* bypass: exactly the delayed input */
        assert_true(expect_err(got, wet, dry, ch, 0.0f, 1.0f) == 0.0f);
        render(m, limit_6, got); /* the limit is for separation only */
        float w6 = sep ? 1.0f - powf(10.0f, -6.0f / 20.0f) : 1.0f;
        assert_true(expect_err(got, wet, dry, ch, w6, 1.0f) < 1e-6f);
        render(m, limit_0, got);
        assert_true(expect_err(got, wet, dry, ch, sep ? 0.0f : 1.0f, 1.0f) < 1e-6f);

        signals_free(&sg);
        ef_model_free(m);
    }
}

/* Toggling bypass in the middle of a stream glides: no step between neighbouring
 * samples larger than the largest step of either signal it fades between. */
static void bypass_toggle_is_click_free(void **state)
{
    (void)state;
    ef_model *m = load("binaural_tiny.safetensors");
    ef_error err = {{0}};
    signals sg;
    signals_new(&sg, m);
    float **wet = sg.wet, **got = sg.got, *dry = sg.dry;
    ef_engine *e = ef_engine_new(m, RATE, 300, &err);
    test_short_schedule(e);
    float *in = test_input();
    for (int pos = 0, blk = 0; pos < n_samples; pos += 100, blk++) {
        if (blk == 60 || blk == 150)
            ef_engine_set_bypass(e, blk == 60);
        const float *ins[1] = {in + pos};
        float *outs[2] = {got[0] + pos, got[1] + pos};
        ef_engine_process(e, ins, outs, 100);
    }
    for (int c = 0; c < 2; c++) {
        float step_sig = 0.0f, step_got = 0.0f;
        for (int i = 1; i < n_samples; i++) {
            step_sig = fmaxf(step_sig, fmaxf(fabsf(wet[c][i] - wet[c][i - 1]),
                                             fabsf(dry[i] - dry[i - 1])));
            step_got = fmaxf(step_got, fabsf(got[c][i] - got[c][i - 1]));
        }
        assert_true(step_got <= step_sig * 1.01f);
        /* fully bypassed between the fades: the delayed input itself */
        for (int i = 9000; i < 15000; i++)
            assert_true(fabsf(got[c][i] - dry[i]) < 1e-6f);
    }
    free(in);
    signals_free(&sg);
    ef_engine_free(e);
    ef_model_free(m);
}

/* NaN and out-of-range blend values are ignored or clamped. */
static void blend_controls_are_clamped(void **state)
{
    (void)state;
    ef_model *m = load("separate_tiny.safetensors");
    float *ref[2] = {calloc((size_t)n_samples, sizeof(float)), calloc((size_t)n_samples, sizeof(float))};
    float *got[2] = {calloc((size_t)n_samples, sizeof(float)), calloc((size_t)n_samples, sizeof(float))};
    render(m, mix_30, ref);
    ef_error err = {{0}};
    ef_engine *e = ef_engine_new(m, RATE, 300, &err);
    test_short_schedule(e);
    ef_engine_set_mix(e, 0.3f);
    ef_engine_set_mix(e, NAN);
    ef_engine_set_attenuation_limit(e, NAN);
    ef_engine_set_attenuation_limit(e, INFINITY); /* = unlimited, the default */
    ef_engine_set_output_gain(e, NAN);
    ef_engine_set_output_gain(e, 1e9f); /* clamped to +24 dB */
    ef_engine_set_output_gain(e, 0.0f);
    ef_engine_reset(e);
    float *in = test_input();
    const int sizes[] = {0};
    test_stream(e, in, got, 1, n_samples, sizes, 1, 300, 3);
    for (int i = 0; i < n_samples; i++)
        assert_true(got[0][i] == ref[0][i]);
    ef_engine_set_output_gain(e, -INFINITY); /* silence after the glide */
    ef_engine_reset(e);
    test_stream(e, in, got, 1, n_samples, sizes, 1, 300, 3);
    for (int i = 0; i < n_samples; i++)
        assert_true(got[0][i] == 0.0f);
    free(in);
    for (int c = 0; c < 2; c++) {
        free(ref[c]);
        free(got[c]);
    }
    ef_engine_free(e);
    ef_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_output_blend GOLDEN_DIR\n");
        return 2;
    }
    golden_dir = argv[1];
    if (test_short())
        n_samples = 16000;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blend_matches_definition),
        cmocka_unit_test(bypass_toggle_is_click_free),
        cmocka_unit_test(blend_controls_are_clamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
