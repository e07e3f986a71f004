#include "controls.h"
#include "number.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Option codes: 1000 + control for the table's rows, then the program options. */
enum { OPT_CONTROL = 1000, OPT_SOLVER = 1090, OPT_T0, OPT_SEED, OPT_TRAJECTORY };

static const struct option program_options[] = {
    {"solver", required_argument, 0, OPT_SOLVER},
    {"t0", required_argument, 0, OPT_T0},
    {"seed", required_argument, 0, OPT_SEED},
    {"trajectory", required_argument, 0, OPT_TRAJECTORY},
};
#define N_PROGRAM_OPTIONS (sizeof program_options / sizeof program_options[0])
_Static_assert(EF_CONTROL_COUNT + N_PROGRAM_OPTIONS + 1 <= EF_CONTROL_OPTIONS_MAX,
               "raise EF_CONTROL_OPTIONS_MAX");
_Static_assert(OPT_CONTROL + EF_CONTROL_COUNT <= OPT_SOLVER, "option codes overlap");

void ef_controls_init(ef_controls *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < EF_CONTROL_COUNT; i++)
        c->value[i] = ef_control_get(i)->def;
    c->t0 = -1.0;
}

/* The placeholder of a control's value in help: DEG, N, on|off, keep|remove ... */
static void metavar(const ef_control_info *r, char *buf, size_t n)
{
    switch (r->type) {
    case EF_CONTROL_TOGGLE:
    case EF_CONTROL_CHOICE:
        buf[0] = 0;
        for (int k = 0; k < EF_CONTROL_MAX_CHOICES && r->choices[k]; k++)
            snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", k ? "|" : "", r->choices[k]);
        return;
    case EF_CONTROL_ROOMS: snprintf(buf, n, "NAME"); return;
    case EF_CONTROL_LABELS: snprintf(buf, n, "LABEL"); return;
    case EF_CONTROL_INTEGER: snprintf(buf, n, "N"); return;
    case EF_CONTROL_REAL:
        snprintf(buf, n, "%s", !strcmp(r->unit, "deg") ? "DEG" : !strcmp(r->unit, "m") ? "M"
                                : !strcmp(r->unit, "dB") ? "DB" : "X");
        return;
    }
}

/* Prints "      HEAD   text", the text from column 31, wrapped before column 80. */
static void help_entry(FILE *to, const char *head, const char *text)
{
    const int indent = 31, width = 79 - indent;
    fprintf(to, "      %-24s ", head);
    for (int first = 1; *text; first = 0) {
        int n = (int)strlen(text);
        if (n > width) {
            n = width;
            while (n > 0 && text[n] != ' ')
                n--;
            if (n == 0)
                n = width;
        }
        fprintf(to, "%*s%.*s\n", first ? 0 : indent, "", n, text);
        text += n;
        while (*text == ' ')
            text++;
    }
}

/* "--azimuth DEG   Source direction: ... (-180..180 deg, wraps; default 0)." */
static void help_row(FILE *to, const ef_control_info *r)
{
    char var[64], head[96], range[160], text[600];
    metavar(r, var, sizeof var);
    snprintf(head, sizeof head, "--%s %s", r->name, var);
    if (r->type == EF_CONTROL_REAL || r->type == EF_CONTROL_INTEGER)
        snprintf(range, sizeof range, "%g..%g%s%s%s; default %g", r->min, r->max,
                 r->unit[0] ? " " : "", r->unit, r->flags & EF_CONTROL_WRAPS ? ", wraps" : "",
                 r->def);
    else if (r->type == EF_CONTROL_TOGGLE || r->type == EF_CONTROL_CHOICE)
        snprintf(range, sizeof range, "default %s", r->choices[(int)r->def]);
    else
        snprintf(range, sizeof range, "a name or an index");
    const size_t n = strlen(r->description);
    snprintf(text, sizeof text, "%.*s (%s).", (int)(n && r->description[n - 1] == '.' ? n - 1 : n),
             r->description, range);
    help_entry(to, head, text);
}

void ef_controls_help(FILE *to)
{
    static const struct { unsigned kinds; const char *title; } groups[] = {
        {1u << EF_KIND_BINAURAL, "binaural models:"},
        {1u << EF_KIND_SEPARATE, "separation models:"},
    };
    for (size_t g = 0; g < 3; g++) {
        fprintf(to, "%s\n", g < 2 ? groups[g].title : "all models:");
        for (int i = 0; i < EF_CONTROL_COUNT; i++) {
            const ef_control_info *r = ef_control_get(i);
            int single = r->kinds == (1u << EF_KIND_BINAURAL) || r->kinds == (1u << EF_KIND_SEPARATE);
            if (g < 2 ? r->kinds == groups[g].kinds : !single)
                help_row(to, r);
        }
        if (g == 0)
            help_entry(to, "--trajectory FILE", "rows of 'seconds azimuth elevation distance'");
    }
    fprintf(to, "the schedule (for evaluation; the model's default is its best):\n");
    help_entry(to, "--solver euler|midpoint", "the solver (default: the model's)");
    help_entry(to, "--t0 T", "early-skip start time, 0..0.99 (default: the model's)");
    help_entry(to, "--seed N", "noise seed (default 0)");
}

void ef_controls_options(const struct option *own, size_t n, struct option *out)
{
    memcpy(out, own, n * sizeof *own);
    for (int i = 0; i < EF_CONTROL_COUNT; i++)
        out[n++] = (struct option){ef_control_get(i)->name, required_argument, 0, OPT_CONTROL + i};
    for (size_t k = 0; k < N_PROGRAM_OPTIONS; k++)
        out[n++] = program_options[k];
    memset(&out[n], 0, sizeof *out);
}

/* The index a name lookup found, else `word` as a whole number in 0..n-1; -1 if neither. */
static int found_or_index(int found, const char *word, int n)
{
    long v;
    if (found >= 0)
        return found;
    return ef_number_parse_whole(word, 0, n - 1, &v) == 0 ? (int)v : -1;
}

/* A choice of the row by its name. */
static int find_choice(const ef_control_info *r, const char *word)
{
    for (int k = 0; k < EF_CONTROL_MAX_CHOICES && r->choices[k]; k++)
        if (strcmp(word, r->choices[k]) == 0)
            return k;
    return -1;
}

/* The model's rooms, or the labels it was trained for, as "a, b, c". */
static void list_names(const ef_model *m, int rooms, char *buf, size_t len)
{
    int n = rooms ? ef_model_rooms(m) : ef_model_labels(m);
    buf[0] = 0;
    for (int i = 0; i < n; i++)
        if (rooms || ef_model_label_trained(m, i))
            snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? ", " : "",
                     rooms ? ef_model_room_name(m, i) : ef_model_label_name(m, i));
}

/* Whether any room of the model has a tail for the decay control to set. */
static int has_room_tail(const ef_model *m)
{
    for (int i = 0; i < ef_model_rooms(m); i++)
        if (ef_model_room_rt60(m, i) > 0)
            return 1;
    return 0;
}

int ef_control_parse(int control, const char *text, const ef_model *m, double current,
                     double *value, char *why, size_t why_len)
{
    const ef_control_info *r = ef_control_get(control);
    char names[512];
    double v;
    int i, n;
    switch (r->type) {
    case EF_CONTROL_REAL:
    case EF_CONTROL_INTEGER:
        if (r->flags & EF_CONTROL_WRAPS) {
            if (ef_number_parse(text, -1e6, 1e6, &v)) {
                snprintf(why, why_len, "expected a number (%s; wraps into %g..%g)", r->unit,
                         r->min, r->max);
                return -1;
            }
            v = remainder(v, r->max - r->min);
            *value = v == r->min ? r->max : v; /* -180 and 180 are one angle: say 180 */
            return 0;
        }
        if (ef_number_parse(text, r->min, r->max, &v) ||
            (r->type == EF_CONTROL_INTEGER && v != floor(v))) {
            snprintf(why, why_len, "expected a %s in %g..%g%s%s",
                     r->type == EF_CONTROL_INTEGER ? "whole number" : "number", r->min, r->max,
                     r->unit[0] ? " " : "", r->unit);
            return -1;
        }
        if (control == EF_CONTROL_DECAY && m && v > 0 && !has_room_tail(m)) {
            snprintf(why, why_len, "this model has no room tail (earflow info: prior %s), so "
                     "there is no decay to set", ef_model_prior(m));
            return -1;
        }
        *value = v;
        return 0;
    case EF_CONTROL_TOGGLE:
        if (!strcmp(text, "toggle")) {
            *value = current < 0.5;
            return 0;
        }
        if (!strcmp(text, "on") || !strcmp(text, "1") || !strcmp(text, "true"))
            *value = 1;
        else if (!strcmp(text, "off") || !strcmp(text, "0") || !strcmp(text, "false"))
            *value = 0;
        else {
            snprintf(why, why_len, "expected on, off or toggle");
            return -1;
        }
        return 0;
    case EF_CONTROL_CHOICE:
        for (n = 0; n < EF_CONTROL_MAX_CHOICES && r->choices[n];)
            n++;
        if (!strcmp(text, "toggle") && n == 2) {
            *value = current < 0.5;
            return 0;
        }
        if ((i = found_or_index(find_choice(r, text), text, n)) < 0) {
            metavar(r, names, sizeof names);
            snprintf(why, why_len, "expected one of %s", names);
            return -1;
        }
        *value = i;
        return 0;
    case EF_CONTROL_ROOMS:
    case EF_CONTROL_LABELS: {
        const int rooms = r->type == EF_CONTROL_ROOMS;
        if (!m) { /* checked against the model once it is loaded */
            *value = 0;
            return 0;
        }
        n = rooms ? ef_model_rooms(m) : ef_model_labels(m);
        i = found_or_index(rooms ? ef_model_find_room(m, text) : ef_model_find_label(m, text),
                           text, n);
        list_names(m, rooms, names, sizeof names);
        if (i < 0) {
            snprintf(why, why_len, rooms ? "this model has %s" : "this model has no such "
                     "label; it was trained for %s", names);
            return -1;
        }
        if (!rooms && !ef_model_label_trained(m, i)) {
            snprintf(why, why_len, "this model was not trained for %s; it was trained for %s",
                     ef_model_label_name(m, i), names);
            return -1;
        }
        *value = i;
        return 0;
    }
    }
    return -1;
}

void ef_control_format(int control, double value, const ef_model *m, char *buf, size_t n)
{
    const ef_control_info *r = ef_control_get(control);
    const int i = (int)lrint(value);
    if ((r->type == EF_CONTROL_TOGGLE || r->type == EF_CONTROL_CHOICE) && i >= 0 &&
        i < EF_CONTROL_MAX_CHOICES && r->choices[i])
        snprintf(buf, n, "%s", r->choices[i]);
    else if (r->type == EF_CONTROL_ROOMS && m && i >= 0 && i < ef_model_rooms(m))
        snprintf(buf, n, "%s", ef_model_room_name(m, i));
    else if (r->type == EF_CONTROL_LABELS && m && i >= 0 && i < ef_model_labels(m))
        snprintf(buf, n, "%s", ef_model_label_name(m, i));
    else
        snprintf(buf, n, "%g", value);
}

static int number(const char *cmd, const char *name, const char *arg, double lo, double hi,
                  int whole, double *out)
{
    if (ef_number_parse(arg, lo, hi, out) || (whole && *out != floor(*out))) {
        fprintf(stderr, "earflow %s: --%s %s: expected a %s in %g..%g\n", cmd, name, arg,
                whole ? "whole number" : "number", lo, hi);
        return -1;
    }
    return 0;
}

/* One option: 0 handled, 1 not ours, -1 a bad value (message printed). */
static int option(ef_controls *c, const char *cmd, int code, const char *arg)
{
    char why[600];
    double v;
    if (code >= OPT_CONTROL && code < OPT_CONTROL + EF_CONTROL_COUNT) {
        const int i = code - OPT_CONTROL;
        if (ef_control_parse(i, arg, NULL, c->value[i], &c->value[i], why, sizeof why)) {
            fprintf(stderr, "earflow %s: --%s %s: %s\n", cmd, ef_control_get(i)->name, arg, why);
            return -1;
        }
        c->text[i] = arg;
        return 0;
    }
    switch (code) {
    case OPT_SOLVER:
        if (strcmp(arg, "euler") && strcmp(arg, "midpoint")) {
            fprintf(stderr, "earflow %s: --solver %s: use euler or midpoint\n", cmd, arg);
            return -1;
        }
        c->solver = arg;
        return 0;
    case OPT_T0: return number(cmd, "t0", arg, 0, 0.99, 0, &c->t0);
    case OPT_SEED:
        if (number(cmd, "seed", arg, 0, 9007199254740992.0, 1, &v))
            return -1;
        c->seed = (unsigned long long)v;
        return 0;
    case OPT_TRAJECTORY: c->trajectory_path = arg; return 0;
    default: return 1;
    }
}

int ef_controls_getopt(ef_controls *c, const char *cmd, int opt, const char *arg,
                       const char *seen)
{
    int r = opt >= OPT_CONTROL && opt <= OPT_TRAJECTORY ? option(c, cmd, opt, arg) : 1;
    if (r > 0)
        fprintf(stderr, "earflow %s: bad option '%s' (see earflow %s --help)\n", cmd, seen, cmd);
    return r == 0 ? 0 : -1;
}

int ef_controls_no_operands(const char *cmd, int argc, char **argv)
{
    if (optind >= argc)
        return 0;
    fprintf(stderr, "earflow %s: unexpected argument '%s'\n", cmd, argv[optind]);
    return -1;
}

int ef_controls_resolve(ef_controls *c, const char *cmd, const ef_model *m)
{
    const ef_kind kind = ef_model_kind(m);
    char why[600];
    for (int i = 0; i < EF_CONTROL_COUNT; i++) {
        const ef_control_info *r = ef_control_get(i);
        if (!c->text[i])
            continue;
        if (!ef_control_applies(i, kind)) {
            fprintf(stderr, "earflow %s: --%s needs a %s model (this one is %s)\n", cmd,
                    r->name, r->kinds & (1u << EF_KIND_BINAURAL) ? "binaural" : "separation",
                    ef_kind_name(kind));
            return -1;
        }
        if ((r->flags & EF_CONTROL_LIVE_ONLY) && strcmp(cmd, "render") == 0) {
            fprintf(stderr, "earflow %s: --%s is for real-time use (earflow live, the LV2 "
                    "plugins); %s output stays deterministic without it\n", cmd, r->name, cmd);
            return -1;
        }
        /* Rooms and labels were left for the model, and the decay is checked against
         * it; the rest was parsed as given. */
        if ((r->type == EF_CONTROL_ROOMS || r->type == EF_CONTROL_LABELS || i == EF_CONTROL_DECAY) &&
            ef_control_parse(i, c->text[i], m, 0, &c->value[i], why, sizeof why)) {
            fprintf(stderr, "earflow %s: --%s %s: %s\n", cmd, r->name, c->text[i], why);
            return -1;
        }
    }
    if (c->trajectory_path && kind != EF_KIND_BINAURAL) {
        fprintf(stderr, "earflow %s: --trajectory needs a binaural model (this one is %s)\n",
                cmd, ef_kind_name(kind));
        return -1;
    }
    if (!c->text[EF_CONTROL_TARGET] && kind == EF_KIND_SEPARATE)
        c->value[EF_CONTROL_TARGET] = ef_model_default_label(m);
    if (c->trajectory_path) {
        ef_error err = {{0}};
        c->trajectory = ef_trajectory_load(c->trajectory_path, &err);
        if (!c->trajectory) {
            fprintf(stderr, "earflow %s: --trajectory %s\n", cmd, err.message);
            return -1;
        }
    }
    return 0;
}

void ef_controls_apply(const ef_controls *c, ef_engine *e)
{
    /* The schedule options first: the steps control keeps their solver and t0. */
    ef_solver solver;
    int steps;
    float t0;
    ef_engine_get_schedule(e, &solver, &steps, &t0);
    if (c->solver)
        solver = strcmp(c->solver, "midpoint") == 0 ? EF_SOLVER_MIDPOINT : EF_SOLVER_EULER;
    if (c->t0 >= 0)
        t0 = (float)c->t0;
    ef_engine_set_schedule(e, solver, steps, t0);
    for (int i = 0; i < EF_CONTROL_COUNT; i++)
        if (i != EF_CONTROL_STEPS || c->value[i] > 0) /* 0: the model's steps, kept */
            ef_engine_set_control(e, (ef_control)i, c->value[i]);
    ef_engine_set_seed(e, c->seed);
    ef_controls_follow(c, e, 0.0);
    ef_engine_reset(e);
}

void ef_controls_follow(const ef_controls *c, ef_engine *e, double seconds)
{
    if (!c->trajectory)
        return;
    double az, el, dist;
    ef_trajectory_at(c->trajectory, seconds, &az, &el, &dist);
    ef_engine_set_position(e, az, el, dist);
}

void ef_controls_free(ef_controls *c)
{
    ef_trajectory_free(c->trajectory);
    c->trajectory = NULL;
}
