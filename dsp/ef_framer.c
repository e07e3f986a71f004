#include "ef_framer.h"

#include <stdlib.h>
#include <string.h>

struct ef_framer {
    int in_channels, out_channels, hop;
    int pos; /* samples of the current hop already exchanged */
    float *in_buf[EF_FRAMER_MAX_CHANNELS];
    float *out_buf[EF_FRAMER_MAX_CHANNELS];
};

ef_framer *ef_framer_new(int in_channels, int out_channels, int hop, ef_error *err)
{
    if (in_channels < 1 || in_channels > EF_FRAMER_MAX_CHANNELS || out_channels < 1 ||
        out_channels > EF_FRAMER_MAX_CHANNELS || hop < 1) {
        ef_error_set(err, "framer: unsupported layout %d in, %d out, hop %d", in_channels,
                     out_channels, hop);
        return NULL;
    }
    ef_framer *f = calloc(1, sizeof *f);
    if (!f) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    f->in_channels = in_channels;
    f->out_channels = out_channels;
    f->hop = hop;
    int ok = 1;
    for (int c = 0; c < in_channels; c++)
        ok &= (f->in_buf[c] = calloc((size_t)hop, sizeof(float))) != NULL;
    for (int c = 0; c < out_channels; c++)
        ok &= (f->out_buf[c] = calloc((size_t)hop, sizeof(float))) != NULL;
    if (!ok) {
        ef_error_set(err, "out of memory");
        ef_framer_free(f);
        return NULL;
    }
    return f;
}

void ef_framer_free(ef_framer *f)
{
    if (!f)
        return;
    for (int c = 0; c < EF_FRAMER_MAX_CHANNELS; c++) {
        free(f->in_buf[c]);
        free(f->out_buf[c]);
    }
    free(f);
}

void ef_framer_reset(ef_framer *f)
{
    f->pos = 0;
    for (int c = 0; c < f->in_channels; c++)
        memset(f->in_buf[c], 0, sizeof(float) * (size_t)f->hop);
    for (int c = 0; c < f->out_channels; c++)
        memset(f->out_buf[c], 0, sizeof(float) * (size_t)f->hop);
}

void ef_framer_process(ef_framer *f, const float *const *in, float *const *out, int n,
                       ef_frame_fn fn, void *ctx)
{
    int done = 0;
    while (done < n) {
        int m = f->hop - f->pos;
        if (m > n - done)
            m = n - done;
        /* All inputs are read before any output is written: buffers may alias. */
        for (int c = 0; c < f->in_channels; c++)
            memcpy(f->in_buf[c] + f->pos, in[c] + done, sizeof(float) * (size_t)m);
        for (int c = 0; c < f->out_channels; c++)
            memcpy(out[c] + done, f->out_buf[c] + f->pos, sizeof(float) * (size_t)m);
        f->pos += m;
        done += m;
        if (f->pos == f->hop) {
            fn(ctx, (const float *const *)f->in_buf, f->out_buf);
            f->pos = 0;
        }
    }
}
