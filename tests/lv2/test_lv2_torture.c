/* Torture tests of the LV2 plugins (all three) in the lilv test host, with the golden
 * models, the shipped separation model and no model (the dry signal).
 * usage: test_lv2_torture GOLDEN_DIR SOURCE_DIR   (LV2_PATH, EARFLOW_MODEL_DIR: meson)
 *
 * Each plugin is instantiated at every sample rate from 8 to 192 kHz and run with block
 * sequences of 0, 1, the host's maximum, more than the maximum (the plugin chunks)
 * and random sizes, over the torture signals of tests/torture.h; every control port
 * is swept at audio rate (a new value before every run()) over its range, beyond it,
 * and through NaN and infinities. Every output sample must be finite, not subnormal,
 * and within |out| <= G * max(A, P) (see tests/unit/test_torture_engine.c for why): A = 1
 * (full-scale input), G = 1, or +24 dB (15.85) when the gain port is swept, P the
 * model's ceiling (identity, i.e. no model: A at 48 kHz and 2 A resampled). A crossfade
 * between two engines (model or steps change) is a convex blend and keeps the bound.
 * A signal with bad samples (NaN, Inf, beyond +-1e6) gives exactly the output of the
 * signal with those samples zeroed: they are replaced, never propagated.
 * With librt_guard.so preloaded every run() and work_response() is guarded; the last
 * test requires zero allocations, locks and file calls in all of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lv2_test_host.h"
#include "torture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BLOCK 4096
#define GAIN_MAX 15.848932f
#define MAX_CONTROLS 24

/* How much of the work runs. Sanitizer builds run ten times slower: there the long
 * runs are cut to a tenth (the drift checks still span 60 s) and the other signals to
 * a quarter. EF_TEST_SHORT=1 (the valgrind setup, 50 to 100 times slower): the long
 * runs to 1/25 (24 s: the drift check still compares 20 clicks at each end), the other
 * work to 1/16, every_rate at 22.05, 44.1 and 192 kHz only (and shorter), the sweeps
 * at 48 and 44.1 kHz, and not the shipped model (the golden ones run the same plugin
 * code; the separate_model test runs it under valgrind). Set in main(). */
static int long_divisor = 1, work_divisor = 1, short_run = 0;

typedef struct plugin_case {
    const char *name, *uri;
    int model; /* 0 none (dry), 1 the golden model, 2 the shipped model */
    float ceiling;
} plugin_case;

static const plugin_case cases[] = {
    {"Binaural, golden model", "urn:earflow:binaural", 1, 32.0f},
    {"Binaural, no model", "urn:earflow:binaural", 0, 0.0f},
    {"Separate, golden model", "urn:earflow:separate", 1, 40.0f},
    {"Separate, shipped model", "urn:earflow:separate", 2, 4.0f},
    {"Separate stereo, golden model", "urn:earflow:separate-stereo", 1, 40.0f},
    {"Separate stereo, shipped model", "urn:earflow:separate-stereo", 2, 4.0f},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static const int all_rates[] = {8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200,
                                96000, 176400, 192000};

typedef struct torture {
    struct timespec started; /* first: torture_timer_start/report (torture.h) take it */
    const char *golden, *source;
    char golden_models[4200], shipped_models[4200];
    int have_shipped;
    rt_guard_api guard;
    int guarded;
    long long runs;
} torture;

static lv2_host *instance(torture *t, const plugin_case *pc, int rate)
{
    const char *dir = pc->model == 0 ? "/nonexistent" : pc->model == 1 ? t->golden_models
                                                                       : t->shipped_models;
    setenv("EARFLOW_MODEL_DIR", dir, 1);
    lv2_host *h = lv2_host_new(pc->uri, rate, MAX_BLOCK, LV2_HOST_ALL);
    if (!h)
        fail_msg("%s at %d Hz: did not instantiate", pc->name, rate);
    lv2_host_guard(h, &t->guard);
    return h;
}

static double bound(const plugin_case *pc, int rate, double gain)
{
    const double p = pc->ceiling > 0.0f ? pc->ceiling : rate == 48000 ? 1.0001 : 2.0;
    return gain * fmax(1.0, p);
}

/* A stereo signal: the kind on the left, the garbage mix (another seed) on the right. */
typedef struct sig2 {
    float *in[2], *clean[2], *out[2], *ref[2];
    long n;
} sig2;

static void sig2_make(sig2 *s, signal_kind kind, int rate, long n)
{
    s->n = n;
    for (int c = 0; c < 2; c++) {
        s->in[c] = calloc((size_t)n, sizeof(float));
        s->clean[c] = calloc((size_t)n, sizeof(float));
        s->out[c] = calloc((size_t)n, sizeof(float));
        s->ref[c] = calloc((size_t)n, sizeof(float));
    }
    make_signal(kind, rate, s->in[0], n, (uint32_t)kind + 1u);
    make_signal(SIG_GARBAGE, rate, s->in[1], n, 1000u + (uint32_t)kind);
    for (int c = 0; c < 2; c++)
        cleaned(s->in[c], s->clean[c], n);
}

static void sig2_free(sig2 *s)
{
    for (int c = 0; c < 2; c++) {
        free(s->in[c]);
        free(s->clean[c]);
        free(s->out[c]);
        free(s->ref[c]);
    }
}

/* Block sizes: 0, 1, the maximum, beyond it (chunked inside), and random; with
 * `small` > 0, mostly random blocks up to it (many runs, for the control sweeps). */
static int next_block(uint32_t *s, long k, int small)
{
    static const int pattern[] = {1, MAX_BLOCK, -1, 0, 1, -1, 10000, -1, 2, -1, MAX_BLOCK + 1, -1};
    if (small > 0) {
        if (k % 97 == 96)
            return MAX_BLOCK;
        return k % 13 == 0 ? (int)(k % 2) : 1 + (int)(test_rand(s) % (uint32_t)small);
    }
    int p = pattern[k % 12];
    return p >= 0 ? p : 1 + (int)(test_rand(s) % (k % 5 ? 256u : 3000u));
}

typedef void (*before_run_fn)(lv2_host *h, uint32_t *s, void *ctx);

static void run_signal(torture *t, lv2_host *h, float *const *in, float *const *out, long n,
                       uint32_t seed, before_run_fn before, void *ctx, int small)
{
    lv2_host_run(h, NULL, NULL, 0); /* run(0): the latency port, nothing else */
    long k = 0;
    for (long pos = 0; pos < n; k++) {
        long b = next_block(&seed, k, small);
        if (b > n - pos)
            b = n - pos;
        if (before)
            before(h, &seed, ctx);
        const float *bin[2] = {in[0] + pos, in[1] + pos};
        float *bout[2] = {out[0] + pos, out[1] + pos};
        lv2_host_run(h, bin, bout, (int)b);
        t->runs++;
        pos += b;
    }
}

/* One signal through a fresh instance, and its cleaned twin through another. */
static double torture_signal(torture *t, const plugin_case *pc, signal_kind kind, int rate,
                             long n, int compare)
{
    sig2 s;
    sig2_make(&s, kind, rate, n);
    lv2_host *h = instance(t, pc, rate);
    const int outs = lv2_host_outputs(h);
    run_signal(t, h, s.in, s.out, n, 5, NULL, NULL, 0);
    const int latency = (int)lv2_host_get(h, "latency");
    lv2_host_free(h);
    long differs = 0;
    if (compare) {
        lv2_host *r = instance(t, pc, rate);
        run_signal(t, r, s.clean, s.ref, n, 5, NULL, NULL, 0);
        lv2_host_free(r);
        for (int c = 0; c < outs; c++)
            differs += memcmp(s.out[c], s.ref[c], sizeof(float) * (size_t)n) != 0;
    }
    check c;
    const double limit = bound(pc, rate, 1.0);
    inspect(s.out, outs, n, limit, &c);
    if (c.nonfinite || c.subnormal || c.over || differs || latency <= 0)
        fail_msg("%s, %s at %d Hz: %ld non-finite, %ld subnormal, %ld above %.3g (peak %.4g), "
                 "%ld channels differ from the cleaned signal's, latency port %d", pc->name,
                 signal_names[kind], rate, c.nonfinite, c.subnormal, c.over, limit, c.peak,
                 differs, latency);
    sig2_free(&s);
    return c.peak;
}

static void signals_48k(void **state)
{
    torture *t = *state;
    for (int p = 0; p < N_CASES; p++) {
        if (cases[p].model == 2 && (!t->have_shipped || short_run))
            continue;
        double peak = 0;
        for (int k = 0; k < SIG_COUNT; k++)
            peak = fmax(peak, torture_signal(t, &cases[p], (signal_kind)k, 48000,
                                             24000 / work_divisor, 1));
        printf("# %s: %d torture signals at 48 kHz, blocks 0, 1, %d, 10000 and random: finite, "
               "peak %.3f within %.3f, bad samples replaced exactly by 0\n", cases[p].name,
               SIG_COUNT, MAX_BLOCK, peak, bound(&cases[p], 48000, 1.0));
    }
}

/* Every rate: the garbage mix; with no model, an impulse comes out
 * at the latency port's delay (within a sample where resampled). */
static void every_rate(void **state)
{
    torture *t = *state;
    for (size_t r = 0; r < sizeof all_rates / sizeof all_rates[0]; r++) {
        const int rate = all_rates[r];
        /* EF_TEST_SHORT: 22.05, 44.1 and 192 kHz (48: signals_48k); 8 kHz, upsampled
         * six times to the model's rate, alone took 2 minutes under valgrind */
        if (short_run && rate != 22050 && rate != 44100 && rate != 192000)
            continue;
        double peak = 0;
        for (int p = 0; p < N_CASES; p++) {
            if (cases[p].model == 2 && (!t->have_shipped || short_run))
                continue;
            /* EF_TEST_SHORT: up to the 10000-frame run (chunked), not the 4097 one */
            const long n = short_run ? MAX_BLOCK + 12000 : 2L * MAX_BLOCK + 10000 + rate / 10;
            peak = fmax(peak, torture_signal(t, &cases[p], SIG_GARBAGE, rate, n, rate == 44100));
        }
        lv2_host *h = instance(t, &cases[1], rate);
        lv2_host_set(h, "enabled", 1.0f);
        const long n = 3L * rate / 10 + 8192;
        sig2 s;
        sig2_make(&s, SIG_SILENCE, rate, n);
        s.in[0][1000] = 1.0f;
        run_signal(t, h, s.in, s.out, n, 3, NULL, NULL, 0);
        const int latency = (int)lv2_host_get(h, "latency");
        long at = 0;
        for (long i = 0; i < n; i++)
            if (fabsf(s.out[0][i]) > fabsf(s.out[0][at]))
                at = i;
        printf("# %6d Hz: all plugins finite and bounded (peak %.3f); latency port %d, dry "
               "impulse after %ld\n", rate, peak, latency, at - 1000);
        assert_true(labs(at - 1000 - latency) <= (rate == 48000 ? 0 : 1));
        sig2_free(&s);
        lv2_host_free(h);
    }
}

/* Sweeps: before every run() each control input gets a value from its range, its
 * edges, beyond them, or NaN/Inf/huge. */
typedef struct sweep {
    const char *symbols[MAX_CONTROLS];
    float min[MAX_CONTROLS], max[MAX_CONTROLS];
    int n;
} sweep;

static void sweep_controls(lv2_host *h, uint32_t *s, void *ctx)
{
    const sweep *sw = ctx;
    for (int i = 0; i < sw->n; i++) {
        const float lo = sw->min[i], hi = sw->max[i];
        const float wild[] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 3.4e38f, lo, hi,
                              lo - 1.0f, hi + 1.0f, 0.5f * (lo + hi), -0.0f, lo - 1e6f,
                              hi + 1e6f, 0.25f * lo + 0.75f * hi, 1e-40f};
        const uint32_t pick = test_rand(s) % 24u;
        /* half the time a value inside the range, so the signal path really moves */
        const float inside = lo + (hi - lo) * (float)(test_rand(s) % 1000u) / 999.0f;
        const float v = pick < 16 ? wild[pick] : inside;
        lv2_host_set(h, sw->symbols[i], v);
    }
}

static void control_sweeps(void **state)
{
    torture *t = *state;
    const int rates[] = {48000, 44100, 8000, 192000};
    for (int p = 0; p < N_CASES; p++) {
        if (cases[p].model == 2 && (!t->have_shipped || short_run))
            continue;
        for (int r = 0; r < (short_run ? 2 : 4); r++) {
            const int rate = rates[r];
            sig2 s;
            sig2_make(&s, SIG_GARBAGE, rate, short_run ? rate / 16 : rate / 8 / work_divisor);
            lv2_host *h = instance(t, &cases[p], rate);
            sweep sw;
            sw.n = lv2_host_control_inputs(h, sw.symbols, sw.min, sw.max, MAX_CONTROLS);
            const long before = t->runs;
            /* blocks of rate/800 on average: about 100 runs at any rate */
            run_signal(t, h, s.in, s.out, s.n, 11 + (uint32_t)r, sweep_controls, &sw,
                       rate / 400 / work_divisor);
            check c;
            const double limit = bound(&cases[p], rate, GAIN_MAX);
            inspect(s.out, lv2_host_outputs(h), s.n, limit, &c);
            if (c.nonfinite || c.subnormal || c.over)
                fail_msg("%s at %d Hz, sweeps: %ld non-finite, %ld subnormal, %ld above %.3g "
                         "(peak %.4g)", cases[p].name, rate, c.nonfinite, c.subnormal, c.over,
                         limit, c.peak);
            printf("# %s at %d Hz: %d control ports swept over %lld runs: peak %.3f within %.3f\n",
                   cases[p].name, rate, sw.n, t->runs - before, c.peak, limit);
            lv2_host_free(h);
            sig2_free(&s);
        }
    }
}

/* Ten minutes of clicks through Binaural without a model (the dry path: latency line,
 * STFT, chunking) at 48 kHz in random blocks beyond the maximum: no drift. (The
 * resampler's ten minutes are in tests/unit/test_torture_engine.c.) */
static void ten_minutes_no_drift(void **state)
{
    torture *t = *state;
    const int rate = 48000;
    lv2_host *h = instance(t, &cases[1], rate);
    lv2_host_run(h, NULL, NULL, 0);
    click_train ct;
    click_train_init(&ct, 600L * rate / long_divisor, rate / 2, (int)lv2_host_get(h, "latency"));
    float *in = calloc(10000, sizeof(float)), *out0 = calloc(10000, sizeof(float)),
          *out1 = calloc(10000, sizeof(float));
    uint32_t s = 17;
    const clock_t started = clock();
    for (long pos = 0, k = 0, b; pos < ct.n; k++, pos += b) {
        b = k % 50 == 0 ? 10000 : 1 + test_rand(&s) % MAX_BLOCK;
        b = b > ct.n - pos ? ct.n - pos : b;
        click_train_input(&ct, pos, in, b);
        const float *bin[1] = {in};
        float *bout[2] = {out0, out1};
        lv2_host_run(h, bin, bout, (int)b);
        t->runs++;
        click_train_output(&ct, pos, out0, b);
    }
    const double cpu = (double)(clock() - started) / CLOCKS_PER_SEC;
    double delay0, drift, level_db;
    click_train_result(&ct, &delay0, &drift, &level_db);
    printf("# %s at %d Hz, %ld s in blocks up to 10000 (%.1f s CPU): %ld clicks, first at "
           "%.3f (latency port %d); drift %.2e samples, level change %.2e dB\n", cases[1].name,
           rate, ct.n / rate, cpu, ct.clicks, delay0, ct.latency, drift, level_db);
    assert_int_equal(ct.nonfinite, 0);
    assert_true(fabs(delay0 - ct.latency) < 1.0);
    assert_true(fabs(drift) < 1e-3 && fabs(level_db) < 1e-3);
    assert_true(ct.peak <= 1.0001);
    free(in);
    free(out0);
    free(out1);
    lv2_host_free(h);
}

/* The shipped model in the Separate plugin over a minute of looped voice: the output
 * lags the input by the latency port's value, at the end as at the start, at the same
 * level. */
static void real_model_long_run(void **state)
{
    torture *t = *state;
    float *voice = NULL;
    long voice_n = 0;
    torture_long_run_voice(short_run, t->have_shipped, t->source, &voice, &voice_n);
    const int rate = 48000, seconds = long_divisor == 1 ? 60 : 12;
    const int window = 10 * rate / work_divisor;
    const long n = (long)seconds * rate, loop = voice_n + rate / 3;
    float *in = calloc((size_t)n, sizeof(float)), *out = calloc((size_t)n, sizeof(float));
    for (long i = 0; i < n; i++)
        in[i] = i % loop < voice_n ? voice[i % loop] : 0.0f;
    lv2_host *h = instance(t, &cases[3], rate);
    float *ins[2] = {in, in}, *outs[2] = {out, out};
    run_signal(t, h, ins, outs, n, 23, NULL, NULL, 0);
    const int latency = (int)lv2_host_get(h, "latency");
    const long head0 = loop, tail0 = (n - 2 * window) / loop * loop;
    double g_head, g_tail;
    const int lag_head = best_lag(in + head0, out + head0, window, 0, 2048, &g_head);
    const int lag_tail = best_lag(in + tail0, out + tail0, window, 0, 2048, &g_tail);
    printf("# %s, %d s of looped voice: lag %d at the start, %d at the end (latency port %d), "
           "level %.3f dB vs %.3f dB\n", cases[3].name, seconds, lag_head, lag_tail, latency,
           g_head, g_tail);
    assert_int_equal(lag_head, latency);
    assert_int_equal(lag_tail, latency);
    assert_true(fabs(g_tail - g_head) < 0.1);
    lv2_host_free(h);
    free(in);
    free(out);
    free(voice);
}

static void no_forbidden_calls(void **state)
{
    const torture *t = *state;
    torture_skip_unguarded(t->guarded);
    const long v = t->guard.violations();
    printf("# rt_guard: %ld allocations, locks or file calls in %lld run() calls (and the "
           "work_response() calls between them)%s%s\n", v, t->runs, v ? "; last: " : "",
           v ? t->guard.last() : "");
    assert_true(t->runs > (short_run ? 1000 : 10000));
    assert_int_equal(v, 0);
}

int main(int argc, char **argv)
{
    if (argc < 3 || !getenv("EARFLOW_MODEL_DIR")) {
        fprintf(stderr, "usage: test_lv2_torture GOLDEN_DIR SOURCE_DIR (EARFLOW_MODEL_DIR set)\n");
        return 2;
    }
    torture t = {.golden = argv[1], .source = argv[2]};
    snprintf(t.golden_models, sizeof t.golden_models, "%s", getenv("EARFLOW_MODEL_DIR"));
    snprintf(t.shipped_models, sizeof t.shipped_models, "%s/models", t.source);
    char shipped[4300];
    snprintf(shipped, sizeof shipped, "%s/separate.safetensors", t.shipped_models);
    FILE *f = fopen(shipped, "rb");
    t.have_shipped = f != NULL;
    if (f)
        fclose(f);
    else
        printf("# %s is not there: the shipped-model cases are skipped\n", shipped);
    t.guarded = rt_guard_find(&t.guard);
    torture_scale_work(&short_run, &long_divisor, &work_divisor);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(signals_48k, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(every_rate, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(control_sweeps, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(ten_minutes_no_drift, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(real_model_long_run, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(no_forbidden_calls, torture_timer_start, torture_timer_report, &t),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
