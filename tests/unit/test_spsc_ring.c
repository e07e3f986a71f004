/* The lock-free SPSC ring: all-or-nothing writes, wrap-around, and a producer and a
 * consumer thread moving 64 MB of numbered records without loss, duplication or
 * reordering. */
#include "spsc_ring.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static void test_capacity_and_all_or_nothing(void **state)
{
    (void)state;
    ef_spsc_ring *r = ef_spsc_ring_new(100);
    assert_non_null(r);
    assert_int_equal(ef_spsc_ring_capacity(r), 128);
    unsigned char buf[200] = {0};
    assert_int_equal(ef_spsc_ring_write(r, buf, 100), 100);
    assert_int_equal(ef_spsc_ring_write(r, buf, 29), 0); /* 28 free: refused whole */
    assert_int_equal(ef_spsc_ring_readable(r), 100);
    assert_int_equal(ef_spsc_ring_write(r, buf, 28), 28);
    assert_int_equal(ef_spsc_ring_writable(r), 0);
    assert_int_equal(ef_spsc_ring_read(r, buf, 200), 128);
    assert_int_equal(ef_spsc_ring_read(r, buf, 1), 0);
    ef_spsc_ring_free(r);
}

static void test_wrap_around_keeps_order(void **state)
{
    (void)state;
    ef_spsc_ring *r = ef_spsc_ring_new(64);
    unsigned char in[48], out[48];
    unsigned next = 0, expect = 0;
    for (int round = 0; round < 1000; round++) {
        size_t n = 1 + (size_t)(round * 7 % 47);
        for (size_t i = 0; i < n; i++)
            in[i] = (unsigned char)(next + i);
        if (ef_spsc_ring_write(r, in, n) == n)
            next += (unsigned)n;
        size_t got = ef_spsc_ring_read(r, out, 1 + (size_t)(round * 13 % 40));
        for (size_t i = 0; i < got; i++)
            assert_int_equal(out[i], (unsigned char)expect++);
    }
    ef_spsc_ring_free(r);
}

/* 8 M records of 8 bytes; EF_TEST_SHORT=1 (the valgrind setup, which runs one thread
 * at a time, each some 50 times slower): 256 K */
static uint64_t records = 8u << 20;

static void *producer(void *arg)
{
    ef_spsc_ring *r = arg;
    uint64_t block[37];
    uint64_t next = 0;
    while (next < records) {
        size_t n = 1 + next % 37;
        if (n > records - next)
            n = records - next;
        for (size_t i = 0; i < n; i++)
            block[i] = next + i;
        if (ef_spsc_ring_write(r, block, n * sizeof *block) == n * sizeof *block)
            next += n;
    }
    return NULL;
}

static void test_two_threads_lose_nothing(void **state)
{
    (void)state;
    ef_spsc_ring *r = ef_spsc_ring_new(4096);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, r), 0);
    uint64_t expect = 0, block[64];
    int errors = 0;
    while (expect < records) {
        /* Whole records only: wait until 8 bytes are there. */
        size_t avail = ef_spsc_ring_readable(r) / sizeof(uint64_t);
        if (avail > 64)
            avail = 64;
        size_t got = ef_spsc_ring_read(r, block, avail * sizeof(uint64_t)) / sizeof(uint64_t);
        for (size_t i = 0; i < got; i++)
            errors += block[i] != expect++;
    }
    pthread_join(t, NULL);
    assert_int_equal(errors, 0);
    assert_int_equal(ef_spsc_ring_readable(r), 0);
    ef_spsc_ring_free(r);
}

int main(void)
{
    const char *short_env = getenv("EF_TEST_SHORT");
    if (short_env && strcmp(short_env, "1") == 0)
        records = 256u << 10;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_and_all_or_nothing),
        cmocka_unit_test(test_wrap_around_keeps_order),
        cmocka_unit_test(test_two_threads_lose_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
