/* Model handles: the built-in identity and files loaded from disk, validated
 * field by field against docs/model-spec.md before anything runs. */
#include "ef_model_internal.h"

#include "ef_conditioning.h"
#include "ef_stft.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

ef_model *ef_model_identity(ef_error *err)
{
    ef_model *m = calloc(1, sizeof *m);
    if (!m) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    m->kind = EF_KIND_IDENTITY;
    m->sample_rate = 48000;
    m->n_fft = 512;
    m->hop = 128;
    m->in_channels = 1;
    m->out_channels = 1;
    return m;
}

void ef_model_free(ef_model *model)
{
    if (!model)
        return;
    ef_unet_release(&model->net);
    ef_st_free(model->file);
    free(model->config_json);
    free(model);
}

/* ------------------------------------------------------------ config reading */

static const cJSON *member(const cJSON *obj, const char *key, const char *where, ef_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        ef_error_set(err, "config: %s%s is missing", where, key);
    return v;
}

/* An optional true/false member: absent is false. */
static int get_opt_bool(const cJSON *obj, const char *key, const char *where, int *out, ef_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v && !cJSON_IsBool(v)) {
        ef_error_set(err, "config: %s%s must be true or false", where, key);
        return -1;
    }
    *out = v && cJSON_IsTrue(v);
    return 0;
}

static int get_num(const cJSON *obj, const char *key, const char *where, double lo, double hi,
                   double *out, ef_error *err)
{
    const cJSON *v = member(obj, key, where, err);
    if (!v)
        return -1;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi)) {
        ef_error_set(err, "config: %s%s must be a number in [%g, %g]", where, key, lo, hi);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

static int get_int(const cJSON *obj, const char *key, const char *where, int lo, int hi,
                   int *out, ef_error *err)
{
    double d;
    if (get_num(obj, key, where, lo, hi, &d, err))
        return -1;
    if (d != floor(d)) {
        ef_error_set(err, "config: %s%s must be a whole number", where, key);
        return -1;
    }
    *out = (int)d;
    return 0;
}

static const char *get_str(const cJSON *obj, const char *key, const char *where, ef_error *err)
{
    const cJSON *v = member(obj, key, where, err);
    if (!v)
        return NULL;
    if (!cJSON_IsString(v)) {
        ef_error_set(err, "config: %s%s must be a string", where, key);
        return NULL;
    }
    return v->valuestring;
}

static int get_int_list(const cJSON *obj, const char *key, const char *where, int max_n,
                        int lo, int hi, int *out, int *n, ef_error *err)
{
    const cJSON *v = member(obj, key, where, err);
    if (!v)
        return -1;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > max_n) {
        ef_error_set(err, "config: %s%s must be a list of at most %d numbers", where, key, max_n);
        return -1;
    }
    *n = cJSON_GetArraySize(v);
    for (int i = 0; i < *n; i++) {
        const cJSON *it = cJSON_GetArrayItem(v, i);
        if (!cJSON_IsNumber(it) || !(it->valuedouble >= lo && it->valuedouble <= hi) ||
            it->valuedouble != floor(it->valuedouble)) {
            ef_error_set(err, "config: %s%s[%d] must be a whole number in [%d, %d]", where, key,
                         i, lo, hi);
            return -1;
        }
        out[i] = (int)it->valuedouble;
    }
    return 0;
}

static int get_names(const cJSON *obj, const char *key, const char *where,
                     char names[][EF_NAME_LEN], int *n, ef_error *err)
{
    const cJSON *v = member(obj, key, where, err);
    if (!v)
        return -1;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > EF_MAX_NAMES) {
        ef_error_set(err, "config: %s%s must list 1 to %d names", where, key, EF_MAX_NAMES);
        return -1;
    }
    *n = cJSON_GetArraySize(v);
    for (int i = 0; i < *n; i++) {
        const cJSON *it = cJSON_GetArrayItem(v, i);
        if (!cJSON_IsString(it) || !it->valuestring[0] || strlen(it->valuestring) >= EF_NAME_LEN) {
            ef_error_set(err, "config: %s%s[%d] must be a name of 1 to %d characters", where,
                         key, i, EF_NAME_LEN - 1);
            return -1;
        }
        strcpy(names[i], it->valuestring);
    }
    return 0;
}

/* optional (absent = every label): the labels the model was trained for, a non-empty
 * subset of conditioning.labels without repeats (docs/model-spec.md). */
static int get_trained_labels(ef_model *m, const cJSON *cond, ef_error *err)
{
    m->trained_labels = m->n_labels >= 32 ? ~0u : (1u << m->n_labels) - 1u;
    if (!cJSON_GetObjectItemCaseSensitive(cond, "trained_labels"))
        return 0;
    char names[EF_MAX_NAMES][EF_NAME_LEN];
    int n = 0;
    if (get_names(cond, "trained_labels", "conditioning.", names, &n, err))
        return -1;
    m->trained_labels = 0;
    for (int i = 0; i < n; i++) {
        int found = -1;
        for (int j = 0; j < m->n_labels && found < 0; j++)
            if (!strcmp(names[i], m->labels[j]))
                found = j;
        if (found < 0 || (m->trained_labels & (1u << found))) {
            ef_error_set(err, "config: conditioning.trained_labels[%d] '%s' is %s", i, names[i],
                         found < 0 ? "not one of conditioning.labels" : "listed twice");
            return -1;
        }
        m->trained_labels |= 1u << found;
    }
    return 0;
}

static int parse_config(ef_model *m, const cJSON *cfg, ef_unet_config *uc, ef_error *err)
{
    const char *s;
    int version;
    if (!cJSON_IsObject(cfg)) {
        ef_error_set(err, "config: not a JSON object");
        return -1;
    }
    if (!(s = get_str(cfg, "format", "", err)))
        return -1;
    if (strcmp(s, "earflow-model") != 0) {
        ef_error_set(err, "config: format '%s' is not an earflow model", s);
        return -1;
    }
    if (get_int(cfg, "version", "", 0, 1000000, &version, err))
        return -1;
    if (version != 1) {
        ef_error_set(err, "config: version %d unsupported (this build reads version 1)", version);
        return -1;
    }
    if (!(s = get_str(cfg, "kind", "", err)))
        return -1;
    if (strcmp(s, "binaural") == 0)
        m->kind = EF_KIND_BINAURAL;
    else if (strcmp(s, "separate") == 0)
        m->kind = EF_KIND_SEPARATE;
    else {
        ef_error_set(err, "config: kind '%s' unknown (binaural or separate)", s);
        return -1;
    }
    m->in_channels = 1;
    m->out_channels = m->kind == EF_KIND_BINAURAL ? 2 : 1;
    if (get_int(cfg, "sample_rate", "", 8000, 192000, &m->sample_rate, err) ||
        get_int(cfg, "n_fft", "", 16, 16384, &m->n_fft, err) ||
        get_int(cfg, "hop", "", 1, 16384, &m->hop, err) ||
        ef_stft_check_config(m->n_fft, m->hop, err))
        return -1;
    if (!(s = get_str(cfg, "window", "", err)))
        return -1;
    if (strcmp(s, "sqrt_hann") != 0) {
        ef_error_set(err, "config: window '%s' unsupported (sqrt_hann)", s);
        return -1;
    }
    const cJSON *comp = member(cfg, "compress", "", err);
    double d;
    if (!comp || get_num(comp, "alpha", "compress.", 0.05, 1.0, &d, err))
        return -1;
    m->alpha = (float)d;
    if (get_num(comp, "beta", "compress.", 1e-6, 1e6, &d, err))
        return -1;
    m->beta = (float)d;

    const cJSON *arch = member(cfg, "arch", "", err);
    if (!arch)
        return -1;
    memset(uc, 0, sizeof *uc);
    int n_widths, n_enc, n_dec;
    if (get_int_list(arch, "widths", "arch.", EF_UNET_MAX_LEVELS + 1, 1, 1024, uc->widths,
                     &n_widths, err) ||
        get_int(arch, "kt", "arch.", 1, 9, &uc->kt, err) ||
        get_int(arch, "groups", "arch.", 1, 1024, &uc->groups, err) ||
        get_int(arch, "emb_dim", "arch.", 1, 4096, &uc->emb_dim, err) ||
        get_int(arch, "fourier_dim", "arch.", 1, 4096, &uc->fourier_dim, err) ||
        get_int_list(arch, "dil_enc", "arch.", EF_UNET_MAX_LEVELS, 1, 256, uc->dil_enc, &n_enc, err) ||
        get_int_list(arch, "dil_mid", "arch.", EF_UNET_MAX_MID, 1, 256, uc->dil_mid, &uc->n_mid, err) ||
        get_int_list(arch, "dil_dec", "arch.", EF_UNET_MAX_LEVELS, 1, 256, uc->dil_dec, &n_dec, err))
        return -1;
    if (n_widths < 1 || n_enc != n_widths - 1 || n_dec != n_widths - 1) {
        ef_error_set(err, "config: arch needs len(dil_enc) = len(dil_dec) = len(widths) - 1");
        return -1;
    }
    /* optional (absent = false): a learned [w0][F] frequency embedding */
    if (get_opt_bool(arch, "freq_emb", "arch.", &uc->freq_emb, err))
        return -1;
    /* optional (absent = "velocity"): what the network's output means (spec section 4) */
    const cJSON *head = cJSON_GetObjectItemCaseSensitive(arch, "head");
    if (head) {
        if (cJSON_IsString(head) && strcmp(head->valuestring, "mask") == 0)
            m->mask_head = 1;
        else if (!(cJSON_IsString(head) && strcmp(head->valuestring, "velocity") == 0)) {
            ef_error_set(err, "config: arch.head must be \"velocity\" or \"mask\"");
            return -1;
        }
    }
    /* optional (absent = false): a per-bin, per-output-channel gain on the mask,
     * straight from the embedding (spec section 3); only a mask is a gain */
    if (get_opt_bool(arch, "out_gain", "arch.", &uc->out_gain, err))
        return -1;
    if (uc->out_gain && !m->mask_head) {
        ef_error_set(err, "config: arch.out_gain needs arch.head \"mask\"");
        return -1;
    }
    /* optional (absent = false): per ear and bin a gain on the room tail, beside the
     * mask on the direct sound (spec section 4); needs conditioning.room_tail, checked
     * below */
    if (get_opt_bool(arch, "tail_gain", "arch.", &uc->tail_gain, err))
        return -1;
    if (uc->tail_gain && !m->mask_head) {
        ef_error_set(err, "config: arch.tail_gain needs arch.head \"mask\"");
        return -1;
    }
    /* optional (absent = false): one output layer per label, weighed by the smoothed
     * label (spec section 3); separation only, checked below */
    int label_heads = 0;
    if (get_opt_bool(arch, "label_heads", "arch.", &label_heads, err))
        return -1;
    uc->levels = n_widths - 1;
    uc->n_heads = 1;
    uc->c_out = m->out_channels;
    uc->c_cond = 1;
    uc->n_bins = m->n_fft / 2;

    const cJSON *cond = member(cfg, "conditioning", "", err);
    if (!cond || get_num(cond, "smoothing_ms", "conditioning.", 0, 10000, &m->smoothing_ms, err))
        return -1;
    if (m->kind == EF_KIND_BINAURAL) {
        if (get_names(cond, "rooms", "conditioning.", m->rooms, &m->n_rooms, err) ||
            get_num(cond, "dist_min", "conditioning.", 0.01, 1000, &d, err))
            return -1;
        m->dist_min = (float)d;
        if (get_num(cond, "dist_max", "conditioning.", d, 1000, &d, err))
            return -1;
        m->dist_max = (float)d;
        uc->cond_dim = 5 + m->n_rooms;
        /* optional: the flow's start (spec section 4): "mono" (default) or "spherical_head" */
        const cJSON *pr = cJSON_GetObjectItemCaseSensitive(cond, "prior");
        if (pr) {
            if (cJSON_IsString(pr) && strcmp(pr->valuestring, "spherical_head") == 0)
                m->head_prior = 1;
            else if (!(cJSON_IsString(pr) && strcmp(pr->valuestring, "mono") == 0)) {
                ef_error_set(err, "config: conditioning.prior must be \"mono\" or \"spherical_head\"");
                return -1;
            }
        }
        /* optional (absent = false): a late tail per ear added to the prior (spec section 4) */
        if (get_opt_bool(cond, "room_tail", "conditioning.", &m->room_tail, err))
            return -1;
        if (m->room_tail && !m->head_prior) {
            ef_error_set(err, "config: conditioning.room_tail needs conditioning.prior \"spherical_head\"");
            return -1;
        }
    } else {
        /* the binaural prior's keys are refused, not ignored: a file never claims what
         * the engine would not do */
        static const char *const binaural_only[] = {"prior", "room_tail"};
        for (size_t i = 0; i < sizeof binaural_only / sizeof *binaural_only; i++)
            if (cJSON_GetObjectItemCaseSensitive(cond, binaural_only[i])) {
                ef_error_set(err, "config: conditioning.%s is for binaural models only",
                             binaural_only[i]);
                return -1;
            }
        if (get_names(cond, "labels", "conditioning.", m->labels, &m->n_labels, err))
            return -1;
        uc->cond_dim = m->n_labels + 1;
        uc->n_heads = label_heads ? m->n_labels : 1;
        if (get_trained_labels(m, cond, err))
            return -1;
        /* optional: "remove": "trained" (default: the network's remove input) or
         * "subtract" (the network keeps; the output is the mixture minus that) */
        const cJSON *rm = cJSON_GetObjectItemCaseSensitive(cond, "remove");
        if (rm) {
            if (cJSON_IsString(rm) && strcmp(rm->valuestring, "subtract") == 0)
                m->remove_subtract = 1;
            else if (!(cJSON_IsString(rm) && strcmp(rm->valuestring, "trained") == 0)) {
                ef_error_set(err, "config: conditioning.remove must be \"trained\" or \"subtract\"");
                return -1;
            }
        }
    }
    if (label_heads && m->kind != EF_KIND_SEPARATE) {
        ef_error_set(err, "config: arch.label_heads is for separation models only");
        return -1;
    }
    if (uc->tail_gain && !m->room_tail) {
        ef_error_set(err, "config: arch.tail_gain needs conditioning.room_tail");
        return -1;
    }
    if (uc->cond_dim > EF_COND_MAX) {
        ef_error_set(err, "config: too many rooms or labels");
        return -1;
    }

    const cJSON *flow = member(cfg, "flow", "", err);
    if (!flow || get_num(flow, "sigma", "flow.", 0, 10, &d, err))
        return -1;
    m->sigma = (float)d;
    if (!(s = get_str(flow, "solver", "flow.", err)))
        return -1;
    if (strcmp(s, "euler") == 0)
        m->solver = EF_SOLVER_EULER;
    else if (strcmp(s, "midpoint") == 0)
        m->solver = EF_SOLVER_MIDPOINT;
    else {
        ef_error_set(err, "config: flow.solver '%s' unknown (euler or midpoint)", s);
        return -1;
    }
    if (get_int(flow, "steps", "flow.", 1, EF_MAX_STEPS, &m->steps, err) ||
        get_num(flow, "t0", "flow.", 0, 0.999, &d, err))
        return -1;
    m->t0 = (float)d;
    return 0;
}

/* Validates an already parsed file and takes it over (freed on failure too). */
static ef_model *model_from_file(ef_st_file *file, ef_error *err)
{
    ef_model *m = calloc(1, sizeof *m);
    if (!m) {
        ef_st_free(file);
        ef_error_set(err, "out of memory");
        return NULL;
    }
    m->file = file;
    cJSON *meta = m->file->metadata_json ? cJSON_Parse(m->file->metadata_json) : NULL;
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(meta, "earflow");
    cJSON *cfg = cJSON_IsString(text) ? cJSON_Parse(text->valuestring) : NULL;
    ef_unet_config uc;
    int rc = -1;
    int *used = calloc((size_t)(file->n_tensors ? file->n_tensors : 1), sizeof *used);
    if (!used)
        ef_error_set(err, "out of memory");
    else if (!cJSON_IsString(text))
        ef_error_set(err, "no earflow config in the file's __metadata__");
    else if (!cfg)
        ef_error_set(err, "the earflow config is not valid JSON");
    else if (parse_config(m, cfg, &uc, err) == 0 &&
             ef_unet_bind(&m->net, &uc, m->file, 2 * EF_MAX_STEPS, used, err) == 0 &&
             (!m->room_tail ||
              ef_room_tail_bind(&m->tail_tables, m->file, m->n_rooms, uc.n_bins, m->hop,
                                m->sample_rate, used, err) == 0))
        rc = 0;
    for (int i = 0; rc == 0 && i < file->n_tensors; i++)
        if (!used[i]) {
            ef_error_set(err, "tensor '%s' is not part of this architecture", file->tensors[i].name);
            rc = -1;
        }
    free(used);
    if (rc == 0) {
        for (int i = 0; i < m->file->n_tensors && rc == 0; i++) {
            const ef_st_tensor *t = &m->file->tensors[i];
            m->params += (long)t->count;
            for (size_t j = 0; j < t->count; j++)
                if (!isfinite(t->data[j])) {
                    ef_error_set(err, "tensor '%s' holds a non-finite value at %zu", t->name, j);
                    rc = -1;
                    break;
                }
        }
    }
    if (rc == 0 && !(m->config_json = strdup(text->valuestring))) {
        ef_error_set(err, "out of memory");
        rc = -1;
    }
    cJSON_Delete(cfg);
    cJSON_Delete(meta);
    if (rc) {
        ef_model_free(m);
        return NULL;
    }
    return m;
}

ef_model *ef_model_load(const char *path, ef_error *err)
{
    if (!path || !*path) {
        ef_error_set(err, "no model path given");
        return NULL;
    }
    ef_st_file *file = ef_st_read(path, err); /* its messages name the path */
    if (!file)
        return NULL;
    ef_error inner = {{0}};
    ef_model *m = model_from_file(file, &inner);
    if (!m)
        ef_error_set(err, "%s: %s", path, inner.message);
    return m;
}

ef_model *ef_model_load_memory(const void *bytes, size_t size, ef_error *err)
{
    if (!bytes && size) {
        ef_error_set(err, "no model bytes given");
        return NULL;
    }
    ef_st_file *file = ef_st_parse(bytes ? bytes : (const void *)"", size, err);
    return file ? model_from_file(file, err) : NULL;
}

ef_kind ef_model_kind(const ef_model *model) { return model->kind; }
int ef_model_sample_rate(const ef_model *model) { return model->sample_rate; }
int ef_model_n_fft(const ef_model *model) { return model->n_fft; }

const char *ef_model_kernel_name(const ef_model *model)
{
    return model->kind == EF_KIND_IDENTITY ? "no network" : ef_conv_isa_name(model->net.kernels.isa);
}
const char *ef_model_prior(const ef_model *model)
{
    if (model->kind != EF_KIND_BINAURAL)
        return NULL;
    return model->room_tail ? "spherical_head+room_tail" : model->head_prior ? "spherical_head" : "mono";
}
double ef_model_room_rt60(const ef_model *model, int index)
{
    return model->room_tail && index >= 0 && index < model->n_rooms
               ? ef_room_tail_table_rt60(&model->tail_tables, index)
               : 0.0;
}
int ef_model_hop(const ef_model *model) { return model->hop; }
int ef_model_in_channels(const ef_model *model) { return model->in_channels; }
int ef_model_out_channels(const ef_model *model) { return model->out_channels; }
int ef_model_latency(const ef_model *model) { return model->n_fft; }
long ef_model_params(const ef_model *model) { return model->params; }
const char *ef_model_config_json(const ef_model *model) { return model->config_json; }
int ef_model_rooms(const ef_model *model) { return model->n_rooms; }
int ef_model_labels(const ef_model *model) { return model->n_labels; }

const char *ef_model_room_name(const ef_model *model, int i)
{
    return i >= 0 && i < model->n_rooms ? model->rooms[i] : NULL;
}

const char *ef_model_label_name(const ef_model *model, int i)
{
    return i >= 0 && i < model->n_labels ? model->labels[i] : NULL;
}

/* The one lookup of a name among a model's rooms or labels. */
static int find_name(const char (*names)[EF_NAME_LEN], int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int ef_model_find_room(const ef_model *model, const char *name)
{
    return find_name(model->rooms, model->n_rooms, name);
}

int ef_model_find_label(const ef_model *model, const char *name)
{
    return find_name(model->labels, model->n_labels, name);
}

int ef_model_label_trained(const ef_model *model, int i)
{
    return i >= 0 && i < model->n_labels && (model->trained_labels & (1u << i)) != 0;
}

int ef_model_default_label(const ef_model *model)
{
    for (int i = 0; i < model->n_labels; i++)
        if (ef_model_label_trained(model, i))
            return i;
    return 0;
}

void ef_model_default_schedule(const ef_model *model, ef_solver *solver, int *steps, float *t0)
{
    *solver = model->kind == EF_KIND_IDENTITY ? EF_SOLVER_EULER : model->solver;
    *steps = model->kind == EF_KIND_IDENTITY ? 0 : model->steps;
    *t0 = model->t0;
}

int ef_solver_evaluations(ef_solver solver, int steps)
{
    return solver == EF_SOLVER_MIDPOINT ? 2 * steps : steps;
}

long ef_model_macs_per_evaluation(const ef_model *model)
{
    return model->kind == EF_KIND_IDENTITY ? 0 : ef_unet_macs(&model->net);
}

const char *ef_kind_name(ef_kind kind)
{
    switch (kind) {
    case EF_KIND_IDENTITY: return "identity";
    case EF_KIND_BINAURAL: return "binaural";
    case EF_KIND_SEPARATE: return "separate";
    }
    return "unknown";
}

const char *ef_solver_name(ef_solver solver)
{
    return solver == EF_SOLVER_MIDPOINT ? "midpoint" : "euler";
}
