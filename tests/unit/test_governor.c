/* The CPU governor's decisions (model/ef_governor.c), fed the loads of a simulated CPU:
 * a model whose every call that runs a frame costs `per_evaluation` of the period per
 * network evaluation, at 128-frame periods and 48 kHz, one call in two running a frame
 * (a 256-sample hop). The engine's own use of it is tested live (live_governor). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ef_governor.h"

#define PERIOD_S (128.0 / 48000.0)

typedef struct cpu {
    ef_governor g;
    int steps, wanted;
    long calls;
} cpu;

/* `seconds` of audio; every `stall_every`-th call (0: none) is a 300 % stall. */
static void play(cpu *c, double seconds, double per_evaluation, long stall_every)
{
    for (double t = 0; t < seconds; t += PERIOD_S) {
        c->calls++;
        double load = c->calls % 2 ? per_evaluation * ef_solver_evaluations(EF_SOLVER_MIDPOINT, c->steps)
                                   : 0.01;
        if (stall_every && c->calls % stall_every == 0)
            load = 3.0;
        int cap = ef_governor_account(&c->g, load * PERIOD_S, PERIOD_S, EF_SOLVER_MIDPOINT,
                                      c->steps, c->wanted);
        c->steps = c->wanted < cap ? c->wanted : cap; /* the engine's next frame */
    }
}

static void start(cpu *c, double share, int wanted)
{
    ef_governor_init(&c->g);
    ef_governor_set_share(&c->g, share);
    c->steps = c->wanted = wanted;
    c->calls = 0;
}

static void off_changes_nothing(void **state)
{
    (void)state;
    cpu c;
    start(&c, 0, 8);
    play(&c, 10, 0.1, 0); /* 160 %: far too slow, but the governor is off */
    assert_int_equal(c.steps, 8);
    assert_int_equal(c.g.changes, 0);
}

static void overload_halves_until_it_fits(void **state)
{
    (void)state;
    cpu c;
    start(&c, 0.6, 8);
    play(&c, 2, 0.1, 0); /* 8 steps 160 %, 4: 80 %, 2: 40 % */
    assert_int_equal(c.steps, 2);
    assert_int_equal(c.g.changes, 2);
    /* and stays: 3 steps would take 60 %, above 0.7 of the 60 % share */
    play(&c, 60, 0.1, 0);
    assert_int_equal(c.steps, 2);
    assert_int_equal(c.g.changes, 2);
}

static void a_stall_is_not_an_overload(void **state)
{
    (void)state;
    cpu c;
    start(&c, 0.6, 4);
    play(&c, 30, 0.05, 300); /* 4 steps 40 %; one 300 % call every 0.8 s */
    assert_int_equal(c.steps, 4);
    assert_int_equal(c.g.changes, 0);
}

static void room_raises_one_step_at_a_time_up_to_the_control(void **state)
{
    (void)state;
    cpu c;
    start(&c, 0.6, 6);
    play(&c, 1, 0.11, 0); /* 6 steps 132 %, 3: 66 %, 1: 22 % */
    assert_int_equal(c.steps, 1);
    assert_int_equal(c.g.changes, 2);
    /* The machine gets faster (another load stopped): a step now costs 2 %. */
    play(&c, 1.9, 0.01, 0);
    assert_int_equal(c.g.changes, 2); /* not before 2 s of room */
    play(&c, 30, 0.01, 0);
    assert_int_equal(c.steps, 6);     /* back to the control's value, one step at a time */
    assert_int_equal(c.g.changes, 2 + 5);
    assert_int_equal(c.g.cap, EF_MAX_STEPS); /* nothing held back: the cap is lifted */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(off_changes_nothing),
        cmocka_unit_test(overload_halves_until_it_fits),
        cmocka_unit_test(a_stall_is_not_an_overload),
        cmocka_unit_test(room_raises_one_step_at_a_time_up_to_the_control),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
