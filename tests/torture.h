/* Shared by the torture tests (tests/unit/test_torture_engine.c, tests/lv2/
 * test_lv2_torture.c): the torture signals, and the measurements of delay and level
 * used to prove that nothing drifts. Header-only (static inline). */
#ifndef EF_TORTURE_H
#define EF_TORTURE_H

#include "earflow.h" /* EF_INPUT_LIMIT */
#include "test_util.h"

#include <float.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

/* Whether the CPU honours FTZ | DAZ (flush-to-zero, denormals-are-zero), which the
 * engine and the plugin set while they compute. Valgrind does not emulate those MXCSR
 * bits (a documented limitation of its x86/amd64 support): there subnormals go through
 * as numbers, so the tests ask neither for subnormal-free output nor for subnormal
 * input to act as 0. Everywhere else the answer is yes, and both are checked. */
static inline int torture_flushes_subnormals(void)
{
#if defined(__SSE__)
    static int known = -1;
    if (known < 0) {
        const unsigned int csr = _mm_getcsr();
        _mm_setcsr(csr | 0x8040u);
        /* volatile: computed between the two MXCSR writes, not moved past them */
        volatile float tiny = 1e-30f, scale = 1e-10f, product;
        product = tiny * scale; /* 1e-40: subnormal, or 0 when flushed */
        _mm_setcsr(csr);
        known = product == 0.0f;
    }
    return known;
#else
    return 1;
#endif
}

/* How much of the work to do here: all natively; less under ASan (long runs / 10,
 * the rest / 4); least with EF_TEST_SHORT=1 (valgrind: short_run, / 25 and / 16).
 * Says so when subnormals cannot be checked. */
static inline void torture_scale_work(int *short_run, int *long_divisor, int *work_divisor)
{
#if defined(__SANITIZE_ADDRESS__)
    *long_divisor = 10;
    *work_divisor = 4;
#endif
    if (!torture_flushes_subnormals())
        printf("# FTZ/DAZ not honoured (valgrind?): subnormal output and input not checked\n");
    if (test_short()) {
        *short_run = 1;
        *long_divisor = 25;
        *work_divisor = 16;
    }
}

/* ------------------------------------------------------------ signals */

typedef enum signal_kind {
    SIG_SILENCE, SIG_DC_POS, SIG_DC_NEG, SIG_SQUARE_50, SIG_SQUARE_1K, SIG_NYQUIST,
    SIG_IMPULSE, SIG_IMPULSE_TRAIN, SIG_NOISE, SIG_DENORMAL, SIG_NAN, SIG_INF, SIG_HUGE,
    SIG_GARBAGE, SIG_COUNT
} signal_kind;

static const char *const signal_names[SIG_COUNT] = {
    "silence", "DC +1", "DC -1", "square 50 Hz", "square 1 kHz", "square at Nyquist",
    "single impulse", "impulse train", "white noise", "subnormals", "NaN bursts",
    "Inf bursts", "huge values", "garbage mix",
};

static inline int is_bad(float x) { return !(fabsf(x) <= EF_INPUT_LIMIT); }

/* One of the torture signals, n samples at `rate`, full scale at most. */
static inline void make_signal(signal_kind kind, int rate, float *x, long n, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 1u;
    const float bad[] = {NAN, INFINITY, -INFINITY, 1e30f, -FLT_MAX, 2e6f, -1.5e6f};
    for (long i = 0; i < n; i++) {
        const double t = (double)i / rate;
        float v = 0.0f;
        switch (kind) {
        case SIG_SILENCE: break;
        case SIG_DC_POS: v = 1.0f; break;
        case SIG_DC_NEG: v = -1.0f; break;
        case SIG_SQUARE_50: v = fmod(t * 50.0, 1.0) < 0.5 ? 1.0f : -1.0f; break;
        case SIG_SQUARE_1K: v = fmod(t * 1000.0, 1.0) < 0.5 ? 1.0f : -1.0f; break;
        case SIG_NYQUIST: v = i % 2 ? -1.0f : 1.0f; break;
        case SIG_IMPULSE: v = i == n / 3 ? 1.0f : 0.0f; break;
        case SIG_IMPULSE_TRAIN: v = i % 997 == 0 ? (i % 2 ? -1.0f : 1.0f) : 0.0f; break;
        case SIG_NOISE: v = test_uniform(&s); break;
        case SIG_DENORMAL: /* the whole subnormal range, both signs, and the smallest */
            v = (test_rand(&s) % 2 ? 1.0f : -1.0f) *
                (i % 5 == 0 ? FLT_TRUE_MIN : (float)(test_rand(&s) % 8388607u + 1u) * FLT_TRUE_MIN);
            break;
        case SIG_NAN: /* single NaNs, and bursts of one hop and longer */
            v = 0.5f * sinf((float)(2.0 * M_PI * 440.0 * t));
            if (i % 1500 == 7 || (i % 9000 >= 3000 && i % 9000 < 3000 + 300 + i / 9000 % 700))
                v = NAN;
            break;
        case SIG_INF:
            v = 0.5f * sinf((float)(2.0 * M_PI * 440.0 * t));
            if (i % 1200 == 3)
                v = INFINITY;
            else if (i % 5000 >= 1000 && i % 5000 < 1600)
                v = -INFINITY;
            break;
        case SIG_HUGE: /* finite but not audio: beyond EF_INPUT_LIMIT; legal parts <= 1 */
            v = 0.5f * sinf((float)(2.0 * M_PI * 200.0 * t));
            if (i % 700 == 11)
                v = bad[3 + (i / 700) % 4];
            break;
        case SIG_GARBAGE: {
            uint32_t r = test_rand(&s) % 1000u;
            v = test_uniform(&s);
            if (r < 10)
                v = bad[r % 7];
            else if (r < 20)
                v = (float)r * FLT_TRUE_MIN;
            else if (r < 25)
                v = r % 2 ? 1.0f : -1.0f;
            break;
        }
        default: break;
        }
        x[i] = v;
    }
}

/* The signal the engine is meant to hear: bad samples as 0 (the engine's rule) and
 * subnormals as 0 (it computes with denormals-are-zero, where the CPU honours it). */
static inline long cleaned(const float *x, float *y, long n)
{
    long bad = 0;
    const int daz = torture_flushes_subnormals();
    for (long i = 0; i < n; i++) {
        bad += is_bad(x[i]);
        y[i] = is_bad(x[i]) || (daz && fpclassify(x[i]) == FP_SUBNORMAL) ? 0.0f : x[i];
    }
    return bad;
}

/* ------------------------------------------------------------ measurements */

/* Sub-sample position of the maximum of c[0..n): a parabola through the peak and its
 * neighbours. */
static inline double peak_position(const double *c, int n)
{
    int at = 0;
    for (int i = 1; i < n; i++)
        if (c[i] > c[at])
            at = i;
    if (at == 0 || at == n - 1)
        return at;
    const double l = c[at - 1], m = c[at], r = c[at + 1], d = l - 2 * m + r;
    return d < 0 ? at + 0.5 * (l - r) / d : at;
}

/* The lag (sub-sample) at which y best matches the template x (both w long),
 * searched within +-span. */
static inline double xcorr_lag(const float *x, const float *y, int w, int span)
{
    double c[129];
    for (int lag = -span; lag <= span; lag++) {
        double acc = 0;
        for (int i = 0; i < w; i++) {
            int j = i + lag;
            if (j >= 0 && j < w)
                acc += (double)x[i] * y[j];
        }
        c[lag + span] = acc;
    }
    return peak_position(c, 2 * span + 1) - span;
}

static inline double energy(const float *x, int n)
{
    double e = 0;
    for (int i = 0; i < n; i++)
        e += (double)x[i] * x[i];
    return e;
}

static inline int read_voice(const char *source, float **voice, long *n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/examples/voice.wav", source);
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f || info.channels != 1 || info.samplerate != 48000) {
        if (f)
            sf_close(f);
        return -1;
    }
    *voice = calloc((size_t)info.frames, sizeof(float));
    *n = (long)sf_readf_float(f, *voice, info.frames);
    sf_close(f);
    return 0;
}

/* The lag of y against x in [lo, hi] (whole samples) and the rms ratio y/x there. */
static inline int best_lag(const float *x, const float *y, long n, int lo, int hi, double *gain_db)
{
    int best = lo;
    double best_c = -1e300;
    for (int lag = lo; lag <= hi; lag++) {
        double c = 0;
        for (long i = 0; i + lag < n; i++)
            c += (double)x[i] * y[i + lag];
        if (c > best_c) {
            best_c = c;
            best = lag;
        }
    }
    *gain_db = 10 * log10(energy(y + best, (int)(n - best)) / energy(x, (int)(n - best)));
    return best;
}

/* Skips the real-time guard's test when the guard is not preloaded (a sanitizer build),
 * and fails instead when the build said it would be (EF_EXPECT_RT_GUARD=1). The test
 * includes cmocka.h before this header. */
static inline void torture_skip_unguarded(int guarded)
{
    const char *expect = getenv("EF_EXPECT_RT_GUARD");
    if (guarded)
        return;
    if (expect && strcmp(expect, "1") == 0)
        fail_msg("EF_EXPECT_RT_GUARD=1 but librt_guard.so is not preloaded");
    printf("# the real-time guard is not preloaded (sanitizer build?): skipped\n");
    skip();
}

/* ------------------------------------------------------------ checks, timing */

typedef struct check {
    double peak;
    long nonfinite, subnormal, over;
} check;

/* Counts what breaks the bound |y| <= limit. */
static inline void inspect(float *const *y, int channels, long n, double limit, check *c)
{
    memset(c, 0, sizeof *c);
    for (int ch = 0; ch < channels; ch++)
        for (long i = 0; i < n; i++) {
            const float v = y[ch][i];
            if (!isfinite(v)) {
                c->nonfinite++;
                continue;
            }
            c->subnormal += fpclassify(v) == FP_SUBNORMAL && torture_flushes_subnormals();
            c->peak = fmax(c->peak, fabs((double)v));
            c->over += fabs((double)v) > limit;
        }
}

/* The example voice for a long run of the shipped model, or a skip that says why:
 * short runs (valgrind) skip the drift check; so does a tree without the model. */
static inline void torture_long_run_voice(int short_run, int have_model, const char *source,
                                          float **voice, long *voice_n)
{
    if (short_run) {
        printf("# EF_TEST_SHORT: skipped (a drift check; under valgrind, about 10 s of CPU "
               "per second of the shipped model)\n");
        skip();
    }
    if (!have_model || read_voice(source, voice, voice_n) != 0) {
        printf("# the shipped separation model or examples/voice.wav is missing: skipped\n");
        skip();
    }
}

/* Each test's wall time, printed after it: cmocka set-up and tear-down functions for a
 * state whose first member is a struct timespec. */
static inline int torture_timer_start(void **state)
{
    clock_gettime(CLOCK_MONOTONIC, (struct timespec *)*state);
    return 0;
}

static inline int torture_timer_report(void **state)
{
    const struct timespec *started = *state;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    printf("# (%.1f s wall)\n", (double)(now.tv_sec - started->tv_sec) +
                                   1e-9 * (double)(now.tv_nsec - started->tv_nsec));
    return 0;
}

/* ------------------------------------------------------------ click-train drift */

/* Ten minutes of clicks (one each `period` samples, from sample 100) through a
 * processor: the windows around the first and the last CLICKS_KEPT clicks are kept,
 * and their delay and level compared, so that drift cannot hide. */
#define CLICK_WIN 512
#define CLICKS_KEPT 20

typedef struct click_train {
    int period, latency;
    long n, clicks;
    float (*first)[CLICK_WIN], (*last)[CLICK_WIN];
    double peak;
    long nonfinite;
} click_train;

static inline void click_train_init(click_train *ct, long n, int period, int latency)
{
    memset(ct, 0, sizeof *ct);
    ct->n = n;
    ct->period = period;
    ct->latency = latency;
    ct->clicks = n / period;
    ct->first = calloc(CLICKS_KEPT, sizeof *ct->first);
    ct->last = calloc(CLICKS_KEPT, sizeof *ct->last);
}

/* The input samples pos .. pos + b - 1. */
static inline void click_train_input(const click_train *ct, long pos, float *in, long b)
{
    for (long i = 0; i < b; i++)
        in[i] = (pos + i) % ct->period == 100 ? 1.0f : 0.0f;
}

/* Takes the output samples pos .. pos + b - 1. */
static inline void click_train_output(click_train *ct, long pos, const float *out, long b)
{
    for (long i = 0; i < b; i++) {
        ct->nonfinite += !isfinite(out[i]);
        ct->peak = fmax(ct->peak, fabsf(out[i]));
        /* window k starts CLICK_WIN/2 before click k's expected arrival */
        const long rel = pos + i - (100 + ct->latency - CLICK_WIN / 2);
        if (rel < 0)
            continue;
        const long k = rel / ct->period, off = rel % ct->period;
        if (off >= CLICK_WIN)
            continue;
        if (k < CLICKS_KEPT)
            ct->first[k][off] = out[i];
        else if (k >= ct->clicks - CLICKS_KEPT - 1 && k < ct->clicks - 1)
            ct->last[k - (ct->clicks - CLICKS_KEPT - 1)][off] = out[i];
    }
}

/* The first click's delay (by its peak), the delay drift from the first clicks to the
 * last (samples) and the level change (dB); frees the windows. */
static inline void click_train_result(click_train *ct, double *delay0, double *drift,
                                      double *level_db)
{
    double lag_first = 0, lag_last = 0, e_first = 0, e_last = 0;
    for (int k = 0; k < CLICKS_KEPT; k++) {
        lag_first += xcorr_lag(ct->first[0], ct->first[k], CLICK_WIN, 64) / CLICKS_KEPT;
        lag_last += xcorr_lag(ct->first[0], ct->last[k], CLICK_WIN, 64) / CLICKS_KEPT;
        e_first += energy(ct->first[k], CLICK_WIN) / CLICKS_KEPT;
        e_last += energy(ct->last[k], CLICK_WIN) / CLICKS_KEPT;
    }
    double c0[CLICK_WIN];
    for (int i = 0; i < CLICK_WIN; i++)
        c0[i] = fabs((double)ct->first[0][i]);
    *delay0 = peak_position(c0, CLICK_WIN) - CLICK_WIN / 2 + ct->latency;
    *drift = lag_last - lag_first;
    *level_db = 10 * log10(e_last / e_first);
    free(ct->first);
    free(ct->last);
    ct->first = ct->last = NULL;
}

#endif
