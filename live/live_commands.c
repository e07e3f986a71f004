#include "live_commands.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ef_live_commands_help(char *buf, size_t n)
{
    static const struct { unsigned kinds; const char *title; } groups[] = {
        {1u << EF_KIND_BINAURAL, "  binaural:   "},
        {1u << EF_KIND_SEPARATE, "  separation: "},
        {0, "  all:        "},
    };
    size_t len = (size_t)snprintf(buf, n, "commands (one per line; also as UDP datagrams or "
                                  "OSC /earflow/NAME messages):\n");
    for (size_t g = 0; g < 3 && len < n; g++) {
        len += (size_t)snprintf(buf + len, n - len, "%s", groups[g].title);
        for (int i = 0, first = 1; i < EF_CONTROL_COUNT && len < n; i++) {
            const ef_control_info *r = ef_control_get(i);
            const int single = r->kinds == (1u << EF_KIND_BINAURAL) ||
                               r->kinds == (1u << EF_KIND_SEPARATE);
            if (groups[g].kinds ? r->kinds != groups[g].kinds : single)
                continue;
            len += (size_t)snprintf(buf + len, n - len, "%s%s", first ? "" : " | ", r->name);
            first = 0;
        }
        len += (size_t)snprintf(buf + len, n - len, "%s\n", g == 0
            ? " | position AZ [EL [DIST]] | head YAW [PITCH [ROLL]]" : g == 2 ? " | status | help | quit" : "");
    }
    if (len < n)
        snprintf(buf + len, n - len, "  each NAME VALUE as the option --NAME (earflow live --help); "
                 "toggles also take 'toggle'\n");
}

void ef_live_state_init(ef_live_state *st, const ef_controls *c, const ef_model *m,
                        const ef_engine *e)
{
    memset(st, 0, sizeof *st);
    st->kind = ef_model_kind(m);
    for (int i = 0; i < EF_CONTROL_COUNT; i++)
        st->value[i] = c->value[i];
    st->seed = c->seed;
    int steps;
    ef_engine_get_schedule(e, &st->solver, &steps, &st->t0);
    st->value[EF_CONTROL_STEPS] = steps;
}

void ef_live_state_apply(const ef_live_state *st, ef_engine *e)
{
    ef_engine_set_schedule(e, st->solver, (int)st->value[EF_CONTROL_STEPS], st->t0);
    for (int i = 0; i < EF_CONTROL_COUNT; i++)
        if (i != EF_CONTROL_STEPS) /* the schedule above holds it */
            ef_engine_set_control(e, (ef_control)i, st->value[i]);
    ef_engine_set_seed(e, st->seed);
    ef_engine_reset(e);
}

void ef_live_state_describe(const ef_live_state *st, const ef_model *m, bool all, char *buf,
                            size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < EF_CONTROL_COUNT && len < n; i++) {
        const ef_control_info *r = ef_control_get(i);
        if (!ef_control_applies(i, st->kind))
            continue;
        if (!all && i != EF_CONTROL_STEPS && i != EF_CONTROL_TARGET && st->value[i] == r->def)
            continue;
        char word[128];
        ef_control_format(i, st->value[i], m, word, sizeof word);
        len += (size_t)snprintf(buf + len, n - len, "%s%s %s", len ? " " : "", r->name, word);
    }
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

/* Sets up to three controls from words, all or none: one per word (w[k] for
 * controls[k]); the rest are left as they are. */
static ef_live_result set_controls(ef_live_state *st, const ef_model *m, const char *what,
                                   const ef_control *controls, char **w, int n,
                                   ef_live_command *cmd, char *reply, size_t rn)
{
    double v[EF_LIVE_COMMAND_MAX];
    char why[600];
    for (int k = 0; k < n; k++) {
        const ef_control c = controls[k];
        if (!ef_control_applies(c, st->kind))
            return fail(reply, rn, "%s: needs a %s model", what,
                        ef_control_get(c)->kinds & (1u << EF_KIND_BINAURAL) ? "binaural"
                                                                             : "separation");
        if (ef_control_parse(c, w[k], m, st->value[c], &v[k], why, sizeof why))
            return fail(reply, rn, "%s %s: %s", ef_control_get(c)->name, w[k], why);
    }
    cmd->n = n;
    for (int k = 0; k < n; k++) {
        cmd->control[k] = controls[k];
        cmd->value[k] = st->value[controls[k]] = v[k];
    }
    if (n == 1 && controls[0] == EF_CONTROL_STEPS && v[0] == 0) {
        /* 0: the model's default schedule; the state shows what that is. */
        int steps;
        ef_model_default_schedule(m, &st->solver, &steps, &st->t0);
        st->value[EF_CONTROL_STEPS] = steps;
    }
    return EF_LIVE_SEND;
}

ef_live_result ef_live_interpret(ef_live_state *st, const ef_model *m, const char *line,
                                 ef_live_command *cmd, char *reply, size_t rn)
{
    static const ef_control position[] = {EF_CONTROL_AZIMUTH, EF_CONTROL_ELEVATION,
                                          EF_CONTROL_DISTANCE};
    static const ef_control head[] = {EF_CONTROL_YAW, EF_CONTROL_PITCH, EF_CONTROL_ROLL};
    char buf[256], *w[5];
    memset(cmd, 0, sizeof *cmd);
    reply[0] = 0;
    int n = split(line, buf, sizeof buf, w);
    if (n == 0)
        return EF_LIVE_NOTHING;
    if (n > 4)
        return fail(reply, rn, "too many words in '%s'", line);
    const char *name = w[0];
    const int control = ef_control_find(name);
    if (control >= 0) {
        const ef_control c = (ef_control)control;
        if (ef_control_get(c)->type == EF_CONTROL_TOGGLE && n == 1) {
            static char toggle[] = "toggle"; /* a toggle alone flips */
            w[1] = toggle;
            n = 2;
        }
        if (n != 2)
            return fail(reply, rn, "%s: expected one value (help lists the commands)", name);
        return set_controls(st, m, name, &c, w + 1, 1, cmd, reply, rn);
    }
    if (!strcmp(name, "position") || !strcmp(name, "head")) {
        const int is_head = name[0] == 'h';
        if (n < 2)
            return fail(reply, rn, is_head ? "head: expected YAW [PITCH [ROLL]] in degrees"
                                           : "position: expected AZIMUTH [ELEVATION [DISTANCE]]");
        if (is_head) { /* a head pose is absolute: what is not given is level */
            static char zero[] = "0";
            for (; n < 4; n++)
                w[n] = zero;
        }
        return set_controls(st, m, name, is_head ? head : position, w + 1, n - 1, cmd, reply, rn);
    }
    if (!strcmp(name, "status") && n == 1) {
        ef_live_state_describe(st, m, true, reply, rn);
        return EF_LIVE_REPLY;
    }
    if (!strcmp(name, "help") && n == 1) {
        ef_live_commands_help(reply, rn);
        return EF_LIVE_REPLY;
    }
    if ((!strcmp(name, "quit") || !strcmp(name, "exit")) && n == 1)
        return EF_LIVE_QUIT;
    return fail(reply, rn, "unknown command '%s' (try: help)", name);
}

void ef_live_command_apply(ef_engine *e, const ef_live_command *c)
{
    for (int k = 0; k < c->n && k < EF_LIVE_COMMAND_MAX; k++)
        ef_engine_set_control(e, c->control[k], c->value[k]);
}
