/* The audio thread's model swap: the current slot plays while an incoming one
 * (a new model, or the same model rebuilt for another number of steps) runs beside
 * it on the same input, first silently until its STFT and network history are warm,
 * then crossfaded in; then the old slot retires (to be freed by the worker).
 * The warm-up costs twice the CPU for about 2 latencies plus the fade. */
#ifndef EF_LV2_SWITCH_H
#define EF_LV2_SWITCH_H

#include "ef_lv2_slot.h"

/* The fade, long enough that even uncorrelated signals do not click. */
#define EF_LV2_SWITCH_FADE_MS 20.0

typedef struct ef_lv2_switch {
    const ef_lv2_variant *variant;
    ef_lv2_slot *current;  /* never NULL after instantiate */
    ef_lv2_slot *incoming; /* NULL unless a swap is under way */
    long incoming_age;     /* samples the incoming slot has processed */
    long warmup, fade;     /* samples */
    int max_block, fade_samples;
    float *in_copy[2];     /* max_block each: the input, so out may alias in */
    float *scratch[2];     /* max_block each: the incoming slot's output */
} ef_lv2_switch;

/* Not real-time safe: allocates the buffers for blocks of up to max_block. */
int ef_lv2_switch_init(ef_lv2_switch *sw, const ef_lv2_variant *variant, double rate,
                       int max_block);
void ef_lv2_switch_free(ef_lv2_switch *sw);

/* Real-time safe. Starts crossfading to `slot`; returns the slot it displaces (an
 * earlier incoming slot that never finished), which the caller must retire. */
ef_lv2_slot *ef_lv2_switch_begin(ef_lv2_switch *sw, ef_lv2_slot *slot);

/* Real-time safe. Any n (chunks of max_block inside). When a crossfade completes the
 * old current slot is returned (to retire); otherwise NULL. */
ef_lv2_slot *ef_lv2_switch_process(ef_lv2_switch *sw, const float *const *in,
                                   float *const *out, int n);

#endif
