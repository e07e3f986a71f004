/* The control values of a plugin instance, read from its ports, and how they reach
 * an engine. Real-time safe throughout. */
#ifndef EF_LV2_SETTINGS_H
#define EF_LV2_SETTINGS_H

#include "ef_lv2_ports.h"

typedef struct ef_lv2_settings {
    float azimuth, elevation, distance, yaw, pitch, roll;
    int room, target, remove;
    float limit_db, mix, gain_db;
    int enabled;
    int steps; /* 0 = the model's default schedule */
} ef_lv2_settings;

/* The TTL defaults. */
void ef_lv2_settings_default(ef_lv2_settings *s);
/* Reads the connected control ports (ports[role], NULL where absent). */
void ef_lv2_settings_read(ef_lv2_settings *s, float *const ports[EF_LV2_ROLE_COUNT]);
/* Applies every setting to the engine (the model fixes the schedule behind steps).
 * Returns -1 when the engine refused the target (a label its model was not trained
 * for: it keeps its last trained label), else 0. */
int ef_lv2_settings_apply(const ef_lv2_settings *s, ef_engine *engine, const ef_model *model);
/* Applies what changed from `old` to `s`, except the schedule (steps); returns as
 * ef_lv2_settings_apply does. */
int ef_lv2_settings_apply_changes(const ef_lv2_settings *old, const ef_lv2_settings *s,
                                  ef_engine *engine);
/* Applies the schedule that `steps` means for this model. */
void ef_lv2_settings_apply_steps(int steps, ef_engine *engine, const ef_model *model);

#endif
