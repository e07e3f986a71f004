#include "live_commands.h"
#include "number.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char ef_live_commands_help[] =
    "commands (one per line; also as UDP datagrams or OSC /earflow/NAME messages):\n"
    "  binaural:   azimuth DEG | elevation DEG | distance M | position AZ [EL [DIST]]\n"
    "              head YAW [PITCH [ROLL]] | room NAME\n"
    "  separation: target LABEL | remove on|off | limit DB\n"
    "  all:        steps N | bypass on|off|toggle | mix 0..1 | gain DB | status | help | quit\n";

void ef_live_state_init(ef_live_state *st, const ef_controls *c, const ef_model *m,
                        const ef_engine *e)
{
    memset(st, 0, sizeof *st);
    st->kind = ef_model_kind(m);
    st->azimuth = c->azimuth;
    st->elevation = c->elevation;
    st->distance = c->distance;
    st->room = c->room_index;
    st->label = c->label_index;
    st->remove = c->remove;
    st->mix = c->mix;
    st->gain_db = c->gain_db;
    st->limit_db = c->attenuation_limit;
    st->seed = c->seed;
    ef_engine_get_schedule(e, &st->solver, &st->steps, &st->t0);
}

void ef_live_state_apply(const ef_live_state *st, ef_engine *e)
{
    ef_engine_set_position(e, st->azimuth, st->elevation, st->distance);
    ef_engine_set_head(e, st->yaw, st->pitch, st->roll);
    ef_engine_set_room(e, st->room);
    ef_engine_set_label(e, st->label);
    ef_engine_set_remove(e, st->remove);
    ef_engine_set_schedule(e, st->solver, st->steps, st->t0);
    ef_engine_set_mix(e, (float)st->mix);
    ef_engine_set_attenuation_limit(e, (float)st->limit_db);
    ef_engine_set_output_gain(e, (float)st->gain_db);
    ef_engine_set_bypass(e, st->bypass);
    ef_engine_set_seed(e, st->seed);
    ef_engine_reset(e);
}

void ef_live_state_describe(const ef_live_state *st, const ef_model *m, char *buf, size_t n)
{
    int len = 0;
    if (st->kind == EF_KIND_BINAURAL)
        len = snprintf(buf, n, "az %.0f el %.0f dist %.2f head %.0f/%.0f/%.0f room %s",
                       st->azimuth, st->elevation, st->distance, st->yaw, st->pitch, st->roll,
                       ef_model_rooms(m) ? ef_model_room_name(m, st->room) : "-");
    else if (st->kind == EF_KIND_SEPARATE)
        len = snprintf(buf, n, "%s %s limit %.0f dB", st->remove ? "remove" : "keep",
                       ef_model_labels(m) ? ef_model_label_name(m, st->label) : "-",
                       st->limit_db);
    else
        len = snprintf(buf, n, "identity");
    if (len < 0 || (size_t)len >= n)
        return;
    snprintf(buf + len, n - (size_t)len, " | steps %d | mix %.2f gain %.1f dB | bypass %s",
             st->steps, st->mix, st->gain_db, st->bypass ? "ON" : "off");
}

static ef_live_result fail(char *reply, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static ef_live_result fail(char *reply, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reply, n, fmt, ap);
    va_end(ap);
    return EF_LIVE_ERROR;
}

/* Splits `line` (copied into buf) into at most 5 whitespace-separated words. */
static int split(const char *line, char *buf, size_t len, char *words[5])
{
    snprintf(buf, len, "%s", line);
    int n = 0;
    char *p = buf;
    while (*p) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            break;
        if (n == 5)
            return 6;
        words[n++] = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (*p)
            *p++ = 0;
    }
    return n;
}

static bool number(const char *s, double lo, double hi, double *out)
{
    return ef_number_parse(s, lo, hi, out) == 0;
}

static int on_off(const char *s, bool current)
{
    if (!strcmp(s, "on") || !strcmp(s, "1") || !strcmp(s, "true"))
        return 1;
    if (!strcmp(s, "off") || !strcmp(s, "0") || !strcmp(s, "false"))
        return 0;
    if (!strcmp(s, "toggle"))
        return !current;
    return -1;
}

static void position_command(const ef_live_state *st, ef_live_command *cmd)
{
    cmd->op = EF_LIVE_POSITION;
    cmd->v[0] = st->azimuth;
    cmd->v[1] = st->elevation;
    cmd->v[2] = st->distance;
}

/* Binaural commands: position, head, room. */
static ef_live_result binaural(ef_live_state *st, const ef_model *m, char **w, int n,
                               ef_live_command *cmd, char *reply, size_t rn)
{
    const char *name = w[0];
    double v[3];
    if (!strcmp(name, "azimuth") || !strcmp(name, "elevation") || !strcmp(name, "distance")) {
        bool az = name[0] == 'a', el = name[0] == 'e';
        double lo = az ? -360 : el ? -90 : 0.01, hi = az ? 360 : el ? 90 : 1000;
        if (n != 2 || !number(w[1], lo, hi, &v[0]))
            return fail(reply, rn, "%s: expected one number in %g..%g", name, lo, hi);
        *(az ? &st->azimuth : el ? &st->elevation : &st->distance) = v[0];
        position_command(st, cmd);
        return EF_LIVE_SEND;
    }
    if (!strcmp(name, "position")) {
        const double lo[3] = {-360, -90, 0.01}, hi[3] = {360, 90, 1000};
        if (n < 2 || n > 4)
            return fail(reply, rn, "position: expected AZIMUTH [ELEVATION [DISTANCE]]");
        for (int k = 0; k + 1 < n; k++)
            if (!number(w[k + 1], lo[k], hi[k], &v[k]))
                return fail(reply, rn, "position: '%s' is not a number in %g..%g", w[k + 1],
                            lo[k], hi[k]);
        st->azimuth = v[0];
        if (n > 2)
            st->elevation = v[1];
        if (n > 3)
            st->distance = v[2];
        position_command(st, cmd);
        return EF_LIVE_SEND;
    }
    if (!strcmp(name, "head") || !strcmp(name, "yaw")) {
        if (n < 2 || n > 4)
            return fail(reply, rn, "head: expected YAW [PITCH [ROLL]] in degrees");
        for (int k = 0; k + 1 < n; k++)
            if (!number(w[k + 1], -360, 360, &v[k]))
                return fail(reply, rn, "head: '%s' is not a number in -360..360", w[k + 1]);
        st->yaw = v[0];
        st->pitch = n > 2 ? v[1] : 0;
        st->roll = n > 3 ? v[2] : 0;
        cmd->op = EF_LIVE_HEAD;
        cmd->v[0] = st->yaw;
        cmd->v[1] = st->pitch;
        cmd->v[2] = st->roll;
        return EF_LIVE_SEND;
    }
    /* room */
    int room = n == 2 ? ef_model_find_room(m, w[1]) : -1;
    if (room < 0)
        return fail(reply, rn, "room: expected one of this model's rooms (earflow info MODEL)");
    st->room = room;
    cmd->op = EF_LIVE_ROOM;
    cmd->i = room;
    return EF_LIVE_SEND;
}

/* Separation commands: target, remove, limit. */
static ef_live_result separation(ef_live_state *st, const ef_model *m, char **w, int n,
                                 ef_live_command *cmd, char *reply, size_t rn)
{
    const char *name = w[0];
    if (!strcmp(name, "target")) {
        int label = n == 2 ? ef_model_find_label(m, w[1]) : -1;
        if (label < 0)
            return fail(reply, rn, "target: expected one of this model's labels (earflow info MODEL)");
        if (!ef_model_label_trained(m, label))
            return fail(reply, rn, "target: this model was not trained for that label (earflow "
                        "info MODEL lists the trained ones)");
        st->label = label;
        cmd->op = EF_LIVE_LABEL;
        cmd->i = label;
        return EF_LIVE_SEND;
    }
    if (!strcmp(name, "remove")) {
        int on = n == 2 ? on_off(w[1], st->remove) : -1;
        if (on < 0)
            return fail(reply, rn, "remove: expected on, off or toggle");
        st->remove = on;
        cmd->op = EF_LIVE_REMOVE;
        cmd->i = on;
        return EF_LIVE_SEND;
    }
    double v;
    if (n != 2 || !number(w[1], 0, EF_ATTENUATION_UNLIMITED_DB, &v))
        return fail(reply, rn, "limit: expected dB in 0..%g", (double)EF_ATTENUATION_UNLIMITED_DB);
    st->limit_db = v;
    cmd->op = EF_LIVE_LIMIT;
    cmd->v[0] = v;
    return EF_LIVE_SEND;
}

ef_live_result ef_live_interpret(ef_live_state *st, const ef_model *m, const char *line,
                                 ef_live_command *cmd, char *reply, size_t rn)
{
    char buf[256], *w[5];
    memset(cmd, 0, sizeof *cmd);
    reply[0] = 0;
    int n = split(line, buf, sizeof buf, w);
    if (n == 0)
        return EF_LIVE_NOTHING;
    if (n > 4)
        return fail(reply, rn, "too many words in '%s'", line);
    const char *name = w[0];
    double v;
    static const char *const binaural_words[] = {"azimuth", "elevation", "distance", "position",
                                                 "head", "yaw", "room"};
    static const char *const separation_words[] = {"target", "remove", "limit",
                                                   "attenuation-limit"};
    for (size_t k = 0; k < sizeof binaural_words / sizeof *binaural_words; k++)
        if (!strcmp(name, binaural_words[k])) {
            if (st->kind != EF_KIND_BINAURAL)
                return fail(reply, rn, "%s: needs a binaural model", name);
            return binaural(st, m, w, n, cmd, reply, rn);
        }
    for (size_t k = 0; k < sizeof separation_words / sizeof *separation_words; k++)
        if (!strcmp(name, separation_words[k])) {
            if (st->kind != EF_KIND_SEPARATE)
                return fail(reply, rn, "%s: needs a separation model", name);
            return separation(st, m, w, n, cmd, reply, rn);
        }
    if (!strcmp(name, "steps")) {
        if (n != 2 || !number(w[1], 1, EF_MAX_STEPS, &v) || v != floor(v))
            return fail(reply, rn, "steps: expected a whole number in 1..%d", EF_MAX_STEPS);
        st->steps = (int)v;
        cmd->op = EF_LIVE_SCHEDULE;
        cmd->i = st->steps;
        cmd->j = (int)st->solver;
        cmd->v[0] = st->t0;
        return EF_LIVE_SEND;
    }
    if (!strcmp(name, "bypass")) {
        int on = n == 1 ? !st->bypass : n == 2 ? on_off(w[1], st->bypass) : -1;
        if (on < 0)
            return fail(reply, rn, "bypass: expected on, off or toggle");
        st->bypass = on;
        cmd->op = EF_LIVE_BYPASS;
        cmd->i = on;
        return EF_LIVE_SEND;
    }
    if (!strcmp(name, "mix")) {
        if (n != 2 || !number(w[1], 0, 1, &v))
            return fail(reply, rn, "mix: expected a number in 0..1");
        st->mix = v;
        cmd->op = EF_LIVE_MIX;
        cmd->v[0] = v;
        return EF_LIVE_SEND;
    }
    if (!strcmp(name, "gain")) {
        if (n != 2 || !number(w[1], EF_GAIN_MIN_DB, EF_GAIN_MAX_DB, &v))
            return fail(reply, rn, "gain: expected dB in %g..%g", (double)EF_GAIN_MIN_DB,
                        (double)EF_GAIN_MAX_DB);
        st->gain_db = v;
        cmd->op = EF_LIVE_GAIN;
        cmd->v[0] = v;
        return EF_LIVE_SEND;
    }
    if (!strcmp(name, "status") && n == 1) {
        ef_live_state_describe(st, m, reply, rn);
        return EF_LIVE_REPLY;
    }
    if (!strcmp(name, "help") && n == 1) {
        snprintf(reply, rn, "%s", ef_live_commands_help);
        return EF_LIVE_REPLY;
    }
    if ((!strcmp(name, "quit") || !strcmp(name, "exit")) && n == 1)
        return EF_LIVE_QUIT;
    return fail(reply, rn, "unknown command '%s' (try: help)", name);
}

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

int ef_live_osc_to_line(const void *packet, size_t len, char *line, size_t line_len)
{
    const unsigned char *p = packet;
    const char *address, *tags;
    static const char prefix[] = "/earflow/";
    size_t at = osc_string(p, len, 0, &address);
    if (!at || strncmp(address, prefix, sizeof prefix - 1) || !address[sizeof prefix - 1])
        return -1;
    size_t used = (size_t)snprintf(line, line_len, "%s", address + sizeof prefix - 1);
    if (at == len) /* no type tag string: no arguments */
        return 0;
    at = osc_string(p, len, at, &tags);
    if (!at || tags[0] != ',')
        return -1;
    for (const char *t = tags + 1; *t; t++) {
        char word[96];
        if (*t == 'f' || *t == 'i') {
            if (at + 4 > len)
                return -1;
            uint32_t bits = big_endian32(p + at);
            at += 4;
            if (*t == 'i') {
                snprintf(word, sizeof word, "%ld", (long)(int32_t)bits);
            } else {
                float f;
                memcpy(&f, &bits, sizeof f);
                snprintf(word, sizeof word, "%.9g", (double)f);
            }
        } else if (*t == 'd') {
            if (at + 8 > len)
                return -1;
            uint64_t bits = (uint64_t)big_endian32(p + at) << 32 | big_endian32(p + at + 4);
            at += 8;
            double d;
            memcpy(&d, &bits, sizeof d);
            snprintf(word, sizeof word, "%.17g", d);
        } else if (*t == 's') {
            const char *s;
            size_t next = osc_string(p, len, at, &s);
            if (!next)
                return -1;
            at = next;
            snprintf(word, sizeof word, "%.90s", s);
        } else if (*t == 'T' || *t == 'F') {
            snprintf(word, sizeof word, "%s", *t == 'T' ? "on" : "off");
        } else {
            return -1;
        }
        if (used < line_len)
            used += (size_t)snprintf(line + used, line_len - used, " %s", word);
    }
    return used < line_len ? 0 : -1;
}

void ef_live_command_apply(ef_engine *e, const ef_live_command *c)
{
    switch (c->op) {
    case EF_LIVE_POSITION: ef_engine_set_position(e, c->v[0], c->v[1], c->v[2]); break;
    case EF_LIVE_HEAD: ef_engine_set_head(e, c->v[0], c->v[1], c->v[2]); break;
    case EF_LIVE_ROOM: ef_engine_set_room(e, c->i); break;
    case EF_LIVE_SCHEDULE: ef_engine_set_schedule(e, (ef_solver)c->j, c->i, (float)c->v[0]); break;
    case EF_LIVE_BYPASS: ef_engine_set_bypass(e, c->i); break;
    case EF_LIVE_LABEL: ef_engine_set_label(e, c->i); break;
    case EF_LIVE_REMOVE: ef_engine_set_remove(e, c->i); break;
    case EF_LIVE_MIX: ef_engine_set_mix(e, (float)c->v[0]); break;
    case EF_LIVE_GAIN: ef_engine_set_output_gain(e, (float)c->v[0]); break;
    case EF_LIVE_LIMIT: ef_engine_set_attenuation_limit(e, (float)c->v[0]); break;
    }
}
