/* clock_gettime and CLOCK_MONOTONIC need POSIX. */
#define _POSIX_C_SOURCE 200809L
#include "ef_governor.h"

#include <string.h>
#include <time.h>

void ef_governor_init(ef_governor *g)
{
    memset(g, 0, sizeof *g);
    g->cap = EF_MAX_STEPS;
}

void ef_governor_set_share(ef_governor *g, double share)
{
    share = share > 0.95 ? 0.95 : share > 0 ? share : 0;
    if (share == g->share)
        return;
    /* A new threshold starts a new window; the cap holds unless the governor is
     * turned off, which lifts it. */
    const long changes = g->changes;
    const int cap = g->cap;
    ef_governor_init(g);
    g->share = share;
    g->changes = changes;
    if (share > 0)
        g->cap = cap;
}

double ef_governor_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The end of a window: lower, raise or keep the cap. */
static void decide(ef_governor *g, ef_solver solver, int steps, int wanted)
{
    if (g->over >= EF_GOVERNOR_OVER_CALLS && steps > 1) {
        g->cap = steps / 2; /* halve: out of an overload within a few windows */
        g->changes++;
        g->calm = 0;
        return;
    }
    if (steps >= wanted) { /* nothing held back: no cap to lift */
        g->cap = EF_MAX_STEPS;
        g->calm = 0;
        return;
    }
    /* The second largest load: one stall in a window does not block a raise. */
    const double load = g->calls > 1 ? g->top[1] : g->top[0];
    const double more = load * ef_solver_evaluations(solver, steps + 1) /
                        ef_solver_evaluations(solver, steps);
    g->calm = more < EF_GOVERNOR_ROOM * g->share ? g->calm + 1 : 0;
    if (g->calm >= EF_GOVERNOR_CALM_WINDOWS) {
        g->cap = steps + 1;
        g->changes++;
        g->calm = 0;
    }
}

int ef_governor_account(ef_governor *g, double busy, double audio, ef_solver solver, int steps,
                        int wanted)
{
    if (g->share <= 0 || audio <= 0)
        return g->cap;
    const double load = busy / audio;
    g->audio += audio;
    g->calls++;
    g->over += load > g->share;
    if (load > g->top[0]) {
        g->top[1] = g->top[0];
        g->top[0] = load;
    } else if (load > g->top[1]) {
        g->top[1] = load;
    }
    if (g->audio >= EF_GOVERNOR_WINDOW_S) {
        decide(g, solver, steps, wanted);
        g->audio = 0;
        g->calls = g->over = 0;
        g->top[0] = g->top[1] = 0;
    }
    return g->cap;
}
