#include "render_engines.h"

#include <stdlib.h>

struct ef_render_engines {
    const ef_model *model;
    const ef_controls *controls; /* NULL: the model's defaults */
    ef_engine *engines[EF_RENDER_MAX_CHANNELS];
    int n_engines, channels, out_channels, sample_rate, max_block;
    float *mono; /* the downmix, binaural models */
};

static int binaural(const ef_render_engines *r)
{
    return ef_model_kind(r->model) == EF_KIND_BINAURAL;
}

void ef_render_engines_free(ef_render_engines *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_engines; i++)
        ef_engine_free(r->engines[i]);
    free(r->mono);
    free(r);
}

ef_render_engines *ef_render_engines_new(const ef_model *model, int channels, int sample_rate,
                                         int max_block, const ef_controls *controls,
                                         ef_error *err)
{
    if (channels < 1 || channels > EF_RENDER_MAX_CHANNELS) {
        ef_error_set(err, "%d channels; 1 to %d are supported", channels, EF_RENDER_MAX_CHANNELS);
        return NULL;
    }
    ef_render_engines *r = calloc(1, sizeof *r);
    if (!r) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    r->model = model;
    r->controls = controls;
    r->channels = channels;
    r->sample_rate = sample_rate;
    r->max_block = max_block;
    r->out_channels = binaural(r) ? 2 : channels;
    const int want = binaural(r) ? 1 : channels;
    for (; r->n_engines < want; r->n_engines++) {
        ef_engine *e = ef_engine_new(model, sample_rate, max_block, err);
        if (!e) {
            ef_render_engines_free(r);
            return NULL;
        }
        r->engines[r->n_engines] = e;
        if (controls)
            ef_controls_apply(controls, e);
    }
    if (binaural(r) && !(r->mono = calloc((size_t)max_block, sizeof(float)))) {
        ef_error_set(err, "out of memory");
        ef_render_engines_free(r);
        return NULL;
    }
    return r;
}

int ef_render_engines_out_channels(const ef_render_engines *r) { return r->out_channels; }
int ef_render_engines_latency(const ef_render_engines *r) { return ef_engine_latency(r->engines[0]); }

void ef_render_engines_process(ef_render_engines *r, const float *const *in, float *const *out,
                               int n, long start)
{
    if (n > r->max_block)
        n = r->max_block; /* a caller error; never past the buffers */
    if (!binaural(r)) {
        for (int e = 0; e < r->n_engines; e++)
            ef_engine_process(r->engines[e], &in[e], &out[e], n);
        return;
    }
    for (int i = 0; i < n; i++) {
        float acc = 0;
        for (int c = 0; c < r->channels; c++)
            acc += in[c][i];
        r->mono[i] = acc / (float)r->channels;
    }
    /* With a trajectory, hop by hop so the position follows it closely. */
    const int step = r->controls && r->controls->trajectory ? ef_model_hop(r->model) : n;
    for (int p = 0; p < n; p += step) {
        const int m = n - p < step ? n - p : step;
        if (r->controls)
            ef_controls_follow(r->controls, r->engines[0], (double)(start + p) / r->sample_rate);
        const float *mono[1] = {r->mono + p};
        float *stereo[2] = {out[0] + p, out[1] + p};
        ef_engine_process(r->engines[0], mono, stereo, m);
    }
}

long ef_render_engines_underruns(const ef_render_engines *r)
{
    long n = 0;
    for (int i = 0; i < r->n_engines; i++)
        n += ef_engine_underruns(r->engines[i]);
    return n;
}

long ef_render_engines_sanitized(const ef_render_engines *r)
{
    long n = 0;
    for (int i = 0; i < r->n_engines; i++)
        n += ef_engine_sanitized(r->engines[i]);
    return n;
}

long ef_render_engines_bad_samples(const ef_render_engines *r)
{
    long n = 0;
    for (int i = 0; i < r->n_engines; i++)
        n += ef_engine_bad_samples(r->engines[i]);
    return n;
}

long ef_render_engines_bad_frames(const ef_render_engines *r)
{
    long n = 0;
    for (int i = 0; i < r->n_engines; i++)
        n += ef_engine_bad_frames(r->engines[i]);
    return n;
}
