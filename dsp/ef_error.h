/* ef_error: a human-readable error filled by any earflow call that can fail.
 * No global state: the caller owns the struct. */
#ifndef EF_ERROR_H
#define EF_ERROR_H

#include <stdarg.h>

#define EF_ERROR_MAX 256

typedef struct ef_error {
    char message[EF_ERROR_MAX];
} ef_error;

/* Fills err (if not NULL) with a printf-style message. Not real-time safe. */
void ef_error_set(ef_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
