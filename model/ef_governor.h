/* The CPU governor of live use: from how long each ef_engine_process call took against
 * the audio it covered, a cap on the solver steps that lowers them before the audio
 * drops out and raises them again, with hysteresis, when there is room. Plain state,
 * no allocation: it lives inside the engine and runs in the audio thread. */
#ifndef EF_GOVERNOR_H
#define EF_GOVERNOR_H

#include "earflow.h"

/* Decisions are made once per this much audio. */
#define EF_GOVERNOR_WINDOW_S 0.2
/* Steps are lowered when this many calls in one window took more than the share. A
 * single slow call is a stall (the thread was descheduled), which fewer steps do not
 * cure; a model too slow for the period is slow in every call that runs a frame. */
#define EF_GOVERNOR_OVER_CALLS 2
/* Steps are raised after this many windows in a row in which one step more would
 * still have stayed under EF_GOVERNOR_ROOM of the share. */
#define EF_GOVERNOR_CALM_WINDOWS 10
#define EF_GOVERNOR_ROOM 0.7

typedef struct ef_governor {
    double share;   /* of the period the processing may take; 0 = off */
    int cap;        /* the most steps it allows now; EF_MAX_STEPS: no cap */
    long changes;   /* how often it changed the steps that run */
    double audio;   /* seconds of audio in this window */
    int calls, over;
    double top[2];  /* the two largest loads (busy / audio) in this window */
    int calm;       /* windows in a row with room for one step more */
} ef_governor;

void ef_governor_init(ef_governor *g);
/* share 0..0.95 (0 = off, which lifts the cap; a new share keeps it). Real-time safe. */
void ef_governor_set_share(ef_governor *g, double share);
/* A monotonic clock in seconds (the vDSO: no system call). */
double ef_governor_now(void);
/* One process call: `busy` seconds of work for `audio` seconds of audio while the
 * engine ran `steps` steps of `solver`, the Steps control asking for `wanted`. Returns
 * the cap: the engine runs min(wanted, cap) from its next frame. */
int ef_governor_account(ef_governor *g, double busy, double audio, ef_solver solver, int steps,
                        int wanted);

#endif
