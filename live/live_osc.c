#include "live_osc.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_ARGS 8

/* One message: its address and arguments (numbers as doubles, strings as text). */
typedef struct osc_message {
    const char *address;
    int n;
    char type[MAX_ARGS];     /* 'n' number, 's' string, 'b' true/false */
    double number[MAX_ARGS];
    char text[MAX_ARGS][96];
} osc_message;

/* OSC strings are NUL-terminated and padded to a multiple of 4 bytes. */
static size_t osc_string(const unsigned char *p, size_t len, size_t at, const char **out)
{
    size_t end = at;
    while (end < len && p[end])
        end++;
    if (end >= len)
        return 0;
    *out = (const char *)p + at;
    return (end + 4) & ~(size_t)3;
}

static uint32_t big_endian32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* 0, or -1 for a malformed packet or an argument type we do not read. */
static int parse(const unsigned char *p, size_t len, osc_message *m)
{
    const char *tags;
    size_t at = osc_string(p, len, 0, &m->address);
    m->n = 0;
    if (!at || m->address[0] != '/')
        return -1;
    if (at == len) /* no type tag string: no arguments */
        return 0;
    at = osc_string(p, len, at, &tags);
    if (!at || tags[0] != ',')
        return -1;
    for (const char *t = tags + 1; *t; t++, m->n++) {
        if (m->n == MAX_ARGS)
            return -1;
        const int k = m->n;
        m->type[k] = 'n';
        if (*t == 'f' || *t == 'i') {
            if (at + 4 > len)
                return -1;
            const uint32_t bits = big_endian32(p + at);
            at += 4;
            float f;
            memcpy(&f, &bits, sizeof f);
            m->number[k] = *t == 'i' ? (double)(int32_t)bits : (double)f;
        } else if (*t == 'd') {
            if (at + 8 > len)
                return -1;
            const uint64_t bits = (uint64_t)big_endian32(p + at) << 32 | big_endian32(p + at + 4);
            at += 8;
            memcpy(&m->number[k], &bits, sizeof(double));
        } else if (*t == 's') {
            const char *s;
            const size_t next = osc_string(p, len, at, &s);
            if (!next)
                return -1;
            at = next;
            m->type[k] = 's';
            snprintf(m->text[k], sizeof m->text[k], "%.90s", s);
        } else if (*t == 'T' || *t == 'F') {
            m->type[k] = 'b';
            m->number[k] = *t == 'T';
        } else {
            return -1;
        }
    }
    return 0;
}

/* "/earflow/NAME args" -> "NAME args". */
static int own_message(const osc_message *m, char *line, size_t line_len)
{
    size_t used = (size_t)snprintf(line, line_len, "%s", m->address + 9);
    for (int k = 0; k < m->n && used < line_len; k++) {
        if (m->type[k] == 's')
            used += (size_t)snprintf(line + used, line_len - used, " %s", m->text[k]);
        else if (m->type[k] == 'b')
            used += (size_t)snprintf(line + used, line_len - used, " %s", m->number[k] ? "on" : "off");
        else /* a float's 9 digits give it back; a double needs 17 */
            used += (size_t)snprintf(line + used, line_len - used,
                                     (double)(float)m->number[k] == m->number[k] ? " %.9g" : " %.17g",
                                     m->number[k]);
    }
    return used < line_len ? 0 : -1;
}

/* Tait-Bryan angles (yaw about z, then pitch about y, then roll about x) of a unit
 * quaternion, in degrees: the conversion IEM's SceneRotator makes. */
static void quaternion_to_ypr(const double q[4], double ypr[3])
{
    const double w = q[0], x = q[1], y = q[2], z = q[3];
    const double norm = sqrt(w * w + x * x + y * y + z * z);
    const double s = norm > 0 ? 1.0 / norm : 0.0, deg = 180.0 / M_PI;
    const double qw = w * s, qx = x * s, qy = y * s, qz = z * s;
    ypr[0] = atan2(2 * (qw * qz + qx * qy), 1 - 2 * (qy * qy + qz * qz)) * deg;
    ypr[1] = asin(fmax(-1.0, fmin(1.0, 2 * (qw * qy - qz * qx)))) * deg;
    ypr[2] = atan2(2 * (qw * qx + qy * qz), 1 - 2 * (qx * qx + qy * qy)) * deg;
}

static int all_numbers(const osc_message *m, int n)
{
    if (m->n != n)
        return 0;
    for (int k = 0; k < n; k++)
        if (m->type[k] != 'n' || !isfinite(m->number[k]))
            return 0;
    return 1;
}

/* A head tracker's message -> "head Y P R" or "yaw Y" (pitch, roll). */
static int tracker_message(const osc_message *m, unsigned flips, char *line, size_t line_len)
{
    static const char *const axes[3] = {"yaw", "pitch", "roll"};
    static const unsigned flip_bits[3] = {EF_OSC_FLIP_YAW, EF_OSC_FLIP_PITCH, EF_OSC_FLIP_ROLL};
    const char *name = m->address;
    if (strncmp(name, "/SceneRotator/", 14) == 0)
        name += 13;
    double ypr[3];
    int axis = -1;
    if (strcmp(name, "/ypr") == 0 && all_numbers(m, 3)) {
        memcpy(ypr, m->number, sizeof ypr);
    } else if (strcmp(name, "/quaternions") == 0 && m->address != name && all_numbers(m, 4)) {
        quaternion_to_ypr(m->number, ypr);
    } else {
        for (int a = 0; a < 3; a++)
            if (strcmp(name + 1, axes[a]) == 0 && all_numbers(m, 1))
                axis = a;
        if (axis < 0)
            return -1;
        const double v = flips & flip_bits[axis] ? -m->number[0] : m->number[0];
        return snprintf(line, line_len, "%s %.9g", axes[axis], v) < (int)line_len ? 0 : -1;
    }
    for (int a = 0; a < 3; a++)
        if (flips & flip_bits[a])
            ypr[a] = -ypr[a];
    return snprintf(line, line_len, "head %.9g %.9g %.9g", ypr[0], ypr[1], ypr[2]) <
                   (int)line_len ? 0 : -1;
}

int ef_live_osc_to_line(const void *packet, size_t len, unsigned flips, char *line,
                        size_t line_len)
{
    osc_message m;
    if (parse(packet, len, &m) != 0)
        return -1;
    if (strncmp(m.address, "/earflow/", 9) == 0)
        return m.address[9] ? own_message(&m, line, line_len) : -1;
    return tracker_message(&m, flips, line, line_len);
}

int ef_live_osc_flips_parse(const char *text, unsigned *flips)
{
    static const struct { const char *name; unsigned bit; } words[] = {
        {"yaw", EF_OSC_FLIP_YAW}, {"pitch", EF_OSC_FLIP_PITCH}, {"roll", EF_OSC_FLIP_ROLL},
    };
    *flips = 0;
    while (*text) {
        const size_t n = strcspn(text, ",");
        unsigned bit = 0;
        for (size_t k = 0; k < sizeof words / sizeof *words; k++)
            if (strlen(words[k].name) == n && strncmp(text, words[k].name, n) == 0)
                bit = words[k].bit;
        if (!bit)
            return -1;
        *flips |= bit;
        text += n + (text[n] == ',');
    }
    return 0;
}
