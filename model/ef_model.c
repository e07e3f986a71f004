#include "ef_model_internal.h"

#include <stdlib.h>

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

void ef_model_free(ef_model *model) { free(model); }

ef_kind ef_model_kind(const ef_model *model) { return model->kind; }
int ef_model_sample_rate(const ef_model *model) { return model->sample_rate; }
int ef_model_n_fft(const ef_model *model) { return model->n_fft; }
int ef_model_hop(const ef_model *model) { return model->hop; }
int ef_model_in_channels(const ef_model *model) { return model->in_channels; }
int ef_model_out_channels(const ef_model *model) { return model->out_channels; }

const char *ef_kind_name(ef_kind kind)
{
    switch (kind) {
    case EF_KIND_IDENTITY: return "identity";
    case EF_KIND_BINAURAL: return "binaural";
    case EF_KIND_SEPARATE: return "separate";
    }
    return "unknown";
}
