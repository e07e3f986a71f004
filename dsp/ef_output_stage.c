/* The dry delay line and the smoothed blend of ef_output_stage.h. */
#include "ef_output_stage.h"

#include "ef_sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ef_output_stage {
    int delay, max_block, pos;
    float *line;    /* delay samples, circular */
    float *dry;     /* max_block: the delayed dry of the last push */
    float coeff;    /* one-pole smoothing per sample */
    float wet, wet_target, gain, gain_target;
};

ef_output_stage *ef_output_stage_new(int delay, int max_block, double sample_rate,
                                        ef_error *err)
{
    if (delay < 0 || max_block < 1 || !(sample_rate > 0.0)) {
        ef_error_set(err, "output stage: bad delay %d or block %d", delay, max_block);
        return NULL;
    }
    ef_output_stage *s = calloc(1, sizeof *s);
    if (!s) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    s->delay = delay;
    s->max_block = max_block;
    s->line = calloc((size_t)(delay > 0 ? delay : 1), sizeof(float));
    s->dry = calloc((size_t)max_block, sizeof(float));
    if (!s->line || !s->dry) {
        ef_output_stage_free(s);
        ef_error_set(err, "out of memory");
        return NULL;
    }
    s->coeff = (float)(1.0 - exp(-1.0 / (EF_OUTPUT_STAGE_SMOOTH_MS * 1e-3 * sample_rate)));
    s->wet = s->wet_target = 1.0f;
    s->gain = s->gain_target = 1.0f;
    return s;
}

void ef_output_stage_free(ef_output_stage *s)
{
    if (!s)
        return;
    free(s->line);
    free(s->dry);
    free(s);
}

size_t ef_output_stage_bytes(const ef_output_stage *s)
{
    return sizeof *s + sizeof(float) * ((size_t)(s->delay > 0 ? s->delay : 1) + (size_t)s->max_block);
}

int ef_output_stage_max_block(const ef_output_stage *s) { return s->max_block; }

void ef_output_stage_reset(ef_output_stage *s)
{
    memset(s->line, 0, sizeof(float) * (size_t)(s->delay > 0 ? s->delay : 1));
    s->pos = 0;
    s->wet = s->wet_target;
    s->gain = s->gain_target;
}

void ef_output_stage_set(ef_output_stage *s, float wet_amount, float gain)
{
    if (isfinite(wet_amount))
        s->wet_target = wet_amount < 0.0f ? 0.0f : wet_amount > 1.0f ? 1.0f : wet_amount;
    if (isfinite(gain))
        s->gain_target = gain < 0.0f ? 0.0f : gain;
}

void ef_output_stage_push_dry(ef_output_stage *s, const float *in, int n)
{
    if (n > s->max_block)
        n = s->max_block;
    /* The dry path takes what the engine takes (ef_sample.h): never NaN or overflow. */
    if (s->delay == 0) {
        for (int i = 0; i < n; i++)
            s->dry[i] = ef_sample_ok(in[i]) ? in[i] : 0.0f;
        return;
    }
    for (int i = 0; i < n; i++) {
        float x = in[i];
        s->dry[i] = s->line[s->pos];
        s->line[s->pos] = ef_sample_ok(x) ? x : 0.0f;
        if (++s->pos == s->delay)
            s->pos = 0;
    }
}

/* Glides a value toward its target; snaps within 1e-5 (-100 dB, about 12 time constants) so the
 * steady state is exact (and the bit-exact pass-through can be taken). */
static float glide(float value, float target, float coeff)
{
    float next = value + coeff * (target - value);
    return fabsf(next - target) < 1e-5f ? target : next;
}

void ef_output_stage_apply(ef_output_stage *s, float *const *out, int channels, int n)
{
    if (n > s->max_block)
        n = s->max_block;
    if (s->wet == 1.0f && s->wet_target == 1.0f && s->gain == 1.0f && s->gain_target == 1.0f)
        return; /* pass-through, bit-exact */
    if (s->wet == s->wet_target && s->gain == s->gain_target) {
        const float w = s->wet, g = s->gain;
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < n; i++)
                out[c][i] = g * (s->dry[i] + w * (out[c][i] - s->dry[i]));
        return;
    }
    float w = s->wet, g = s->gain;
    for (int i = 0; i < n; i++) {
        w = glide(w, s->wet_target, s->coeff);
        g = glide(g, s->gain_target, s->coeff);
        for (int c = 0; c < channels; c++)
            out[c][i] = g * (s->dry[i] + w * (out[c][i] - s->dry[i]));
    }
    s->wet = w;
    s->gain = g;
}
