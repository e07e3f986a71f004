#include "ef_framer.h"
#include "ef_model_internal.h"
#include "ef_rate_adapter.h"
#include "ef_stft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CH EF_FRAMER_MAX_CHANNELS

struct ef_engine {
    const ef_model *model;
    int n_bins;
    int latency;
    ef_framer *framer;
    ef_rate_adapter *adapter; /* NULL when the host runs at the model's rate */
    ef_stft_analyzer *analyzer[MAX_CH];
    ef_stft_synthesizer *synthesizer[MAX_CH];
    float *in_frame[MAX_CH];  /* 2 * n_bins, interleaved complex */
    float *out_frame[MAX_CH];
};

/* Audio thread: one hop in, one hop out. */
static void process_hop(void *ctx, const float *const *in, float *const *out)
{
    ef_engine *e = ctx;
    const ef_model *m = e->model;
    for (int c = 0; c < m->in_channels; c++)
        ef_stft_analyzer_push(e->analyzer[c], in[c], e->in_frame[c]);
    /* identity: the output frames are the input frames */
    for (int c = 0; c < m->out_channels; c++)
        memcpy(e->out_frame[c], e->in_frame[c % m->in_channels],
               sizeof(float) * 2 * (size_t)e->n_bins);
    for (int c = 0; c < m->out_channels; c++)
        ef_stft_synthesizer_push(e->synthesizer[c], e->out_frame[c], out[c]);
}

/* Audio thread: the engine at the model's rate, any n. */
static void process_core(void *ctx, const float *const *in, float *const *out, int n)
{
    ef_engine *e = ctx;
    ef_framer_process(e->framer, in, out, n, process_hop, e);
}

ef_engine *ef_engine_new(const ef_model *model, double sample_rate, int max_block,
                         ef_error *err)
{
    if (!model) {
        ef_error_set(err, "no model");
        return NULL;
    }
    if (!(sample_rate >= 8000.0 && sample_rate <= 192000.0) ||
        fabs(sample_rate - floor(sample_rate + 0.5)) > 1e-6) {
        ef_error_set(err, "unsupported sample rate %g Hz (whole numbers, 8000..192000)",
                     sample_rate);
        return NULL;
    }
    if (max_block < 1 || max_block > EF_MAX_BLOCK) {
        ef_error_set(err, "block size %d out of range 1..%d", max_block, EF_MAX_BLOCK);
        return NULL;
    }
    ef_engine *e = calloc(1, sizeof *e);
    if (!e) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    e->model = model;
    e->n_bins = model->n_fft / 2 + 1;
    int host_rate = (int)floor(sample_rate + 0.5);
    int core_latency = model->n_fft; /* framer hop + STFT (n_fft - hop) */
    int ok = 1;
    e->framer = ef_framer_create(model->in_channels, model->out_channels, model->hop, err);
    ok &= e->framer != NULL;
    for (int c = 0; ok && c < model->in_channels; c++) {
        ok &= (e->analyzer[c] = ef_stft_analyzer_create(model->n_fft, model->hop, err)) != NULL;
        ok &= (e->in_frame[c] = calloc(2 * (size_t)e->n_bins, sizeof(float))) != NULL;
    }
    for (int c = 0; ok && c < model->out_channels; c++) {
        ok &= (e->synthesizer[c] = ef_stft_synthesizer_create(model->n_fft, model->hop, err)) != NULL;
        ok &= (e->out_frame[c] = calloc(2 * (size_t)e->n_bins, sizeof(float))) != NULL;
    }
    if (ok && host_rate != model->sample_rate) {
        e->adapter = ef_rate_adapter_create(host_rate, model->sample_rate, model->in_channels,
                                            model->out_channels, max_block, core_latency,
                                            EF_RESAMPLE_MEDIUM, err);
        ok &= e->adapter != NULL;
    }
    if (!ok) {
        ef_engine_free(e);
        return NULL;
    }
    e->latency = e->adapter ? ef_rate_adapter_latency(e->adapter) : core_latency;
    return e;
}

void ef_engine_free(ef_engine *e)
{
    if (!e)
        return;
    ef_framer_destroy(e->framer);
    ef_rate_adapter_destroy(e->adapter);
    for (int c = 0; c < MAX_CH; c++) {
        ef_stft_analyzer_destroy(e->analyzer[c]);
        ef_stft_synthesizer_destroy(e->synthesizer[c]);
        free(e->in_frame[c]);
        free(e->out_frame[c]);
    }
    free(e);
}

void ef_engine_process(ef_engine *e, const float *const *in, float *const *out, int n)
{
    if (n <= 0)
        return;
    if (e->adapter)
        ef_rate_adapter_process(e->adapter, in, out, n, process_core, e);
    else
        process_core(e, in, out, n);
}

int ef_engine_latency(const ef_engine *e) { return e->latency; }

long ef_engine_underruns(const ef_engine *e)
{
    return e->adapter ? ef_rate_adapter_underruns(e->adapter) : 0;
}

void ef_engine_reset(ef_engine *e)
{
    ef_framer_reset(e->framer);
    for (int c = 0; c < e->model->in_channels; c++)
        ef_stft_analyzer_reset(e->analyzer[c]);
    for (int c = 0; c < e->model->out_channels; c++)
        ef_stft_synthesizer_reset(e->synthesizer[c]);
    if (e->adapter)
        ef_rate_adapter_reset(e->adapter);
}
