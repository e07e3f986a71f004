/* Walks the control table (include/earflow.h): every control is reachable under its
 * one name with its one range from each front end, and every value reaches the engine.
 *   - the program: a --NAME option in `earflow render --help` and `earflow live --help`;
 *     the options parser takes min, max and the default, refuses what is outside
 *     (angles wrap), and the values land in an engine (ef_engine_get_control);
 *   - live: the command "NAME VALUE" yields exactly that control and value, and so does
 *     the OSC message /earflow/NAME with a float or a string argument;
 *   - LV2: each plugin whose kind the row applies to has a control input port with
 *     symbol NAME and the row's minimum, maximum and default (rooms and labels: as many
 *     scale points as the shipped model's names), the others none, and no plugin has a
 *     control input port that is not in the table.
 * usage: test_control_table EARFLOW GOLDEN_DIR   (LV2_PATH: the built bundle) */
#include "controls.h"
#include "live_commands.h"
#include "live_osc.h"

#include <lilv/lilv.h>
#include <lv2/core/lv2.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const char *earflow, *golden_dir;

typedef struct model_case {
    ef_kind kind;
    const char *file;
    ef_model *model;
} model_case;

static model_case models[] = {
    {EF_KIND_BINAURAL, "binaural_tail_tiny.safetensors", NULL}, /* a room tail: decay applies */
    {EF_KIND_SEPARATE, "separate_tiny.safetensors", NULL},
};

static int load_models(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof models / sizeof *models; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", golden_dir, models[k].file);
        ef_error err = {{0}};
        models[k].model = ef_model_load(path, &err);
        if (!models[k].model) {
            fprintf(stderr, "%s\n", err.message);
            return -1;
        }
    }
    return 0;
}

static int free_models(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof models / sizeof *models; k++)
        ef_model_free(models[k].model);
    return 0;
}

/* The values a user may give a control on this model, as text, with what they mean. */
typedef struct value_case {
    char text[64];
    double value;
} value_case;

static int valid_values(const ef_control_info *r, const ef_model *m, value_case *out)
{
    int n = 0;
    switch (r->type) {
    case EF_CONTROL_REAL:
    case EF_CONTROL_INTEGER: {
        const double v[] = {r->min, r->max, r->def, r->type == EF_CONTROL_INTEGER
                                                        ? floor((r->min + r->max) / 2)
                                                        : (r->min + r->max) / 2};
        for (int k = 0; k < 4; k++, n++) {
            snprintf(out[n].text, sizeof out[n].text, "%.17g", v[k]);
            /* An angle's two ends are one direction, written as the upper one. */
            out[n].value = (r->flags & EF_CONTROL_WRAPS) && v[k] == r->min ? r->max : v[k];
        }
        if (r->flags & EF_CONTROL_WRAPS) { /* 90 past the end = 90 past the start */
            snprintf(out[n].text, sizeof out[n].text, "%.17g", r->max + 90);
            out[n++].value = r->min + 90;
        }
        return n;
    }
    case EF_CONTROL_TOGGLE:
    case EF_CONTROL_CHOICE:
        for (int k = 0; k < EF_CONTROL_MAX_CHOICES && r->choices[k]; k++, n++) {
            snprintf(out[n].text, sizeof out[n].text, "%s", r->choices[k]);
            out[n].value = k;
        }
        return n;
    case EF_CONTROL_ROOMS:
    case EF_CONTROL_LABELS: {
        const int rooms = r->type == EF_CONTROL_ROOMS;
        const int count = rooms ? ef_model_rooms(m) : ef_model_labels(m);
        for (int k = 0; k < count && n < 14; k++) {
            if (!rooms && !ef_model_label_trained(m, k))
                continue;
            snprintf(out[n].text, sizeof out[n].text, "%s",
                     rooms ? ef_model_room_name(m, k) : ef_model_label_name(m, k));
            out[n++].value = k;
            snprintf(out[n].text, sizeof out[n].text, "%d", k); /* or its index */
            out[n++].value = k;
        }
        return n;
    }
    }
    return 0;
}

static int invalid_values(const ef_control_info *r, char out[][64])
{
    int n = 0;
    snprintf(out[n++], 64, "nosuch");
    snprintf(out[n++], 64, "nan");
    if ((r->type == EF_CONTROL_REAL || r->type == EF_CONTROL_INTEGER) &&
        !(r->flags & EF_CONTROL_WRAPS)) {
        snprintf(out[n++], 64, "%.17g", r->min - 1);
        snprintf(out[n++], 64, "%.17g", r->max + 1);
    }
    if (r->type == EF_CONTROL_INTEGER)
        snprintf(out[n++], 64, "%.17g", r->min + 0.5);
    return n;
}

/* The getopt code of the program's option --name (the table the subcommands use). */
static int option_code(const char *name)
{
    static const struct option none[1];
    struct option opts[EF_CONTROL_OPTIONS_MAX + 1];
    ef_controls_options(none, 0, opts);
    for (int k = 0; opts[k].name; k++)
        if (strcmp(opts[k].name, name) == 0)
            return opts[k].val;
    fail_msg("no option --%s", name);
    return -1;
}

/* The program's options: parse, resolve against the model, apply, read back. */
static void program_takes(ef_control c, const model_case *mc, const value_case *v)
{
    const ef_control_info *r = ef_control_get(c);
    const int code = option_code(r->name);
    ef_controls ctl;
    ef_controls_init(&ctl);
    assert_int_equal(ef_controls_getopt(&ctl, "test", code, v->text, r->name), 0);
    assert_int_equal(ef_controls_resolve(&ctl, "test", mc->model), 0);
    assert_true(fabs(ctl.value[c] - v->value) < 1e-9);
    ef_error err = {{0}};
    ef_engine *e = ef_engine_new(mc->model, 48000, 256, &err);
    assert_non_null(e);
    ef_controls_apply(&ctl, e);
    double expect = v->value;
    if (c == EF_CONTROL_STEPS && expect == 0) { /* 0: the model's default steps */
        ef_solver solver;
        int steps;
        float t0;
        ef_model_default_schedule(mc->model, &solver, &steps, &t0);
        expect = steps;
    }
    if (fabs(ef_engine_get_control(e, c) - expect) > 1e-4)
        fail_msg("%s %s on %s: the engine holds %g, not %g", r->name, v->text,
                 ef_kind_name(mc->kind), ef_engine_get_control(e, c), expect);
    ef_engine_free(e);
    ef_controls_free(&ctl);
}

static void program_refuses(ef_control c, const model_case *mc, const char *text)
{
    const ef_control_info *r = ef_control_get(c);
    const int code = option_code(r->name);
    ef_controls ctl;
    ef_controls_init(&ctl);
    const int refused = ef_controls_getopt(&ctl, "test", code, text, r->name) != 0 ||
                        ef_controls_resolve(&ctl, "test", mc->model) != 0;
    if (!refused)
        fail_msg("--%s %s was taken on %s", r->name, text, ef_kind_name(mc->kind));
    ef_controls_free(&ctl);
}

/* An OSC message /earflow/NAME with one float or string argument. */
static size_t osc(const char *name, const char *text, int as_float, unsigned char *buf)
{
    size_t n = (size_t)snprintf((char *)buf, 80, "/earflow/%.60s", name) + 1;
    while (n % 4)
        buf[n++] = 0;
    memcpy(buf + n, as_float ? ",f\0\0" : ",s\0\0", 4);
    n += 4;
    if (as_float) {
        float f = (float)atof(text);
        uint32_t bits;
        memcpy(&bits, &f, 4);
        for (int k = 0; k < 4; k++)
            buf[n++] = (unsigned char)(bits >> (24 - 8 * k));
    } else {
        n += (size_t)snprintf((char *)buf + n, 64, "%.62s", text) + 1;
        while (n % 4)
            buf[n++] = 0;
    }
    return n;
}

static void live_takes(ef_control c, const model_case *mc, const value_case *v, int via_osc)
{
    const ef_control_info *r = ef_control_get(c);
    char line[256], reply[1024];
    if (via_osc) {
        unsigned char packet[256];
        /* Numbers as OSC floats where a float holds them exactly; names as strings. */
        const int as_float = (r->type == EF_CONTROL_REAL || r->type == EF_CONTROL_INTEGER) &&
                             (double)(float)v->value == v->value;
        size_t n = osc(r->name, v->text, as_float, packet);
        assert_int_equal(ef_live_osc_to_line(packet, n, 0, line, sizeof line), 0);
    } else {
        snprintf(line, sizeof line, "%.60s %.64s", r->name, v->text);
    }
    ef_controls ctl;
    ef_controls_init(&ctl);
    assert_int_equal(ef_controls_resolve(&ctl, "test", mc->model), 0);
    ef_error err = {{0}};
    ef_engine *e = ef_engine_new(mc->model, 48000, 256, &err);
    ef_controls_apply(&ctl, e);
    ef_live_state st;
    ef_live_state_init(&st, &ctl, mc->model, e);
    ef_live_command cmd;
    ef_live_result res = ef_live_interpret(&st, mc->model, line, &cmd, reply, sizeof reply);
    if (res != EF_LIVE_SEND)
        fail_msg("live '%s' on %s: %s", line, ef_kind_name(mc->kind), reply);
    assert_int_equal(cmd.n, 1);
    assert_int_equal(cmd.control[0], c);
    if (fabs(cmd.value[0] - v->value) > 1e-4)
        fail_msg("live '%s': value %g, not %g", line, cmd.value[0], v->value);
    ef_engine_free(e);
    ef_controls_free(&ctl);
}

static void live_refuses(ef_control c, const model_case *mc, const char *text)
{
    char line[256], reply[1024];
    snprintf(line, sizeof line, "%s %s", ef_control_get(c)->name, text);
    ef_controls ctl;
    ef_controls_init(&ctl);
    assert_int_equal(ef_controls_resolve(&ctl, "test", mc->model), 0);
    ef_live_state st;
    memset(&st, 0, sizeof st);
    st.kind = mc->kind;
    for (int i = 0; i < EF_CONTROL_COUNT; i++)
        st.value[i] = ctl.value[i];
    ef_live_command cmd;
    if (ef_live_interpret(&st, mc->model, line, &cmd, reply, sizeof reply) != EF_LIVE_ERROR)
        fail_msg("live '%s' was taken on %s", line, ef_kind_name(mc->kind));
}

static void test_program_and_live(void **state)
{
    (void)state;
    int checked = 0;
    for (int c = 0; c < EF_CONTROL_COUNT; c++) {
        const ef_control_info *r = ef_control_get(c);
        for (size_t k = 0; k < sizeof models / sizeof *models; k++) {
            const model_case *mc = &models[k];
            value_case vals[16];
            char bad[8][64];
            if (!ef_control_applies(c, mc->kind)) {
                /* Not this kind's: refused by both, with the kind it needs. */
                const char *text = valid_values(r, mc->model, vals) ? vals[0].text : "0";
                program_refuses((ef_control)c, mc, text);
                live_refuses((ef_control)c, mc, text);
                continue;
            }
            const int n = valid_values(r, mc->model, vals);
            assert_true(n > 0);
            for (int v = 0; v < n; v++) {
                program_takes((ef_control)c, mc, &vals[v]);
                live_takes((ef_control)c, mc, &vals[v], 0);
                live_takes((ef_control)c, mc, &vals[v], 1);
                checked++;
            }
            const int nb = invalid_values(r, bad);
            for (int b = 0; b < nb; b++) {
                program_refuses((ef_control)c, mc, bad[b]);
                live_refuses((ef_control)c, mc, bad[b]);
            }
        }
    }
    printf("ok - %d controls: %d values taken by the options, live and OSC, and read back "
           "from the engine; out-of-range values refused\n", EF_CONTROL_COUNT, checked);
}

/* The decay control on a binaural model without a room tail: 0 is taken, a decay
 * time is refused by the options and live alike (there is no reverberation to set). */
static void test_decay_needs_a_room_tail(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/binaural_tiny.safetensors", golden_dir);
    ef_error err = {{0}};
    model_case dry = {EF_KIND_BINAURAL, "binaural_tiny.safetensors", ef_model_load(path, &err)};
    assert_non_null(dry.model);
    assert_true(ef_model_room_rt60(dry.model, 1) == 0.0);
    assert_true(ef_model_room_rt60(models[0].model, 1) > 0.0); /* the tail model's small room */
    const value_case zero = {"0", 0.0};
    program_takes(EF_CONTROL_DECAY, &dry, &zero);
    live_takes(EF_CONTROL_DECAY, &dry, &zero, 0);
    program_refuses(EF_CONTROL_DECAY, &dry, "0.8");
    live_refuses(EF_CONTROL_DECAY, &dry, "0.8");
    ef_model_free(dry.model);
    printf("ok - decay 0.8 refused without a room tail, 0 taken\n");
}

/* Every --NAME in the help of both subcommands. */
static void test_help_lists_every_control(void **state)
{
    (void)state;
    const char *cmds[] = {"render", "live"};
    for (int k = 0; k < 2; k++) {
        char cmd[1200], help[16384];
        snprintf(cmd, sizeof cmd, "'%s' %s --help", earflow, cmds[k]);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        size_t n = fread(help, 1, sizeof help - 1, p);
        help[n] = 0;
        assert_int_equal(pclose(p), 0);
        for (int c = 0; c < EF_CONTROL_COUNT; c++) {
            char option[64];
            snprintf(option, sizeof option, "--%s ", ef_control_get(c)->name);
            if (!strstr(help, option))
                fail_msg("earflow %s --help does not list %s", cmds[k], option);
        }
    }
    printf("ok - earflow render --help and earflow live --help list all %d controls\n",
           EF_CONTROL_COUNT);
}

static double node_number(const LilvNode *n) { return n ? lilv_node_as_float(n) : NAN; }

/* lilv reads numbers as float. */
static int same(double a, double b) { return fabs(a - b) <= 1e-6 * fmax(1.0, fabs(b)); }

static void test_lv2_ports(void **state)
{
    (void)state;
    static const struct { const char *uri; ef_kind kind; } plugins[] = {
        {"urn:earflow:binaural", EF_KIND_BINAURAL},
        {"urn:earflow:separate", EF_KIND_SEPARATE},
        {"urn:earflow:separate-stereo", EF_KIND_SEPARATE},
    };
    LilvWorld *world = lilv_world_new();
    lilv_world_load_all(world);
    LilvNode *control = lilv_new_uri(world, LV2_CORE__ControlPort);
    LilvNode *input = lilv_new_uri(world, LV2_CORE__InputPort);
    LilvNode *scale_points_pred = lilv_new_uri(world, LV2_CORE__scalePoint);
    int ports = 0;
    for (size_t p = 0; p < sizeof plugins / sizeof *plugins; p++) {
        LilvNode *uri = lilv_new_uri(world, plugins[p].uri);
        const LilvPlugin *plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), uri);
        assert_non_null(plugin);
        int expected = 0;
        for (int c = 0; c < EF_CONTROL_COUNT; c++) {
            const ef_control_info *r = ef_control_get(c);
            LilvNode *symbol = lilv_new_string(world, r->name);
            const LilvPort *port = lilv_plugin_get_port_by_symbol(plugin, symbol);
            lilv_node_free(symbol);
            if (!ef_control_applies(c, plugins[p].kind)) {
                if (port)
                    fail_msg("%s has a port %s, which is not for its kind", plugins[p].uri, r->name);
                continue;
            }
            expected++;
            if (!port || !lilv_port_is_a(plugin, port, control) || !lilv_port_is_a(plugin, port, input))
                fail_msg("%s has no control input port %s", plugins[p].uri, r->name);
            LilvNode *def, *min, *max;
            lilv_port_get_range(plugin, port, &def, &min, &max);
            double want_max = r->max;
            if (r->type == EF_CONTROL_ROOMS || r->type == EF_CONTROL_LABELS) {
                LilvScalePoints *sp = lilv_port_get_scale_points(plugin, port);
                want_max = (double)lilv_scale_points_size(sp) - 1;
                assert_true(want_max >= 0);
                lilv_scale_points_free(sp);
            }
            if (!same(node_number(def), r->def) || !same(node_number(min), r->min) ||
                !same(node_number(max), want_max))
                fail_msg("%s port %s: default %g min %g max %g; the table says %g %g %g",
                         plugins[p].uri, r->name, node_number(def), node_number(min),
                         node_number(max), r->def, r->min, want_max);
            lilv_node_free(def);
            lilv_node_free(min);
            lilv_node_free(max);
            ports++;
        }
        /* No control input port outside the table. */
        int inputs = 0;
        for (uint32_t i = 0; i < lilv_plugin_get_num_ports(plugin); i++) {
            const LilvPort *port = lilv_plugin_get_port_by_index(plugin, i);
            inputs += lilv_port_is_a(plugin, port, control) && lilv_port_is_a(plugin, port, input);
        }
        assert_int_equal(inputs, expected);
        lilv_node_free(uri);
    }
    printf("ok - %d LV2 control ports match the table's names, ranges and defaults\n", ports);
    lilv_node_free(scale_points_pred);
    lilv_node_free(control);
    lilv_node_free(input);
    lilv_world_free(world);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_control_table EARFLOW GOLDEN_DIR\n");
        return 2;
    }
    earflow = argv[1];
    golden_dir = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_program_and_live),
        cmocka_unit_test(test_decay_needs_a_room_tail),
        cmocka_unit_test(test_help_lists_every_control),
        cmocka_unit_test(test_lv2_ports),
    };
    return cmocka_run_group_tests(tests, load_models, free_models);
}
