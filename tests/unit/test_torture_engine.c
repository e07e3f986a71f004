/* Torture tests of the engine (model/earflow.h) with every model the tests have: the
 * built-in identity, the random-weight golden models and the shipped separation
 * model. usage: test_torture_engine GOLDEN_DIR SOURCE_DIR
 *
 * Every output sample of every case must be finite, never subnormal, and within
 *     |out| <= G * max(A, P)
 * where A = the largest legal |input| (1: full scale in all cases), G = the output
 * gain (at most +24 dB = 15.85 in the sweeps, else 1) and P = the model's processed
 * ceiling (table `models` below). Why: out = G * (dry + w (processed - dry)) with
 * w in [0, 1] is a convex blend, so |out| <= G * max(|dry|, |processed|); dry is the
 * input delayed (|dry| <= A: bad samples are zeroed before it); processed is the
 * ISTFT of the network's frames. For identity that is the input again: P = A up to
 * float rounding at the model's rate; resampled, P = 2 A (the two band-limiting sinc
 * converters ring: about 9 % of Gibbs overshoot on a step, more on sign-matched
 * sequences; the measured worst is 1.46 A). For a network the peak is a property of
 * its weights (every layer is group-normalised and the noise is bounded, so it is
 * finite for a bounded input);
 * P is the measured worst case on these signals times about 3 (+10 dB): a change
 * that makes any model louder than that (a gain error, a runaway solver) fails.
 *
 * With librt_guard.so preloaded (meson does it outside sanitizer builds and sets
 * EF_EXPECT_RT_GUARD=1), every ef_engine_process, ef_engine_set_* and
 * ef_engine_reset call here runs inside a guarded region: the last test requires
 * zero allocations, locks and file calls in all of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "earflow.h"
#include "rt_guard.h"
#include "test_util.h"
#include "torture.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_MODELS 5
/* How much of the work runs. Sanitizer builds run ten times slower: there the long
 * runs are cut to a tenth (the drift checks still span 60 s) and the other signals to
 * a quarter. EF_TEST_SHORT=1 (the valgrind setup, 50 to 100 times slower): the long
 * runs to 1/25 (24 s: the drift check still compares 20 clicks at each end), the other
 * work to 1/16, the rates with the identity only, and not the shipped model (looped_models;
 * real_model_long_run skipped: the separate_model test runs it under valgrind). Set in
 * main(). */
static int long_divisor = 1, work_divisor = 1, short_run = 0;
#define GAIN_MAX 15.848932f /* +24 dB, EF_GAIN_MAX_DB */

typedef struct model_case {
    const char *name;
    ef_model *model;
    float ceiling; /* P: the processed signal's bound for |input| <= 1 (0: identity) */
} model_case;

typedef struct torture {
    struct timespec started; /* first: torture_timer_start/report (torture.h) take it */
    const char *golden, *source;
    model_case models[MAX_MODELS];
    int n_models;
    rt_guard_api guard;
    int guarded;
    long long guarded_calls;
} torture;

/* ------------------------------------------------------------ guarded engine calls */

static void guard_in(torture *t) { t->guard.enter(); }
static void guard_out(torture *t)
{
    t->guard.leave();
    t->guarded_calls++;
}

static void process(torture *t, ef_engine *e, const float *const *in, float *const *out, int n)
{
    guard_in(t);
    ef_engine_process(e, in, out, n);
    guard_out(t);
}

static void reset(torture *t, ef_engine *e)
{
    guard_in(t);
    ef_engine_reset(e);
    guard_out(t);
}

/* ------------------------------------------------------------ streaming */

typedef enum block_seq { SEQ_ONE, SEQ_MAX, SEQ_RANDOM, SEQ_MIXED } block_seq;

static int next_block(block_seq seq, int max_block, uint32_t *s, long k)
{
    switch (seq) {
    case SEQ_ONE: return 1;
    case SEQ_MAX: return max_block;
    case SEQ_RANDOM: return 1 + (int)(test_rand(s) % (uint32_t)max_block);
    default: { /* 1, the maximum, and random sizes, small and large */
        static const int pattern[] = {1, -1, 0, 1, 1, 0, 2, 0, -1, 3, 0, 0, 127, 0, 1, 0};
        int p = pattern[k % 16];
        return p > 0 ? p : p < 0 ? max_block
                                 : 1 + (int)(test_rand(s) % (uint32_t)(k % 3 ? 64 : max_block));
    }
    }
}

static void stream(torture *t, ef_engine *e, const float *in, float *const *out, int n_out,
                   long n, block_seq seq, int max_block, uint32_t seed)
{
    long k = 0;
    for (long pos = 0; pos < n; k++) {
        long b = next_block(seq, max_block, &seed, k);
        if (b > n - pos)
            b = n - pos;
        const float *ins[1] = {in + pos};
        float *outs[2];
        for (int c = 0; c < n_out; c++)
            outs[c] = out[c] + pos;
        process(t, e, ins, outs, (int)b);
        pos += b;
    }
}

static double bound(const model_case *mc, int rate, double legal_peak, double gain)
{
    const double identity = rate == ef_model_sample_rate(mc->model) ? 1.0001 : 2.0;
    const double p = mc->ceiling > 0.0f ? mc->ceiling : legal_peak * identity + 1e-6;
    return gain * fmax(legal_peak, p);
}

static ef_engine *engine(const model_case *mc, double rate, int max_block)
{
    ef_error err = {{0}};
    ef_engine *e = ef_engine_new(mc->model, rate, max_block, &err);
    if (!e)
        fail_msg("%s at %g Hz: %s", mc->name, rate, err.message);
    return e;
}

typedef struct buffers {
    float *in, *ref_in, *out[2], *ref[2];
    long n;
} buffers;

static void buffers_alloc(buffers *b, long n)
{
    b->n = n;
    b->in = calloc((size_t)n, sizeof(float));
    b->ref_in = calloc((size_t)n, sizeof(float));
    for (int c = 0; c < 2; c++) {
        b->out[c] = calloc((size_t)n, sizeof(float));
        b->ref[c] = calloc((size_t)n, sizeof(float));
    }
}

static void buffers_free(buffers *b)
{
    free(b->in);
    free(b->ref_in);
    for (int c = 0; c < 2; c++) {
        free(b->out[c]);
        free(b->ref[c]);
    }
}

static long differing(float *const *a, float *const *b, int channels, long n)
{
    long d = 0;
    for (int c = 0; c < channels; c++)
        d += memcmp(a[c], b[c], sizeof(float) * (size_t)n) != 0;
    return d;
}

/* One signal through a fresh engine, checked: finite, no subnormal, bounded, every
 * bad sample counted, none of the network frames bad, and the output bit-identical
 * to that of the cleaned signal (bad samples really became 0, subnormals act as 0). */
static void torture_signal(torture *t, const model_case *mc, signal_kind kind, int rate,
                           long n, block_seq seq, int max_block, double *worst_peak)
{
    const int chs = ef_model_out_channels(mc->model);
    buffers b;
    buffers_alloc(&b, n);
    make_signal(kind, rate, b.in, n, (uint32_t)kind + 1u);
    long n_bad = cleaned(b.in, b.ref_in, n);
    ef_engine *e = engine(mc, rate, max_block);
    stream(t, e, b.in, b.out, chs, n, seq, max_block, 5);
    ef_engine *r = engine(mc, rate, max_block);
    stream(t, r, b.ref_in, b.ref, chs, n, seq, max_block, 5);
    check c;
    const double limit = bound(mc, rate, 1.0, 1.0);
    inspect(b.out, chs, n, limit, &c);
    *worst_peak = fmax(*worst_peak, c.peak);
    if (c.nonfinite || c.subnormal || c.over || ef_engine_bad_samples(e) != n_bad ||
        ef_engine_bad_frames(e) != 0 || differing(b.out, b.ref, chs, n))
        fail_msg("%s, %s at %d Hz: %ld non-finite, %ld subnormal, %ld above %.3g (peak %.4g); "
                 "bad samples %ld counted of %ld, bad frames %ld; output %s the cleaned "
                 "signal's", mc->name, signal_names[kind], rate, c.nonfinite, c.subnormal,
                 c.over, limit, c.peak, ef_engine_bad_samples(e), n_bad, ef_engine_bad_frames(e),
                 differing(b.out, b.ref, chs, n) ? "differs from" : "equals");
    if (kind == SIG_SILENCE && ef_model_kind(mc->model) != EF_KIND_BINAURAL && c.peak != 0.0)
        fail_msg("%s at %d Hz: silence in gave %.3g out (digital silence expected)", mc->name,
                 rate, c.peak);
    ef_engine_free(e);
    ef_engine_free(r);
    buffers_free(&b);
}

/* ------------------------------------------------------------ tests */

/* The models the signal, rate, block and control tests loop over: all of them, but
 * with EF_TEST_SHORT=1 not the shipped model (loaded last; the golden ones run the
 * same engine code). */
static int looped_models(const torture *t)
{
    const int n = t->n_models;
    return short_run && n > 0 && strstr(t->models[n - 1].name, "shipped") ? n - 1 : n;
}

static void all_signals_at(torture *t, int rate)
{
    for (int m = 0; m < looped_models(t); m++) {
        double peak = 0;
        for (int k = 0; k < SIG_COUNT; k++)
            torture_signal(t, &t->models[m], (signal_kind)k, rate, rate / 2 / work_divisor,
                           SEQ_MIXED, 4096, &peak);
        printf("# %s at %d Hz: %d torture signals, 0.5 s each, blocks 1..4096: finite, "
               "bounded (peak %.3f, bound %.3f), bad samples counted exactly\n",
               t->models[m].name, rate, SIG_COUNT, peak, bound(&t->models[m], rate, 1.0, 1.0));
    }
}

static void signals_48k(void **state) { all_signals_at(*state, 48000); }
static void signals_44k1(void **state) { all_signals_at(*state, 44100); }

/* Every supported rate, with the garbage mix (full-scale noise with bad samples,
 * subnormals and +-1 spikes) and a block sequence of 1, the maximum
 * and random sizes; the identity's impulse comes out exactly at the reported latency
 * (within a sample where resampled). Unsupported rates are refused. */
static void sample_rates(void **state)
{
    torture *t = *state;
    static const int rates[] = {8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000,
                                176400, 192000};
    const int max_block = 8192 / work_divisor;
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        const int rate = rates[r];
        /* EF_TEST_SHORT: the identity only (the networks run at the model's rate) */
        for (int m = 0; m < (short_run ? 1 : looped_models(t)); m++) {
            double peak = 0;
            const long n = 2L * max_block + rate / (short_run ? 32 : 8);
            torture_signal(t, &t->models[m], SIG_GARBAGE, rate, n, SEQ_MIXED, max_block, &peak);
        }
        /* latency by impulse, identity (models[0]) */
        ef_engine *e = engine(&t->models[0], rate, max_block);
        const int latency = ef_engine_latency(e);
        const long n = latency + 4L * rate / 100 + 4096;
        float *in = calloc((size_t)n, sizeof(float)), *out = calloc((size_t)n, sizeof(float));
        in[1000] = 1.0f;
        float *outs[1] = {out};
        stream(t, e, in, outs, 1, n, SEQ_MIXED, max_block, 9);
        long at = 0;
        for (long i = 1; i < n; i++)
            if (fabsf(out[i]) > fabsf(out[at]))
                at = i;
        const long delay = at - 1000, tolerance = rate == 48000 ? 0 : 1;
        printf("# %6d Hz: latency %d samples (%.2f ms), impulse peak after %ld\n", rate, latency,
               1000.0 * latency / rate, delay);
        assert_true(labs(delay - latency) <= tolerance);
        ef_engine_free(e);
        free(in);
        free(out);
    }
    const double refused[] = {7999, 192001, 44100.5, 0, -48000, NAN, INFINITY, 1e12};
    for (size_t r = 0; r < sizeof refused / sizeof refused[0]; r++) {
        ef_error err = {{0}};
        ef_engine *e = ef_engine_new(t->models[0].model, refused[r], 256, &err);
        assert_null(e);
        assert_true(strstr(err.message, "sample rate") != NULL);
    }
    const int bad_blocks[] = {0, -1, EF_MAX_BLOCK + 1};
    for (size_t k = 0; k < sizeof bad_blocks / sizeof bad_blocks[0]; k++) {
        ef_error err = {{0}};
        assert_null(ef_engine_new(t->models[0].model, 48000, bad_blocks[k], &err));
    }
}

/* The same output whatever the partition: one sample at a time, the maximum block
 * (EF_MAX_BLOCK), random sizes and the mixed sequence, at the model's rate and
 * resampled. Calls with n = 0, and n above max_block (clamped: a caller error, but
 * no crash), are harmless. */
static void block_sequences(void **state)
{
    torture *t = *state;
    const int rates[] = {48000, 44100};
    for (int m = 0; m < looped_models(t); m++)
        for (int r = 0; r < 2; r++) {
            const model_case *mc = &t->models[m];
            const int chs = ef_model_out_channels(mc->model);
            const int max_block = EF_MAX_BLOCK / work_divisor / work_divisor;
            const long n = max_block + rates[r] / 2 / work_divisor;
            buffers b;
            buffers_alloc(&b, n);
            make_signal(SIG_GARBAGE, rates[r], b.in, n, 3);
            ef_engine *ref = engine(mc, rates[r], max_block);
            stream(t, ref, b.in, b.ref, chs, n, SEQ_ONE, max_block, 1);
            const block_seq seqs[] = {SEQ_MAX, SEQ_RANDOM, SEQ_MIXED};
            for (int s = 0; s < 3; s++) {
                ef_engine *e = engine(mc, rates[r], max_block);
                float dummy[4];
                float *douts[2] = {dummy, dummy};
                const float *dins[1] = {dummy};
                process(t, e, dins, douts, 0);
                stream(t, e, b.in, b.out, chs, n, seqs[s], max_block, 7 + (uint32_t)s);
                if (differing(b.out, b.ref, chs, n))
                    fail_msg("%s at %d Hz: block sequence %d differs from one sample at a time",
                             mc->name, rates[r], s);
                ef_engine_free(e);
            }
            /* n > max_block is clamped to max_block, in place (in == out) */
            ef_engine *small = engine(mc, rates[r], 64);
            float *io[2] = {b.out[0], b.out[1]};
            memcpy(b.out[0], b.in, sizeof(float) * 1000);
            process(t, small, (const float *const *)io, io, 1000);
            for (int c = 0; c < chs; c++)
                for (int i = 0; i < 64; i++)
                    assert_true(isfinite(b.out[c][i]));
            ef_engine_free(small);
            ef_engine_free(ref);
            buffers_free(&b);
            printf("# %s at %d Hz: blocks of 1, %d, random and mixed give bit-identical output\n",
                   mc->name, rates[r], max_block);
        }
}

/* Control values inside, at the edges of and far beyond every range. */
static const double wild[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1.0, -1.0, 0.5, 90.0,
                              -90.0, 180.0, -180.0, 360.0, 720.0, 1e6, -1e6, 1e300, -1e300,
                              DBL_MIN, 1e-320, 0.2, 10.0, 100.0, 24.0, -90.0, 1e9};
static const int wild_int[] = {INT_MIN, -1000000, -7, -1, 0, 1, 2, 3, 7, 8, 9, 1000,
                               1 << 30, INT_MAX};

static double any_real(uint32_t *s)
{
    return wild[test_rand(s) % (uint32_t)(sizeof wild / sizeof wild[0])];
}

static int any_int(uint32_t *s)
{
    return wild_int[test_rand(s) % (uint32_t)(sizeof wild_int / sizeof wild_int[0])];
}

/* Every control set at audio rate (before every block) to values inside, at the
 * edges of and far beyond their ranges, NaN and infinities included; steps 0 and
 * huge, unknown solvers, rooms and labels out of range; resets now and then. */
static void parameter_sweeps(void **state)
{
    torture *t = *state;
    const int rates[] = {48000, 44100, 8000, 192000};
    for (int m = 0; m < looped_models(t); m++)
        for (int r = 0; r < 4; r++) {
            const model_case *mc = &t->models[m];
            const int rate = rates[r], chs = ef_model_out_channels(mc->model), max_block = 512;
            const long n = short_run ? rate / 8 : rate / 2;
            buffers b;
            buffers_alloc(&b, n);
            make_signal(SIG_GARBAGE, rate, b.in, n, 77);
            long n_bad = 0;
            for (long i = 0; i < n; i++)
                n_bad += is_bad(b.in[i]);
            ef_engine *e = engine(mc, rate, max_block);
            uint32_t s = 1234u + (uint32_t)r;
            long blocks = 0;
            for (long pos = 0; pos < n; blocks++) {
                long len = 1 + test_rand(&s) % (blocks % 5 ? 64u : (uint32_t)max_block);
                if (len > n - pos)
                    len = n - pos;
                guard_in(t);
                const double az = any_real(&s), el = any_real(&s), dist = any_real(&s);
                ef_engine_set_position(e, az, el, dist);
                const double yaw = any_real(&s), pitch = any_real(&s), roll = any_real(&s);
                ef_engine_set_head(e, yaw, pitch, roll);
                ef_engine_set_room(e, any_int(&s));
                ef_engine_set_label(e, any_int(&s));
                ef_engine_set_remove(e, any_int(&s));
                if (test_rand(&s) % 4 == 0) { /* a schedule change clears the history */
                    const int solver = any_int(&s), steps = any_int(&s);
                    ef_engine_set_schedule(e, (ef_solver)solver, steps, (float)any_real(&s));
                }
                ef_engine_set_mix(e, (float)any_real(&s));
                ef_engine_set_attenuation_limit(e, (float)any_real(&s));
                ef_engine_set_output_gain(e, (float)any_real(&s));
                ef_engine_set_bypass(e, any_int(&s));
                ef_engine_set_seed(e, test_rand(&s));
                if (test_rand(&s) % 97 == 0)
                    ef_engine_reset(e);
                (void)ef_engine_latency(e);
                guard_out(t);
                const float *ins[1] = {b.in + pos};
                float *outs[2] = {b.out[0] + pos, b.out[1] + pos};
                process(t, e, ins, outs, (int)len);
                pos += len;
            }
            check c;
            const double limit = bound(mc, rate, 1.0, GAIN_MAX);
            inspect(b.out, chs, n, limit, &c);
            ef_solver solver;
            int steps;
            float t0;
            ef_engine_get_schedule(e, &solver, &steps, &t0);
            if (c.nonfinite || c.subnormal || c.over || ef_engine_bad_samples(e) != n_bad ||
                ef_engine_bad_frames(e) ||
                (ef_model_kind(mc->model) != EF_KIND_IDENTITY &&
                 (steps < 1 || steps > EF_MAX_STEPS || !(t0 >= 0.0f && t0 <= 0.99f))))
                fail_msg("%s at %d Hz, sweeps: %ld non-finite, %ld subnormal, %ld above %.3g "
                         "(peak %.4g), bad samples %ld of %ld, bad frames %ld, steps %d, t0 %g",
                         mc->name, rate, c.nonfinite, c.subnormal, c.over, limit, c.peak,
                         ef_engine_bad_samples(e), n_bad, ef_engine_bad_frames(e), steps, (double)t0);
            printf("# %s at %d Hz: every control swept over %ld blocks (NaN, +-Inf, huge, "
                   "out-of-range enums): peak %.3f within %.3f\n", mc->name, rate, blocks,
                   c.peak, limit);
            ef_engine_free(e);
            buffers_free(&b);
        }
}

/* What each out-of-range value means, proven by equal outputs: NaN is ignored, values
 * beyond a range act as the range's edge (README, "Bad input"). */
typedef void (*setup_fn)(ef_engine *e, const ef_model *m);

#define SETUP(name, body) \
    static void name(ef_engine *e, const ef_model *m) { (void)m; body; }
SETUP(s_none, (void)e)
SETUP(s_gain_nan, ef_engine_set_output_gain(e, NAN))
SETUP(s_gain_pinf, ef_engine_set_output_gain(e, INFINITY))
SETUP(s_gain_1000, ef_engine_set_output_gain(e, 1000.0f))
SETUP(s_gain_24, ef_engine_set_output_gain(e, 24.0f))
SETUP(s_gain_minf, ef_engine_set_output_gain(e, -INFINITY))
SETUP(s_gain_m90, ef_engine_set_output_gain(e, -90.0f))
SETUP(s_mix_nan, ef_engine_set_mix(e, NAN))
SETUP(s_mix_7, ef_engine_set_mix(e, 7.0f))
SETUP(s_mix_1, ef_engine_set_mix(e, 1.0f))
SETUP(s_mix_m3, ef_engine_set_mix(e, -3.0f))
SETUP(s_mix_0, ef_engine_set_mix(e, 0.0f))
SETUP(s_limit_nan, ef_engine_set_attenuation_limit(e, NAN))
SETUP(s_limit_minf, ef_engine_set_attenuation_limit(e, -INFINITY))
SETUP(s_limit_m5, ef_engine_set_attenuation_limit(e, -5.0f))
SETUP(s_limit_0, ef_engine_set_attenuation_limit(e, 0.0f))
SETUP(s_limit_pinf, ef_engine_set_attenuation_limit(e, INFINITY))
SETUP(s_limit_1e9, ef_engine_set_attenuation_limit(e, 1e9f))
SETUP(s_limit_100, ef_engine_set_attenuation_limit(e, 100.0f))
SETUP(s_bypass_2, ef_engine_set_bypass(e, 2))
SETUP(s_bypass_m1, ef_engine_set_bypass(e, -1))
SETUP(s_bypass_1, ef_engine_set_bypass(e, 1))
SETUP(s_room_m5, ef_engine_set_room(e, -5))
SETUP(s_room_min, ef_engine_set_room(e, INT_MIN))
SETUP(s_room_0, ef_engine_set_room(e, 0))
SETUP(s_room_big, ef_engine_set_room(e, 1 << 30))
SETUP(s_room_last, ef_engine_set_room(e, ef_model_rooms(m) - 1))
SETUP(s_label_m5, ef_engine_set_label(e, -5))
SETUP(s_label_0, ef_engine_set_label(e, 0))
SETUP(s_label_max, ef_engine_set_label(e, INT_MAX))
SETUP(s_label_last, ef_engine_set_label(e, ef_model_labels(m) - 1))
SETUP(s_remove_7, ef_engine_set_remove(e, 7))
SETUP(s_remove_1, ef_engine_set_remove(e, 1))
SETUP(s_pos_nan, ef_engine_set_position(e, NAN, 10.0, 2.0))
SETUP(s_pos_inf, ef_engine_set_position(e, 30.0, INFINITY, 2.0))
SETUP(s_pos_az390, ef_engine_set_position(e, 390.0, 10.0, 2.0))
SETUP(s_pos_az30, ef_engine_set_position(e, 30.0, 10.0, 2.0))
SETUP(s_pos_el200, ef_engine_set_position(e, 30.0, 200.0, 2.0))
SETUP(s_pos_el90, ef_engine_set_position(e, 30.0, 90.0, 2.0))
SETUP(s_pos_far, ef_engine_set_position(e, 30.0, 10.0, 1e9))
SETUP(s_pos_far2, ef_engine_set_position(e, 30.0, 10.0, 1e6))
SETUP(s_pos_near, ef_engine_set_position(e, 30.0, 10.0, -5.0))
SETUP(s_pos_near2, ef_engine_set_position(e, 30.0, 10.0, 0.0))
SETUP(s_head_nan, ef_engine_set_head(e, 20.0, NAN, 0.0))
SETUP(s_head_390, ef_engine_set_head(e, 390.0, 0.0, 0.0))
SETUP(s_head_30, ef_engine_set_head(e, 30.0, 0.0, 0.0))
SETUP(s_steps_0, ef_engine_set_schedule(e, EF_SOLVER_EULER, 0, 0.0f))
SETUP(s_steps_m5, ef_engine_set_schedule(e, EF_SOLVER_EULER, INT_MIN, 0.0f))
SETUP(s_steps_1, ef_engine_set_schedule(e, EF_SOLVER_EULER, 1, 0.0f))
SETUP(s_steps_big, ef_engine_set_schedule(e, EF_SOLVER_MIDPOINT, INT_MAX, 0.0f))
SETUP(s_steps_8, ef_engine_set_schedule(e, EF_SOLVER_MIDPOINT, EF_MAX_STEPS, 0.0f))
SETUP(s_solver_99, ef_engine_set_schedule(e, (ef_solver)99, 2, 0.3f))
SETUP(s_solver_euler, ef_engine_set_schedule(e, EF_SOLVER_EULER, 2, 0.3f))
SETUP(s_t0_nan, ef_engine_set_schedule(e, EF_SOLVER_EULER, 2, NAN))
SETUP(s_t0_m1, ef_engine_set_schedule(e, EF_SOLVER_EULER, 2, -1.0f))
SETUP(s_t0_0, ef_engine_set_schedule(e, EF_SOLVER_EULER, 2, 0.0f))
SETUP(s_t0_5, ef_engine_set_schedule(e, EF_SOLVER_EULER, 2, 5.0f))
SETUP(s_t0_99, ef_engine_set_schedule(e, EF_SOLVER_EULER, 2, 0.99f))

typedef struct equivalence {
    const char *what;
    setup_fn a, b;
    int kinds; /* bit mask of ef_kind it applies to */
} equivalence;

#define ALL 7
#define BIN (1 << EF_KIND_BINAURAL)
#define SEP (1 << EF_KIND_SEPARATE)
#define NET (BIN | SEP)

static void render_with(torture *t, const model_case *mc, setup_fn setup, const float *in,
                        float *const *out, long n)
{
    ef_engine *e = engine(mc, 48000, 256);
    guard_in(t);
    setup(e, mc->model);
    guard_out(t);
    reset(t, e); /* the smoothers start at the targets */
    stream(t, e, in, out, ef_model_out_channels(mc->model), n, SEQ_RANDOM, 256, 3);
    ef_engine_free(e);
}

static void parameter_meanings(void **state)
{
    torture *t = *state;
    static const equivalence eq[] = {
        {"gain NaN ignored", s_gain_nan, s_none, ALL},
        {"gain +Inf ignored", s_gain_pinf, s_none, ALL},
        {"gain +1000 dB = +24 dB", s_gain_1000, s_gain_24, ALL},
        {"gain -Inf = -90 dB (silence)", s_gain_minf, s_gain_m90, ALL},
        {"mix NaN ignored", s_mix_nan, s_none, ALL},
        {"mix 7 = 1", s_mix_7, s_mix_1, ALL},
        {"mix -3 = 0", s_mix_m3, s_mix_0, ALL},
        {"limit NaN ignored", s_limit_nan, s_none, ALL},
        {"limit -Inf ignored", s_limit_minf, s_none, ALL},
        {"limit -5 dB = 0 dB", s_limit_m5, s_limit_0, ALL},
        {"limit +Inf = 100 dB (no limit)", s_limit_pinf, s_limit_100, ALL},
        {"limit 1e9 dB = 100 dB", s_limit_1e9, s_limit_100, ALL},
        {"bypass 2 = on", s_bypass_2, s_bypass_1, ALL},
        {"bypass -1 = on", s_bypass_m1, s_bypass_1, ALL},
        {"room -5 = first", s_room_m5, s_room_0, BIN},
        {"room INT_MIN = first", s_room_min, s_room_0, BIN},
        {"room 2^30 = last", s_room_big, s_room_last, BIN},
        {"label -5 = first", s_label_m5, s_label_0, SEP},
        {"label INT_MAX = last", s_label_max, s_label_last, SEP},
        {"remove 7 = on", s_remove_7, s_remove_1, SEP},
        {"position with NaN ignored", s_pos_nan, s_none, BIN},
        {"position with Inf ignored", s_pos_inf, s_none, BIN},
        {"azimuth 390 = 30", s_pos_az390, s_pos_az30, BIN},
        {"elevation 200 = 90", s_pos_el200, s_pos_el90, BIN},
        {"distance 1e9 = 1e6 (the model's farthest)", s_pos_far, s_pos_far2, BIN},
        {"distance -5 = 0 (the model's nearest)", s_pos_near, s_pos_near2, BIN},
        {"head with NaN ignored", s_head_nan, s_none, BIN},
        {"head yaw 390 = 30", s_head_390, s_head_30, BIN},
        {"steps 0 = 1", s_steps_0, s_steps_1, NET},
        {"steps INT_MIN = 1", s_steps_m5, s_steps_1, NET},
        {"steps INT_MAX = 8", s_steps_big, s_steps_8, NET},
        {"unknown solver = Euler", s_solver_99, s_solver_euler, NET},
        {"t0 NaN ignored", s_t0_nan, s_none, NET},
        {"t0 -1 = 0", s_t0_m1, s_t0_0, NET},
        {"t0 5 = 0.99", s_t0_5, s_t0_99, NET},
    };
    const long n = 12000 / work_divisor;
    buffers b;
    buffers_alloc(&b, n);
    make_signal(SIG_NOISE, 48000, b.in, n, 21);
    for (int m = 0; m < looped_models(t); m++) {
        const model_case *mc = &t->models[m];
        const int chs = ef_model_out_channels(mc->model);
        int checked = 0;
        for (size_t k = 0; k < sizeof eq / sizeof eq[0]; k++) {
            if (!(eq[k].kinds & (1 << ef_model_kind(mc->model))))
                continue;
            render_with(t, mc, eq[k].a, b.in, b.out, n);
            render_with(t, mc, eq[k].b, b.in, b.ref, n);
            if (differing(b.out, b.ref, chs, n))
                fail_msg("%s: %s: the outputs differ", mc->name, eq[k].what);
            checked++;
        }
        render_with(t, mc, s_gain_minf, b.in, b.out, n);
        for (int c = 0; c < chs; c++)
            for (long i = 0; i < n; i++)
                assert_true(b.out[c][i] == 0.0f);
        printf("# %s: %d out-of-range settings act as documented (bit-identical outputs); "
               "gain -Inf gives digital silence\n", mc->name, checked);
    }
    buffers_free(&b);
}

/* ------------------------------------------------------------ long runs */

/* Ten minutes of an impulse train (one click each 0.5 s) through the identity at
 * 44.1 kHz (the resampler and its FIFO are where drift could hide) in random blocks:
 * the clicks at the end come out at the same delay and level as at the start. */
static void ten_minutes_no_drift(void **state)
{
    torture *t = *state;
    const int rate = 44100, max_block = 4096;
    ef_engine *e = engine(&t->models[0], rate, max_block);
    click_train ct;
    click_train_init(&ct, 600L * rate / long_divisor, rate / 2, ef_engine_latency(e));
    float in[4096], out[4096];
    uint32_t s = 99;
    const clock_t started = clock();
    for (long pos = 0, b; pos < ct.n; pos += b) {
        b = 1 + (long)(test_rand(&s) % (uint32_t)max_block);
        b = b > ct.n - pos ? ct.n - pos : b;
        click_train_input(&ct, pos, in, b);
        const float *ins[1] = {in};
        float *outs[1] = {out};
        process(t, e, ins, outs, (int)b);
        click_train_output(&ct, pos, out, b);
    }
    const double cpu = (double)(clock() - started) / CLOCKS_PER_SEC;
    double delay0, drift, level_db;
    click_train_result(&ct, &delay0, &drift, &level_db);
    printf("# identity at %d Hz, %ld s in random blocks (%.1f s CPU): %ld clicks, first at "
           "%.3f samples (latency %d); delay drift first->last %.2e samples, level change "
           "%.2e dB, peak %.4f\n", rate, ct.n / rate, cpu, ct.clicks, delay0, ct.latency,
           drift, level_db, ct.peak);
    assert_int_equal(ct.nonfinite, 0);
    assert_true(fabs(delay0 - ct.latency) < 1.0);
    assert_true(fabs(drift) < 1e-3);
    assert_true(fabs(level_db) < 1e-3);
    assert_true(ct.peak <= 1.0001);
    ef_engine_free(e);
}

/* A real model over a longer span: the shipped separation model on the example voice,
 * looped with gaps, keeps the input's alignment (cross-correlation peak at the
 * latency) and its level from the first 10 s to the last. */
static void long_run(torture *t, const model_case *mc, const float *voice, long voice_n,
                     int rate, int seconds)
{
    const int window = 10 * rate / work_divisor;
    const long n = (long)seconds * rate, loop = voice_n + rate / 3;
    ef_engine *e = engine(mc, rate, 1024);
    const int latency = ef_engine_latency(e);
    float *head_in = calloc((size_t)window, sizeof(float));
    float *head_out = calloc((size_t)window, sizeof(float));
    float *tail_in = calloc((size_t)window, sizeof(float));
    float *tail_out = calloc((size_t)window, sizeof(float));
    float in[1024], out[1024];
    uint32_t s = 5;
    long nonfinite = 0;
    double peak = 0;
    const clock_t started = clock();
    for (long pos = 0; pos < n;) {
        int b = 1 + (int)(test_rand(&s) % 1024u);
        if (b > n - pos)
            b = (int)(n - pos);
        for (int i = 0; i < b; i++) {
            long k = (pos + i) % loop;
            in[i] = k < voice_n ? voice[k] : 0.0f;
        }
        const float *ins[1] = {in};
        float *outs[1] = {out};
        process(t, e, ins, outs, b);
        for (int i = 0; i < b; i++) {
            const long g = pos + i;
            nonfinite += !isfinite(out[i]);
            peak = fmax(peak, fabsf(out[i]));
            /* windows aligned to the loop, so both hold the same input */
            const long head0 = loop, tail0 = (n - 2 * window) / loop * loop;
            if (g >= head0 && g < head0 + window) {
                head_in[g - head0] = in[i];
                head_out[g - head0] = out[i];
            }
            if (g >= tail0 && g < tail0 + window) {
                tail_in[g - tail0] = in[i];
                tail_out[g - tail0] = out[i];
            }
        }
        pos += b;
    }
    const double cpu = (double)(clock() - started) / CLOCKS_PER_SEC;
    double g_head, g_tail;
    const int lag_head = best_lag(head_in, head_out, window, 0, 2048, &g_head);
    const int lag_tail = best_lag(tail_in, tail_out, window, 0, 2048, &g_tail);
    printf("# %s, %d s of looped voice at %d Hz in random blocks (%.1f s CPU): output "
           "lags the input by %d samples in the first %d s and %d in the last (latency %d); "
           "level %.3f dB vs %.3f dB (change %.3f dB); peak %.3f\n", mc->name, seconds, rate,
           cpu, lag_head, window / rate, lag_tail, latency, g_head, g_tail, g_tail - g_head,
           peak);
    assert_int_equal(nonfinite, 0);
    assert_int_equal(lag_head, latency);
    assert_int_equal(lag_tail, latency);
    assert_true(fabs(g_tail - g_head) < 0.1);
    assert_true(peak <= bound(mc, rate, 1.0, 1.0));
    ef_engine_free(e);
    free(head_in);
    free(head_out);
    free(tail_in);
    free(tail_out);
}

static void real_model_long_run(void **state)
{
    torture *t = *state;
    const model_case *mc = NULL;
    for (int m = 0; m < t->n_models; m++)
        if (strstr(t->models[m].name, "shipped"))
            mc = &t->models[m];
    float *voice = NULL;
    long voice_n = 0;
    torture_long_run_voice(short_run, !!mc, t->source, &voice, &voice_n);
    long_run(t, mc, voice, voice_n, 48000, long_divisor == 1 ? 120 : 12);
    long_run(t, mc, voice, voice_n, 44100, long_divisor == 1 ? 40 : 12); /* resampled */
    free(voice);
}

/* ------------------------------------------------------------ real-time guard */

static void no_forbidden_calls(void **state)
{
    torture *t = *state;
    torture_skip_unguarded(t->guarded);
    const long v = t->guard.violations();
    printf("# rt_guard: %ld allocations, locks or file calls in %lld guarded engine calls "
           "(process, every setter, reset)%s%s\n", v, t->guarded_calls, v ? "; last: " : "",
           v ? t->guard.last() : "");
    assert_true(t->guarded_calls > (short_run ? 10000 : 100000));
    assert_int_equal(v, 0);
}

/* ------------------------------------------------------------ set-up */

static int load_models(torture *t)
{
    ef_error err = {{0}};
    struct { const char *name, *dir, *file; float ceiling; } want[] = {
        {"identity", NULL, NULL, 0.0f},
        /* measured peaks on these signals: 10.4, 13.4 and 1.01 */
        {"golden binaural_tiny", t->golden, "binaural_tiny.safetensors", 32.0f},
        {"golden separate_tiny", t->golden, "separate_tiny.safetensors", 40.0f},
        /* the room tail's states and phase draws on the audio path too */
        {"golden binaural_tail_tiny", t->golden, "binaural_tail_tiny.safetensors", 40.0f},
        {"shipped separate", t->source, "models/separate.safetensors", 4.0f},
    };
    for (int k = 0; k < MAX_MODELS; k++) {
        char path[4200];
        ef_model *m;
        if (!want[k].dir) {
            m = ef_model_identity(&err);
        } else {
            snprintf(path, sizeof path, "%s/%s", want[k].dir, want[k].file);
            FILE *f = fopen(path, "rb");
            if (!f && k == MAX_MODELS - 1) {
                printf("# %s is not there: not tested\n", path);
                continue;
            }
            if (f)
                fclose(f);
            m = ef_model_load(path, &err);
        }
        if (!m) {
            fprintf(stderr, "%s: %s\n", want[k].name, err.message);
            return -1;
        }
        t->models[t->n_models++] = (model_case){want[k].name, m, want[k].ceiling};
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_torture_engine GOLDEN_DIR SOURCE_DIR\n");
        return 2;
    }
    torture t;
    memset(&t, 0, sizeof t);
    t.golden = argv[1];
    t.source = argv[2];
    t.guarded = rt_guard_find(&t.guard);
    torture_scale_work(&short_run, &long_divisor, &work_divisor);
    if (load_models(&t) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(signals_48k, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(signals_44k1, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(sample_rates, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(block_sequences, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(parameter_sweeps, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(parameter_meanings, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(ten_minutes_no_drift, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(real_model_long_run, torture_timer_start, torture_timer_report, &t),
        cmocka_unit_test_prestate_setup_teardown(no_forbidden_calls, torture_timer_start, torture_timer_report, &t),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    for (int m = 0; m < t.n_models; m++)
        ef_model_free(t.models[m].model);
    return rc;
}
