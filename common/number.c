#include "number.h"

#include <errno.h>
#include <stdlib.h>

int ef_number_parse(const char *text, double lo, double hi, double *out)
{
    if (!text)
        return -1;
    char *end;
    double v = strtod(text, &end);
    /* !(v >= lo && v <= hi) is also true for NaN. */
    if (end == text || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

int ef_number_parse_whole(const char *text, long lo, long hi, long *out)
{
    if (!text)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end || errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}
