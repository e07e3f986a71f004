#include "ef_lv2_settings.h"

#include <math.h>
#include <string.h>

void ef_lv2_settings_default(ef_lv2_settings *s)
{
    memset(s, 0, sizeof *s);
    s->distance = 1.0f;
    s->limit_db = EF_ATTENUATION_UNLIMITED_DB;
    s->mix = 1.0f;
    s->enabled = 1;
}

/* Why the NaN guard: a host may hand any float; the previous value is kept. */
static void read_float(float *to, const float *port)
{
    if (port && isfinite(*port))
        *to = *port;
}

static void read_int(int *to, const float *port)
{
    if (port && isfinite(*port))
        *to = (int)lrintf(fmaxf(-1e6f, fminf(1e6f, *port)));
}

void ef_lv2_settings_read(ef_lv2_settings *s, float *const p[EF_LV2_ROLE_COUNT])
{
    read_float(&s->azimuth, p[EF_LV2_AZIMUTH]);
    read_float(&s->elevation, p[EF_LV2_ELEVATION]);
    read_float(&s->distance, p[EF_LV2_DISTANCE]);
    read_float(&s->yaw, p[EF_LV2_YAW]);
    read_float(&s->pitch, p[EF_LV2_PITCH]);
    read_float(&s->roll, p[EF_LV2_ROLL]);
    read_int(&s->room, p[EF_LV2_ROOM]);
    read_int(&s->target, p[EF_LV2_TARGET]);
    read_int(&s->remove, p[EF_LV2_MODE]);
    read_float(&s->limit_db, p[EF_LV2_LIMIT]);
    read_float(&s->mix, p[EF_LV2_MIX]);
    read_float(&s->gain_db, p[EF_LV2_GAIN]);
    if (p[EF_LV2_ENABLED] && isfinite(*p[EF_LV2_ENABLED]))
        s->enabled = *p[EF_LV2_ENABLED] > 0.5f;
    read_int(&s->steps, p[EF_LV2_STEPS]);
    s->steps = s->steps < 0 ? 0 : s->steps > EF_MAX_STEPS ? EF_MAX_STEPS : s->steps;
    s->remove = s->remove != 0;
}

void ef_lv2_settings_apply_steps(int steps, ef_engine *e, const ef_model *model)
{
    ef_solver solver;
    int model_steps;
    float t0;
    ef_model_default_schedule(model, &solver, &model_steps, &t0);
    ef_engine_set_schedule(e, solver, steps > 0 ? steps : model_steps, t0);
}

int ef_lv2_settings_apply(const ef_lv2_settings *s, ef_engine *e, const ef_model *model)
{
    ef_engine_set_position(e, s->azimuth, s->elevation, s->distance);
    ef_engine_set_head(e, s->yaw, s->pitch, s->roll);
    ef_engine_set_room(e, s->room); /* clamped to the model's rooms */
    const int refused = ef_engine_set_label(e, s->target);
    ef_engine_set_remove(e, s->remove);
    ef_engine_set_attenuation_limit(e, s->limit_db);
    ef_engine_set_mix(e, s->mix);
    ef_engine_set_output_gain(e, s->gain_db);
    ef_engine_set_bypass(e, !s->enabled);
    ef_lv2_settings_apply_steps(s->steps, e, model);
    return refused;
}

int ef_lv2_settings_apply_changes(const ef_lv2_settings *o, const ef_lv2_settings *s,
                                  ef_engine *e)
{
    int refused = 0;
    if (o->azimuth != s->azimuth || o->elevation != s->elevation || o->distance != s->distance)
        ef_engine_set_position(e, s->azimuth, s->elevation, s->distance);
    if (o->yaw != s->yaw || o->pitch != s->pitch || o->roll != s->roll)
        ef_engine_set_head(e, s->yaw, s->pitch, s->roll);
    if (o->room != s->room)
        ef_engine_set_room(e, s->room);
    if (o->target != s->target)
        refused = ef_engine_set_label(e, s->target);
    if (o->remove != s->remove)
        ef_engine_set_remove(e, s->remove);
    if (o->limit_db != s->limit_db)
        ef_engine_set_attenuation_limit(e, s->limit_db);
    if (o->mix != s->mix)
        ef_engine_set_mix(e, s->mix);
    if (o->gain_db != s->gain_db)
        ef_engine_set_output_gain(e, s->gain_db);
    if (o->enabled != s->enabled)
        ef_engine_set_bypass(e, !s->enabled);
    return refused;
}
