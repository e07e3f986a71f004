#include "trajectory.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 10000000
/* Azimuths may be unwrapped (0, 360, 720: a source that turns twice), within a bound
 * that keeps the interpolation finite: 1e308 and -1e308 in two rows made every
 * position between them -Inf (found with tests/fuzz/fuzz_trajectory's check). */
#define MAX_AZIMUTH 1e6

typedef struct row {
    double t, az, el, dist;
} row;

struct ef_trajectory {
    row *rows;
    size_t n;
};

void ef_trajectory_free(ef_trajectory *t)
{
    if (!t)
        return;
    free(t->rows);
    free(t);
}

ef_trajectory *ef_trajectory_parse(const char *text, size_t len, ef_error *err)
{
    ef_trajectory *t = calloc(1, sizeof *t);
    size_t cap = 0;
    char line[512];
    size_t pos = 0;
    int line_no = 0;
    if (!t) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        line_no++;
        if (memchr(text + pos, 0, end - pos)) {
            ef_error_set(err, "line %d: unexpected NUL byte", line_no);
            goto fail;
        }
        /* The row is what comes before any comment; comments may be of any length,
         * a row that does not fit is refused (cutting it would change what it says). */
        const char *hash = memchr(text + pos, '#', end - pos);
        const size_t l = (hash ? (size_t)(hash - text) : end) - pos;
        if (l >= sizeof line) {
            ef_error_set(err, "line %d: more than %zu characters before any comment", line_no,
                         sizeof line - 1);
            goto fail;
        }
        memcpy(line, text + pos, l);
        line[l] = 0;
        pos = end + 1;
        row r;
        char extra;
        int got = sscanf(line, "%lf %lf %lf %lf %c", &r.t, &r.az, &r.el, &r.dist, &extra);
        if (got <= 0) {
            char *p = line;
            while (*p == ' ' || *p == '\t' || *p == '\r')
                p++;
            if (*p == 0)
                continue; /* blank or comment */
        }
        if (got != 4) {
            ef_error_set(err, "line %d: expected 'seconds azimuth elevation distance'", line_no);
            goto fail;
        }
        if (!isfinite(r.t) || !isfinite(r.dist) || !(fabs(r.az) <= MAX_AZIMUTH) ||
            r.t < 0 || r.dist <= 0 || !(r.el >= -90 && r.el <= 90)) {
            ef_error_set(err, "line %d: time >= 0, azimuth within +-%g, elevation -90..90 and "
                         "distance > 0 required", line_no, MAX_AZIMUTH);
            goto fail;
        }
        if (t->n && r.t <= t->rows[t->n - 1].t) {
            ef_error_set(err, "line %d: times must increase", line_no);
            goto fail;
        }
        if (t->n == cap) {
            if (cap >= MAX_ROWS) {
                ef_error_set(err, "more than %d rows", MAX_ROWS);
                goto fail;
            }
            cap = cap ? 2 * cap : 64;
            row *nr = realloc(t->rows, cap * sizeof *nr);
            if (!nr) {
                ef_error_set(err, "out of memory");
                goto fail;
            }
            t->rows = nr;
        }
        t->rows[t->n++] = r;
    }
    if (t->n == 0) {
        ef_error_set(err, "no rows");
        goto fail;
    }
    return t;
fail:
    ef_trajectory_free(t);
    return NULL;
}

ef_trajectory *ef_trajectory_load(const char *path, ef_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ef_error_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= (size_t)1 << 30) {
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        ef_error_set(err, "%s: too large or out of memory", path);
        return NULL;
    }
    ef_error inner = {{0}};
    ef_trajectory *t = ef_trajectory_parse(buf, n, &inner);
    free(buf);
    if (!t)
        ef_error_set(err, "%s: %s", path, inner.message);
    return t;
}

void ef_trajectory_at(const ef_trajectory *t, double s, double *az, double *el, double *dist)
{
    const row *r = t->rows;
    size_t lo = 0, hi = t->n - 1;
    if (s <= r[0].t || t->n == 1) {
        *az = r[0].az, *el = r[0].el, *dist = r[0].dist;
        return;
    }
    if (s >= r[hi].t) {
        *az = r[hi].az, *el = r[hi].el, *dist = r[hi].dist;
        return;
    }
    while (hi - lo > 1) { /* r[lo].t <= s < r[hi].t */
        size_t mid = (lo + hi) / 2;
        if (r[mid].t <= s)
            lo = mid;
        else
            hi = mid;
    }
    double w = (s - r[lo].t) / (r[hi].t - r[lo].t);
    *az = r[lo].az + w * (r[hi].az - r[lo].az);
    *el = r[lo].el + w * (r[hi].el - r[lo].el);
    *dist = r[lo].dist + w * (r[hi].dist - r[lo].dist);
}
