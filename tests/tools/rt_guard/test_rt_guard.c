/* The guard can fail: each kind of forbidden call inside a guarded region is
 * counted, and the same calls outside it, on another thread, or in the teardown of a
 * thread cancelled inside it, are not. */
#include "rt_guard.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

static rt_guard_api g;

/* Runs fn inside the guard; returns how many violations it added. */
static long guarded(void (*fn)(void))
{
    long before = g.violations();
    g.enter();
    fn();
    g.leave();
    return g.violations() - before;
}

static void *volatile sink;
static void do_malloc(void) { sink = malloc(64); }
static void do_free(void) { free(sink); sink = NULL; }
static void do_calloc(void) { sink = calloc(4, 16); }
static void do_realloc(void) { sink = realloc(sink, 128); }
static void do_memalign(void)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, 256) == 0)
        sink = p;
}
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static void do_lock(void) { pthread_mutex_lock(&mutex); }
static void do_unlock(void) { pthread_mutex_unlock(&mutex); }
static FILE *file;
static void do_fopen(void) { file = fopen("/dev/null", "r"); }
static void do_arithmetic(void)
{
    volatile float x = 1.0f;
    for (int i = 0; i < 1000; i++)
        x = x * 0.999f + 0.001f;
}
static void *other_thread(void *arg)
{
    (void)arg;
    free(malloc(32)); /* not the guarded thread: must not count */
    return NULL;
}
static pthread_t thread;
static void do_spawnless_wait(void) { pthread_join(thread, NULL); }

static void test_allocation_detected(void **state)
{
    (void)state;
    assert_int_equal(guarded(do_malloc), 1);
    assert_string_equal(g.last(), "malloc");
    assert_int_equal(guarded(do_realloc), 1);
    assert_int_equal(guarded(do_free), 1);
    assert_string_equal(g.last(), "free");
    assert_int_equal(guarded(do_calloc), 1);
    free(sink);
    assert_int_equal(guarded(do_memalign), 1);
    free(sink);
}

static void test_locks_detected(void **state)
{
    (void)state;
    assert_int_equal(guarded(do_lock), 1);
    assert_string_equal(g.last(), "pthread_mutex_lock");
    assert_int_equal(guarded(do_unlock), 1);
}

static void test_file_calls_detected(void **state)
{
    (void)state;
    assert_true(guarded(do_fopen) >= 1);
    if (file)
        fclose(file);
}

static void test_arithmetic_allowed(void **state)
{
    (void)state;
    assert_int_equal(guarded(do_arithmetic), 0);
}

static void test_outside_not_counted(void **state)
{
    (void)state;
    long before = g.violations();
    free(malloc(16));
    assert_int_equal(g.violations(), before);
}

/* JACK2 cancels its process thread asynchronously when a client deactivates, so it can
 * die inside the guarded callback; the thread's teardown (unwinding, freeing its
 * thread-specific data) is not the section's work and must not count. */
static atomic_int spinning;
static void *cancelled_inside(void *arg)
{
    (void)arg;
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    g.enter();
    atomic_store(&spinning, 1);
    for (volatile unsigned long i = 0;; i++)
        ;
    return NULL;
}

static void test_cancelled_section_not_counted(void **state)
{
    (void)state;
    long before = g.violations();
    pthread_t t;
    atomic_store(&spinning, 0);
    assert_int_equal(pthread_create(&t, NULL, cancelled_inside, NULL), 0);
    while (!atomic_load(&spinning))
        ;
    pthread_cancel(t);
    void *result;
    pthread_join(t, &result);
    assert_ptr_equal(result, PTHREAD_CANCELED);
    assert_int_equal(g.violations(), before);
    /* and the guard still counts a completed section afterwards */
    assert_int_equal(guarded(do_malloc), 1);
    free(sink);
}

static void test_other_thread_not_counted(void **state)
{
    (void)state;
    pthread_create(&thread, NULL, other_thread, NULL);
    g.enter();
    long inside = g.violations();
    g.leave();
    do_spawnless_wait();
    assert_int_equal(g.violations(), inside);
}

int main(void)
{
#ifdef UNDER_SANITIZER
    puts("SKIP: rt_guard is an LD_PRELOAD interposer and cannot run under AddressSanitizer");
    return 77;
#endif
    if (!rt_guard_find(&g)) {
        puts("FAIL - librt_guard.so is not preloaded (set LD_PRELOAD)");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocation_detected), cmocka_unit_test(test_locks_detected),
        cmocka_unit_test(test_file_calls_detected), cmocka_unit_test(test_arithmetic_allowed),
        cmocka_unit_test(test_outside_not_counted), cmocka_unit_test(test_other_thread_not_counted),
        cmocka_unit_test(test_cancelled_section_not_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
