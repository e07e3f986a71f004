/* rt_guard: proves that a real-time section (an LV2 run(), a JACK or PortAudio
 * callback, ef_engine_process) makes no allocation, lock or file call.
 *
 * How to use it:
 *   1. Build librt_guard.so (tests/tools/rt_guard/meson.build) and run the test program with
 *      LD_PRELOAD=/path/to/librt_guard.so. It interposes malloc, calloc, realloc, free,
 *      posix_memalign, aligned_alloc, memalign, valloc, pthread_mutex_lock/trylock/
 *      unlock, pthread_cond_wait/timedwait/signal/broadcast and file calls (open,
 *      openat, read, write, close, fopen, fclose, fread, fwrite, fflush).
 *   2. In the program, look the guard up at run time (the program still runs, unguarded,
 *      without the preload):   rt_guard_api g; if (rt_guard_find(&g)) ...
 *   3. Wrap the section:  g.enter(); callback(...); g.leave();
 *      Only calls made by the calling thread while inside count; other threads (a
 *      worker, the JACK server thread) are free to allocate.
 *   4. g.violations() is the number of counted calls since start; g.last() names the
 *      last offending function ("malloc", "pthread_mutex_lock", ...). A section's calls
 *      are counted when it is left: a thread cancelled inside one (JACK2 cancels its
 *      process thread when a client deactivates) counts nothing for it, since its
 *      teardown frees memory that the section never asked for. At exit the library
 *      prints the backtrace of the first counted call to stderr.
 * Not usable together with AddressSanitizer (ASan must be the first preloaded
 * library): skip such tests under sanitizers (exit 77 for meson). */
#ifndef RT_GUARD_H
#define RT_GUARD_H

#include <dlfcn.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exported by librt_guard.so. */
void rt_guard_enter(void);
void rt_guard_leave(void);
long rt_guard_violations(void);
const char *rt_guard_last_violation(void);

typedef struct rt_guard_api {
    void (*enter)(void);
    void (*leave)(void);
    long (*violations)(void);
    const char *(*last)(void);
} rt_guard_api;

/* 1 when the guard is preloaded, 0 otherwise (g then holds harmless no-ops). */
static inline void rt_guard_noop(void) {}
static inline long rt_guard_zero(void) { return 0; }
static inline const char *rt_guard_none(void) { return ""; }
static inline int rt_guard_find(rt_guard_api *g)
{
    /* Why the union: ISO C forbids converting void * to a function pointer directly. */
    union { void *p; void (*v)(void); long (*l)(void); const char *(*s)(void); } e, l, v, n;
    e.p = dlsym(RTLD_DEFAULT, "rt_guard_enter");
    l.p = dlsym(RTLD_DEFAULT, "rt_guard_leave");
    v.p = dlsym(RTLD_DEFAULT, "rt_guard_violations");
    n.p = dlsym(RTLD_DEFAULT, "rt_guard_last_violation");
    int found = e.p && l.p && v.p && n.p;
    g->enter = found ? e.v : rt_guard_noop;
    g->leave = found ? l.v : rt_guard_noop;
    g->violations = found ? v.l : rt_guard_zero;
    g->last = found ? n.s : rt_guard_none;
    return found;
}

#ifdef __cplusplus
}
#endif

#endif
