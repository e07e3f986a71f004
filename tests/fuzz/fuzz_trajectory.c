/* Fuzz target: a trajectory file's text through ef_trajectory_parse (what
 * `--trajectory FILE` reads), then positions looked up across and beyond its time
 * span. Whatever it accepts must give positions the engine can take: finite,
 * elevation -90..90, distance > 0. A refusal must come with a message. */
#include "trajectory.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what, double s)
{
    if (!ok) {
        fprintf(stderr, "fuzz_trajectory: %s at %g s\n", what, s);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ef_error err = {{0}};
    ef_trajectory *t = ef_trajectory_parse((const char *)data, size, &err);
    if (!t) {
        check(err.message[0] != 0, "refused without a message", 0);
        return 0;
    }
    /* Times from before 0 to far after any row, dense at the start. */
    for (int i = -2; i < 200; i++) {
        const double s = i < 100 ? i * 0.0137 : exp2(i - 100) - 1;
        double az, el, dist;
        ef_trajectory_at(t, s, &az, &el, &dist);
        check(isfinite(az) && isfinite(el) && isfinite(dist), "non-finite position", s);
        check(el >= -90 && el <= 90 && dist > 0, "elevation or distance out of range", s);
    }
    ef_trajectory_free(t);
    return 0;
}
