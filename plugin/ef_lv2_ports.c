#include "ef_lv2_ports.h"

#include <string.h>

static const ef_lv2_variant variants[] = {
    {EF_LV2_URI_BINAURAL, EF_KIND_BINAURAL, 1, 2, 17,
     {EF_LV2_CONTROL, EF_LV2_NOTIFY, EF_LV2_IN_L, EF_LV2_OUT_L, EF_LV2_OUT_R, EF_LV2_LATENCY,
      EF_LV2_ENABLED, EF_LV2_AZIMUTH, EF_LV2_ELEVATION, EF_LV2_DISTANCE, EF_LV2_ROOM,
      EF_LV2_YAW, EF_LV2_PITCH, EF_LV2_ROLL, EF_LV2_STEPS, EF_LV2_MIX, EF_LV2_GAIN},
     "binaural"},
    {EF_LV2_URI_SEPARATE, EF_KIND_SEPARATE, 1, 1, 12,
     {EF_LV2_CONTROL, EF_LV2_NOTIFY, EF_LV2_IN_L, EF_LV2_OUT_L, EF_LV2_LATENCY, EF_LV2_ENABLED,
      EF_LV2_TARGET, EF_LV2_MODE, EF_LV2_LIMIT, EF_LV2_MIX, EF_LV2_STEPS, EF_LV2_GAIN},
     "separate"},
    {EF_LV2_URI_SEPARATE_STEREO, EF_KIND_SEPARATE, 2, 2, 14,
     {EF_LV2_CONTROL, EF_LV2_NOTIFY, EF_LV2_IN_L, EF_LV2_IN_R, EF_LV2_OUT_L, EF_LV2_OUT_R,
      EF_LV2_LATENCY, EF_LV2_ENABLED, EF_LV2_TARGET, EF_LV2_MODE, EF_LV2_LIMIT, EF_LV2_MIX,
      EF_LV2_STEPS, EF_LV2_GAIN},
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
