#include "ef_lv2_settings.h"

#include <math.h>

void ef_lv2_settings_default(ef_lv2_settings *s)
{
    for (int i = 0; i < EF_CONTROL_COUNT; i++)
        s->value[i] = (float)ef_control_get(i)->def;
}

void ef_lv2_settings_read(ef_lv2_settings *s, float *const ports[EF_CONTROL_COUNT])
{
    for (int i = 0; i < EF_CONTROL_COUNT; i++) {
        const ef_control_info *r = ef_control_get(i);
        const float *port = ports[i];
        if (!port || !isfinite(*port)) /* a host may hand any float */
            continue;
        float v = *port;
        if (r->type != EF_CONTROL_REAL) {
            const float hi = r->max >= r->min ? (float)r->max : 1e6f; /* rooms, labels */
            v = rintf(fminf(hi, fmaxf((float)r->min, v)));
        }
        s->value[i] = v;
    }
}

int ef_lv2_settings_apply(const ef_lv2_settings *s, ef_engine *e)
{
    int refused = 0;
    for (int i = 0; i < EF_CONTROL_COUNT; i++)
        if (ef_engine_set_control(e, (ef_control)i, s->value[i]))
            refused = -1;
    return refused;
}

int ef_lv2_settings_apply_changes(const ef_lv2_settings *o, const ef_lv2_settings *s,
                                  ef_engine *e)
{
    int refused = 0;
    for (int i = 0; i < EF_CONTROL_COUNT; i++)
        if (i != EF_CONTROL_STEPS && o->value[i] != s->value[i] &&
            ef_engine_set_control(e, (ef_control)i, s->value[i]))
            refused = -1;
    return refused;
}
