#include "ef_safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (512u << 20)
#define MAX_HEADER (16u << 20)
#define MAX_TENSORS 4096

typedef struct span {
    size_t begin, end;
    int index;
} span;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

void ef_st_free(ef_st_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n_tensors; i++) {
        free(f->tensors[i].name);
        free(f->tensors[i].data);
    }
    free(f->tensors);
    free(f->metadata_json);
    free(f);
}

/* A JSON number that is a non-negative integer below `limit`, else -1. */
static long json_index(const cJSON *item, double limit)
{
    if (!cJSON_IsNumber(item))
        return -1;
    double v = item->valuedouble;
    if (!(v >= 0 && v < limit) || v != (double)(long)v)
        return -1;
    return (long)v;
}

static int parse_tensor(const cJSON *item, ef_st_tensor *t, size_t data_size, span *sp,
                        ef_error *err)
{
    const char *name = item->string;
    if (!cJSON_IsObject(item)) {
        ef_error_set(err, "tensor '%s': not an object", name);
        return -1;
    }
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dtype) || strcmp(dtype->valuestring, "F32") != 0) {
        ef_error_set(err, "tensor '%s': dtype must be F32", name);
        return -1;
    }
    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > EF_ST_MAX_DIMS) {
        ef_error_set(err, "tensor '%s': shape must be a list of at most %d sizes", name,
                     EF_ST_MAX_DIMS);
        return -1;
    }
    t->n_dims = cJSON_GetArraySize(shape);
    size_t count = 1;
    for (int d = 0; d < t->n_dims; d++) {
        long s = json_index(cJSON_GetArrayItem(shape, d), (double)(1 << 28));
        if (s < 0) {
            ef_error_set(err, "tensor '%s': bad size in shape", name);
            return -1;
        }
        t->shape[d] = s;
        if (s && count > (size_t)MAX_FILE / (size_t)s) {
            ef_error_set(err, "tensor '%s': shape too large", name);
            return -1;
        }
        count *= (size_t)s;
    }
    t->count = count;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2) {
        ef_error_set(err, "tensor '%s': data_offsets must be [begin, end]", name);
        return -1;
    }
    long b = json_index(cJSON_GetArrayItem(offs, 0), (double)data_size + 1);
    long e = json_index(cJSON_GetArrayItem(offs, 1), (double)data_size + 1);
    if (b < 0 || e < 0 || e < b) {
        ef_error_set(err, "tensor '%s': data_offsets outside the file", name);
        return -1;
    }
    if ((size_t)(e - b) != count * sizeof(float)) {
        ef_error_set(err, "tensor '%s': %ld bytes stored for %zu floats", name, e - b, count);
        return -1;
    }
    sp->begin = (size_t)b;
    sp->end = (size_t)e;
    t->name = strdup(name);
    if (!t->name) {
        ef_error_set(err, "out of memory");
        return -1;
    }
    return 0;
}

static float load_f32_le(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

ef_st_file *ef_st_parse(const unsigned char *bytes, size_t size, ef_error *err)
{
    if (size < 8) {
        ef_error_set(err, "file too short for a safetensors header (%zu bytes)", size);
        return NULL;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | bytes[i];
    if (hlen < 2 || hlen > MAX_HEADER || hlen > size - 8) {
        ef_error_set(err, "header length %llu impossible for a %zu-byte file",
                     (unsigned long long)hlen, size);
        return NULL;
    }
    const char *header = (const char *)bytes + 8, *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(header, (size_t)hlen, &end, 0);
    /* Only padding may follow the JSON object (cJSON stops at its end). */
    for (const char *p = end; root && p < header + hlen; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            ef_error_set(err, "bytes after the header's JSON object");
            cJSON_Delete(root);
            return NULL;
        }
    if (!cJSON_IsObject(root)) {
        ef_error_set(err, "header is not a JSON object");
        cJSON_Delete(root);
        return NULL;
    }
    const unsigned char *data = bytes + 8 + hlen;
    size_t data_size = size - 8 - (size_t)hlen;
    ef_st_file *f = calloc(1, sizeof *f);
    int n = cJSON_GetArraySize(root);
    span *spans = calloc((size_t)(n > 0 ? n : 1), sizeof *spans);
    if (!f || !spans || n > MAX_TENSORS + 1 ||
        !(f->tensors = calloc((size_t)(n > 0 ? n : 1), sizeof *f->tensors))) {
        ef_error_set(err, n > MAX_TENSORS + 1 ? "too many tensors" : "out of memory");
        goto fail;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        if (strcmp(item->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(item) || f->metadata_json) {
                ef_error_set(err, "__metadata__ must be one object");
                goto fail;
            }
            const cJSON *v;
            cJSON_ArrayForEach(v, item)
            {
                if (!cJSON_IsString(v)) {
                    ef_error_set(err, "__metadata__ values must be strings");
                    goto fail;
                }
            }
            f->metadata_json = cJSON_PrintUnformatted(item);
            if (!f->metadata_json) {
                ef_error_set(err, "out of memory");
                goto fail;
            }
            continue;
        }
        for (int i = 0; i < f->n_tensors; i++)
            if (strcmp(f->tensors[i].name, item->string) == 0) {
                ef_error_set(err, "tensor '%s' appears twice", item->string);
                goto fail;
            }
        int k = f->n_tensors;
        spans[k].index = k;
        if (parse_tensor(item, &f->tensors[k], data_size, &spans[k], err))
            goto fail;
        f->n_tensors++;
    }
    /* Tensors must tile the data exactly: sorted by offset, no overlap, no gap. */
    qsort(spans, (size_t)f->n_tensors, sizeof *spans, span_cmp);
    size_t expect = 0;
    for (int i = 0; i < f->n_tensors; i++) {
        if (spans[i].begin != expect) {
            ef_error_set(err, "tensor '%s' %s", f->tensors[spans[i].index].name,
                         spans[i].begin < expect ? "overlaps another" : "leaves a gap before it");
            goto fail;
        }
        expect = spans[i].end;
    }
    if (expect != data_size) {
        ef_error_set(err, "%zu bytes of data after the last tensor", data_size - expect);
        goto fail;
    }
    for (int i = 0; i < f->n_tensors; i++) {
        ef_st_tensor *t = &f->tensors[spans[i].index];
        size_t bytes_n = (t->count ? t->count : 1) * sizeof(float);
        t->data = aligned_alloc(64, (bytes_n + 63) / 64 * 64);
        if (!t->data) {
            ef_error_set(err, "out of memory");
            goto fail;
        }
        for (size_t j = 0; j < t->count; j++)
            t->data[j] = load_f32_le(data + spans[i].begin + 4 * j);
    }
    free(spans);
    cJSON_Delete(root);
    return f;
fail:
    free(spans);
    cJSON_Delete(root);
    ef_st_free(f);
    return NULL;
}

ef_st_file *ef_st_read(const char *path, ef_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        ef_error_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t size = 0, cap = 0;
    for (;;) {
        if (size == cap) {
            if (cap >= MAX_FILE) {
                ef_error_set(err, "%s: larger than %u MiB", path, MAX_FILE >> 20);
                free(buf);
                fclose(fp);
                return NULL;
            }
            cap = cap ? cap * 2 : 1 << 16;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) {
                ef_error_set(err, "out of memory");
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + size, 1, cap - size, fp);
        size += got;
        if (got == 0)
            break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        ef_error_set(err, "%s: read error", path);
        free(buf);
        return NULL;
    }
    ef_error inner = {{0}};
    ef_st_file *f = ef_st_parse(buf, size, &inner);
    free(buf);
    if (!f)
        ef_error_set(err, "%s: %s", path, inner.message);
    return f;
}

const ef_st_tensor *ef_st_find(const ef_st_file *f, const char *name)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const ef_st_tensor *ef_st_need(const ef_st_file *file, const char *name, int n_dims,
                               const long *shape, int *used, ef_error *err)
{
    const ef_st_tensor *t = ef_st_find(file, name);
    if (!t) {
        ef_error_set(err, "tensor '%s' is missing", name);
        return NULL;
    }
    int ok = t->n_dims == n_dims;
    for (int d = 0; ok && d < n_dims; d++)
        ok = t->shape[d] == shape[d];
    if (!ok) {
        char want[96] = "", got[96] = "";
        for (int d = 0; d < n_dims; d++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%ld", d ? "," : "", shape[d]);
        for (int d = 0; d < t->n_dims; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%ld", d ? "," : "", t->shape[d]);
        ef_error_set(err, "tensor '%s' has shape [%s], expected [%s]", name, got, want);
        return NULL;
    }
    used[t - file->tensors] = 1;
    return t;
}
