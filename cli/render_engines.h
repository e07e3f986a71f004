/* The engines of earflow render for an input of any channel count: a binaural model
 * runs one engine on the mono downmix (two outputs), any other model one engine per
 * channel (one output each). Controls, and a trajectory, are applied as render does.
 * Not real-time safe to create; processing is. */
#ifndef EF_RENDER_ENGINES_H
#define EF_RENDER_ENGINES_H

#include "controls.h"
#include "earflow.h"

#define EF_RENDER_MAX_CHANNELS 8

typedef struct ef_render_engines ef_render_engines;

/* channels: the input's, 1..EF_RENDER_MAX_CHANNELS; sample_rate: the input's;
 * controls: resolved ones (borrowed for the engines' life), or NULL for the model's
 * defaults. */
ef_render_engines *ef_render_engines_new(const ef_model *model, int channels, int sample_rate,
                                         int max_block, const ef_controls *controls,
                                         ef_error *err);
void ef_render_engines_free(ef_render_engines *r);

int ef_render_engines_out_channels(const ef_render_engines *r);
/* In host samples, the same for every engine. */
int ef_render_engines_latency(const ef_render_engines *r);
/* in: `channels` planar buffers, out: out_channels() planar buffers, n samples each,
 * 1..max_block. start: the index of in[.][0] in the input, for the trajectory. */
void ef_render_engines_process(ef_render_engines *r, const float *const *in,
                               float *const *out, int n, long start);
/* Summed over the engines: ef_engine_underruns, ef_engine_sanitized. */
long ef_render_engines_underruns(const ef_render_engines *r);
long ef_render_engines_sanitized(const ef_render_engines *r);
/* Summed over the engines: ef_engine_bad_samples, ef_engine_bad_frames. */
long ef_render_engines_bad_samples(const ef_render_engines *r);
long ef_render_engines_bad_frames(const ef_render_engines *r);

#endif
