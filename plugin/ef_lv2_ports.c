#include "ef_lv2_ports.h"

#include <string.h>

static const ef_lv2_variant variants[] = {
    {EF_LV2_URI_BINAURAL, EF_KIND_BINAURAL, 1, 2, 7,
     {EF_LV2_CONTROL, EF_LV2_NOTIFY, EF_LV2_IN_L, EF_LV2_OUT_L, EF_LV2_OUT_R, EF_LV2_LATENCY, EF_LV2_STEPS},
     "binaural"},
    {EF_LV2_URI_SEPARATE, EF_KIND_SEPARATE, 1, 1, 6,
     {EF_LV2_CONTROL, EF_LV2_NOTIFY, EF_LV2_IN_L, EF_LV2_OUT_L, EF_LV2_LATENCY, EF_LV2_STEPS},
     "separate"},
    {EF_LV2_URI_SEPARATE_STEREO, EF_KIND_SEPARATE, 2, 2, 8,
     {EF_LV2_CONTROL, EF_LV2_NOTIFY, EF_LV2_IN_L, EF_LV2_IN_R, EF_LV2_OUT_L, EF_LV2_OUT_R,
      EF_LV2_LATENCY, EF_LV2_STEPS},
     "separate"},
};

const ef_lv2_variant *ef_lv2_variant_at(unsigned index)
{
    return index < sizeof variants / sizeof variants[0] ? &variants[index] : NULL;
}

const ef_lv2_variant *ef_lv2_variant_find(const char *uri)
{
    for (unsigned i = 0; ef_lv2_variant_at(i); i++)
        if (strcmp(variants[i].uri, uri) == 0)
            return &variants[i];
    return NULL;
}

int ef_lv2_variant_port(const ef_lv2_variant *v, uint32_t index, ef_lv2_role *role,
                        ef_control *control)
{
    if (index < (uint32_t)v->n_fixed) {
        *role = v->roles[index];
        return 0;
    }
    uint32_t k = (uint32_t)v->n_fixed;
    for (int c = 0; c < EF_CONTROL_COUNT; c++)
        if (ef_control_applies(c, v->kind) && k++ == index) {
            *control = (ef_control)c;
            return 1;
        }
    return -1;
}
