/* The LD_PRELOAD interposer of rt_guard.h: counts allocation, lock and file calls
 * made by a thread while it is inside rt_guard_enter() .. rt_guard_leave(). */
/* Why: with 64-bit offsets glibc renames open to open64; we define both ourselves. */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#include "rt_guard.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <malloc.h>
#include <execinfo.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* Why initial-exec: a preloaded library lives in the static TLS block, and the
 * general-dynamic model may call malloc on first access (inside malloc itself). */
#define TLS __thread __attribute__((tls_model("initial-exec")))
static TLS int depth;
static atomic_long violations;
static _Atomic(const char *) last_violation = "";

/* A section's calls are counted when it is left. Why: JACK2 cancels its process thread
 * asynchronously when a client deactivates, so the thread can die inside the guarded
 * callback, and its teardown (unwinding, freeing its thread-specific data) frees
 * memory: that is not the section's work. A section never left counts nothing. */
#define TRACE_DEPTH 32
static TLS long pending;
static TLS const char *pending_first, *pending_last;
static TLS void *pending_trace[TRACE_DEPTH];
static TLS int pending_trace_len;
static TLS int tracing;

/* Where the first counted call came from, printed at exit: a count alone does not say
 * which library or line made a call that happens once in a thousand runs. */
static void *first_trace[TRACE_DEPTH];
static int first_trace_len;
static const char *first_violation;

static void note(const char *what)
{
    if (depth <= 0 || tracing)
        return;
    if (pending++ == 0) {
        tracing = 1; /* backtrace() may lock: those calls are ours, not the section's */
        pending_trace_len = backtrace(pending_trace, TRACE_DEPTH);
        tracing = 0;
        pending_first = what;
    }
    pending_last = what;
}

EXPORT void rt_guard_enter(void) { depth++; }
EXPORT void rt_guard_leave(void)
{
    if (--depth > 0 || pending == 0)
        return;
    if (atomic_fetch_add(&violations, pending) == 0) {
        memcpy(first_trace, pending_trace, sizeof first_trace);
        first_trace_len = pending_trace_len;
        first_violation = pending_first;
    }
    atomic_store(&last_violation, pending_last);
    pending = 0;
}
EXPORT long rt_guard_violations(void) { return atomic_load(&violations); }
EXPORT const char *rt_guard_last_violation(void) { return atomic_load(&last_violation); }

/* backtrace() loads libgcc's unwinder on first use (dlopen, malloc): done at load, so
 * a guarded section never pays for it. */
__attribute__((constructor)) static void prime_backtrace(void)
{
    void *frame[2];
    backtrace(frame, 2);
}

__attribute__((destructor)) static void report_first_violation(void)
{
    if (atomic_load(&violations) == 0 || first_trace_len <= 0)
        return;
    static const char head[] = "rt_guard: the first forbidden call in a guarded section (";
    static const char tail[] = ") came from:\n";
    (void)!write(2, head, sizeof head - 1);
    (void)!write(2, first_violation, strlen(first_violation));
    (void)!write(2, tail, sizeof tail - 1);
    backtrace_symbols_fd(first_trace, first_trace_len, 2);
}

/* ---------------------------------------------------------------- allocation */
/* glibc's own entry points: no dlsym at start-up (dlsym itself calls calloc). */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

EXPORT void *malloc(size_t n) { note("malloc"); return __libc_malloc(n); }
EXPORT void *calloc(size_t n, size_t s) { note("calloc"); return __libc_calloc(n, s); }
EXPORT void *realloc(void *p, size_t n) { note("realloc"); return __libc_realloc(p, n); }
EXPORT void free(void *p) { note("free"); __libc_free(p); }
EXPORT void *memalign(size_t a, size_t n) { note("memalign"); return __libc_memalign(a, n); }
EXPORT void *aligned_alloc(size_t a, size_t n) { note("aligned_alloc"); return __libc_memalign(a, n); }
EXPORT void *valloc(size_t n) { note("valloc"); return __libc_memalign(4096, n); }

EXPORT int posix_memalign(void **out, size_t a, size_t n)
{
    note("posix_memalign");
    if (a < sizeof(void *) || (a & (a - 1)))
        return 22; /* EINVAL */
    void *p = __libc_memalign(a, n);
    if (!p)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}

/* ---------------------------------------------------------------- the rest */
/* Resolved lazily with RTLD_NEXT (our calloc above keeps dlsym safe). The union
 * converts dlsym's void * to a function pointer without a pedantic warning. */
static void *resolve(const char *name, const char *version)
{
    void *p = version ? dlvsym(RTLD_NEXT, name, version) : NULL;
    return p ? p : dlsym(RTLD_NEXT, name);
}

#define NEXT(type, name, version)                                                   \
    static type next_##name;                                                        \
    if (!next_##name) {                                                             \
        union { void *p; type f; } u;                                               \
        u.p = resolve(#name, version);                                              \
        next_##name = u.f;                                                          \
    }

typedef int (*mutex_fn)(pthread_mutex_t *);
EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    NEXT(mutex_fn, pthread_mutex_lock, NULL);
    note("pthread_mutex_lock");
    return next_pthread_mutex_lock(m);
}
EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
    NEXT(mutex_fn, pthread_mutex_trylock, NULL);
    note("pthread_mutex_trylock");
    return next_pthread_mutex_trylock(m);
}
EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    NEXT(mutex_fn, pthread_mutex_unlock, NULL);
    note("pthread_mutex_unlock");
    return next_pthread_mutex_unlock(m);
}

/* Why dlvsym: an unversioned dlsym of pthread_cond_* can return the old
 * GLIBC_2.2.5 compatibility versions, which use a different condvar layout. */
#if defined(__x86_64__)
#define COND_VERSION "GLIBC_2.3.2"
#else
#define COND_VERSION NULL
#endif
typedef int (*cond_wait_fn)(pthread_cond_t *, pthread_mutex_t *);
typedef int (*cond_timedwait_fn)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
typedef int (*cond_fn)(pthread_cond_t *);
EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    NEXT(cond_wait_fn, pthread_cond_wait, COND_VERSION);
    note("pthread_cond_wait");
    return next_pthread_cond_wait(c, m);
}
EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    NEXT(cond_timedwait_fn, pthread_cond_timedwait, COND_VERSION);
    note("pthread_cond_timedwait");
    return next_pthread_cond_timedwait(c, m, t);
}
EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
    NEXT(cond_fn, pthread_cond_signal, COND_VERSION);
    note("pthread_cond_signal");
    return next_pthread_cond_signal(c);
}
EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
    NEXT(cond_fn, pthread_cond_broadcast, COND_VERSION);
    note("pthread_cond_broadcast");
    return next_pthread_cond_broadcast(c);
}

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}
EXPORT int open(const char *path, int flags, ...)
{
    NEXT(open_fn, open, NULL);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    note("open");
    return next_open(path, flags, mode);
}
EXPORT int open64(const char *path, int flags, ...)
{
    NEXT(open_fn, open64, NULL);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    note("open64");
    return next_open64(path, flags, mode);
}
EXPORT int openat(int dir, const char *path, int flags, ...)
{
    NEXT(openat_fn, openat, NULL);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    note("openat");
    return next_openat(dir, path, flags, mode);
}
EXPORT int openat64(int dir, const char *path, int flags, ...)
{
    NEXT(openat_fn, openat64, NULL);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    note("openat64");
    return next_openat64(dir, path, flags, mode);
}

typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*close_fn)(int);
EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    NEXT(read_fn, read, NULL);
    note("read");
    return next_read(fd, buf, n);
}
EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    NEXT(write_fn, write, NULL);
    note("write");
    return next_write(fd, buf, n);
}
EXPORT int close(int fd)
{
    NEXT(close_fn, close, NULL);
    note("close");
    return next_close(fd);
}

typedef FILE *(*fopen_fn)(const char *, const char *);
typedef int (*fclose_fn)(FILE *);
typedef size_t (*fread_fn)(void *, size_t, size_t, FILE *);
typedef size_t (*fwrite_fn)(const void *, size_t, size_t, FILE *);
typedef int (*fflush_fn)(FILE *);
EXPORT FILE *fopen(const char *path, const char *mode)
{
    NEXT(fopen_fn, fopen, NULL);
    note("fopen");
    return next_fopen(path, mode);
}
EXPORT FILE *fopen64(const char *path, const char *mode)
{
    NEXT(fopen_fn, fopen64, NULL);
    note("fopen64");
    return next_fopen64(path, mode);
}
EXPORT int fclose(FILE *f)
{
    NEXT(fclose_fn, fclose, NULL);
    note("fclose");
    return next_fclose(f);
}
EXPORT size_t fread(void *p, size_t s, size_t n, FILE *f)
{
    NEXT(fread_fn, fread, NULL);
    note("fread");
    return next_fread(p, s, n, f);
}
EXPORT size_t fwrite(const void *p, size_t s, size_t n, FILE *f)
{
    NEXT(fwrite_fn, fwrite, NULL);
    note("fwrite");
    return next_fwrite(p, s, n, f);
}
EXPORT int fflush(FILE *f)
{
    NEXT(fflush_fn, fflush, NULL);
    note("fflush");
    return next_fflush(f);
}
