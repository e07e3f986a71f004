/* earflow: the public C API every front end uses (plugin, program, tests).
 *
 * A model (ef_model) is loaded once and is read-only afterwards; any number of
 * engines (ef_engine) may run on it, one per stream. The model must outlive its
 * engines. Threading classes:
 *   - load/free/new/free: not real-time safe (they allocate and may read files);
 *   - ef_engine_process, ef_engine_set_*, ef_engine_latency, ef_engine_reset:
 *     real-time safe: no allocation, no lock, no system call, no logging.
 * Functions that can fail return NULL or non-zero and fill `err` when given. */
#ifndef EARFLOW_H
#define EARFLOW_H

#include "ef_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EF_MAX_BLOCK 65536

typedef struct ef_model ef_model;
typedef struct ef_engine ef_engine;

typedef enum ef_kind {
    EF_KIND_IDENTITY, /* STFT -> ISTFT, a diagnostic of the signal path */
    EF_KIND_BINAURAL, /* mono in, stereo (left, right) out */
    EF_KIND_SEPARATE, /* mono mixture in, mono estimate out */
} ef_kind;

/* The built-in identity model: 48 kHz, n_fft 512, hop 128, no network. */
ef_model *ef_model_identity(ef_error *err);
void ef_model_free(ef_model *model);

ef_kind ef_model_kind(const ef_model *model);
const char *ef_kind_name(ef_kind kind);
int ef_model_sample_rate(const ef_model *model);
int ef_model_n_fft(const ef_model *model);
int ef_model_hop(const ef_model *model);
int ef_model_in_channels(const ef_model *model);
int ef_model_out_channels(const ef_model *model);

/* sample_rate: the host's, 8000..192000 Hz (whole numbers); other rates than the
 * model's are resampled inside. max_block: the largest n given to process,
 * 1..EF_MAX_BLOCK. */
ef_engine *ef_engine_new(const ef_model *model, double sample_rate, int max_block,
                         ef_error *err);
void ef_engine_free(ef_engine *engine);

/* Real-time safe. in: ef_model_in_channels() pointers, out: ef_model_out_channels()
 * pointers, n samples each, 0 <= n <= max_block (larger n is clamped to max_block:
 * a caller error). in and out may alias. Output sample i corresponds to input sample
 * i - ef_engine_latency(). */
void ef_engine_process(ef_engine *engine, const float *const *in, float *const *out, int n);
/* Real-time safe. Constant for the engine's life, in host samples. */
int ef_engine_latency(const ef_engine *engine);
/* Not real-time safe when resampling (resets the converters); clears all history. */
void ef_engine_reset(ef_engine *engine);
/* Blocks in which the resampler FIFO underran (0 unless something is badly wrong). */
long ef_engine_underruns(const ef_engine *engine);

#ifdef __cplusplus
}
#endif

#endif
