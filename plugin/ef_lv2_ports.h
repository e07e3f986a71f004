/* The three plugins of the bundle and their ports. Port indices are positions in
 * each variant's role table, which ttl/earflow.ttl.in lists in the same order. */
#ifndef EF_LV2_PORTS_H
#define EF_LV2_PORTS_H

#include "earflow.h"

#define EF_LV2_URI_BINAURAL "urn:earflow:binaural"
#define EF_LV2_URI_SEPARATE "urn:earflow:separate"
#define EF_LV2_URI_SEPARATE_STEREO "urn:earflow:separate-stereo"
/* The atom:Path parameter (patch:writable) holding the model file. */
#define EF_LV2_URI_MODEL "urn:earflow:model"

typedef enum ef_lv2_role {
    EF_LV2_CONTROL,   /* atom in: patch:Set / patch:Get of the model path */
    EF_LV2_NOTIFY,    /* atom out: patch:Set replies */
    EF_LV2_IN_L,
    EF_LV2_IN_R,
    EF_LV2_OUT_L,
    EF_LV2_OUT_R,
    EF_LV2_LATENCY,   /* control out, samples */
    EF_LV2_ENABLED,   /* lv2:enabled, 0 = bypassed */
    EF_LV2_AZIMUTH,
    EF_LV2_ELEVATION,
    EF_LV2_DISTANCE,
    EF_LV2_ROOM,
    EF_LV2_YAW,
    EF_LV2_PITCH,
    EF_LV2_ROLL,
    EF_LV2_TARGET,
    EF_LV2_MODE,      /* 0 keep, 1 remove */
    EF_LV2_LIMIT,     /* attenuation limit, dB */
    EF_LV2_MIX,
    EF_LV2_STEPS,     /* 0 = the model's default schedule */
    EF_LV2_GAIN,      /* output gain, dB */
    EF_LV2_ROLE_COUNT
} ef_lv2_role;

#define EF_LV2_MAX_PORTS 20

typedef struct ef_lv2_variant {
    const char *uri;
    ef_kind kind;          /* the model kind it needs */
    int channels;          /* audio inputs: 1, or 2 for the stereo separation */
    int outputs;           /* audio outputs */
    int n_ports;
    ef_lv2_role roles[EF_LV2_MAX_PORTS];
    const char *model_name; /* default file: <name>.safetensors */
} ef_lv2_variant;

/* The variant with this URI, or NULL. */
const ef_lv2_variant *ef_lv2_variant_find(const char *uri);
/* index 0..2, NULL past the end (lv2_descriptor order). */
const ef_lv2_variant *ef_lv2_variant_at(unsigned index);

#endif
