/* The recorder: what is pushed reaches the file in order; when the disk thread cannot
 * keep up, every lost frame is counted (written + dropped == pushed) and what was
 * written is still in order; an existing file is refused without force. */
#include "recorder.h"

#include <setjmp.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static char path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/earflow_test_recorder_%d.wav", (int)getpid());
    unlink(path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

/* Pushes a ramp (frame index on channel 0, minus it on channel 1) in blocks of 100. */
static long long push_ramp(ef_recorder *r, long frames)
{
    static float a[100], b[100];
    const float *ch[2] = {a, b};
    long long pushed = 0;
    for (long f = 0; f < frames; f += 100) {
        for (int i = 0; i < 100; i++) {
            a[i] = (float)(f + i);
            b[i] = -(float)(f + i);
        }
        ef_recorder_push(r, ch, 100);
        pushed += 100;
    }
    return pushed;
}

/* Reads the file back: frames, and whether channel 0 only grows and channel 1 is -0. */
static long read_back(long long *frames, int *ordered)
{
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    assert_non_null(f);
    assert_int_equal(info.channels, 2);
    float frame[2];
    float last = -1;
    *ordered = 1;
    *frames = 0;
    while (sf_readf_float(f, frame, 1) == 1) {
        if (!(frame[0] > last) || frame[1] != -frame[0])
            *ordered = 0;
        last = frame[0];
        (*frames)++;
    }
    sf_close(f);
    return 0;
}

static void test_everything_pushed_is_written(void **state)
{
    (void)state;
    ef_error err = {{0}};
    ef_recorder *r = ef_recorder_new(path, false, 2, 48000, 1.0, 256, &err);
    assert_non_null(r);
    long long pushed = 0;
    for (int i = 0; i < 50; i++) {
        pushed += push_ramp(r, 1000);
        nanosleep(&(struct timespec){0, 2000000}, NULL); /* paced like audio */
    }
    assert_int_equal(ef_recorder_finish(r, &err), 0);
    assert_int_equal(ef_recorder_dropped(r), 0);
    assert_int_equal(ef_recorder_written(r), pushed);
    ef_recorder_free(r);
    long long frames;
    int ordered;
    read_back(&frames, &ordered);
    assert_int_equal(frames, pushed);
    (void)ordered; /* the ramp restarts per push_ramp call: order checked below */
}

static void test_overflow_is_counted_never_silent(void **state)
{
    (void)state;
    ef_error err = {{0}};
    /* A ring of about 256 frames and no pause: the disk thread must fall behind. */
    ef_recorder *r = ef_recorder_new(path, true, 2, 48000, 0.001, 256, &err);
    assert_non_null(r);
    long long pushed = push_ramp(r, 2000000);
    assert_int_equal(ef_recorder_finish(r, &err), 0);
    long long dropped = ef_recorder_dropped(r), written = ef_recorder_written(r);
    ef_recorder_free(r);
    printf("# pushed %lld, written %lld, dropped %lld\n", pushed, written, dropped);
    assert_true(dropped > 0);
    assert_int_equal(written + dropped, pushed);
    long long frames;
    int ordered;
    read_back(&frames, &ordered);
    assert_int_equal(frames, written);
    assert_true(ordered);
}

static void test_existing_file_needs_force(void **state)
{
    (void)state;
    ef_error err = {{0}};
    FILE *f = fopen(path, "w");
    fclose(f);
    assert_null(ef_recorder_new(path, false, 1, 48000, 1.0, 256, &err));
    assert_non_null(strstr(err.message, "exists"));
    ef_recorder *r = ef_recorder_new(path, true, 1, 48000, 1.0, 256, &err);
    assert_non_null(r);
    ef_recorder_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_everything_pushed_is_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow_is_counted_never_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_file_needs_force, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
