/* What lv2lint would check of the bundle, with lilv: every plugin has a name, licence,
 * maintainer, version (minor and micro), comment and lv2:hardRTCapable; every port has
 * a name and a comment; every numeric control port has a range (and a default if it
 * is an input) and a unit unless it is whole-valued or a toggle; every enumeration
 * lists each value in its range once; no deprecated extension is used. Then the
 * presets: each plugin has at least two, each preset sets only ports its plugin has,
 * within their ranges and on whole values where the port is whole-valued, and names
 * what the preset's label promises (room "small", target "speech").
 * usage: test_lv2_lint   (LV2_PATH: the built bundle) */
#include <lilv/lilv.h>
#include <lv2/core/lv2.h>
#include <lv2/presets/presets.h>
#include <lv2/urid/urid.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define NS_DOAP "http://usefulinc.com/ns/doap#"
#define NS_RDFS "http://www.w3.org/2000/01/rdf-schema#"
#define NS_UNITS "http://lv2plug.in/ns/extensions/units#"
#define NS_PPROPS "http://lv2plug.in/ns/ext/port-props#"

static const char *const plugin_uris[] = {"urn:earflow:binaural", "urn:earflow:separate",
                                          "urn:earflow:separate-stereo"};

/* Deprecated or superseded LV2 extensions (lv2lint's list). */
static const char *const deprecated[] = {
    "http://lv2plug.in/ns/ext/event", "http://lv2plug.in/ns/ext/uri-map",
    "http://lv2plug.in/ns/ext/host-info", "http://lv2plug.in/ns/ext/contexts",
    "http://lv2plug.in/ns/ext/string-port", "http://lv2plug.in/ns/ext/uri-unmap",
    "http://lv2plug.in/ns/ext/event/event-helpers.h",
};

typedef struct lint {
    LilvWorld *world;
    const LilvPlugins *plugins;
    LilvNode *name, *license, *maintainer, *minor, *micro, *comment, *hard_rt, *unit,
        *integer, *toggled, *enumeration, *control, *input, *output, *preset, *applies;
    int problems;
} lint;

static void problem(lint *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL - ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    l->problems++;
}

static int has(const LilvPlugin *p, const LilvNode *predicate)
{
    LilvNodes *v = lilv_plugin_get_value(p, predicate);
    const int n = v ? (int)lilv_nodes_size(v) : 0;
    lilv_nodes_free(v);
    return n > 0;
}

static int port_has(const LilvPlugin *p, const LilvPort *port, const LilvNode *predicate)
{
    LilvNodes *v = lilv_port_get_value(p, port, predicate);
    const int n = v ? (int)lilv_nodes_size(v) : 0;
    lilv_nodes_free(v);
    return n > 0;
}

static int lint_setup(void **state)
{
    static lint l;
    l.world = lilv_world_new();
    lilv_world_load_all(l.world);
    l.plugins = lilv_world_get_all_plugins(l.world);
    l.name = lilv_new_uri(l.world, NS_DOAP "name");
    l.license = lilv_new_uri(l.world, NS_DOAP "license");
    l.maintainer = lilv_new_uri(l.world, NS_DOAP "maintainer");
    l.minor = lilv_new_uri(l.world, LV2_CORE__minorVersion);
    l.micro = lilv_new_uri(l.world, LV2_CORE__microVersion);
    l.comment = lilv_new_uri(l.world, NS_RDFS "comment");
    l.hard_rt = lilv_new_uri(l.world, LV2_CORE__hardRTCapable);
    l.unit = lilv_new_uri(l.world, NS_UNITS "unit");
    l.integer = lilv_new_uri(l.world, LV2_CORE__integer);
    l.toggled = lilv_new_uri(l.world, LV2_CORE__toggled);
    l.enumeration = lilv_new_uri(l.world, LV2_CORE__enumeration);
    l.control = lilv_new_uri(l.world, LV2_CORE__ControlPort);
    l.input = lilv_new_uri(l.world, LV2_CORE__InputPort);
    l.output = lilv_new_uri(l.world, LV2_CORE__OutputPort);
    l.preset = lilv_new_uri(l.world, LV2_PRESETS__Preset);
    l.applies = lilv_new_uri(l.world, LV2_CORE__appliesTo);
    *state = &l;
    return 0;
}

static int lint_teardown(void **state)
{
    lint *l = *state;
    LilvNode *nodes[] = {l->name, l->license, l->maintainer, l->minor, l->micro, l->comment,
                         l->hard_rt, l->unit, l->integer, l->toggled, l->enumeration,
                         l->control, l->input, l->output, l->preset, l->applies};
    for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++)
        lilv_node_free(nodes[i]);
    lilv_world_free(l->world);
    return 0;
}

static const LilvPlugin *plugin(lint *l, const char *uri)
{
    LilvNode *u = lilv_new_uri(l->world, uri);
    const LilvPlugin *p = lilv_plugins_get_by_uri(l->plugins, u);
    lilv_node_free(u);
    if (!p)
        fail_msg("%s not found in LV2_PATH=%s", uri, getenv("LV2_PATH"));
    return p;
}

static void check_plugin_metadata(lint *l, const LilvPlugin *p, const char *uri)
{
    const LilvNode *const predicates[] = {l->name, l->license, l->maintainer, l->minor,
                                          l->micro, l->comment};
    const char *const what[] = {"doap:name", "doap:license", "doap:maintainer",
                                "lv2:minorVersion", "lv2:microVersion", "rdfs:comment"};
    for (int k = 0; k < 6; k++)
        if (!has(p, predicates[k]))
            problem(l, "%s has no %s", uri, what[k]);
    if (!lilv_plugin_has_feature(p, l->hard_rt))
        problem(l, "%s does not declare lv2:hardRTCapable", uri);
    LilvNodes *features = lilv_plugin_get_supported_features(p);
    LilvNodes *data = lilv_plugin_get_extension_data(p);
    LilvNodes *sets[2] = {features, data};
    for (int s = 0; s < 2; s++)
        LILV_FOREACH (nodes, i, sets[s]) {
            const char *f = lilv_node_as_uri(lilv_nodes_get(sets[s], i));
            for (size_t d = 0; d < sizeof deprecated / sizeof *deprecated; d++)
                if (strncmp(f, deprecated[d], strlen(deprecated[d])) == 0)
                    problem(l, "%s uses the deprecated %s", uri, f);
        }
    lilv_nodes_free(features);
    lilv_nodes_free(data);
}

/* Each whole value of min..max once among the scale points. */
static void check_enumeration(lint *l, const LilvPlugin *p, const LilvPort *port,
                              const char *where, double min, double max)
{
    LilvScalePoints *sp = lilv_port_get_scale_points(p, port);
    const int n = (int)(max - min) + 1;
    int *seen = calloc((size_t)(n > 0 ? n : 1), sizeof(int));
    LILV_FOREACH (scale_points, i, sp) {
        const double v = lilv_node_as_float(lilv_scale_point_get_value(lilv_scale_points_get(sp, i)));
        if (v != floor(v) || v < min || v > max)
            problem(l, "%s: scale point %g outside %g..%g or not whole", where, v, min, max);
        else
            seen[(int)(v - min)]++;
    }
    for (int k = 0; k < n; k++)
        if (seen[k] != 1)
            problem(l, "%s: value %g has %d scale points (want 1)", where, min + k, seen[k]);
    free(seen);
    lilv_scale_points_free(sp);
}

static int check_ports(lint *l, const LilvPlugin *p, const char *uri)
{
    const uint32_t n = lilv_plugin_get_num_ports(p);
    for (uint32_t i = 0; i < n; i++) {
        const LilvPort *port = lilv_plugin_get_port_by_index(p, i);
        const char *sym = lilv_node_as_string(lilv_port_get_symbol(p, port));
        char where[256];
        snprintf(where, sizeof where, "%s port %s", uri, sym);
        LilvNode *name = lilv_port_get_name(p, port);
        if (!name)
            problem(l, "%s has no lv2:name", where);
        lilv_node_free(name);
        if (!port_has(p, port, l->comment))
            problem(l, "%s has no rdfs:comment", where);
        if (!lilv_port_is_a(p, port, l->control))
            continue;
        LilvNode *def, *min, *max;
        lilv_port_get_range(p, port, &def, &min, &max);
        const int input = lilv_port_is_a(p, port, l->input);
        if (!min || !max || (input && !def))
            problem(l, "%s: range incomplete (default %s, min %s, max %s)", where,
                    def ? "set" : "missing", min ? "set" : "missing", max ? "set" : "missing");
        const int whole = lilv_port_has_property(p, port, l->integer) ||
                          lilv_port_has_property(p, port, l->toggled);
        if (!whole && !port_has(p, port, l->unit))
            problem(l, "%s: a real-valued port without units:unit", where);
        if (lilv_port_has_property(p, port, l->enumeration) && min && max)
            check_enumeration(l, p, port, where, lilv_node_as_float(min), lilv_node_as_float(max));
        lilv_node_free(def);
        lilv_node_free(min);
        lilv_node_free(max);
    }
    return (int)n;
}

static void test_metadata_and_ports(void **state)
{
    lint *l = *state;
    int ports = 0;
    for (size_t k = 0; k < sizeof plugin_uris / sizeof *plugin_uris; k++) {
        const LilvPlugin *p = plugin(l, plugin_uris[k]);
        check_plugin_metadata(l, p, plugin_uris[k]);
        ports += check_ports(l, p, plugin_uris[k]);
    }
    printf("# %zu plugins, %d ports checked\n", sizeof plugin_uris / sizeof *plugin_uris, ports);
    assert_int_equal(l->problems, 0);
    printf("ok - metadata, versions, hardRTCapable, comments, ranges, units, enumerations; "
           "no deprecated extension\n");
}

/* A URID map for lilv_state (presets are read as states). */
typedef struct uri_table {
    char *uris[256];
    int n;
} uri_table;

static LV2_URID map_uri(LV2_URID_Map_Handle handle, const char *uri)
{
    uri_table *t = handle;
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->uris[i], uri) == 0)
            return (LV2_URID)i + 1;
    if (t->n == 256)
        return 0;
    t->uris[t->n] = strdup(uri);
    return (LV2_URID)++t->n;
}

/* The label of a port's scale point with this value, or "". */
static const char *scale_label(const LilvPlugin *p, const LilvPort *port, double value,
                               char *buf, size_t n)
{
    LilvScalePoints *sp = lilv_port_get_scale_points(p, port);
    buf[0] = 0;
    LILV_FOREACH (scale_points, i, sp) {
        const LilvScalePoint *pt = lilv_scale_points_get(sp, i);
        if (lilv_node_as_float(lilv_scale_point_get_value(pt)) == value)
            snprintf(buf, n, "%s", lilv_node_as_string(lilv_scale_point_get_label(pt)));
    }
    lilv_scale_points_free(sp);
    return buf;
}

typedef struct preset_check {
    lint *l;
    const LilvPlugin *plugin;
    const char *preset;
    int values;
    char names[256];
} preset_check;

static void check_value(const char *symbol, void *user_data, const void *value, uint32_t size,
                        uint32_t type)
{
    (void)type;
    preset_check *c = user_data;
    LilvNode *sym = lilv_new_string(c->l->world, symbol);
    const LilvPort *port = lilv_plugin_get_port_by_symbol(c->plugin, sym);
    lilv_node_free(sym);
    c->values++;
    if (!port || size != sizeof(float)) {
        problem(c->l, "preset %s sets %s, which is not a control port of its plugin", c->preset,
                symbol);
        return;
    }
    float v;
    memcpy(&v, value, sizeof v);
    LilvNode *def, *min, *max;
    lilv_port_get_range(c->plugin, port, &def, &min, &max);
    if (!min || !max || v < lilv_node_as_float(min) || v > lilv_node_as_float(max) ||
        (lilv_port_has_property(c->plugin, port, c->l->integer) && v != floorf(v)))
        problem(c->l, "preset %s: %s = %g outside its range or not whole", c->preset, symbol, v);
    lilv_node_free(def);
    lilv_node_free(min);
    lilv_node_free(max);
    if (lilv_port_has_property(c->plugin, port, c->l->enumeration)) {
        char label[128];
        snprintf(c->names + strlen(c->names), sizeof c->names - strlen(c->names), " %s=%s",
                 symbol, scale_label(c->plugin, port, v, label, sizeof label));
    }
}

static void test_presets(void **state)
{
    lint *l = *state;
    uri_table table = {{0}, 0};
    LV2_URID_Map map = {&table, map_uri};
    int total = 0;
    for (size_t k = 0; k < sizeof plugin_uris / sizeof *plugin_uris; k++) {
        const LilvPlugin *p = plugin(l, plugin_uris[k]);
        LilvNodes *presets = lilv_plugin_get_related(p, l->preset);
        int n = 0;
        LILV_FOREACH (nodes, i, presets) {
            const LilvNode *uri = lilv_nodes_get(presets, i);
            lilv_world_load_resource(l->world, uri);
            LilvState *st = lilv_state_new_from_world(l->world, &map, uri);
            preset_check c = {l, p, lilv_node_as_uri(uri), 0, ""};
            if (!st) {
                problem(l, "preset %s does not load", c.preset);
                continue;
            }
            lilv_state_emit_port_values(st, check_value, &c);
            const char *label = lilv_state_get_label(st);
            printf("# %s: \"%s\", %d values;%s\n", c.preset, label ? label : "", c.values, c.names);
            if (!label || c.values == 0)
                problem(l, "preset %s has no label or no values", c.preset);
            /* What the labels promise, in the names of the shipped models' lists. */
            if (label && strstr(label, "small room") && !strstr(c.names, "room=small"))
                problem(l, "preset %s: label says small room, values say%s", c.preset, c.names);
            if (strstr(plugin_uris[k], "separate") && !strstr(c.names, "target=speech"))
                problem(l, "preset %s: its target is not speech:%s", c.preset, c.names);
            lilv_state_free(st);
            n++;
        }
        lilv_nodes_free(presets);
        if (n < 2)
            problem(l, "%s has %d presets (want 2 or more)", plugin_uris[k], n);
        total += n;
    }
    for (int i = 0; i < table.n; i++)
        free(table.uris[i]);
    assert_int_equal(l->problems, 0);
    printf("ok - %d presets load, each within its plugin's ports and ranges\n", total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_and_ports),
        cmocka_unit_test(test_presets),
    };
    return cmocka_run_group_tests(tests, lint_setup, lint_teardown);
}
