#include "ef_lv2_switch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ef_lv2_switch_init(ef_lv2_switch *sw, const ef_lv2_variant *variant, double rate,
                       int max_block)
{
    memset(sw, 0, sizeof *sw);
    sw->variant = variant;
    sw->max_block = max_block;
    sw->fade_samples = (int)ceil(EF_LV2_SWITCH_FADE_MS * 1e-3 * rate);
    for (int c = 0; c < 2; c++) {
        sw->in_copy[c] = calloc((size_t)max_block, sizeof(float));
        sw->scratch[c] = calloc((size_t)max_block, sizeof(float));
        if (!sw->in_copy[c] || !sw->scratch[c])
            return -1;
    }
    return 0;
}

void ef_lv2_switch_free(ef_lv2_switch *sw)
{
    for (int c = 0; c < 2; c++) {
        free(sw->in_copy[c]);
        free(sw->scratch[c]);
    }
    ef_lv2_slot_free(sw->current);
    ef_lv2_slot_free(sw->incoming);
    sw->current = sw->incoming = NULL;
}

ef_lv2_slot *ef_lv2_switch_begin(ef_lv2_switch *sw, ef_lv2_slot *slot)
{
    ef_lv2_slot *displaced = sw->incoming;
    sw->incoming = slot;
    sw->incoming_age = 0;
    /* Why two latencies: the first fills the STFT overlap-add, the second lets the
     * causal convolutions see real frames before the new output is heard. */
    sw->warmup = 2L * slot->latency;
    sw->fade = sw->fade_samples;
    return displaced;
}

/* Blends the incoming output into out over the fade; returns 1 once fully faded. */
static int blend(ef_lv2_switch *sw, float *const *out, int n)
{
    const int outs = sw->variant->outputs;
    for (int i = 0; i < n; i++) {
        long t = sw->incoming_age + i - sw->warmup;
        if (t < 0)
            continue;
        float g = t >= sw->fade ? 1.0f : (float)t / (float)sw->fade;
        for (int c = 0; c < outs; c++)
            out[c][i] += g * (sw->scratch[c][i] - out[c][i]);
    }
    sw->incoming_age += n;
    return sw->incoming_age >= sw->warmup + sw->fade;
}

ef_lv2_slot *ef_lv2_switch_process(ef_lv2_switch *sw, const float *const *in,
                                   float *const *out, int n)
{
    const ef_lv2_variant *v = sw->variant;
    ef_lv2_slot *retired = NULL;
    for (int done = 0; done < n;) {
        int m = n - done < sw->max_block ? n - done : sw->max_block;
        const float *chunk_in[2];
        float *chunk_out[2];
        for (int c = 0; c < v->channels; c++) {
            memcpy(sw->in_copy[c], in[c] + done, sizeof(float) * (size_t)m);
            chunk_in[c] = sw->in_copy[c];
        }
        for (int c = 0; c < v->outputs; c++)
            chunk_out[c] = out[c] + done;
        ef_lv2_slot_process(sw->current, v, chunk_in, chunk_out, m);
        if (sw->incoming) {
            ef_lv2_slot_process(sw->incoming, v, chunk_in, sw->scratch, m);
            if (blend(sw, chunk_out, m)) {
                /* Two completions within one run() cannot happen: begin() is only
                 * called between runs, so retired is NULL here. */
                retired = sw->current;
                sw->current = sw->incoming;
                sw->incoming = NULL;
            }
        }
        done += m;
    }
    return retired;
}
