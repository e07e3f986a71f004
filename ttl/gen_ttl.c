/* Build-time generator of earflow.ttl: copies earflow.ttl.in and writes each plugin's
 * control ports (the line "@CONTROL_PORTS binaural@" or "... separate@") from the
 * library's control table: one port per row that applies to that kind, in table order,
 * numbered on from the last fixed port. Room and target scale points come from the
 * shipped models, or from fixed defaults without them.
 * "@MINOR_VERSION@" and "@MICRO_VERSION@" become the project version's (0.1.0: 1, 0; LV2
 * reads an odd minor version as a development release).
 * usage: gen_ttl TEMPLATE OUTPUT BINAURAL_MODEL|- SEPARATE_MODEL|- VERSION */
#include "earflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAMES 64

static const char *default_rooms[] = {"anechoic", "small", "medium", "large"};
static const char *default_labels[] = {"speech", "music", "noise"};

typedef struct names {
    int n;
    char text[MAX_NAMES][128];
} names;

/* Names from the model (rooms or labels), or the defaults when path is "-". */
static int collect(const char *path, int rooms, const char *const *defaults, int n_defaults,
                   names *out)
{
    out->n = 0;
    if (strcmp(path, "-") == 0) {
        for (int i = 0; i < n_defaults; i++)
            snprintf(out->text[out->n++], sizeof out->text[0], "%s", defaults[i]);
        return 0;
    }
    ef_error err = {{0}};
    ef_model *m = ef_model_load(path, &err);
    if (!m) {
        fprintf(stderr, "gen_ttl: %s\n", err.message);
        return -1;
    }
    int n = rooms ? ef_model_rooms(m) : ef_model_labels(m);
    for (int i = 0; i < n && i < MAX_NAMES; i++)
        snprintf(out->text[out->n++], sizeof out->text[0], "%s",
                 rooms ? ef_model_room_name(m, i) : ef_model_label_name(m, i));
    ef_model_free(m);
    if (out->n == 0) {
        fprintf(stderr, "gen_ttl: %s has no %s\n", path, rooms ? "rooms" : "labels");
        return -1;
    }
    return 0;
}

/* A Turtle string literal's contents: quotes, backslashes and control bytes dropped. */
static void put_text(FILE *f, const char *s)
{
    for (; *s; s++)
        if (*s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
            fputc(*s, f);
}

static void scale_point(FILE *f, int first, const char *label, int value)
{
    fprintf(f, "%s[ rdfs:label \"", first ? "\t\tlv2:scalePoint " : " ,\n\t\t\t");
    put_text(f, label);
    fprintf(f, "\" ; rdf:value %d ]", value);
}

/* A real-valued control without a unit is a ratio (mix): units:coef. */
static const char *unit_uri(const ef_control_info *r)
{
    return !strcmp(r->unit, "deg") ? "units:degree" : !strcmp(r->unit, "m") ? "units:m"
         : !strcmp(r->unit, "dB") ? "units:db" : !strcmp(r->unit, "s") ? "units:s"
         : r->type == EF_CONTROL_REAL ? "units:coef" : NULL;
}

static void control_port(FILE *f, int index, const ef_control_info *r, int control,
                         const names *rooms, const names *labels)
{
    const int listed = r->type == EF_CONTROL_ROOMS || r->type == EF_CONTROL_LABELS;
    const names *list = r->type == EF_CONTROL_ROOMS ? rooms : labels;
    fprintf(f, "\t] , [\n\t\ta lv2:InputPort , lv2:ControlPort ;\n");
    fprintf(f, "\t\tlv2:index %d ; lv2:symbol \"%s\" ; lv2:name \"", index, r->name);
    put_text(f, r->title);
    fprintf(f, "\" ;\n\t\trdfs:comment \"");
    put_text(f, r->description);
    if (listed)
        fprintf(f, " An index past the loaded model's count means its last.");
    fprintf(f, "\" ;\n");
    if (control == EF_CONTROL_ENABLED) /* the host's own bypass switch drives it */
        fprintf(f, "\t\tlv2:designation lv2:enabled ;\n");
    const char *props[4];
    int n = 0;
    if (r->type == EF_CONTROL_TOGGLE)
        props[n++] = "lv2:toggled";
    if (r->type == EF_CONTROL_INTEGER || r->type == EF_CONTROL_CHOICE || listed)
        props[n++] = "lv2:integer";
    if (r->type == EF_CONTROL_CHOICE || listed)
        props[n++] = "lv2:enumeration";
    if (r->flags & EF_CONTROL_LOGARITHMIC)
        props[n++] = "pprops:logarithmic";
    if (r->flags & EF_CONTROL_EXPENSIVE)
        props[n++] = "pprops:expensive";
    for (int k = 0; k < n; k++)
        fprintf(f, "%s%s", k ? " , " : "\t\tlv2:portProperty ", props[k]);
    if (n)
        fprintf(f, " ;\n");
    const double max = listed ? list->n - 1 : r->max;
    fprintf(f, "\t\tlv2:default %g ; lv2:minimum %g ; lv2:maximum %g", r->def, r->min, max);
    if (unit_uri(r))
        fprintf(f, " ; units:unit %s", unit_uri(r));
    const int n_points = listed ? list->n : 0;
    int k = 0;
    for (; k < n_points || (!listed && k < EF_CONTROL_MAX_CHOICES && r->choices[k]); k++) {
        if (k == 0)
            fprintf(f, " ;\n");
        scale_point(f, k == 0, listed ? list->text[k] : r->choices[k], (int)r->min + k);
    }
    fputc('\n', f);
}

/* Replaces the first `key` in line by value (the line has room for it). */
static void substitute(char *line, size_t size, const char *key, const char *value)
{
    char *at = strstr(line, key);
    if (!at)
        return;
    char rest[4096];
    snprintf(rest, sizeof rest, "%s", at + strlen(key));
    snprintf(at, size - (size_t)(at - line), "%s%s", value, rest);
}

/* Copies the template, writing the control ports where it asks for them. */
static int expand(FILE *in, FILE *out, const names *rooms, const names *labels,
                  const char *minor, const char *micro)
{
    char line[4096];
    int last_index = -1;
    while (fgets(line, sizeof line, in)) {
        substitute(line, sizeof line, "@MINOR_VERSION@", minor);
        substitute(line, sizeof line, "@MICRO_VERSION@", micro);
        const char *at = strstr(line, "lv2:index ");
        if (at)
            last_index = atoi(at + 10);
        if (strncmp(line, "@CONTROL_PORTS ", 15) != 0) {
            fputs(line, out);
            continue;
        }
        ef_kind kind;
        if (strcmp(line + 15, "binaural@\n") == 0)
            kind = EF_KIND_BINAURAL;
        else if (strcmp(line + 15, "separate@\n") == 0)
            kind = EF_KIND_SEPARATE;
        else {
            fprintf(stderr, "gen_ttl: unknown placeholder %s", line);
            return -1;
        }
        for (int c = 0; c < EF_CONTROL_COUNT; c++)
            if (ef_control_applies(c, kind))
                control_port(out, ++last_index, ef_control_get(c), c, rooms, labels);
        fputs("\t]\n", out);
    }
    return ferror(in) || ferror(out) ? -1 : 0;
}

int main(int argc, char **argv)
{
    unsigned major, minor, micro;
    if (argc != 6 || sscanf(argv[5], "%u.%u.%u", &major, &minor, &micro) != 3) {
        fprintf(stderr, "usage: gen_ttl TEMPLATE OUTPUT BINAURAL_MODEL|- SEPARATE_MODEL|- "
                        "MAJOR.MINOR.MICRO\n");
        return 2;
    }
    char minor_text[16], micro_text[16];
    snprintf(minor_text, sizeof minor_text, "%u", minor);
    snprintf(micro_text, sizeof micro_text, "%u", micro);
    static names rooms, labels;
    if (collect(argv[3], 1, default_rooms, 4, &rooms) || collect(argv[4], 0, default_labels, 3, &labels))
        return 1;
    FILE *in = fopen(argv[1], "r");
    FILE *out = fopen(argv[2], "w");
    if (!in || !out) {
        fprintf(stderr, "gen_ttl: cannot open %s or %s\n", argv[1], argv[2]);
        return 1;
    }
    int rc = expand(in, out, &rooms, &labels, minor_text, micro_text);
    fclose(in);
    if (fclose(out) != 0)
        rc = -1;
    return rc ? 1 : 0;
}
