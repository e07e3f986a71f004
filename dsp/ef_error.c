#include "earflow.h"

#include <stdarg.h>
#include <stdio.h>

void ef_error_set(ef_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}
