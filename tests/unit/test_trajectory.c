/* The trajectory parser (common/trajectory.c, `--trajectory FILE`): rows, comments,
 * line ends, interpolation, and refusals that name the line. A row longer than the
 * parser's line buffer used to be cut silently, so trailing garbage (or the end of a
 * long number) was ignored; it is now refused (found writing tests/fuzz). Azimuths
 * beyond +-1e6 degrees are refused: 1e308 and -1e308 made every position between
 * the two rows -Inf (found with tests/fuzz/fuzz_trajectory). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "trajectory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ef_trajectory *parse(const char *text, ef_error *err)
{
    memset(err, 0, sizeof *err);
    return ef_trajectory_parse(text, strlen(text), err);
}

static void refused(const char *text, const char *word)
{
    ef_error err;
    ef_trajectory *t = parse(text, &err);
    if (t || !strstr(err.message, word))
        fail_msg("'%.40s...': %s, message '%s' lacks '%s'", text, t ? "accepted" : "refused",
                 err.message, word);
    ef_trajectory_free(t);
}

static void rows_comments_line_ends(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, "# %0600d\r\n\t0 0 0 1 # start %0700d\r\n\n1 90 10 3\n"
             "2 -1e6 0 1\n3 1e6 0 1\n", 0, 0);
    ef_error err;
    ef_trajectory *t = parse(text, &err);
    assert_non_null(t);
    double az, el, dist;
    ef_trajectory_at(t, 0.5, &az, &el, &dist);
    assert_true(az == 45 && el == 5 && dist == 2);
    ef_trajectory_at(t, -1, &az, &el, &dist);
    assert_true(az == 0 && el == 0 && dist == 1);
    ef_trajectory_at(t, 9, &az, &el, &dist);
    assert_true(az == 1e6 && el == 0 && dist == 1);
    ef_trajectory_at(t, 2.5, &az, &el, &dist); /* unwrapped azimuths interpolate */
    assert_true(az == 0 && el == 0 && dist == 1);
    ef_trajectory_free(t);
}

static void refusals_name_the_line(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, "0 0 0 1\n1 0 0 1%600s7\n", "");
    refused(text, "line 2: more than 511 characters");
    snprintf(text, sizeof text, "0 0 0 0.%0600d1\n", 0);
    refused(text, "line 1: more than 511 characters");
    refused("0 0 0 1\n0 0 0 1\n", "line 2: times must increase");
    refused("0 0 91 1\n", "line 1");
    refused("0 0 0 1\n1 1e308 0 1\n", "line 2: time >= 0, azimuth within +-1e+06");
    refused("0 -1000001 0 1\n", "line 1");
    refused("0 0 0 0\n", "line 1");
    refused("0 0 0 nan\n", "line 1");
    refused("0 0 0\n", "line 1: expected");
    refused("0 0 0 1 5\n", "line 1: expected");
    refused("# nothing\n\n", "no rows");
    ef_error err;
    assert_null(ef_trajectory_parse("0 0 0 1\n\0", 9, &err));
    assert_non_null(strstr(err.message, "line 2: unexpected NUL"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_comments_line_ends),
        cmocka_unit_test(refusals_name_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
