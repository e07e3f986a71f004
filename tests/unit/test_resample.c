/* Proves host-rate operation: a round trip through the resamplers and the identity
 * engine at each supported rate, aligned by the reported latency, stays below
 * -80 dB error; the output does not depend on the block partition; the FIFO never
 * runs dry. */
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

/* A sum of sines up to 80 % of the lower Nyquist frequency, with random phases. */
static float *tones(long n, int rate, uint32_t seed)
{
    float *x = calloc((size_t)n, sizeof(float));
    double top = 0.8 * 0.5 * (rate < 48000 ? rate : 48000);
    for (int k = 0; k < 24; k++) {
        double f = 50.0 + (top - 50.0) * (double)k / 23.0;
        double ph = M_PI * (test_uniform(&seed) + 1.0);
        for (long i = 0; i < n; i++)
            x[i] += (float)(0.03 * sin(2.0 * M_PI * f * (double)i / rate + ph));
    }
    return x;
}

/* Error of out[n + latency] against in[n] in dB relative to the input, skipping the
 * first and last 20 ms (converter start-up and the end of the signal). */
static double round_trip_db(const float *in, const float *out, long n, int latency, int rate)
{
    long edge = rate / 50;
    double e = 0, s = 0;
    for (long i = edge; i + latency < n - edge; i++) {
        double d = (double)out[i + latency] - (double)in[i];
        e += d * d;
        s += (double)in[i] * (double)in[i];
    }
    return 10.0 * log10(e / s);
}

static void round_trip_every_rate(void **state)
{
    (void)state;
    const int rates[] = {8000, 11025, 16000, 22050, 32000, 44100, 88200, 96000, 176400, 192000};
    ef_error err = {{0}};
    ef_model *m = ef_model_identity(&err);
    for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
        int rate = rates[k];
        long n = test_short() ? rate / 4 : rate; /* one second (a quarter: EF_TEST_SHORT) */
        float *in = tones(n, rate, 5 + (uint32_t)k);
        float *out = calloc((size_t)n, sizeof(float));
        ef_engine *e = ef_engine_new(m, rate, 512, &err);
        if (!e)
            fail_msg("%d Hz: %s", rate, err.message);
        const int sizes[] = {0};
        test_stream(e, in, &out, 1, n, sizes, 1, 512, 77);
        int latency = ef_engine_latency(e);
        double db = round_trip_db(in, out, n, latency, rate);
        double db_off = round_trip_db(in, out, n, latency + 1, rate);
        printf("# %6d Hz: latency %4d samples (%.2f ms), round-trip error %.1f dB "
               "(one sample off: %.1f dB), underruns %ld\n",
               rate, latency, 1000.0 * latency / rate, db, db_off, ef_engine_underruns(e));
        assert_true(db < -80.0);
        assert_true(db_off > -40.0); /* the test can tell a wrong latency */
        assert_int_equal(ef_engine_underruns(e), 0);
        ef_engine_free(e);
        free(in);
        free(out);
    }
    ef_model_free(m);
}

static void partition_does_not_matter_when_resampling(void **state)
{
    (void)state;
    ef_error err = {{0}};
    ef_model *m = ef_model_identity(&err);
    const int rate = 44100;
    long n = test_short() ? rate / 8 : rate / 2;
    float *in = tones(n, rate, 9);
    float *ref = calloc((size_t)n, sizeof(float)), *out = calloc((size_t)n, sizeof(float));
    ef_engine *e = ef_engine_new(m, rate, 4096, &err);
    const int big[] = {4096};
    test_stream(e, in, &ref, 1, n, big, 1, 4096, 1);
    const int mixes[][4] = {{1, 1, 1, 1}, {7, 64, 127, 4096}, {0, 0, 0, 0}};
    for (size_t k = 0; k < 3; k++) {
        ef_engine_reset(e);
        test_stream(e, in, &out, 1, n, mixes[k], 4, 4096, 4321 + (uint32_t)k);
        double worst = 0;
        for (long i = 0; i < n; i++)
            worst = fmax(worst, fabs((double)out[i] - (double)ref[i]));
        printf("# partition %zu: max difference %.3g, underruns %ld\n", k, worst,
               ef_engine_underruns(e));
        assert_true(worst < 1e-6);
        assert_int_equal(ef_engine_underruns(e), 0);
    }
    ef_engine_free(e);
    ef_model_free(m);
    free(in);
    free(ref);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_every_rate),
        cmocka_unit_test(partition_does_not_matter_when_resampling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
