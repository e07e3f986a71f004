/* The three plugins of the bundle and their ports. Each plugin has its fixed ports
 * (atom, audio, latency, running steps; ttl/earflow.ttl.in lists them in role-table order), then one
 * control port per row of the library's control table that applies to its model
 * kind, in table order (ttl/gen_ttl.c writes those). */
#ifndef EF_LV2_PORTS_H
#define EF_LV2_PORTS_H

#include "earflow.h"

#include <stdint.h>

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
    EF_LV2_STEPS,     /* control out: the steps running (ef_engine_running_steps) */
    EF_LV2_ROLE_COUNT
} ef_lv2_role;

typedef struct ef_lv2_variant {
    const char *uri;
    ef_kind kind;          /* the model kind it needs */
    int channels;          /* audio inputs: 1, or 2 for the stereo separation */
    int outputs;           /* audio outputs */
    int n_fixed;           /* ports before the controls */
    ef_lv2_role roles[EF_LV2_ROLE_COUNT];
    const char *model_name; /* default file: <name>.safetensors */
} ef_lv2_variant;

/* The variant with this URI, or NULL. */
const ef_lv2_variant *ef_lv2_variant_find(const char *uri);
/* index 0..2, NULL past the end (lv2_descriptor order). */
const ef_lv2_variant *ef_lv2_variant_at(unsigned index);
/* What port `index` is: 0 and *role for a fixed port, 1 and *control for a control
 * port, -1 past the last port. */
int ef_lv2_variant_port(const ef_lv2_variant *v, uint32_t index, ef_lv2_role *role,
                        ef_control *control);

#endif
