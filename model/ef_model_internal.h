/* Private model layout shared by the loader and the engine. */
#ifndef EF_MODEL_INTERNAL_H
#define EF_MODEL_INTERNAL_H

#include "earflow.h"

struct ef_model {
    ef_kind kind;
    int sample_rate, n_fft, hop;
    int in_channels, out_channels;
};

#endif
