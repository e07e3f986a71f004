/* Fuzz target: model files through the loader (ef_model_load_memory: safetensors
 * header, JSON, tensor table and data, the earflow config, every tensor bound to the
 * architecture). A model it accepts must also run: an engine is made and a few hops
 * processed, and the output must stay finite. A refusal must come with a message.
 *
 * Two kinds of input. A whole model file (the golden and micro models of the
 * corpus, and their mutations). Or, when it begins with '{', an earflow config
 * alone: the target writes the file around it, with the tensors that config's
 * architecture needs (names and shapes as docs/model-spec.md, fixed pseudo-random
 * weights), so that mutated architectures reach the engine instead of stopping at
 * the first shape mismatch. */
#include "earflow.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HOPS 6
/* Speed is not what is fuzzed: an accepted model is run only when its HOPS frames
 * cost at most this many multiply-accumulates (a 64 KB file can describe 1e9). */
#define MAX_RUN_MACS 2e8
/* Config inputs: at most this many weights written (16 MB). */
#define MAX_WEIGHTS (4 << 20)

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_model: %s\n", what);
        abort();
    }
}

/* Every accessor of an accepted model, as `earflow info` would call them. */
static void describe(const ef_model *m)
{
    check(ef_model_sample_rate(m) >= 8000 && ef_model_sample_rate(m) <= 192000, "sample rate");
    check(ef_model_hop(m) >= 1 && ef_model_hop(m) <= ef_model_n_fft(m), "hop");
    check(ef_model_macs_per_evaluation(m) >= 0 && ef_model_params(m) >= 0, "cost");
    for (int i = 0; i < ef_model_rooms(m); i++)
        check(ef_model_room_name(m, i) != NULL, "room name");
    for (int i = 0; i < ef_model_labels(m); i++)
        check(ef_model_label_name(m, i) != NULL, "label name");
    ef_solver solver;
    int steps;
    float t0;
    ef_model_default_schedule(m, &solver, &steps, &t0);
    check(steps >= 1 && steps <= EF_MAX_STEPS && t0 >= 0 && t0 < 1, "default schedule");
    check(ef_model_config_json(m) != NULL, "config text");
}

static void run(const ef_model *m)
{
    ef_solver solver;
    int steps;
    float t0;
    ef_model_default_schedule(m, &solver, &steps, &t0);
    if ((double)ef_model_macs_per_evaluation(m) * ef_solver_evaluations(solver, steps) * HOPS >
        MAX_RUN_MACS)
        return;
    const int n = ef_model_hop(m); /* one frame per call */
    ef_error err = {{0}};
    ef_engine *e = ef_engine_new(m, ef_model_sample_rate(m), n, &err);
    check(e != NULL, err.message);
    float *in = calloc((size_t)n, sizeof *in), *out[2];
    out[0] = calloc((size_t)n, sizeof(float));
    out[1] = calloc((size_t)n, sizeof(float));
    check(in && out[0] && out[1], "out of memory");
    uint32_t x = 12345; /* a fixed loud noise: every bin busy */
    for (int i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        in[i] = (float)(x >> 8) / 8388608.0f - 1.0f;
    }
    ef_engine_set_position(e, 30, 10, 2);
    ef_engine_set_label(e, 0);
    const float *ins[1] = {in};
    for (int k = 0; k < HOPS; k++) {
        ef_engine_process(e, ins, out, n);
        for (int c = 0; c < ef_model_out_channels(m); c++)
            for (int i = 0; i < n; i++)
                check(isfinite(out[c][i]), "non-finite output");
    }
    ef_engine_free(e);
    free(in);
    free(out[0]);
    free(out[1]);
}

/* ------------------------------------------------ config inputs: the file around */

typedef struct writer {
    cJSON *header;
    float *data;
    size_t n, cap; /* floats */
    uint32_t rng;
    int ok;
} writer;

/* One F32 tensor of the given shape (sizes clamped to >= 0). */
static void tensor(writer *w, const char *name, int n_dims, const long *shape)
{
    double count = 1;
    for (int d = 0; d < n_dims; d++)
        count *= shape[d] > 0 ? (double)shape[d] : 0;
    if (!w->ok || count > MAX_WEIGHTS - (double)w->n) {
        w->ok = 0;
        return;
    }
    if (w->n + (size_t)count > w->cap) {
        size_t cap = (w->n + (size_t)count) * 2;
        float *nd = realloc(w->data, cap * sizeof *nd);
        check(nd != NULL, "out of memory");
        w->data = nd;
        w->cap = cap;
    }
    for (size_t i = 0; i < (size_t)count; i++) { /* small weights: the network stays tame */
        w->rng = w->rng * 1664525u + 1013904223u;
        w->data[w->n + i] = ((float)(w->rng >> 8) / 8388608.0f - 1.0f) * 0.3f;
    }
    cJSON *t = cJSON_CreateObject(), *s = cJSON_CreateArray(), *o = cJSON_CreateArray();
    cJSON_AddStringToObject(t, "dtype", "F32");
    for (int d = 0; d < n_dims; d++)
        cJSON_AddItemToArray(s, cJSON_CreateNumber((double)(shape[d] > 0 ? shape[d] : 0)));
    cJSON_AddItemToObject(t, "shape", s);
    cJSON_AddItemToArray(o, cJSON_CreateNumber((double)(w->n * 4)));
    cJSON_AddItemToArray(o, cJSON_CreateNumber((double)((w->n + (size_t)count) * 4)));
    cJSON_AddItemToObject(t, "data_offsets", o);
    cJSON_AddItemToObject(w->header, name, t);
    w->n += (size_t)count;
}

static void pair(writer *w, const char *prefix, int n_dims, const long *shape, long bias)
{
    char name[96];
    snprintf(name, sizeof name, "%s.weight", prefix);
    tensor(w, name, n_dims, shape);
    snprintf(name, sizeof name, "%s.bias", prefix);
    tensor(w, name, 1, &bias);
}

static void conv(writer *w, const char *prefix, long cout, long cin, long kt)
{
    pair(w, prefix, 4, (long[]){cout, cin, kt, 3}, cout);
}

static void block(writer *w, const char *prefix, long ch, long kt, long emb)
{
    char p[80];
    snprintf(p, sizeof p, "%s.norm1", prefix);
    pair(w, p, 1, &ch, ch);
    snprintf(p, sizeof p, "%s.conv1", prefix);
    conv(w, p, ch, ch, kt);
    snprintf(p, sizeof p, "%s.proj", prefix);
    pair(w, p, 2, (long[]){ch, emb}, ch);
    snprintf(p, sizeof p, "%s.norm2", prefix);
    pair(w, p, 1, &ch, ch);
    snprintf(p, sizeof p, "%s.conv2", prefix);
    conv(w, p, ch, ch, 1);
}

static long num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) && fabs(v->valuedouble) < 1e6 ? (long)v->valuedouble : 0;
}

static int count(const cJSON *obj, const char *key)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* The tensors the config's architecture needs, as far as it can be read. */
static void tensors_for(writer *w, const cJSON *cfg)
{
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(cfg, "arch");
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(cfg, "conditioning");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(cfg, "kind");
    const int binaural = cJSON_IsString(kind) && strcmp(kind->valuestring, "binaural") == 0;
    const cJSON *widths = cJSON_GetObjectItemCaseSensitive(arch, "widths");
    const int n_w = cJSON_GetArraySize(widths), levels = n_w - 1;
    const long kt = num(arch, "kt"), emb = num(arch, "emb_dim"), fd = num(arch, "fourier_dim");
    const long c_out = binaural ? 2 : 1, n_bins = num(cfg, "n_fft") / 2;
    const long cond_dim = binaural ? 5 + count(cond, "rooms") : count(cond, "labels") + 1;
    if (n_w < 1 || n_w > 16)
        return;
    long wd[16];
    for (int l = 0; l < n_w; l++) {
        const cJSON *v = cJSON_GetArrayItem(widths, l);
        wd[l] = cJSON_IsNumber(v) && fabs(v->valuedouble) < 1e6 ? (long)v->valuedouble : 0;
    }
    tensor(w, "emb.t_freqs", 1, &fd);
    pair(w, "emb.fc1", 2, (long[]){emb, 2 * fd + cond_dim}, emb);
    pair(w, "emb.fc2", 2, (long[]){emb, emb}, emb);
    conv(w, "in_conv", wd[0], 2 * (c_out + 1), 1);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(arch, "freq_emb")))
        tensor(w, "freq_emb", 2, (long[]){wd[0], n_bins});
    char p[64];
    for (int l = 0; l < levels; l++) {
        snprintf(p, sizeof p, "enc.%d", l);
        block(w, p, wd[l], kt, emb);
        snprintf(p, sizeof p, "dec.%d", l);
        block(w, p, wd[l], kt, emb);
        snprintf(p, sizeof p, "down.%d", l);
        conv(w, p, wd[l + 1], wd[l], 1);
        snprintf(p, sizeof p, "up.%d", l);
        conv(w, p, wd[l], wd[l + 1], 1);
    }
    for (int i = 0; i < count(arch, "dil_mid") && i < 16; i++) {
        snprintf(p, sizeof p, "mid.%d", i);
        block(w, p, wd[levels], kt, emb);
    }
    pair(w, "out_norm", 1, &wd[0], wd[0]);
    const long per_head = (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(arch, "tail_gain")) ? 3 : 2) * c_out;
    const long heads = !binaural && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(arch, "label_heads"))
                           ? count(cond, "labels") : 1;
    conv(w, "out_conv", per_head * heads, wd[0], 1);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(arch, "out_gain")))
        pair(w, "out_gain", 2, (long[]){c_out * n_bins, emb}, c_out * n_bins);
}

/* A safetensors file around the config text; NULL when its weights would not fit. */
static unsigned char *file_for_config(const char *text, size_t len, size_t *out_size)
{
    char *cfg_text = malloc(len + 1);
    check(cfg_text != NULL, "out of memory");
    memcpy(cfg_text, text, len);
    cfg_text[len] = 0;
    writer w = {cJSON_CreateObject(), NULL, 0, 0, 7, 1};
    cJSON *cfg = cJSON_Parse(cfg_text);
    if (cfg)
        tensors_for(&w, cfg);
    cJSON_Delete(cfg);
    unsigned char *file = NULL;
    if (w.ok) {
        cJSON *meta = cJSON_CreateObject();
        cJSON_AddStringToObject(meta, "earflow", cfg_text); /* escaped as JSON text */
        cJSON_AddItemToObject(w.header, "__metadata__", meta);
        char *h = cJSON_PrintUnformatted(w.header);
        check(h != NULL, "out of memory");
        const size_t hl = strlen(h), dl = w.n * sizeof(float);
        file = malloc(8 + hl + dl);
        check(file != NULL, "out of memory");
        for (int i = 0; i < 8; i++)
            file[i] = (unsigned char)((uint64_t)hl >> (8 * i));
        memcpy(file + 8, h, hl);
        for (size_t i = 0; i < w.n; i++) { /* little-endian floats */
            uint32_t u;
            memcpy(&u, &w.data[i], 4);
            for (int b = 0; b < 4; b++)
                file[8 + hl + 4 * i + (size_t)b] = (unsigned char)(u >> (8 * b));
        }
        *out_size = 8 + hl + dl;
        free(h);
    }
    cJSON_Delete(w.header);
    free(w.data);
    free(cfg_text);
    return file;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *made = NULL;
    if (size > 0 && data[0] == '{') {
        if (!(made = file_for_config((const char *)data, size, &size)))
            return 0;
        data = made;
    }
    ef_error err = {{0}};
    ef_model *m = ef_model_load_memory(data, size, &err);
    free(made);
    if (!m) {
        check(err.message[0] != 0, "refused without a message");
        return 0;
    }
    describe(m);
    run(m);
    ef_model_free(m);
    return 0;
}
