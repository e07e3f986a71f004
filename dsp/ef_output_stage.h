/* ef_output_stage: what happens to the processed signal on its way out, at the host
 * rate: blending with the latency-aligned dry input (wet/dry mix, an attenuation
 * limit, click-free bypass) and an output gain.
 *
 *   out = gain * (dry + wet_amount * (processed - dry))
 *
 * dry is the input delayed by exactly the engine latency, so the blend never
 * combs. wet_amount and gain glide to their targets with a one-pole smoother
 * (time constant EF_OUTPUT_STAGE_SMOOTH_MS), so every change is click-free.
 * When both sit at 1 the processed signal passes through bit-exactly. */
#ifndef EF_OUTPUT_STAGE_H
#define EF_OUTPUT_STAGE_H

#include "earflow.h"

#include <stddef.h>

#define EF_OUTPUT_STAGE_SMOOTH_MS 5.0

typedef struct ef_output_stage ef_output_stage;

/* delay: the latency in samples; max_block: the largest n given to the calls. */
ef_output_stage *ef_output_stage_new(int delay, int max_block, double sample_rate,
                                        ef_error *err);
void ef_output_stage_free(ef_output_stage *s);
size_t ef_output_stage_bytes(const ef_output_stage *s);
int ef_output_stage_max_block(const ef_output_stage *s);
/* Real-time safe: clears the delay line and jumps the smoothers to their targets. */
void ef_output_stage_reset(ef_output_stage *s);
/* Real-time safe. Targets: wet_amount in [0, 1], gain linear >= 0. */
void ef_output_stage_set(ef_output_stage *s, float wet_amount, float gain);
/* Real-time safe: stores n dry input samples (call before processing in place). */
void ef_output_stage_push_dry(ef_output_stage *s, const float *in, int n);
/* Real-time safe: blends the n processed samples of each output channel in place
 * with the dry samples of the last push (the same dry feeds every channel). */
void ef_output_stage_apply(ef_output_stage *s, float *const *out, int channels, int n);

#endif
