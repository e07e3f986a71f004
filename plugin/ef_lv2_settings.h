/* The control values of a plugin instance, read from its control ports, and how they
 * reach an engine (through the library's one applier, ef_engine_set_control).
 * Real-time safe throughout. */
#ifndef EF_LV2_SETTINGS_H
#define EF_LV2_SETTINGS_H

#include "ef_lv2_ports.h"

typedef struct ef_lv2_settings {
    float value[EF_CONTROL_COUNT]; /* steps 0 = the model's default schedule */
} ef_lv2_settings;

/* The table's defaults (= the TTL's). */
void ef_lv2_settings_default(ef_lv2_settings *s);
/* Reads the connected control ports (ports[control], NULL where absent): a finite
 * value is taken (whole-valued controls rounded and clamped to their range, so that
 * a change means a new value); NaN and +-Inf keep the previous one. */
void ef_lv2_settings_read(ef_lv2_settings *s, float *const ports[EF_CONTROL_COUNT]);
/* Applies every setting to the engine. Returns -1 when the engine refused the target
 * (a label its model was not trained for: it keeps its last trained label), else 0. */
int ef_lv2_settings_apply(const ef_lv2_settings *s, ef_engine *engine);
/* Applies what changed from `old` to `s`, except the steps; returns as
 * ef_lv2_settings_apply does. */
int ef_lv2_settings_apply_changes(const ef_lv2_settings *old, const ef_lv2_settings *s,
                                  ef_engine *engine);

#endif
