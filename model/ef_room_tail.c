/* Room tail: see ef_room_tail.h. Float32 throughout, in the order the spec writes it
 * (the twin, train/earflow_train/dsp.py room_tail, does the same). */
#include "ef_room_tail.h"

#include "ef_noise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PHASES 1024            /* a draw's top 10 bits pick one of these rotations */
#define TAIL_SEED 0u
#define TAIL_SEQUENCE 55u      /* the flow's noise is sequence 54 (spec section 5) */

struct ef_room_tail {
    ef_room_tail_tables tables;
    float *decay;              /* [rooms][F] the decay in use: the table's, or rescaled */
    double rt60_want, rt60_now; /* the decay control (0: the tables), set and applied */
    float *a, *b;              /* states, interleaved complex [F] each */
    unsigned *draw;            /* [2F] this frame's phase indices: A's bins, then B's */
    float phase_re[PHASES], phase_im[PHASES];
    ef_noise rng;
    size_t bytes;
};

/* The tensor by name and shape (ef_st_need), every value within [lo, hi]. */
static const ef_st_tensor *bind_one(const ef_st_file *file, const char *name, long rows, long F,
                                    float lo, float hi, int *used, ef_error *err)
{
    const ef_st_tensor *t = ef_st_need(file, name, 2, (long[]){rows, F}, used, err);
    for (size_t i = 0; t && i < t->count; i++)
        if (!(t->data[i] >= lo && t->data[i] <= hi)) { /* NaN fails too */
            ef_error_set(err, "tensor '%s' holds %g at %zu, outside [%g, %g]", name,
                         (double)t->data[i], i, (double)lo, (double)hi);
            return NULL;
        }
    return t;
}

int ef_room_tail_bind(ef_room_tail_tables *t, const ef_st_file *file, int n_rooms, int F,
                      int hop, int sample_rate, int *used, ef_error *err)
{
    /* decay < 1 for every room, and the room weights are a convex blend, so the
     * states cannot grow without bound */
    const ef_st_tensor *decay = bind_one(file, "room_tail.decay", n_rooms, F, 0.0f,
                                         EF_ROOM_TAIL_MAX_DECAY, used, err);
    const ef_st_tensor *send = decay ? bind_one(file, "room_tail.send", n_rooms, F, 0.0f,
                                                EF_ROOM_TAIL_MAX_SEND, used, err) : NULL;
    const ef_st_tensor *mix = send ? bind_one(file, "room_tail.mix", 2, F, -1.0f, 1.0f, used, err)
                                   : NULL;
    if (!mix)
        return -1;
    t->decay = decay->data;
    t->send = send->data;
    t->mix = mix->data;
    t->n_rooms = n_rooms;
    t->F = F;
    t->hop = hop;
    t->sample_rate = sample_rate;
    return 0;
}

double ef_room_tail_table_rt60(const ef_room_tail_tables *t, int room)
{
    long k = lround(EF_ROOM_TAIL_MID_HZ * 2.0 * t->F / t->sample_rate);
    k = k < 1 ? 1 : k > t->F - 1 ? t->F - 1 : k;
    const double d = t->decay[(size_t)room * (size_t)t->F + (size_t)k];
    /* the amplitude falls by 60 dB (10^-3) in -3 / log10(d) frames */
    return d > 0.0 && d < 1.0 ? -3.0 * t->hop / ((double)t->sample_rate * log10(d)) : 0.0;
}

void ef_room_tail_set_rt60(ef_room_tail *t, double seconds)
{
    t->rt60_want = seconds > 0.0 ? fmax(seconds, EF_ROOM_TAIL_MIN_RT60) : 0.0;
}

/* The decay in use for rt60_want (the twin: train/earflow_train/dsp.py
 * room_tail_decay, in double as here). */
static void apply_rt60(ef_room_tail *t)
{
    const ef_room_tail_tables *tb = &t->tables;
    const size_t F = (size_t)tb->F;
    for (int r = 0; r < tb->n_rooms; r++) {
        const float *table = tb->decay + (size_t)r * F;
        float *d = t->decay + (size_t)r * F;
        const double own = ef_room_tail_table_rt60(tb, r);
        if (t->rt60_want <= 0.0 || own <= 0.0) {
            memcpy(d, table, F * sizeof(float));
            continue;
        }
        const double ratio = own / t->rt60_want;
        for (size_t k = 0; k < F; k++)
            d[k] = table[k] > 0.0f ? (float)fmin(exp(log((double)table[k]) * ratio),
                                                 (double)EF_ROOM_TAIL_MAX_DECAY)
                                   : 0.0f;
    }
    t->rt60_now = t->rt60_want;
}

ef_room_tail *ef_room_tail_new(const ef_room_tail_tables *tables)
{
    ef_room_tail *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    const size_t F = (size_t)tables->F;
    t->tables = *tables;
    t->a = calloc(2 * F, sizeof(float));
    t->b = calloc(2 * F, sizeof(float));
    t->draw = calloc(2 * F, sizeof(unsigned));
    t->decay = calloc((size_t)tables->n_rooms * F, sizeof(float));
    if (!t->a || !t->b || !t->draw || !t->decay) {
        ef_room_tail_free(t);
        return NULL;
    }
    t->bytes = sizeof *t + (4 + (size_t)tables->n_rooms) * F * sizeof(float) + 2 * F * sizeof(unsigned);
    apply_rt60(t); /* rt60_want 0: the tables */
    for (int j = 0; j < PHASES; j++) {
        t->phase_re[j] = (float)cos(2.0 * M_PI * j / PHASES);
        t->phase_im[j] = (float)sin(2.0 * M_PI * j / PHASES);
    }
    ef_room_tail_reset(t);
    return t;
}

void ef_room_tail_free(ef_room_tail *t)
{
    if (!t)
        return;
    free(t->a);
    free(t->b);
    free(t->draw);
    free(t->decay);
    free(t);
}

size_t ef_room_tail_bytes(const ef_room_tail *t) { return t->bytes; }

void ef_room_tail_reset(ef_room_tail *t)
{
    memset(t->a, 0, 2 * (size_t)t->tables.F * sizeof(float));
    memset(t->b, 0, 2 * (size_t)t->tables.F * sizeof(float));
    ef_noise_seed_sequence(&t->rng, TAIL_SEED, TAIL_SEQUENCE);
}

/* s = p * (d s + g x), p a unit rotation: one state's update for one bin. */
static void feed(float *s, float d, float g, float xr, float xi, float pr, float pi)
{
    const float ar = d * s[0] + g * xr, ai = d * s[1] + g * xi;
    s[0] = pr * ar - pi * ai;
    s[1] = pr * ai + pi * ar;
}

void ef_room_tail_frame(ef_room_tail *t, const float *in, const float *room_weights,
                        float *left, float *right)
{
    const ef_room_tail_tables *tb = &t->tables;
    const int F = tb->F;
    if (t->rt60_want != t->rt60_now)
        apply_rt60(t);
    for (int i = 0; i < 2 * F; i++)
        t->draw[i] = ef_noise_u32(&t->rng) >> 22;
    int finite = 1;
    for (int k = 0; k < F; k++) {
        float d = 0.0f, g = 0.0f;
        for (int r = 0; r < tb->n_rooms; r++) {
            d += room_weights[r] * t->decay[(size_t)r * (size_t)F + (size_t)k];
            g += room_weights[r] * tb->send[(size_t)r * (size_t)F + (size_t)k];
        }
        float *a = t->a + 2 * k, *b = t->b + 2 * k;
        const float c1 = tb->mix[k], c2 = tb->mix[F + k];
        left[2 * k] = c1 * a[0] + c2 * b[0];
        left[2 * k + 1] = c1 * a[1] + c2 * b[1];
        right[2 * k] = c1 * a[0] - c2 * b[0];
        right[2 * k + 1] = c1 * a[1] - c2 * b[1];
        const unsigned ja = t->draw[k], jb = t->draw[F + k];
        feed(a, d, g, in[2 * k], in[2 * k + 1], t->phase_re[ja], t->phase_im[ja]);
        feed(b, d, g, in[2 * k], in[2 * k + 1], t->phase_re[jb], t->phase_im[jb]);
        finite &= isfinite(a[0]) && isfinite(a[1]) && isfinite(b[0]) && isfinite(b[1]);
    }
    if (!finite) { /* an absurd input level overflowed: drop the tail, never keep garbage */
        memset(t->a, 0, 2 * (size_t)F * sizeof(float));
        memset(t->b, 0, 2 * (size_t)F * sizeof(float));
    }
}
