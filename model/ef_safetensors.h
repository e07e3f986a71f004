/* A strict reader of safetensors files (F32 tensors only), trusting nothing: the
 * header length, the JSON, every dtype, shape, offset and size are checked before
 * any tensor is touched. Not real-time safe. */
#ifndef EF_SAFETENSORS_H
#define EF_SAFETENSORS_H

#include "earflow.h"

#include <stddef.h>

#define EF_ST_MAX_DIMS 4

typedef struct ef_st_tensor {
    char *name;
    int n_dims;
    long shape[EF_ST_MAX_DIMS];
    size_t count;   /* number of floats */
    float *data;    /* owned, 64-byte aligned, host byte order */
} ef_st_tensor;

typedef struct ef_st_file {
    ef_st_tensor *tensors;
    int n_tensors;
    char *metadata_json; /* the "__metadata__" object as JSON text, or NULL */
} ef_st_file;

/* Reads and validates `path`. Limits: 512 MiB file, 16 MiB header, 4096 tensors. */
ef_st_file *ef_st_read(const char *path, ef_error *err);
/* Same from memory (the fuzzers' and tests' entry point). */
ef_st_file *ef_st_parse(const unsigned char *bytes, size_t size, ef_error *err);
void ef_st_free(ef_st_file *f);
/* The tensor named `name`, or NULL. */
const ef_st_tensor *ef_st_find(const ef_st_file *f, const char *name);
/* The tensor named `name` with exactly the shape given (n_dims dimensions), marked in
 * used[] (one int per tensor of the file), or NULL with err naming what is wrong. */
const ef_st_tensor *ef_st_need(const ef_st_file *file, const char *name, int n_dims,
                               const long *shape, int *used, ef_error *err);

#endif
