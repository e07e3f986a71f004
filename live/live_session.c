/* dlsym(RTLD_DEFAULT, ...) needs _GNU_SOURCE. */
#define _GNU_SOURCE
#include "live_session.h"

#include "clock.h"
#include "spsc_ring.h"

#include <dlfcn.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Loads are kept as integers in millionths, so they fit an atomic. */
#define LOAD_SCALE 1e6

struct ef_live_session {
    int in_channels, out_channels;
    ef_spsc_ring *commands;
    ef_recorder *record_in, *record_out;

    /* Engine hand-over: main stores `offered`; the callback moves it to `running`
     * and the previous one to `retired`, which main frees. */
    _Atomic(ef_engine *) offered;
    _Atomic(ef_engine *) retired;
    atomic_int offered_rate;
    ef_engine *running;       /* audio thread only */
    /* Audio thread: this block's input, copied once. The engine and the input recorder
     * both read this copy, never the backend's buffer, which a JACK2 client that runs
     * late can find rewritten by the next cycle's upstream client while it still
     * reads (so the recording would not be what the engine heard); it also makes an
     * input buffer that aliases an output harmless. */
    float heard[EF_LIVE_MAX_CHANNELS][EF_LIVE_MAX_BLOCK];
    int running_rate;         /* audio thread only */
    atomic_int wanted_rate;   /* main: the rate of the newest engine made */
    atomic_int latency;

    atomic_int rate;          /* the backend's */
    atomic_llong frames, silent_frames;
    atomic_long xruns;
    atomic_int steps;
    atomic_long governor_changes;
    long retired_governor_changes;
    atomic_long bad_samples, bad_frames;
    long retired_bad_samples, retired_bad_frames; /* audio thread: engines let go of */
    atomic_long load, max_load;
    atomic_llong load_sum, callbacks; /* for the mean load: sum in LOAD_SCALE units */
    /* Callbacks per load bin of EF_LIVE_LOAD_BIN (the last: that much or more), for the
     * percentiles; a counter per bin, so the audio thread only adds one. */
    atomic_llong load_bins[EF_LIVE_LOAD_BINS];
    atomic_int period;

    /* The real-time guard (tests/tools/rt_guard, preloaded by the tests), only with
     * EARFLOW_RT_GUARD=1: its four entry points, looked up by name at run time so that
     * the program is never built against test code. */
    bool guarded;
    void (*guard_enter)(void);
    void (*guard_leave)(void);
    long (*guard_violations)(void);
    const char *(*guard_last)(void);
    atomic_llong guarded_callbacks;
};

/* 1 when all four of the guard's symbols are in the process (LD_PRELOAD). */
static int find_rt_guard(ef_live_session *s)
{
    /* Why the union: ISO C forbids converting void * to a function pointer directly. */
    union { void *p; void (*v)(void); long (*l)(void); const char *(*s)(void); } sym[4];
    static const char *const names[4] = {"rt_guard_enter", "rt_guard_leave",
                                         "rt_guard_violations", "rt_guard_last_violation"};
    for (int i = 0; i < 4; i++)
        if (!(sym[i].p = dlsym(RTLD_DEFAULT, names[i])))
            return 0;
    s->guard_enter = sym[0].v;
    s->guard_leave = sym[1].v;
    s->guard_violations = sym[2].l;
    s->guard_last = sym[3].s;
    return 1;
}

ef_live_session *ef_live_session_new(int in_channels, int out_channels, ef_error *err)
{
    if (in_channels < 1 || in_channels > EF_LIVE_MAX_CHANNELS || out_channels < 1 ||
        out_channels > EF_LIVE_MAX_CHANNELS) {
        ef_error_set(err, "live: %d inputs and %d outputs are not supported", in_channels,
                     out_channels);
        return NULL;
    }
    ef_live_session *s = calloc(1, sizeof *s);
    if (!s) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    s->in_channels = in_channels;
    s->out_channels = out_channels;
    s->commands = ef_spsc_ring_new(256 * sizeof(ef_live_command));
    if (!s->commands) {
        free(s);
        ef_error_set(err, "out of memory");
        return NULL;
    }
    atomic_init(&s->offered, NULL);
    atomic_init(&s->retired, NULL);
    atomic_init(&s->offered_rate, 0);
    atomic_init(&s->wanted_rate, 0);
    atomic_init(&s->latency, 0);
    atomic_init(&s->rate, 0);
    atomic_init(&s->frames, 0);
    atomic_init(&s->silent_frames, 0);
    atomic_init(&s->xruns, 0);
    atomic_init(&s->steps, 0);
    atomic_init(&s->governor_changes, 0);
    atomic_init(&s->bad_samples, 0);
    atomic_init(&s->bad_frames, 0);
    atomic_init(&s->guarded_callbacks, 0);
    atomic_init(&s->load, 0);
    atomic_init(&s->max_load, 0);
    atomic_init(&s->load_sum, 0);
    for (int i = 0; i < EF_LIVE_LOAD_BINS; i++)
        atomic_init(&s->load_bins[i], 0);
    atomic_init(&s->callbacks, 0);
    atomic_init(&s->period, 0);
    const char *guard = getenv("EARFLOW_RT_GUARD");
    if (guard && strcmp(guard, "1") == 0) {
        if (!find_rt_guard(s)) {
            ef_error_set(err, "EARFLOW_RT_GUARD=1 but the real-time guard is not preloaded "
                         "(LD_PRELOAD=.../librt_guard.so)");
            ef_live_session_free(s);
            return NULL;
        }
        s->guarded = true;
    }
    return s;
}

void ef_live_session_free(ef_live_session *s)
{
    if (!s)
        return;
    ef_engine_free(s->running);
    ef_engine_free(atomic_load(&s->offered));
    ef_engine_free(atomic_load(&s->retired));
    ef_spsc_ring_free(s->commands);
    free(s);
}

int ef_live_session_in_channels(const ef_live_session *s) { return s->in_channels; }
int ef_live_session_out_channels(const ef_live_session *s) { return s->out_channels; }

void ef_live_session_set_recorders(ef_live_session *s, ef_recorder *in, ef_recorder *out)
{
    s->record_in = in;
    s->record_out = out;
}

bool ef_live_session_offer_engine(ef_live_session *s, ef_engine *e, int rate)
{
    if (atomic_load(&s->offered) != NULL)
        return false;
    atomic_store(&s->offered_rate, rate);
    atomic_store(&s->wanted_rate, rate);
    /* Published now, so the backend can report it before the first callback. */
    atomic_store(&s->latency, ef_engine_latency(e));
    atomic_store(&s->offered, e);
    return true;
}

ef_engine *ef_live_session_take_retired(ef_live_session *s)
{
    return atomic_exchange(&s->retired, NULL);
}

bool ef_live_session_needs_engine(const ef_live_session *s)
{
    int rate = atomic_load(&s->rate);
    return rate > 0 && rate != atomic_load(&s->wanted_rate);
}

bool ef_live_session_send(ef_live_session *s, const ef_live_command *c)
{
    return ef_spsc_ring_write(s->commands, c, sizeof *c) == sizeof *c;
}

/* The upper edge of the bin holding the share q of the callbacks (a bound: the true
 * percentile is at most this, and at least the bin's lower edge). */
/* The bin's upper edge, or the largest load seen (max) where that is lower: the edge can
 * lie above the maximum, which no percentile can. */
static double load_percentile(const ef_live_session *s, long long callbacks, double q, double max)
{
    if (callbacks <= 0)
        return 0.0;
    long long seen = 0, want = (long long)ceil(q * (double)callbacks);
    for (int i = 0; i < EF_LIVE_LOAD_BINS; i++) {
        seen += atomic_load(&s->load_bins[i]);
        if (seen >= want)
            return fmin((i + 1) * EF_LIVE_LOAD_BIN, max);
    }
    return fmin(EF_LIVE_LOAD_BINS * EF_LIVE_LOAD_BIN, max);
}

void ef_live_session_stats(const ef_live_session *s, ef_live_stats *out)
{
    out->frames = atomic_load(&s->frames);
    out->silent_frames = atomic_load(&s->silent_frames);
    out->xruns = atomic_load(&s->xruns);
    out->bad_samples = atomic_load(&s->bad_samples);
    out->bad_frames = atomic_load(&s->bad_frames);
    out->load = (double)atomic_load(&s->load) / LOAD_SCALE;
    out->max_load = (double)atomic_load(&s->max_load) / LOAD_SCALE;
    const long long callbacks = atomic_load(&s->callbacks);
    out->mean_load =
        callbacks > 0 ? (double)atomic_load(&s->load_sum) / LOAD_SCALE / (double)callbacks : 0.0;
    out->p50_load = load_percentile(s, callbacks, 0.50, out->max_load);
    out->p99_load = load_percentile(s, callbacks, 0.99, out->max_load);
    out->period = atomic_load(&s->period);
    out->rate = atomic_load(&s->rate);
    out->latency = atomic_load(&s->latency);
    out->steps = atomic_load(&s->steps);
    out->governor_changes = atomic_load(&s->governor_changes);
}

int ef_live_session_latency(const ef_live_session *s) { return atomic_load(&s->latency); }

void ef_live_session_set_rate(ef_live_session *s, int rate) { atomic_store(&s->rate, rate); }

void ef_live_session_count_xrun(ef_live_session *s) { atomic_fetch_add(&s->xruns, 1); }

/* Audio thread: takes an offered engine; the one it replaces goes to `retired` for
 * main to free. If main has not freed the previous one yet, the swap waits. */
static void adopt_offered_engine(ef_live_session *s)
{
    if (atomic_load_explicit(&s->offered, memory_order_relaxed) == NULL)
        return;
    if (s->running && atomic_load(&s->retired) != NULL)
        return;
    ef_engine *e = atomic_exchange(&s->offered, NULL);
    if (s->running) {
        s->retired_bad_samples += ef_engine_bad_samples(s->running);
        s->retired_bad_frames += ef_engine_bad_frames(s->running);
        s->retired_governor_changes += ef_engine_governor_changes(s->running);
        atomic_store(&s->retired, s->running);
    }
    s->running = e;
    s->running_rate = atomic_load(&s->offered_rate);
}

static void apply_commands(ef_live_session *s)
{
    ef_live_command c;
    while (ef_spsc_ring_read(s->commands, &c, sizeof c) == sizeof c)
        if (s->running)
            ef_live_command_apply(s->running, &c);
}

bool ef_live_session_guarded(const ef_live_session *s) { return s->guarded; }

void ef_live_session_guard_enter(ef_live_session *s)
{
    if (s->guarded)
        s->guard_enter();
}

void ef_live_session_guard_leave(ef_live_session *s)
{
    if (!s->guarded)
        return;
    s->guard_leave();
    atomic_fetch_add_explicit(&s->guarded_callbacks, 1, memory_order_relaxed);
}

long ef_live_session_guard_report(const ef_live_session *s, long long *callbacks,
                                  const char **last)
{
    *callbacks = atomic_load(&s->guarded_callbacks);
    *last = s->guarded ? s->guard_last() : "";
    return s->guarded ? s->guard_violations() : 0;
}

void ef_live_session_process(ef_live_session *s, const float *const *in, float *const *out,
                             int n)
{
    const double start = ef_clock_seconds();
    adopt_offered_engine(s);
    apply_commands(s);
    const int rate = atomic_load_explicit(&s->rate, memory_order_relaxed);
    if (!s->running || s->running_rate != rate) {
        /* A sample-rate change: silence until main has made an engine for it. */
        for (int c = 0; c < s->out_channels; c++)
            memset(out[c], 0, sizeof(float) * (size_t)n);
        atomic_fetch_add_explicit(&s->silent_frames, n, memory_order_relaxed);
        /* Recordings keep running: the files stay continuous in time. */
        if (s->record_in)
            ef_recorder_push(s->record_in, in, n);
        if (s->record_out)
            ef_recorder_push(s->record_out, (const float *const *)out, n);
    } else {
        for (int done = 0; done < n;) {
            int m = n - done < EF_LIVE_MAX_BLOCK ? n - done : EF_LIVE_MAX_BLOCK;
            const float *ins[EF_LIVE_MAX_CHANNELS];
            float *outs[EF_LIVE_MAX_CHANNELS];
            for (int c = 0; c < s->in_channels; c++) {
                memcpy(s->heard[c], in[c] + done, sizeof(float) * (size_t)m);
                ins[c] = s->heard[c];
            }
            for (int c = 0; c < s->out_channels; c++)
                outs[c] = out[c] + done;
            if (s->record_in)
                ef_recorder_push(s->record_in, ins, m);
            ef_engine_process(s->running, ins, outs, m);
            if (s->record_out)
                ef_recorder_push(s->record_out, (const float *const *)outs, m);
            done += m;
        }
        atomic_store_explicit(&s->bad_samples,
                              s->retired_bad_samples + ef_engine_bad_samples(s->running),
                              memory_order_relaxed);
        atomic_store_explicit(&s->bad_frames,
                              s->retired_bad_frames + ef_engine_bad_frames(s->running),
                              memory_order_relaxed);
        atomic_store_explicit(&s->steps, ef_engine_running_steps(s->running), memory_order_relaxed);
        atomic_store_explicit(&s->governor_changes,
                              s->retired_governor_changes + ef_engine_governor_changes(s->running),
                              memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&s->frames, n, memory_order_relaxed);
    atomic_store_explicit(&s->period, n, memory_order_relaxed);
    if (rate > 0 && n > 0) {
        double load = (ef_clock_seconds() - start) * rate / n;
        long scaled = (long)(load * LOAD_SCALE);
        atomic_store_explicit(&s->load, scaled, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->load_sum, scaled, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->callbacks, 1, memory_order_relaxed);
        double bin = load / EF_LIVE_LOAD_BIN;
        int b = bin < EF_LIVE_LOAD_BINS - 1 ? (int)bin : EF_LIVE_LOAD_BINS - 1;
        atomic_fetch_add_explicit(&s->load_bins[b], 1, memory_order_relaxed);
        if (scaled > atomic_load_explicit(&s->max_load, memory_order_relaxed))
            atomic_store_explicit(&s->max_load, scaled, memory_order_relaxed);
    }
}
