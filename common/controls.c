#include "controls.h"
#include "number.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_AZIMUTH = 1000, OPT_ELEVATION, OPT_DISTANCE, OPT_ROOM, OPT_TRAJECTORY,
    OPT_TARGET, OPT_REMOVE, OPT_STEPS, OPT_SOLVER, OPT_T0, OPT_SEED,
    OPT_MIX, OPT_LIMIT, OPT_GAIN,
};

const struct option ef_control_options[] = {
    {"azimuth", required_argument, 0, OPT_AZIMUTH},
    {"elevation", required_argument, 0, OPT_ELEVATION},
    {"distance", required_argument, 0, OPT_DISTANCE},
    {"room", required_argument, 0, OPT_ROOM},
    {"trajectory", required_argument, 0, OPT_TRAJECTORY},
    {"target", required_argument, 0, OPT_TARGET},
    {"remove", no_argument, 0, OPT_REMOVE},
    {"steps", required_argument, 0, OPT_STEPS},
    {"solver", required_argument, 0, OPT_SOLVER},
    {"t0", required_argument, 0, OPT_T0},
    {"seed", required_argument, 0, OPT_SEED},
    {"mix", required_argument, 0, OPT_MIX},
    {"attenuation-limit", required_argument, 0, OPT_LIMIT},
    {"gain", required_argument, 0, OPT_GAIN},
    {0, 0, 0, 0},
};

void ef_controls_init(ef_controls *c)
{
    memset(c, 0, sizeof *c);
    c->distance = 1.0;
    c->t0 = -1.0;
    c->mix = 1.0;
    c->attenuation_limit = EF_ATTENUATION_UNLIMITED_DB;
}

static int number(const char *cmd, const char *name, const char *arg, double lo, double hi,
                  double *out)
{
    if (ef_number_parse(arg, lo, hi, out)) {
        fprintf(stderr, "earflow %s: --%s %s: expected a number in %g..%g\n", cmd, name, arg, lo, hi);
        return -1;
    }
    return 0;
}

int ef_controls_option(ef_controls *c, const char *cmd, int code, const char *arg)
{
    double v;
    if (code == OPT_AZIMUTH || code == OPT_ELEVATION || code == OPT_DISTANCE)
        c->position_given = true;
    switch (code) {
    case OPT_AZIMUTH: return number(cmd, "azimuth", arg, -360, 360, &c->azimuth);
    case OPT_ELEVATION: return number(cmd, "elevation", arg, -90, 90, &c->elevation);
    case OPT_DISTANCE: return number(cmd, "distance", arg, 0.01, 1000, &c->distance);
    case OPT_ROOM: c->room = arg; return 0;
    case OPT_TRAJECTORY: c->trajectory_path = arg; return 0;
    case OPT_TARGET: c->target = arg; return 0;
    case OPT_REMOVE: c->remove = true; return 0;
    case OPT_SOLVER:
        if (strcmp(arg, "euler") && strcmp(arg, "midpoint")) {
            fprintf(stderr, "earflow %s: --solver %s: use euler or midpoint\n", cmd, arg);
            return -1;
        }
        c->solver = arg;
        return 0;
    case OPT_STEPS:
        if (number(cmd, "steps", arg, 1, EF_MAX_STEPS, &v))
            return -1;
        if (v != floor(v)) {
            fprintf(stderr, "earflow %s: --steps %s: a whole number\n", cmd, arg);
            return -1;
        }
        c->steps = (int)v;
        return 0;
    case OPT_T0: return number(cmd, "t0", arg, 0, 0.99, &c->t0);
    case OPT_SEED:
        if (number(cmd, "seed", arg, 0, 9007199254740992.0, &v))
            return -1;
        if (v != floor(v)) {
            fprintf(stderr, "earflow %s: --seed %s: a whole number\n", cmd, arg);
            return -1;
        }
        c->seed = (unsigned long long)v;
        return 0;
    case OPT_MIX: return number(cmd, "mix", arg, 0, 1, &c->mix);
    case OPT_LIMIT:
        c->limit_given = true;
        return number(cmd, "attenuation-limit", arg, 0, EF_ATTENUATION_UNLIMITED_DB,
                      &c->attenuation_limit);
    case OPT_GAIN: return number(cmd, "gain", arg, EF_GAIN_MIN_DB, EF_GAIN_MAX_DB, &c->gain_db);
    default: return 1;
    }
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

/* The controls and their zero entry fit the room a subcommand leaves for them. */
_Static_assert(sizeof ef_control_options / sizeof ef_control_options[0] <= EF_CONTROL_OPTIONS_MAX,
               "raise EF_CONTROL_OPTIONS_MAX");

void ef_controls_options(const struct option *own, size_t n, struct option *out)
{
    size_t k = 0;
    memcpy(out, own, n * sizeof *own);
    for (; ef_control_options[k].name; k++)
        out[n + k] = ef_control_options[k];
    memset(&out[n + k], 0, sizeof *out);
}

int ef_controls_getopt(ef_controls *c, const char *cmd, int opt, const char *arg,
                       const char *seen)
{
    int r = opt >= 1000 && opt < 1100 ? ef_controls_option(c, cmd, opt, arg) : 1;
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
    ef_kind kind = ef_model_kind(m);
    char names[512];
    if (kind != EF_KIND_BINAURAL && (c->room || c->trajectory_path || c->position_given)) {
        fprintf(stderr, "earflow %s: --azimuth, --elevation, --distance, --room and --trajectory "
                "need a binaural model (this one is %s)\n",
                cmd, ef_kind_name(kind));
        return -1;
    }
    if (kind != EF_KIND_SEPARATE && (c->target || c->remove || c->limit_given)) {
        fprintf(stderr, "earflow %s: --target, --remove and --attenuation-limit need a separation model (this one is %s)\n",
                cmd, ef_kind_name(kind));
        return -1;
    }
    if (c->room && (c->room_index = ef_model_find_room(m, c->room)) < 0) {
        list_names(m, 1, names, sizeof names);
        fprintf(stderr, "earflow %s: --room %s: this model has %s\n", cmd, c->room, names);
        return -1;
    }
    if (c->target && (c->label_index = ef_model_find_label(m, c->target)) < 0) {
        list_names(m, 0, names, sizeof names);
        fprintf(stderr, "earflow %s: --target %s: this model has no such label; it was "
                "trained for %s\n", cmd, c->target, names);
        return -1;
    }
    if (c->target && !ef_model_label_trained(m, c->label_index)) {
        list_names(m, 0, names, sizeof names);
        fprintf(stderr, "earflow %s: --target %s: this model was not trained for %s; it was "
                "trained for %s\n", cmd, c->target, c->target, names);
        return -1;
    }
    if (!c->target)
        c->label_index = ef_model_default_label(m);
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
    ef_engine_set_position(e, c->azimuth, c->elevation, c->distance);
    ef_engine_set_room(e, c->room_index);
    ef_engine_set_label(e, c->label_index);
    ef_engine_set_remove(e, c->remove);
    ef_solver solver;
    int steps;
    float t0;
    ef_engine_get_schedule(e, &solver, &steps, &t0);
    if (c->solver)
        solver = strcmp(c->solver, "midpoint") == 0 ? EF_SOLVER_MIDPOINT : EF_SOLVER_EULER;
    if (c->steps > 0)
        steps = c->steps;
    if (c->t0 >= 0)
        t0 = (float)c->t0;
    ef_engine_set_schedule(e, solver, steps, t0);
    ef_engine_set_seed(e, c->seed);
    ef_engine_set_mix(e, (float)c->mix);
    ef_engine_set_attenuation_limit(e, (float)c->attenuation_limit);
    ef_engine_set_output_gain(e, (float)c->gain_db);
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
