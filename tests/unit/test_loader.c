/* Proves the model loader trusts nothing: both tiny golden models load, and every
 * corruption of a model file (size, header length, header JSON, tensor table,
 * tensor data, earflow config) is refused by ef_model_load with NULL and a message
 * naming the fault, never a crash (the suite also runs under ASan/UBSan). The
 * byte-level cases also go through ef_st_parse on exact-size heap buffers, so an
 * over-read past the end of a truncated file is caught.
 * usage: test_loader GOLDEN_DIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "earflow.h"
#include "ef_safetensors.h"
#include "test_util.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GET cJSON_GetObjectItemCaseSensitive
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct blob { unsigned char *p; size_t n; } blob;
/* A valid file: its bytes, parsed header JSON, header and data sizes, data start. */
typedef struct source {
    const char *name;
    ef_kind kind;
    int out_channels;
    blob raw;
    cJSON *header;
    size_t hlen, data_n;
    const unsigned char *data;
} source;
/* target[key] = json (NULL: deleted); the refusal must name `word` */
typedef struct edit { const char *target, *key, *json, *word; } edit;

static const char *golden_dir;
static source sources[2] = {
    {.name = "binaural_tiny.safetensors", .kind = EF_KIND_BINAURAL, .out_channels = 2},
    {.name = "separate_tiny.safetensors", .kind = EF_KIND_SEPARATE, .out_channels = 1}};
static int failures; /* wrong verdicts in the current test: every case still runs */
static int quiet;    /* print refusals only when they are wrong */

/* ------------------------------------------------------------------ helpers */

static blob sub(const blob *b, size_t n) /* exact-size copy of the first n bytes */
{
    blob c = {malloc(n ? n : 1), n};
    assert_non_null(c.p);
    memcpy(c.p, b->p, n);
    return c;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* 8-byte length + header text + suffix + s's data (none if s is NULL) + extra zeros. */
static blob assemble(const char *header, const char *suffix, const source *s, size_t extra)
{
    size_t hl = strlen(header), sl = strlen(suffix), n = s ? s->data_n : 0;
    blob b = {calloc(8 + hl + sl + n + extra, 1), 8 + hl + sl + n + extra};
    assert_non_null(b.p);
    put_le(b.p, hl + sl, 8);
    memcpy(b.p + 8, header, hl);
    memcpy(b.p + 8 + hl, suffix, sl);
    if (n)
        memcpy(b.p + 8 + hl + sl, s->data, n);
    return b;
}

static blob from_header(const source *s, const cJSON *h, const char *suffix, size_t extra)
{
    char *txt = cJSON_PrintUnformatted(h);
    assert_non_null(txt);
    blob b = assemble(txt, suffix, s, extra);
    free(txt);
    return b;
}

/* Writes b to a fresh temp file, loads it, removes it; the message loses its path. */
static ef_model *load_blob(const blob *b, ef_error *err)
{
    char path[] = "/tmp/ef_loader_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b->p, 1, b->n, fp), b->n);
    assert_int_equal(fclose(fp), 0);
    ef_model *m = ef_model_load(path, err);
    unlink(path);
    size_t pl = strlen(path);
    if (strncmp(err->message, path, pl) == 0 && err->message[pl] == ':')
        memmove(err->message, err->message + pl + 2, strlen(err->message + pl + 2) + 1);
    return m;
}

/* ef_model_load must return NULL with a message holding `word` (any message when
 * word is NULL); with st_level, ef_st_parse alone must refuse the bytes too. Frees b. */
static void refused(blob b, int st_level, const char *word, const char *what)
{
    ef_error err = {{0}}, e2 = {{0}};
    ef_model *m = load_blob(&b, &err);
    ef_st_file *f = st_level ? ef_st_parse(b.p, b.n, &e2) : NULL;
    int accepted = m || f, bad_msg = !err.message[0] || (word && !strstr(err.message, word)) ||
                                     (st_level && !e2.message[0]);
    if (accepted)
        printf("# FAIL %s: accepted by%s%s\n", what, m ? " ef_model_load" : "",
               f ? " ef_st_parse" : "");
    else if (bad_msg)
        printf("# FAIL %s: message '%s' lacks '%s'\n", what, err.message, word ? word : "");
    else if (!quiet)
        printf("#   %-36s -> %s\n", what, err.message);
    failures += accepted || bad_msg;
    ef_model_free(m);
    ef_st_free(f);
    free(b.p);
}

/* obj[key] = the JSON value `json` (moved last); json NULL deletes the key. */
static void set_json(cJSON *obj, const char *key, const char *json)
{
    assert_non_null(obj);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    if (json) {
        cJSON *v = cJSON_Parse(json);
        assert_non_null(v);
        cJSON_AddItemToObject(obj, key, v);
    }
}

/* Rebuilds the file around header h (consumed) and checks that it is refused. */
static void refused_h(const source *s, cJSON *h, size_t extra, int st_level, const char *word,
                      const char *what)
{
    refused(from_header(s, h, "", extra), st_level, word, what);
    cJSON_Delete(h);
}

/* Applies each group of edits (entries up to one with a non-empty word) to s's header
 * (in_cfg 0) or its earflow config (in_cfg 1), e->target naming an entry of that root,
 * NULL the root itself; each result must be refused naming the group's word. */
static void refuse_edits(const source *s, const edit *e, size_t n, int in_cfg, int st_level)
{
    for (size_t k = 0; k < n; k++) {
        cJSON *h = cJSON_Duplicate(s->header, 1), *meta = GET(h, "__metadata__");
        cJSON *root = in_cfg ? cJSON_Parse(GET(meta, "earflow")->valuestring) : h;
        assert_non_null(root);
        char what[160] = "";
        for (size_t k0 = k;; k++) {
            set_json(e[k].target ? GET(root, e[k].target) : root, e[k].key, e[k].json);
            snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s%s%s = %s",
                     k > k0 ? ", " : "", e[k].target ? e[k].target : "", e[k].target ? "." : "",
                     e[k].key, e[k].json ? e[k].json : "(deleted)");
            if (e[k].word[0] || k + 1 == n)
                break;
        }
        if (in_cfg) {
            char *txt = cJSON_PrintUnformatted(root);
            cJSON_ReplaceItemInObjectCaseSensitive(meta, "earflow", cJSON_CreateString(txt));
            free(txt);
            cJSON_Delete(root);
        }
        refused_h(s, h, 0, st_level, e[k].word, what);
    }
}

static long offset_of(const cJSON *t, int which)
{
    return (long)cJSON_GetArrayItem(GET(t, "data_offsets"), which)->valuedouble;
}

static cJSON *last_tensor(cJSON *h) /* the entry whose data ends the file */
{
    cJSON *t, *best = NULL;
    cJSON_ArrayForEach(t, h)
    {
        if (strcmp(t->string, "__metadata__") != 0 &&
            (!best || offset_of(t, 1) > offset_of(best, 1)))
            best = t;
    }
    assert_non_null(best);
    return best;
}

/* ------------------------------------------------------------------ tests */

/* b (freed) must load as s's kind and channel count. */
static void loads(blob b, const source *s, const char *what)
{
    ef_error err = {{0}};
    ef_model *m = load_blob(&b, &err);
    free(b.p);
    if (!m)
        fail_msg("%s, %s: %s", s->name, what, err.message);
    assert_int_equal(ef_model_kind(m), s->kind);
    assert_int_equal(ef_model_in_channels(m), 1);
    assert_int_equal(ef_model_out_channels(m), s->out_channels);
    ef_model_free(m);
}

static void valid_files_load(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++) {
        const source *s = &sources[i];
        loads(sub(&s->raw, s->raw.n), s, "as stored");
        /* controls for the helpers: the re-serialised header, bare and padded with
         * spaces as safetensors writers do */
        loads(from_header(s, s->header, "", 0), s, "rebuilt");
        loads(from_header(s, s->header, "        ", 0), s, "rebuilt, padded");
        ef_error err = {{0}};
        ef_st_file *f = ef_st_parse(s->raw.p, s->raw.n, &err);
        assert_non_null(f);
        assert_int_equal(f->n_tensors, cJSON_GetArraySize(s->header) - 1);
        printf("# %s: loads as %s, %d out channels, %d tensors, %zu data bytes\n", s->name,
               ef_kind_name(s->kind), s->out_channels, f->n_tensors, s->data_n);
        ef_st_free(f);
    }
}

static void file_size_and_header_length(void **state)
{
    (void)state;
    const source *s = &sources[0];
    ef_error err = {{0}};
    char path[1100];
    snprintf(path, sizeof path, "%s/no_such_model.safetensors", golden_dir);
    assert_null(ef_model_load(path, &err));
    assert_non_null(strstr(err.message, "No such file"));
    printf("#   %-36s -> %s\n", "missing file", err.message);
    assert_null(ef_model_load("", &err));
    assert_non_null(strstr(err.message, "no model path"));
    err.message[0] = 0;
    assert_null(ef_model_load(golden_dir, &err));
    assert_true(err.message[0] != 0);
    printf("#   %-36s -> %s\n", "a directory", err.message);

    failures = 0;
    const size_t all = s->raw.n;
    const struct { size_t n; uint64_t len; const char *word, *what; } cases[] = {
        {0, 0, "too short", "empty file"}, {7, 0, "too short", "7-byte file"},
        {8, 0, "header length", "8-byte file, header length 0"},
        {all, 0, "header length", "header length 0"}, {all, 1, "header length", "header length 1"},
        {all, all - 7, "header length", "header length = rest of file + 1"},
        {all, UINT64_MAX, "header length", "header length 2^64 - 1"},
    };
    for (size_t k = 0; k < COUNT(cases); k++) {
        blob b = sub(&s->raw, cases[k].n);
        if (b.n >= 8)
            put_le(b.p, cases[k].len, 8);
        refused(b, 1, cases[k].word, cases[k].what);
    }
    refused(assemble("{}", "", NULL, 0), 0, "earflow config", "header {} and no data");
    refused(assemble("{}", "", s, 0), 1, "after the last tensor", "header {} and the data");

    quiet = 1; /* truncations: every 997 bytes, and the last 1..8 bytes cut off */
    for (int i = 0; i < 2; i++) {
        const size_t n = sources[i].raw.n, steps = n / 997 + 1;
        for (size_t k = 0; k < steps + 8; k++) {
            size_t cut = k < steps ? 997 * k : n - (k - steps + 1);
            char what[96];
            snprintf(what, sizeof what, "%s cut to %zu of %zu bytes", sources[i].name, cut, n);
            refused(sub(&sources[i].raw, cut), 1, NULL, what);
        }
        printf("# %s: %zu truncations refused by ef_model_load and ef_st_parse\n",
               sources[i].name, steps + 8);
    }
    quiet = 0;
    assert_int_equal(failures, 0);
}

static void bad_header_json(void **state)
{
    (void)state;
    failures = 0;
    const source *s = &sources[0];
    const char *texts[] = {"not json", "[1,2,3]", "\"a string\"", "null", "{\"a\":1", "{\"a\":}"};
    for (int i = 0; i < 6; i++) {
        char what[64];
        snprintf(what, sizeof what, "header '%s'", texts[i]);
        refused(assemble(texts[i], "", s, 0), 1, "JSON object", what);
    }
    blob b = sub(&s->raw, s->raw.n);
    memset(b.p + 8, 0xff, 16);
    refused(b, 1, "JSON object", "16 bytes 0xff at header start");
    char *txt = cJSON_PrintUnformatted(s->header); /* garbage where the structure goes on */
    memcpy(strstr(txt, "\"emb.fc1.bias\"") + 14, "\x01\xfe}garbage", 10);
    refused(assemble(txt, "", s, 0), 1, "JSON object", "garbage bytes inside the header");
    free(txt);
    cJSON *h = cJSON_Duplicate(s->header, 1);
    cJSON_AddItemToObject(h, "__metadata__", cJSON_CreateObject());
    refused_h(s, h, 0, 1, "__metadata__", "__metadata__ twice");
    /* Only whitespace (padding) may follow the JSON object inside the header length. */
    refused(from_header(s, s->header, "garbage", 0), 1, NULL, "garbage after the header JSON");

    /* Random one-byte mutations of the header: no crash, no leak, whatever the verdict. */
    for (int i = 0; i < 2; i++) {
        uint32_t seed = 12345u + (uint32_t)i;
        int n_refused = 0, n = 300;
        for (int j = 0; j < n; j++) {
            b = sub(&sources[i].raw, sources[i].raw.n);
            b.p[test_rand(&seed) % (8 + sources[i].hlen)] = (unsigned char)test_rand(&seed);
            ef_error err = {{0}};
            ef_model *m = load_blob(&b, &err);
            n_refused += !m;
            assert_true(m || err.message[0]);
            ef_model_free(m);
            ef_st_free(ef_st_parse(b.p, b.n, &err));
            free(b.p);
        }
        printf("# %s: %d of %d random one-byte header mutations refused (the rest "
               "still form a valid model)\n", sources[i].name, n_refused, n);
    }
    assert_int_equal(failures, 0);
}

static void tensor_table(void **state)
{
    (void)state;
    failures = 0;
#define T "emb.t_freqs"
    static const edit edits[] = {
        {T, "data_offsets", "[32,0]", "data_offsets"}, {T, "data_offsets", "[0]", "data_offsets"},
        {T, "data_offsets", "[0,32.5]", "data_offsets"},
        {T, "data_offsets", "[-32,0]", "data_offsets"},
        {T, "data_offsets", "[0,1e30]", "data_offsets"}, {T, "data_offsets", NULL, "data_offsets"},
        {T, "shape", "[1000000000,1000000000]", "shape"}, {T, "shape", "[-8]", "shape"},
        {T, "shape", "[100000,100000]", "shape too large"}, {T, "shape", "[2.5]", "shape"},
        {T, "shape", "[9]", "bytes stored for 9 floats"}, {T, "shape", "[1,1,1,1,8]", "shape"},
        {T, "shape", "8", "shape"}, {T, "shape", NULL, "shape"}, {T, "dtype", "\"F16\"", "dtype"},
        {T, "dtype", "\"I64\"", "dtype"}, {T, "dtype", NULL, "dtype"},
        {NULL, T, "5", "not an object"},
    };
#undef T
    for (int i = 0; i < 2; i++) {
        const source *s = &sources[i];
        printf("# %s\n", s->name);
        refuse_edits(s, edits, COUNT(edits), 0, 1);
        char json[96], what[96];
        cJSON *h = cJSON_Duplicate(s->header, 1), *last = last_tensor(h);
        const long b0 = offset_of(last, 0), b1 = offset_of(last, 1);
        snprintf(json, sizeof json, "[%ld,%zu]", b0, s->data_n + 4);
        set_json(last, "data_offsets", json);
        snprintf(what, sizeof what, "%s ends 4 bytes past the end", last->string);
        refused(from_header(s, h, "", 0), 1, "data_offsets", what);
        snprintf(json, sizeof json, "[%zu,%zu]", s->data_n + 4, s->data_n + 4 + (size_t)(b1 - b0));
        set_json(last, "data_offsets", json);
        refused(from_header(s, h, "", 0), 1, "data_offsets", "last tensor begins past the end");
        snprintf(json, sizeof json, "[%ld,%ld]", b0 + 4, b1 + 4);
        set_json(last, "data_offsets", json);
        refused_h(s, h, 4, 1, "gap", "4-byte gap before the last tensor");

        h = cJSON_Duplicate(s->header, 1);
        const cJSON *o1 = GET(GET(h, "emb.fc1.bias"), "data_offsets");
        cJSON_ReplaceItemInObjectCaseSensitive(GET(h, "emb.fc2.bias"), "data_offsets",
                                               cJSON_Duplicate(o1, 1));
        refused_h(s, h, 0, 1, "overlaps", "emb.fc2.bias on emb.fc1.bias's bytes");
        refused(from_header(s, s->header, "", 4), 1, "after the last tensor",
                "4 trailing bytes after the last tensor");
    }
    assert_int_equal(failures, 0);
}

static void tensor_binding(void **state)
{
    (void)state;
    failures = 0;
    static const edit shapes[] = {{"enc.0.conv1.weight", "shape", "[8,8,9]", "has shape"},
                                  {"emb.fc2.weight", "shape", "[256]", "has shape"}};
    for (int i = 0; i < 2; i++) {
        const source *s = &sources[i];
        printf("# %s\n", s->name);
        cJSON *h = cJSON_Duplicate(s->header, 1);
        cJSON_AddItemToObject(h, "emb.t_freqs", cJSON_Duplicate(GET(h, "emb.t_freqs"), 1));
        refused_h(s, h, 0, 1, "appears twice", "emb.t_freqs listed twice");
        h = cJSON_Duplicate(s->header, 1);
        cJSON_AddItemToObject(h, "enc.0.conv1.weightX",
                              cJSON_DetachItemFromObjectCaseSensitive(h, "enc.0.conv1.weight"));
        refused_h(s, h, 0, 0, "'enc.0.conv1.weight' is missing", "enc.0.conv1.weight renamed ...X");
        h = cJSON_Duplicate(s->header, 1);
        char json[128];
        snprintf(json, sizeof json, "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[%zu,%zu]}",
                 s->data_n, s->data_n + 4);
        set_json(h, "extra.weight", json);
        refused_h(s, h, 4, 0, "not part", "unknown tensor extra.weight [1]");
        refuse_edits(s, shapes, COUNT(shapes), 0, 0);

        const struct { const char *name; int at_end; uint32_t bits; const char *what; } bad[] = {
            {"enc.0.conv1.weight", 0, 0x7fc00000u, "NaN first in enc.0.conv1.weight"},
            {"mid.0.proj.weight", 1, 0x7f800000u, "+Inf last in mid.0.proj.weight"},
            {last_tensor(s->header)->string, 1, 0xff800000u, "-Inf in the last 4 bytes"}};
        for (int k = 0; k < 3; k++) {
            const cJSON *t = GET(s->header, bad[k].name);
            blob b = sub(&s->raw, s->raw.n);
            put_le(b.p + 8 + s->hlen + (bad[k].at_end ? offset_of(t, 1) - 4 : offset_of(t, 0)),
                   bad[k].bits, 4);
            refused(b, 0, "non-finite", bad[k].what);
        }
    }
    assert_int_equal(failures, 0);
}

static void config_values(void **state)
{
    (void)state;
    failures = 0;
    static const edit bin[] = {
        {NULL, "version", "2", "version"}, {NULL, "version", "\"1\"", "version"},
        {NULL, "format", "\"safetensors\"", "format"}, {NULL, "kind", "\"reverb\"", "kind"},
        {NULL, "kind", "\"separate\"", "labels"}, {NULL, "sample_rate", "1000", "sample_rate"},
        {NULL, "n_fft", "511", "n_fft"}, {NULL, "hop", "100", "hop"}, {NULL, "hop", "512", "hop"},
        {NULL, "window", "\"hann\"", "window"}, {NULL, "arch", NULL, "arch is missing"},
        {NULL, "flow", NULL, "flow is missing"}, {"compress", "alpha", "0", "alpha"},
        {"arch", "groups", "3", "divisible by groups"},
        {"arch", "widths", "[8,12]", "len(dil_enc)"}, {"arch", "kt", "2", "has shape"},
        {"arch", "dil_mid", "[4,4]", "'mid.1.norm1.weight' is missing"},
        {"conditioning", "rooms", "[]", "rooms"}, {"conditioning", "rooms", "[\"\"]", "rooms"},
        {"conditioning", "dist_max", "0.1", "dist_max"}, {"flow", "sigma", "-1", "sigma"},
        {"flow", "solver", "\"rk4\"", "solver"}, {"flow", "steps", "0", "steps"},
        {"flow", "steps", "1000", "steps"}, {"flow", "steps", "2.5", "steps"},
        {"flow", "t0", "1.5", "t0"},
        {"arch", "freq_emb", "1", "true or false"},
        {"arch", "freq_emb", "false", "'freq_emb' is not part"},
        {"arch", "head", "\"gain\"", "arch.head"}, {"arch", "head", "1", "arch.head"},
        {"conditioning", "prior", "\"sphere\"", "conditioning.prior"},
        {"conditioning", "room_tail", "1", "true or false"},
        {"conditioning", "room_tail", "true", "needs conditioning.prior"},
        {"conditioning", "prior", "\"spherical_head\"", ""},
        {"conditioning", "room_tail", "true", "'room_tail.decay' is missing"},
        {"arch", "out_gain", "1", "true or false"},
        {"arch", "out_gain", "true", "needs arch.head"},          /* a velocity is no gain */
        {"arch", "head", "\"mask\"", ""}, {"arch", "out_gain", "true", "'out_gain.weight' is missing"},
        {"arch", "tail_gain", "1", "true or false"},
        {"arch", "tail_gain", "true", "needs arch.head"},         /* a gain beside a mask only */
        {"arch", "head", "\"mask\"", ""}, {"arch", "tail_gain", "true", "needs conditioning.room_tail"},
        {"arch", "label_heads", "1", "true or false"},
        {"arch", "label_heads", "true", "for separation models only"},   /* heads are labels' */
        /* kind swapped, with the other kind's conditioning: only the shapes can tell */
        {NULL, "kind", "\"separate\"", ""},
        {"conditioning", "labels", "[\"a\",\"b\"]", "has shape"},
    };
    printf("# %s\n", sources[0].name);
    refuse_edits(&sources[0], bin, COUNT(bin), 1, 0);
    static const edit sep[] = {
        {NULL, "kind", "\"binaural\"", "rooms"}, {"conditioning", "labels", "[]", "labels"},
        /* the binaural prior's keys on a separation model: refused, not ignored */
        {"conditioning", "room_tail", "false", "conditioning.room_tail is for binaural"},
        {"conditioning", "prior", "\"mono\"", "conditioning.prior is for binaural"},
        {"arch", "label_heads", "\"yes\"", "true or false"},
        {"arch", "label_heads", "true", "has shape"},        /* out_conv: one layer, not one per label */
        {"arch", "head", "\"mask\"", ""}, {"arch", "tail_gain", "true", "needs conditioning.room_tail"},
        {"conditioning", "labels", "[\"speech\",\"music\"]", "has shape"},
        {"flow", "t0", "1.5", "t0"}, {"arch", "freq_emb", "true", "'freq_emb' is missing"},
        {NULL, "n_fft", "516", ""},
        {NULL, "hop", "129", "not divisible"},
        /* GBs of histories from a small file (found writing tests/fuzz): refused, not allocated */
        {NULL, "n_fft", "16384", ""}, {NULL, "hop", "8192", ""}, {"arch", "kt", "9", ""},
        {"arch", "dil_mid", "[256]", "MiB per engine"},
        /* kind swapped, with the other kind's conditioning: only the shapes can tell */
        {NULL, "kind", "\"binaural\"", ""}, {"conditioning", "rooms", "[\"a\",\"b\",\"c\"]", ""},
        {"conditioning", "dist_min", "0.2", ""}, {"conditioning", "dist_max", "10", "has shape"},
        {"conditioning", "trained_labels", "[]", "trained_labels"},
        {"conditioning", "trained_labels", "\"speech\"", "trained_labels"},
        {"conditioning", "trained_labels", "[\"choir\"]", "not one of conditioning.labels"},
        {"conditioning", "trained_labels", "[\"music\",\"music\"]", "listed twice"},
    };
    printf("# %s\n", sources[1].name);
    refuse_edits(&sources[1], sep, COUNT(sep), 1, 0);
#define M "__metadata__"
    static const edit meta_st[] = {
        {NULL, M, "\"x\"", "must be one object"}, {M, "earflow", "5", "must be strings"},
        {M, "earflow", "{\"format\":\"earflow-model\"}", "must be strings"},
    };
    static const edit meta[] = {
        {NULL, M, NULL, "no earflow config"}, {NULL, M, "{}", "no earflow config"},
        {NULL, M, "{\"other\":\"x\"}", "no earflow config"},
        {M, "earflow", "\"not json {\"", "not valid JSON"},
        {M, "earflow", "\"[1,2]\"", "not a JSON object"},
    };
#undef M
    printf("# %s metadata\n", sources[0].name);
    refuse_edits(&sources[0], meta_st, COUNT(meta_st), 0, 1);
    refuse_edits(&sources[0], meta, COUNT(meta), 0, 0);
    assert_int_equal(failures, 0);
}

/* The separation golden model with conditioning.trained_labels = json (NULL: absent). */
static ef_model *with_trained_labels(const char *json)
{
    const source *s = &sources[1];
    cJSON *h = cJSON_Duplicate(s->header, 1), *meta = GET(h, "__metadata__");
    cJSON *cfg = cJSON_Parse(GET(meta, "earflow")->valuestring);
    assert_non_null(cfg);
    set_json(GET(cfg, "conditioning"), "trained_labels", json);
    char *txt = cJSON_PrintUnformatted(cfg);
    cJSON_ReplaceItemInObjectCaseSensitive(meta, "earflow", cJSON_CreateString(txt));
    free(txt);
    cJSON_Delete(cfg);
    blob b = from_header(s, h, "", 0);
    cJSON_Delete(h);
    ef_error err = {{0}};
    ef_model *m = load_blob(&b, &err);
    free(b.p);
    if (!m)
        fail_msg("trained_labels %s: %s", json ? json : "(absent)", err.message);
    return m;
}

/* 0.2 s of a fixed noise through an engine of m after `set` (a label, or -1: none);
 * returns ef_engine_set_label's answer in *answer. */
static void render_label(const ef_model *m, int set, int *answer, float *out, int n)
{
    ef_error err = {{0}};
    assert_int_equal(n % 256, 0);
    ef_engine *e = ef_engine_new(m, 48000, 256, &err);
    assert_non_null(e);
    ef_engine_set_seed(e, 3);
    *answer = set >= 0 ? ef_engine_set_label(e, set) : 0;
    unsigned rng = 1;
    for (int done = 0; done < n; done += 256) {
        float in[256];
        for (int i = 0; i < 256; i++)
            in[i] = (float)((rng = rng * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
        const float *ip[1] = {in};
        float *op[1] = {out + done};
        ef_engine_process(e, ip, op, 256);
    }
    ef_engine_free(e);
}

/* conditioning.trained_labels: read, exposed, and enforced by the engine: it starts
 * at the first trained label and refuses the others, keeping the label it had. */
static void trained_labels(void **state)
{
    (void)state;
    enum { N = 38 * 256 }; /* 0.2 s in whole blocks */
    static float all_music[N], only_music[N], refused_speech[N], clamped[N], all_speech[N];
    ef_model *all = with_trained_labels(NULL), *music = with_trained_labels("[\"music\"]");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ef_model_label_trained(all, i), 1);
        assert_int_equal(ef_model_label_trained(music, i), i == 1);
    }
    assert_int_equal(ef_model_label_trained(music, -1), 0);
    assert_int_equal(ef_model_label_trained(music, 3), 0);
    int a;
    render_label(all, 1, &a, all_music, N);
    assert_int_equal(a, 0);
    render_label(all, 0, &a, all_speech, N);
    render_label(music, -1, &a, only_music, N);           /* starts at music */
    render_label(music, 0, &a, refused_speech, N);        /* speech refused: still music */
    assert_int_equal(a, -1);
    render_label(music, 1 << 30, &a, clamped, N);         /* clamped to noise: refused */
    assert_int_equal(a, -1);
    assert_memory_equal(only_music, all_music, sizeof all_music);
    assert_memory_equal(refused_speech, all_music, sizeof all_music);
    assert_memory_equal(clamped, all_music, sizeof all_music);
    /* the control for the comparisons: another label sounds different */
    assert_memory_not_equal(all_speech, all_music, sizeof all_music);
    printf("# trained_labels [\"music\"]: starts at music; speech and a clamped noise refused "
           "(output equal to music's); speech itself differs\n");
    ef_model_free(all);
    ef_model_free(music);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_loader GOLDEN_DIR\n");
        return 2;
    }
    golden_dir = argv[1];
    for (int i = 0; i < 2; i++) {
        source *s = &sources[i];
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", golden_dir, s->name);
        FILE *fp = fopen(path, "rb");
        blob all = {malloc(1 << 20), 0};
        all.n = fp ? fread(all.p, 1, 1 << 20, fp) : 0;
        s->raw = sub(&all, all.n);
        free(all.p);
        for (int k = 7; k >= 0 && all.n >= 8; k--)
            s->hlen = s->hlen << 8 | s->raw.p[k];
        if (!fp || fclose(fp) || all.n < 8 || s->hlen > all.n - 8 ||
            !cJSON_IsObject(s->header = cJSON_ParseWithLength((char *)s->raw.p + 8, s->hlen))) {
            fprintf(stderr, "%s: cannot read a safetensors file\n", path);
            return 1;
        }
        s->data = s->raw.p + 8 + s->hlen;
        s->data_n = all.n - 8 - s->hlen;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_files_load), cmocka_unit_test(file_size_and_header_length),
        cmocka_unit_test(bad_header_json),  cmocka_unit_test(tensor_table),
        cmocka_unit_test(tensor_binding),   cmocka_unit_test(config_values),
        cmocka_unit_test(trained_labels),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    for (int i = 0; i < 2; i++) {
        free(sources[i].raw.p);
        cJSON_Delete(sources[i].header);
    }
    return rc;
}
