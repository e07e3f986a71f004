/* Proves the 48 kHz signal path: STFT -> ISTFT reconstructs, the latency is what
 * the engine reports, and the block partition never changes the output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "earflow.h"
#include "ef_stft.h"
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_SAMPLES 48000

static float *noise_signal(long n, uint32_t seed)
{
    float *x = malloc(sizeof(float) * (size_t)n);
    for (long i = 0; i < n; i++)
        x[i] = 0.5f * test_uniform(&seed);
    return x;
}

static ef_engine *identity_engine(ef_model **model, double rate, int max_block)
{
    ef_error err = {{0}};
    *model = ef_model_identity(&err);
    assert_non_null(*model);
    ef_engine *e = ef_engine_new(*model, rate, max_block, &err);
    if (!e)
        fail_msg("engine: %s", err.message);
    return e;
}

/* Max |out[n + latency] - in[n]| over the whole signal. */
static double aligned_error(const float *in, const float *out, long n, int latency)
{
    double worst = 0;
    for (long i = 0; i + latency < n; i++) {
        double d = fabs((double)out[i + latency] - (double)in[i]);
        if (d > worst)
            worst = d;
    }
    return worst;
}

static void reconstruction_every_block_size(void **state)
{
    (void)state;
    const int sizes[] = {1, 7, 64, 127, 128, 1000, 4096, 0 /* random */};
    float *in = noise_signal(N_SAMPLES, 1);
    float *out = malloc(sizeof(float) * N_SAMPLES);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        ef_model *m;
        ef_engine *e = identity_engine(&m, 48000, 4096);
        int latency = ef_engine_latency(e);
        assert_int_equal(latency, 512);
        test_stream(e, in, &out, 1, N_SAMPLES, &sizes[k], 1, 4096, 99);
        double err = aligned_error(in, out, N_SAMPLES, latency);
        printf("# block %4d: max reconstruction error %.3g\n", sizes[k], err);
        assert_true(err < 1e-5);
        ef_engine_free(e);
        ef_model_free(m);
    }
    free(in);
    free(out);
}

static void latency_is_exact_by_impulse(void **state)
{
    (void)state;
    const int where[] = {0, 1, 127, 128, 1000, 3333};
    for (size_t k = 0; k < sizeof where / sizeof where[0]; k++) {
        long n = 8192;
        float *in = calloc((size_t)n, sizeof(float));
        float *out = calloc((size_t)n, sizeof(float));
        in[where[k]] = 1.0f;
        ef_model *m;
        ef_engine *e = identity_engine(&m, 48000, 333);
        const int sizes[] = {333};
        test_stream(e, in, &out, 1, n, sizes, 1, 333, 1);
        long peak = 0;
        for (long i = 0; i < n; i++)
            if (fabsf(out[i]) > fabsf(out[peak]))
                peak = i;
        assert_int_equal(peak, where[k] + ef_engine_latency(e));
        assert_float_equal(out[peak], 1.0f, 1e-5);
        ef_engine_free(e);
        ef_model_free(m);
        free(in);
        free(out);
    }
}

static void any_partition_gives_identical_output(void **state)
{
    (void)state;
    float *in = noise_signal(N_SAMPLES, 7);
    float *ref = malloc(sizeof(float) * N_SAMPLES);
    float *out = malloc(sizeof(float) * N_SAMPLES);
    ef_model *m;
    ef_engine *e = identity_engine(&m, 48000, 4096);
    const int one[] = {4096};
    test_stream(e, in, &ref, 1, N_SAMPLES, one, 1, 4096, 1);
    const int mixes[][4] = {{1, 2, 3, 5}, {127, 1, 4096, 7}, {0, 0, 0, 0}};
    for (size_t k = 0; k < 3; k++) {
        ef_engine_reset(e);
        test_stream(e, in, &out, 1, N_SAMPLES, mixes[k], 4, 4096, 1234 + (uint32_t)k);
        assert_memory_equal(ref, out, sizeof(float) * N_SAMPLES);
    }
    ef_engine_free(e);
    ef_model_free(m);
    free(in);
    free(ref);
    free(out);
}

/* The STFT objects on their own, for the window/hop pairs models use. */
static void stft_pairs_reconstruct(void **state)
{
    (void)state;
    const int pairs[][2] = {{512, 128}, {512, 256}, {1024, 256}, {960, 480}};
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        int n_fft = pairs[k][0], hop = pairs[k][1];
        ef_error err = {{0}};
        ef_stft_analyzer *a = ef_stft_analyzer_new(n_fft, hop, &err);
        ef_stft_synthesizer *s = ef_stft_synthesizer_new(n_fft, hop, &err);
        assert_non_null(a);
        assert_non_null(s);
        long n = 100 * hop;
        float *in = noise_signal(n, 3), *out = malloc(sizeof(float) * (size_t)n);
        float *frame = malloc(sizeof(float) * (size_t)(n_fft + 2));
        for (long p = 0; p < n; p += hop) {
            ef_stft_analyzer_push(a, in + p, frame);
            ef_stft_synthesizer_push(s, frame, out + p);
        }
        double e = aligned_error(in, out, n, n_fft - hop);
        printf("# stft %d/%d: max error %.3g\n", n_fft, hop, e);
        assert_true(e < 1e-5);
        ef_stft_analyzer_free(a);
        ef_stft_synthesizer_free(s);
        free(in);
        free(out);
        free(frame);
    }
}

static void bad_configs_are_refused(void **state)
{
    (void)state;
    ef_error err = {{0}};
    assert_null(ef_stft_analyzer_new(511, 128, &err));
    assert_non_null(strstr(err.message, "n_fft"));
    assert_null(ef_stft_analyzer_new(512, 100, &err));
    assert_null(ef_stft_synthesizer_new(512, 512, &err));
    ef_model *m = ef_model_identity(&err);
    assert_null(ef_engine_new(m, 7999, 64, &err));
    assert_non_null(strstr(err.message, "sample rate"));
    assert_null(ef_engine_new(m, 192001, 64, &err));
    assert_null(ef_engine_new(m, 44100.5, 64, &err));
    assert_null(ef_engine_new(m, NAN, 64, &err));
    assert_null(ef_engine_new(m, 48000, 0, &err));
    assert_null(ef_engine_new(m, 48000, EF_MAX_BLOCK + 1, &err));
    ef_model_free(m);
}

/* NaN, Inf and huge samples (beyond 1e6; the STFT of +-3.4e38 overflows to Inf: a float
 * file of +-3.4e38 gave an all-NaN output, found by tests/fuzz) are replaced by
 * silence and counted; the output stays finite. */
static void non_finite_input_is_contained(void **state)
{
    (void)state;
    long n = 4096;
    float *in = noise_signal(n, 11), *out = malloc(sizeof(float) * (size_t)n);
    in[100] = NAN;
    in[2000] = INFINITY;
    in[2001] = -INFINITY;
    in[3000] = 3.4e38f;
    in[3001] = -2e9f;
    ef_model *m;
    ef_engine *e = identity_engine(&m, 48000, 64);
    const int sizes[] = {64};
    test_stream(e, in, &out, 1, n, sizes, 1, 64, 1);
    for (long i = 0; i < n; i++)
        assert_true(isfinite(out[i]));
    assert_int_equal(ef_engine_sanitized(e), 5);
    ef_engine_free(e);
    ef_model_free(m);
    free(in);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reconstruction_every_block_size),
        cmocka_unit_test(latency_is_exact_by_impulse),
        cmocka_unit_test(any_partition_gives_identical_output),
        cmocka_unit_test(stft_pairs_reconstruct),
        cmocka_unit_test(bad_configs_are_refused),
        cmocka_unit_test(non_finite_input_is_contained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
