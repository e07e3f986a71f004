/* Small helpers shared by the unit tests: deterministic signals and streaming. */
#ifndef EF_TEST_UTIL_H
#define EF_TEST_UTIL_H

#include "earflow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* EF_TEST_SHORT=1 (set by the valgrind test setup, where everything runs 50 to 100
 * times slower): the slow tests run every case on less signal. */
static inline int test_short(void)
{
    const char *v = getenv("EF_TEST_SHORT");
    return v && strcmp(v, "1") == 0;
}

/* Under EF_TEST_SHORT=1: one network evaluation a frame (Euler, 1 step) instead of the
 * model's own schedule, for a test whose point does not depend on the schedule. */
static inline void test_short_schedule(ef_engine *e)
{
    if (test_short())
        ef_engine_set_schedule(e, EF_SOLVER_EULER, 1, 0.0f);
}

/* xorshift32: the tests' own reproducible random numbers. */
static inline uint32_t test_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static inline float test_uniform(uint32_t *s) /* [-1, 1) */
{
    return (float)((double)test_rand(s) / 2147483648.0 - 1.0);
}

/* Streams `n` samples of mono `in` through `e` (1 in, n_out out channels) in blocks
 * given by `sizes` (cycled; a size of 0 means random 1..max_block). */
static inline void test_stream(ef_engine *e, const float *in, float **out, int n_out, long n,
                               const int *sizes, int n_sizes, int max_block, uint32_t seed)
{
    long pos = 0;
    int k = 0;
    while (pos < n) {
        int b = sizes[k++ % n_sizes];
        if (b == 0)
            b = 1 + (int)(test_rand(&seed) % (uint32_t)max_block);
        if (b > n - pos)
            b = (int)(n - pos);
        const float *ins[1] = {in + pos};
        float *outs[8];
        for (int c = 0; c < n_out; c++)
            outs[c] = out[c] + pos;
        ef_engine_process(e, ins, outs, b);
        pos += b;
    }
}

#endif
