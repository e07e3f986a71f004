/* The guard can fail: each kind of forbidden call inside a guarded region is
 * counted, and the same calls outside it, or on another thread, are not. */
#include "rt_guard.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

static rt_guard_api g;
static int failures;

static void expect(int ok, const char *what)
{
    printf("%s - %s\n", ok ? "ok" : "FAIL", what);
    failures += !ok;
}

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
    expect(guarded(do_malloc) == 1 && strcmp(g.last(), "malloc") == 0, "malloc inside the guard is detected");
    expect(guarded(do_realloc) == 1, "realloc is detected");
    expect(guarded(do_free) == 1 && strcmp(g.last(), "free") == 0, "free is detected");
    expect(guarded(do_calloc) == 1, "calloc is detected");
    free(sink);
    expect(guarded(do_memalign) == 1, "posix_memalign is detected");
    free(sink);
    expect(guarded(do_lock) == 1 && strcmp(g.last(), "pthread_mutex_lock") == 0, "mutex lock is detected");
    expect(guarded(do_unlock) == 1, "mutex unlock is detected");
    expect(guarded(do_fopen) >= 1, "fopen is detected");
    if (file)
        fclose(file);
    expect(guarded(do_arithmetic) == 0, "plain arithmetic is not a violation");
    long before = g.violations();
    free(malloc(16));
    expect(g.violations() == before, "calls outside the guard are not counted");
    pthread_create(&thread, NULL, other_thread, NULL);
    g.enter();
    long inside = g.violations();
    g.leave();
    do_spawnless_wait();
    expect(g.violations() == inside, "another thread's allocations are not counted");
    return failures ? 1 : 0;
}
