#include "ef_lv2_slot.h"

#include <stdlib.h>
#include <string.h>

ef_lv2_slot *ef_lv2_slot_new(const ef_lv2_variant *variant, const char *path,
                                double rate, int max_block, const ef_lv2_settings *settings,
                                ef_error *err)
{
    if (path && strlen(path) >= EF_LV2_PATH_MAX) {
        ef_error_set(err, "model path longer than %d bytes", EF_LV2_PATH_MAX - 1);
        return NULL;
    }
    ef_lv2_slot *slot = calloc(1, sizeof *slot);
    if (!slot) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    slot->is_identity = !path || !path[0];
    if (!slot->is_identity)
        strcpy(slot->path, path);
    slot->model = slot->is_identity ? ef_model_identity(err) : ef_model_load(path, err);
    if (!slot->model) {
        ef_lv2_slot_free(slot);
        return NULL;
    }
    ef_kind kind = ef_model_kind(slot->model);
    if (!slot->is_identity && kind != variant->kind) {
        ef_error_set(err, "%s is a %s model; this plugin needs a %s model", path,
                     ef_kind_name(kind), ef_kind_name(variant->kind));
        ef_lv2_slot_free(slot);
        return NULL;
    }
    slot->engine_outputs = ef_model_out_channels(slot->model);
    slot->n_engines = variant->channels;
    for (int i = 0; i < slot->n_engines; i++) {
        slot->engines[i] = ef_engine_new(slot->model, rate, max_block, err);
        if (!slot->engines[i]) {
            ef_lv2_slot_free(slot);
            return NULL;
        }
        ef_lv2_settings_apply(settings, slot->engines[i]);
        ef_engine_reset(slot->engines[i]);
    }
    slot->latency = ef_engine_latency(slot->engines[0]);
    return slot;
}

void ef_lv2_slot_free(ef_lv2_slot *slot)
{
    if (!slot)
        return;
    for (int i = 0; i < 2; i++)
        ef_engine_free(slot->engines[i]);
    ef_model_free(slot->model);
    free(slot);
}

void ef_lv2_slot_process(ef_lv2_slot *slot, const ef_lv2_variant *variant,
                         const float *const *in, float *const *out, int n)
{
    if (variant->channels == 2) { /* stereo separation: an engine per channel */
        for (int c = 0; c < 2; c++)
            ef_engine_process(slot->engines[c], &in[c], &out[c], n);
        return;
    }
    ef_engine_process(slot->engines[0], in, out, n);
    if (variant->outputs == 2 && slot->engine_outputs == 1)
        memcpy(out[1], out[0], sizeof(float) * (size_t)n);
}
