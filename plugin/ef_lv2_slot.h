/* A slot: one loaded model and the engines that run it for one plugin instance
 * (one engine, or one per channel for the stereo separation). Slots are made and
 * freed off the audio thread (instantiate, restore, the worker); the audio thread
 * only processes them and swaps pointers. */
#ifndef EF_LV2_SLOT_H
#define EF_LV2_SLOT_H

#include "ef_lv2_ports.h"
#include "ef_lv2_settings.h"

#define EF_LV2_PATH_MAX 2048

typedef struct ef_lv2_slot {
    ef_model *model;
    ef_engine *engines[2];
    int n_engines;
    int engine_outputs; /* ef_model_out_channels: 2 binaural, 1 separate or identity */
    int latency;        /* host samples */
    int is_identity;    /* no model found: the dry signal through the identity model */
    int chosen;         /* path came from state or patch:Set, not the default lookup */
    char path[EF_LV2_PATH_MAX]; /* the model file, "" for identity */
} ef_lv2_slot;

/* Not real-time safe. Loads `path` (NULL or "": the identity model, i.e. the dry
 * signal delayed by the latency), checks that its kind suits the variant, creates
 * the engines at the host rate and block size, applies the settings and resets, so
 * the smoothers start at their targets. NULL and `err` filled on failure. */
ef_lv2_slot *ef_lv2_slot_new(const ef_lv2_variant *variant, const char *path,
                                double rate, int max_block, const ef_lv2_settings *settings,
                                ef_error *err);
void ef_lv2_slot_free(ef_lv2_slot *slot);

/* Real-time safe. in: variant->channels pointers; out: variant->outputs pointers;
 * n <= max_block. A one-output engine feeding a two-output plugin (identity under
 * the binaural plugin) writes its output to both. in and out must not alias. */
void ef_lv2_slot_process(ef_lv2_slot *slot, const ef_lv2_variant *variant,
                         const float *const *in, float *const *out, int n);

#endif
