/* The real-time heart of `earflow live`, shared by the JACK and PortAudio backends:
 * the audio callback calls ef_live_session_process; the control thread (main) sends
 * commands, hands over engines, and reads statistics. Everything crossing between
 * them is lock-free (C11 atomics and SPSC rings). */
#ifndef EF_LIVE_SESSION_H
#define EF_LIVE_SESSION_H

#include "earflow.h"
#include "live_commands.h"
#include "recorder.h"

#include <stdbool.h>

/* The largest block handed to the engine; a backend's larger periods are processed
 * in pieces of this size. */
#define EF_LIVE_MAX_BLOCK 8192
#define EF_LIVE_MAX_CHANNELS 2

/* The callback load's percentiles are counted in bins of this share of the period
 * (0.5 %), up to 300 % (the last bin holds everything above). */
#define EF_LIVE_LOAD_BIN 0.005
#define EF_LIVE_LOAD_BINS 600

typedef struct ef_live_session ef_live_session;

typedef struct ef_live_stats {
    long long frames;         /* processed since start */
    long long silent_frames;  /* passed as silence while no engine matched the rate */
    long xruns;
    long bad_samples;         /* input samples replaced (NaN, Inf, beyond +-1e6) */
    long bad_frames;          /* network frames replaced (non-finite) */
    double load, max_load;    /* callback time / period time: last and maximum */
    double mean_load;         /* ... and its mean over every callback */
    double p50_load, p99_load; /* ... and its percentiles, to EF_LIVE_LOAD_BIN above */
    int period;               /* the last callback's frames */
    int rate;                 /* the backend's sample rate */
    int latency;              /* the running engine's, in samples (0: none yet) */
    int steps;                /* the solver steps the running engine ran last */
    long governor_changes;    /* changes of steps by the CPU governor (all engines) */
} ef_live_stats;

/* Not real-time safe. */
ef_live_session *ef_live_session_new(int in_channels, int out_channels, ef_error *err);
void ef_live_session_free(ef_live_session *s); /* frees any engines it holds */
int ef_live_session_in_channels(const ef_live_session *s);
int ef_live_session_out_channels(const ef_live_session *s);
/* Before the backend starts: recorders for the input and the output (may be NULL). */
void ef_live_session_set_recorders(ef_live_session *s, ef_recorder *in, ef_recorder *out);

/* Control thread. Hands an engine made for `rate` to the audio thread, which takes
 * it at its next callback. Returns false (and keeps nothing) while a previous offer
 * is still untaken. */
bool ef_live_session_offer_engine(ef_live_session *s, ef_engine *e, int rate);
/* Control thread: an engine the audio thread has let go of (free it), or NULL. */
ef_engine *ef_live_session_take_retired(ef_live_session *s);
/* Control thread: true when the backend's rate differs from the running (or offered)
 * engine's, so a new engine is needed. */
bool ef_live_session_needs_engine(const ef_live_session *s);
/* Control thread: queues a command for the audio thread. False when the queue is
 * full (the audio thread is not running). */
bool ef_live_session_send(ef_live_session *s, const ef_live_command *c);
void ef_live_session_stats(const ef_live_session *s, ef_live_stats *out);
/* Any thread: the latency of the newest engine offered, in samples. */
int ef_live_session_latency(const ef_live_session *s);

/* Backend threads (callbacks of the audio API; real-time safe). */
void ef_live_session_set_rate(ef_live_session *s, int rate);
void ef_live_session_count_xrun(ef_live_session *s);
/* The real-time guard (tests/tools/rt_guard, a test tool found at run time), on when EARFLOW_RT_GUARD=1 (then
 * create fails unless librt_guard.so is preloaded). Each backend brackets its whole
 * audio callback with enter/leave; both are no-ops when the guard is off. */
bool ef_live_session_guarded(const ef_live_session *s);
void ef_live_session_guard_enter(ef_live_session *s);
void ef_live_session_guard_leave(ef_live_session *s);
/* Control thread, after the backend stopped: forbidden calls counted inside the
 * callbacks (0 when unguarded), the guarded callbacks, the last offending function. */
long ef_live_session_guard_report(const ef_live_session *s, long long *callbacks,
                                  const char **last);
/* The audio callback: in: in_channels pointers, out: out_channels pointers. */
void ef_live_session_process(ef_live_session *s, const float *const *in, float *const *out,
                             int n);

#endif
