/* Build-time generator of earflow.ttl: fills the room and target enumerations of
 * earflow.ttl.in from the shipped models, or from fixed defaults without them.
 * usage: gen_ttl TEMPLATE OUTPUT BINAURAL_MODEL|- SEPARATE_MODEL|- */
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

static void write_scale_points(FILE *f, const names *n)
{
    for (int i = 0; i < n->n; i++) {
        fprintf(f, "%s[ rdfs:label \"", i ? " ,\n\t\t\t" : "\t\tlv2:scalePoint ");
        for (const char *c = n->text[i]; *c; c++)
            if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20)
                fputc(*c, f);
        fprintf(f, "\" ; rdf:value %d ]", i);
    }
}

/* Copies the template, replacing @NAME@ placeholders. */
static int expand(FILE *in, FILE *out, const names *rooms, const names *labels)
{
    char line[4096];
    while (fgets(line, sizeof line, in)) {
        char *at;
        if (strcmp(line, "@ROOM_SCALE_POINTS@\n") == 0) {
            write_scale_points(out, rooms);
            fputc('\n', out);
        } else if (strcmp(line, "@TARGET_SCALE_POINTS@\n") == 0) {
            write_scale_points(out, labels);
            fputc('\n', out);
        } else if ((at = strstr(line, "@ROOM_MAX@")) || (at = strstr(line, "@TARGET_MAX@"))) {
            int room = strncmp(at, "@ROOM_MAX@", 10) == 0;
            fwrite(line, 1, (size_t)(at - line), out);
            fprintf(out, "%d", (room ? rooms->n : labels->n) - 1);
            fputs(at + (room ? 10 : 12), out);
        } else {
            fputs(line, out);
        }
    }
    return ferror(in) || ferror(out) ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: gen_ttl TEMPLATE OUTPUT BINAURAL_MODEL|- SEPARATE_MODEL|-\n");
        return 2;
    }
    static names rooms, labels;
    if (collect(argv[3], 1, default_rooms, 4, &rooms) || collect(argv[4], 0, default_labels, 3, &labels))
        return 1;
    FILE *in = fopen(argv[1], "r");
    FILE *out = fopen(argv[2], "w");
    if (!in || !out) {
        fprintf(stderr, "gen_ttl: cannot open %s or %s\n", argv[1], argv[2]);
        return 1;
    }
    int rc = expand(in, out, &rooms, &labels);
    fclose(in);
    if (fclose(out) != 0)
        rc = -1;
    return rc ? 1 : 0;
}
