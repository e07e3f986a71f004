/* The engine: host-rate adaptation, framing, STFT, the flow solver over the network,
 * ISTFT. Everything is allocated in ef_engine_new; processing only computes. */
#include "ef_conditioning.h"
#include "ef_framer.h"
#include "ef_governor.h"
#include "ef_head_prior.h"
#include "ef_model_internal.h"
#include "ef_noise.h"
#include "ef_output_stage.h"
#include "ef_rate_adapter.h"
#include "ef_room_tail.h"
#include "ef_sample.h"
#include "ef_stft.h"
#include "ef_unet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#define MAX_CH EF_FRAMER_MAX_CHANNELS

struct ef_engine {
    const ef_model *model;
    int n_bins;  /* STFT bins, n_fft/2 + 1 */
    int F;       /* network bins, n_fft/2 (Nyquist dropped) */
    int latency;
    size_t bytes;
    ef_framer *framer;
    ef_rate_adapter *adapter; /* NULL when the host runs at the model's rate */
    ef_stft_analyzer *analyzer[MAX_CH];
    ef_stft_synthesizer *synthesizer[MAX_CH];
    float *in_frame[MAX_CH];  /* 2 * n_bins, interleaved complex */
    float *out_frame[MAX_CH];
    float *clean_in[MAX_CH];  /* max_block each: the input with bad samples replaced */
    int max_block;
    /* flow (network models) */
    ef_unet_state *net_state;
    float *cond, *x, *x_mid, *v, *eps; /* real layout frames */
    float *prior;        /* the flow's start per output channel (head prior models) */
    float *prior_gain;   /* per ear [re F][im F] (ef_head_prior.h) */
    double prior_lateral; /* the lateral cosine prior_gain was made for (NAN: none) */
    ef_room_tail *tail;   /* room tail models: the late tail added to the prior */
    float *tail_frame;    /* per ear, interleaved complex [F]: the tail heard this frame */
    float *tail_c;        /* [re F][im F]: one ear's tail, compressed */
    float *tail_prior;    /* arch.tail_gain: per ear the compressed tail, [re F][im F], kept
                           * apart from prior (then the direct sound alone) */
    double decay_s;       /* EF_CONTROL_DECAY: the tail's RT60, 0 = each room's own */
    ef_conditioning conditioning;
    float cond_sub[EF_COND_MAX]; /* conditioning with remove 0 (remove by subtraction) */
    ef_noise noise;
    unsigned long long seed;
    int sounding;         /* 0 until an analysis frame with sound since the reset: the
                           * random draws (start noise, room tail phases) start with the
                           * sound, so leading silence, however long, changes nothing */
    ef_solver solver, want_solver;
    int steps, want_steps;
    float t0, want_t0;
    ef_governor governor; /* caps want_steps under CPU load (live use; off by default) */
    double rate;          /* the host's sample rate */
    long bad_samples, bad_frames;
    /* output blend (ef_output_stage.h) and the controls that set it */
    ef_output_stage *stage;
    float mix, attenuation_limit_db, gain_db;
    int bypass;
};

/* ------------------------------------------------------------ frame work */

static void compress(const ef_model *m, const float *frame, int F, float *re, float *im)
{
    const float p = (m->alpha - 1.0f) / 2.0f;
    for (int k = 0; k < F; k++) {
        float a = frame[2 * k], b = frame[2 * k + 1];
        float g = m->beta * powf(a * a + b * b + 1e-12f, p);
        re[k] = a * g;
        im[k] = b * g;
    }
}

static void decompress(const ef_model *m, const float *re, const float *im, int F, float *frame)
{
    const float p = (1.0f / m->alpha - 1.0f) / 2.0f;
    for (int k = 0; k < F; k++) {
        float a = re[k] / m->beta, b = im[k] / m->beta;
        float g = powf(a * a + b * b + 1e-12f, p);
        frame[2 * k] = a * g;
        frame[2 * k + 1] = b * g;
    }
    frame[2 * F] = 0.0f; /* Nyquist */
    frame[2 * F + 1] = 0.0f;
}

/* The time t at which a schedule runs evaluation i (velocity()'s numbering). */
static double evaluation_time(ef_solver solver, int steps, float t0, int i)
{
    const double h = (1.0 - (double)t0) / steps;
    if (solver == EF_SOLVER_MIDPOINT)
        return (double)t0 + h * (i / 2) + (i % 2 ? h / 2.0 : 0.0);
    return (double)t0 + h * i;
}

/* A schedule change keeps the network's history: each new evaluation continues the
 * history of the old evaluation nearest in t, so the causal convolutions never restart
 * from zeros (a restart is heard for the network's receptive field; carried over, the
 * change is one frame's, crossfaded by the STFT's overlap-add). */
static void apply_pending_schedule(ef_engine *e)
{
    const int want_steps = e->want_steps < e->governor.cap ? e->want_steps : e->governor.cap;
    if (e->want_solver == e->solver && want_steps == e->steps && e->want_t0 == e->t0)
        return;
    const int old_n = ef_solver_evaluations(e->solver, e->steps);
    const int new_n = ef_solver_evaluations(e->want_solver, want_steps);
    int from[2 * EF_MAX_STEPS];
    for (int i = 0; i < new_n; i++) {
        from[i] = -1;
        const double t = evaluation_time(e->want_solver, want_steps, e->want_t0, i);
        double best = INFINITY;
        for (int o = 0; o < old_n; o++) {
            const double d = fabs(evaluation_time(e->solver, e->steps, e->t0, o) - t);
            if (d < best) {
                best = d;
                from[i] = o;
            }
        }
    }
    e->solver = e->want_solver;
    e->steps = want_steps;
    e->t0 = e->want_t0;
    ef_unet_state_carry(e->net_state, from, new_n);
}

/* A mask head's output o is a complex mask on the input spectrum: the predicted end
 * point is x1 = o * cond per output channel and bin, and the velocity that reaches it
 * from x at time t is (x1 - x) / (1 - t). The solver's t is always < 1 (t0 <= 0.99).
 * With arch.tail_gain the mask is on the prior's direct sound only and the room tail
 * is added with the network's own gain, x1 = o * direct + exp(g) * tail: a mask on
 * their sum would scale both alike, leaving the direct-to-reverberant ratio of a
 * frame as the prior made it. */
static void mask_to_velocity(const ef_engine *e, const float *x, double t, float *v)
{
    const int F = e->F, co = e->model->out_channels;
    const float inv = (float)(1.0 / (1.0 - (double)(float)t)); /* the net sees float t */
    const float *gains = v + (size_t)2 * (size_t)co * (size_t)F; /* tail_gain: [co][F] */
    for (int ch = 0; ch < co; ch++) {
        const size_t o = (size_t)ch * 2 * (size_t)F;
        const float *base = e->model->head_prior ? e->prior + o : e->cond;
        const float *cr = base, *ci = base + F;
        const float *tr = e->tail_prior ? e->tail_prior + o : NULL, *ti = tr ? tr + F : NULL;
        const float *g = tr ? gains + (size_t)ch * (size_t)F : NULL;
        for (int k = 0; k < F; k++) {
            const float mr = v[o + k], mi = v[o + F + k];
            float re = mr * cr[k] - mi * ci[k], im = mr * ci[k] + mi * cr[k];
            if (tr) {
                const float s = expf(fminf(fmaxf(g[k], -EF_UNET_OUT_GAIN_MAX_LOG), EF_UNET_OUT_GAIN_MAX_LOG));
                re += s * tr[k];
                im += s * ti[k];
            }
            v[o + k] = (re - x[o + k]) * inv;
            v[o + F + k] = (im - x[o + F + k]) * inv;
        }
    }
}

/* The network at (x, t), as a velocity whatever its head. */
static void velocity(ef_engine *e, int evaluation, const float *x, double t, const float *c)
{
    ef_unet_eval(&e->model->net, e->net_state, evaluation, x, e->cond, (float)t, c, e->v);
    if (e->model->mask_head)
        mask_to_velocity(e, x, t, e->v);
}

/* Head prior models: the prior of each ear is the mono spectrum times that ear's
 * spherical-head gain, made again only when the (smoothed) direction moved. */
static void make_prior(ef_engine *e, const float *c)
{
    const ef_model *m = e->model;
    const int F = e->F;
    const double lateral = ef_head_prior_lateral(c);
    if (lateral != e->prior_lateral) {
        ef_head_prior_gains(lateral, m->n_fft, m->sample_rate, m->alpha, e->prior_gain,
                            e->prior_gain + 2 * (size_t)F);
        e->prior_lateral = lateral;
    }
    const float *cr = e->cond, *ci = e->cond + F;
    /* with a room tail the direct sound falls as 1 / distance (in the compressed
     * domain: to the power alpha), so that the tail's share grows with distance */
    const float direct = m->room_tail ? (float)exp(-(double)m->alpha * (double)c[4]) : 1.0f;
    for (int ch = 0; ch < m->out_channels; ch++) {
        const float *g = e->prior_gain + (size_t)ch * 2 * (size_t)F;
        float *p = e->prior + (size_t)ch * 2 * (size_t)F;
        for (int k = 0; k < F; k++) {
            const float re = cr[k] * g[k] - ci[k] * g[F + k];
            const float im = cr[k] * g[F + k] + ci[k] * g[k];
            p[k] = re * direct; /* x 1.0f without a tail: exact */
            p[F + k] = im * direct;
        }
    }
    if (!m->room_tail)
        return;
    if (e->sounding)
        ef_room_tail_frame(e->tail, e->in_frame[0], c + 5, e->tail_frame, e->tail_frame + 2 * (size_t)F);
    else /* silence since the reset: the tail's states are zero and stay so */
        memset(e->tail_frame, 0, sizeof(float) * 4 * (size_t)F);
    for (int ch = 0; ch < m->out_channels; ch++) {
        float *p = e->prior + (size_t)ch * 2 * (size_t)F;
        compress(m, e->tail_frame + (size_t)ch * 2 * (size_t)F, F, e->tail_c, e->tail_c + F);
        if (e->tail_prior) /* tail_gain: the mask's part and the gain's kept apart */
            memcpy(e->tail_prior + (size_t)ch * 2 * (size_t)F, e->tail_c, sizeof(float) * 2 * (size_t)F);
        else
            for (int k = 0; k < 2 * F; k++)
                p[k] += e->tail_c[k];
    }
}

/* Whether this analysis frame is digital silence (every float of it zero). */
static int frame_is_silent(const ef_engine *e)
{
    for (int k = 0; k < 2 * e->n_bins; k++)
        if (e->in_frame[0][k] != 0.0f)
            return 0;
    return 1;
}

/* One frame of the flow: x = prior + sigma * eps, then the ODE from t0 to 1. */
static void flow_frame(ef_engine *e)
{
    const ef_model *m = e->model;
    const int F = e->F, co = m->out_channels;
    const size_t xs = (size_t)2 * (size_t)co * (size_t)F;
    apply_pending_schedule(e);
    compress(m, e->in_frame[0], F, e->cond, e->cond + F);
    const float *c = ef_conditioning_next_frame(&e->conditioning);
    float r_sub = 0.0f; /* remove by subtraction: smoothed remove share, network keeps */
    if (m->remove_subtract) {
        memcpy(e->cond_sub, c, sizeof(float) * (size_t)(m->n_labels + 1));
        r_sub = e->cond_sub[m->n_labels];
        e->cond_sub[m->n_labels] = 0.0f;
        c = e->cond_sub;
    }
    /* one scan, where an answer is needed: before the first sound (the draws), and
     * for separation on every frame (its silence gate below) */
    const int silent = (m->kind == EF_KIND_SEPARATE || !e->sounding) && frame_is_silent(e);
    e->sounding |= !silent;
    if (e->sounding && m->sigma != 0.0f) /* sigma 0 (separation): no draws to scale */
        ef_noise_normals(&e->noise, e->eps, (int)xs);
    else
        memset(e->eps, 0, sizeof(float) * xs);
    if (m->head_prior)
        make_prior(e, c);
    for (int ch = 0; ch < co; ch++) {
        const float *z = m->head_prior ? e->prior + (size_t)ch * 2 * (size_t)F : e->cond;
        const float *tail = e->tail_prior ? e->tail_prior + (size_t)ch * 2 * (size_t)F : NULL;
        for (int k = 0; k < 2 * F; k++) /* tail_gain: the flow still starts at direct + tail */
            e->x[(size_t)ch * 2 * (size_t)F + (size_t)k] =
                (tail ? z[k] + tail[k] : z[k]) + m->sigma * e->eps[(size_t)ch * 2 * (size_t)F + (size_t)k];
    }
    const double h = (1.0 - (double)e->t0) / e->steps;
    const float h32 = (float)h, half = (float)(h / 2.0);
    for (int i = 0; i < e->steps; i++) {
        const double ti = (double)e->t0 + (1.0 - (double)e->t0) * i / e->steps;
        if (e->solver == EF_SOLVER_EULER) {
            velocity(e, i, e->x, ti, c);
            for (size_t k = 0; k < xs; k++)
                e->x[k] = e->x[k] + h32 * e->v[k];
        } else {
            velocity(e, 2 * i, e->x, ti, c);
            for (size_t k = 0; k < xs; k++)
                e->x_mid[k] = e->x[k] + half * e->v[k];
            velocity(e, 2 * i + 1, e->x_mid, ti + h / 2.0, c);
            for (size_t k = 0; k < xs; k++)
                e->x[k] = e->x[k] + h32 * e->v[k];
        }
    }
    /* Separation: digital silence in, digital silence out: an all-zero analysis frame
     * gives an all-zero output frame (the network still ran, so its history is
     * unchanged). Not for binaural models: their room tails outlast the input. */
    for (int ch = 0; ch < co; ch++) {
        const float *re = e->x + (size_t)ch * 2 * (size_t)F;
        if (silent && m->kind == EF_KIND_SEPARATE) {
            memset(e->out_frame[ch], 0, sizeof(float) * 2 * (size_t)e->n_bins);
            continue;
        }
        decompress(m, re, re + F, F, e->out_frame[ch]);
        if (m->remove_subtract) /* out = (1 - r) keep + r (mixture - keep) */
            for (int k = 0; k < 2 * F; k++) /* the Nyquist bin stays 0 */
                e->out_frame[ch][k] = (1.0f - r_sub) * e->out_frame[ch][k] +
                                      r_sub * (e->in_frame[0][k] - e->out_frame[ch][k]);
        /* Never pass garbage on: a frame with a non-finite bin, or with a bin louder
         * than any audio (above frame_limit; huge finite bins overflowed to Inf in the
         * overlap-add), becomes a silent frame, counted. NaN fails the <= too. The
         * limit: 1000 times the largest bin a full-scale input frame has (the analysis
         * is unnormalised: at most n_fft), +60 dBFS. */
        const float frame_limit = 1000.0f * (float)m->n_fft;
        int sane = 1;
        for (int k = 0; k < 2 * e->n_bins; k++)
            sane &= fabsf(e->out_frame[ch][k]) <= frame_limit;
        if (!sane) {
            memset(e->out_frame[ch], 0, sizeof(float) * 2 * (size_t)e->n_bins);
            e->bad_frames++;
        }
    }
}

/* Audio thread: one hop in, one hop out. */
static void process_hop(void *ctx, const float *const *in, float *const *out)
{
    ef_engine *e = ctx;
    const ef_model *m = e->model;
    for (int c = 0; c < m->in_channels; c++)
        ef_stft_analyzer_push(e->analyzer[c], in[c], e->in_frame[c]);
    if (m->kind == EF_KIND_IDENTITY)
        memcpy(e->out_frame[0], e->in_frame[0], sizeof(float) * 2 * (size_t)e->n_bins);
    else
        flow_frame(e);
    for (int c = 0; c < m->out_channels; c++)
        ef_stft_synthesizer_push(e->synthesizer[c], e->out_frame[c], out[c]);
}

/* Audio thread: the engine at the model's rate, any n. */
static void process_core(void *ctx, const float *const *in, float *const *out, int n)
{
    ef_engine *e = ctx;
    ef_framer_process(e->framer, in, out, n, process_hop, e);
}

/* ------------------------------------------------------------ life cycle */

static float *engine_floats(ef_engine *e, size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (p)
        e->bytes += n * sizeof(float);
    return p;
}

ef_engine *ef_engine_new(const ef_model *model, double sample_rate, int max_block,
                         ef_error *err)
{
    if (!model) {
        ef_error_set(err, "no model");
        return NULL;
    }
    if (!(sample_rate >= 8000.0 && sample_rate <= 192000.0) ||
        fabs(sample_rate - floor(sample_rate + 0.5)) > 1e-6) {
        ef_error_set(err, "unsupported sample rate %g Hz (whole numbers, 8000..192000)",
                     sample_rate);
        return NULL;
    }
    if (max_block < 1 || max_block > EF_MAX_BLOCK) {
        ef_error_set(err, "block size %d out of range 1..%d", max_block, EF_MAX_BLOCK);
        return NULL;
    }
    ef_engine *e = calloc(1, sizeof *e);
    if (!e) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    e->model = model;
    ef_governor_init(&e->governor);
    e->n_bins = model->n_fft / 2 + 1;
    e->F = model->n_fft / 2;
    int host_rate = (int)floor(sample_rate + 0.5);
    e->rate = host_rate;
    int core_latency = ef_model_latency(model);
    int ok = 1;
    e->framer = ef_framer_new(model->in_channels, model->out_channels, model->hop, err);
    ok &= e->framer != NULL;
    e->max_block = max_block;
    for (int c = 0; ok && c < model->in_channels; c++) {
        ok &= (e->clean_in[c] = engine_floats(e, (size_t)max_block)) != NULL;
        ok &= (e->analyzer[c] = ef_stft_analyzer_new(model->n_fft, model->hop, err)) != NULL;
        ok &= (e->in_frame[c] = engine_floats(e, 2 * (size_t)e->n_bins)) != NULL;
    }
    for (int c = 0; ok && c < model->out_channels; c++) {
        ok &= (e->synthesizer[c] = ef_stft_synthesizer_new(model->n_fft, model->hop, err)) != NULL;
        ok &= (e->out_frame[c] = engine_floats(e, 2 * (size_t)e->n_bins)) != NULL;
    }
    if (ok && model->kind != EF_KIND_IDENTITY) {
        size_t xs = (size_t)2 * (size_t)model->out_channels * (size_t)e->F;
        const int tail_gain = model->net.cfg.tail_gain;
        e->net_state = ef_unet_state_new(&model->net, 2 * EF_MAX_STEPS, err);
        ok &= e->net_state != NULL;
        ok = ok && (e->cond = engine_floats(e, 2 * (size_t)e->F)) && (e->x = engine_floats(e, xs)) &&
             (e->x_mid = engine_floats(e, xs)) && (e->v = engine_floats(e, tail_gain ? xs + xs / 2 : xs)) &&
             (e->eps = engine_floats(e, xs));
        if (ok && tail_gain)
            ok = (e->tail_prior = engine_floats(e, xs)) != NULL;
        if (ok && model->head_prior)
            ok = (e->prior = engine_floats(e, xs)) &&
                 (e->prior_gain = engine_floats(e, 4 * (size_t)e->F));
        if (ok && model->room_tail) {
            ok = (e->tail = ef_room_tail_new(&model->tail_tables)) &&
                 (e->tail_frame = engine_floats(e, 4 * (size_t)e->F)) &&
                 (e->tail_c = engine_floats(e, 2 * (size_t)e->F));
            if (ok)
                e->bytes += ef_room_tail_bytes(e->tail);
            else
                ef_error_set(err, "out of memory");
        }
        e->prior_lateral = NAN;
        if (ok)
            e->bytes += ef_unet_state_bytes(e->net_state);
        ef_conditioning_init(&e->conditioning, model->kind == EF_KIND_BINAURAL, model->n_rooms,
                             model->n_labels, model->dist_min, model->dist_max,
                             model->smoothing_ms, model->hop, model->sample_rate);
        e->conditioning.label = ef_model_default_label(model); /* init's is 0 */
        ef_conditioning_update(&e->conditioning);
        ef_model_default_schedule(model, &e->solver, &e->steps, &e->t0);
        e->want_solver = e->solver;
        e->want_steps = e->steps;
        e->want_t0 = e->t0;
    }
    if (ok && host_rate != model->sample_rate) {
        e->adapter = ef_rate_adapter_new(host_rate, model->sample_rate, model->in_channels,
                                            model->out_channels, max_block, core_latency,
                                            EF_RESAMPLE_MEDIUM, err);
        ok &= e->adapter != NULL;
    }
    e->latency = ok ? (e->adapter ? ef_rate_adapter_latency(e->adapter) : core_latency) : 0;
    if (ok) {
        e->stage = ef_output_stage_new(e->latency, max_block, (double)host_rate, err);
        ok &= e->stage != NULL;
    }
    if (!ok) {
        ef_engine_free(e);
        return NULL;
    }
    e->bytes += ef_output_stage_bytes(e->stage);
    e->mix = 1.0f;
    e->attenuation_limit_db = EF_ATTENUATION_UNLIMITED_DB;
    ef_noise_seed(&e->noise, e->seed);
    return e;
}

void ef_engine_free(ef_engine *e)
{
    if (!e)
        return;
    ef_framer_free(e->framer);
    ef_rate_adapter_free(e->adapter);
    for (int c = 0; c < MAX_CH; c++) {
        ef_stft_analyzer_free(e->analyzer[c]);
        ef_stft_synthesizer_free(e->synthesizer[c]);
        free(e->in_frame[c]);
        free(e->out_frame[c]);
        free(e->clean_in[c]);
    }
    ef_unet_state_free(e->net_state);
    ef_output_stage_free(e->stage);
    free(e->cond);
    free(e->x);
    free(e->x_mid);
    free(e->v);
    free(e->eps);
    free(e->prior);
    free(e->prior_gain);
    ef_room_tail_free(e->tail);
    free(e->tail_frame);
    free(e->tail_c);
    free(e->tail_prior);
    free(e);
}

/* A sample is bad when it is NaN, infinite or beyond +-EF_INPUT_LIMIT. */
static int bad_sample(float x) { return !ef_sample_ok(x); }

/* Audio thread: the input channels with bad samples replaced by 0 (counted), before
 * anything sees them: the dry path, the resampler's filter history and the STFT.
 * Clean channels are passed as they are (no copy). */
static void sanitize_input(ef_engine *e, const float *const *in, const float **clean, int n)
{
    for (int c = 0; c < e->model->in_channels; c++) {
        const float *src = in[c];
        int any = 0;
        for (int i = 0; i < n; i++)
            any |= bad_sample(src[i]);
        clean[c] = src;
        if (!any)
            continue;
        for (int i = 0; i < n; i++) {
            const int bad = bad_sample(src[i]);
            e->clean_in[c][i] = bad ? 0.0f : src[i];
            e->bad_samples += bad;
        }
        clean[c] = e->clean_in[c];
    }
}

void ef_engine_process(ef_engine *e, const float *const *in_raw, float *const *out, int n)
{
    if (n <= 0)
        return;
    if (n > e->max_block)
        n = e->max_block;
    const double started = e->governor.share > 0 ? ef_governor_now() : 0.0;
    const float *in[MAX_CH];
    sanitize_input(e, in_raw, in, n);
#if defined(__SSE__)
    /* Flush denormals to zero while we compute: decaying histories and reverb tails
     * otherwise reach the denormal range and cost 100x per operation. */
    const unsigned int csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040u); /* FTZ | DAZ */
#endif
    ef_output_stage_push_dry(e->stage, in[0], n); /* before: in and out may alias */
    if (e->adapter)
        ef_rate_adapter_process(e->adapter, in, out, n, process_core, e);
    else
        process_core(e, in, out, n);
    ef_output_stage_apply(e->stage, out, e->model->out_channels, n);
#if defined(__SSE__)
    _mm_setcsr(csr);
#endif
    if (e->governor.share > 0)
        ef_governor_account(&e->governor, ef_governor_now() - started, n / e->rate, e->solver,
                            e->steps, e->want_steps);
}

int ef_engine_running_steps(const ef_engine *e) { return e->steps; }
long ef_engine_governor_changes(const ef_engine *e) { return e->governor.changes; }

int ef_engine_latency(const ef_engine *e) { return e->latency; }
long ef_engine_bad_samples(const ef_engine *e) { return e->bad_samples; }
long ef_engine_bad_frames(const ef_engine *e) { return e->bad_frames; }
long ef_engine_sanitized(const ef_engine *e) { return e->bad_samples + e->bad_frames; }
size_t ef_engine_memory_bytes(const ef_engine *e) { return e->bytes + sizeof *e; }

long ef_engine_underruns(const ef_engine *e)
{
    return e->adapter ? ef_rate_adapter_underruns(e->adapter) : 0;
}

void ef_engine_reset(ef_engine *e)
{
    ef_framer_reset(e->framer);
    for (int c = 0; c < e->model->in_channels; c++)
        ef_stft_analyzer_reset(e->analyzer[c]);
    for (int c = 0; c < e->model->out_channels; c++)
        ef_stft_synthesizer_reset(e->synthesizer[c]);
    if (e->adapter)
        ef_rate_adapter_reset(e->adapter);
    if (e->net_state) {
        ef_unet_state_reset(e->net_state);
        ef_conditioning_reset(&e->conditioning);
    }
    if (e->tail)
        ef_room_tail_reset(e->tail);
    ef_noise_seed(&e->noise, e->seed);
    e->sounding = 0;
    ef_output_stage_reset(e->stage);
}

/* ------------------------------------------------------------ controls */

static int is_net(const ef_engine *e) { return e->model->kind != EF_KIND_IDENTITY; }

void ef_engine_set_position(ef_engine *e, double azimuth, double elevation, double distance)
{
    if (!is_net(e) || !isfinite(azimuth) || !isfinite(elevation) || !isfinite(distance))
        return;
    e->conditioning.azimuth = fmod(azimuth, 360.0);
    e->conditioning.elevation = fmin(90.0, fmax(-90.0, elevation));
    e->conditioning.distance = distance;
    ef_conditioning_update(&e->conditioning);
}

void ef_engine_set_head(ef_engine *e, double yaw, double pitch, double roll)
{
    if (!is_net(e) || !isfinite(yaw) || !isfinite(pitch) || !isfinite(roll))
        return;
    e->conditioning.yaw = fmod(yaw, 360.0);
    e->conditioning.pitch = fmod(pitch, 360.0);
    e->conditioning.roll = fmod(roll, 360.0);
    ef_conditioning_update(&e->conditioning);
}

void ef_engine_set_room(ef_engine *e, int room)
{
    if (!is_net(e) || e->model->n_rooms < 1)
        return;
    e->conditioning.room = room < 0 ? 0 : room >= e->model->n_rooms ? e->model->n_rooms - 1 : room;
    ef_conditioning_update(&e->conditioning);
}

int ef_engine_set_label(ef_engine *e, int label)
{
    if (!is_net(e) || e->model->n_labels < 1)
        return 0;
    label = label < 0 ? 0 : label >= e->model->n_labels ? e->model->n_labels - 1 : label;
    if (!ef_model_label_trained(e->model, label))
        return -1; /* never run a label the network has not learnt: keep the current one */
    e->conditioning.label = label;
    ef_conditioning_update(&e->conditioning);
    return 0;
}

void ef_engine_set_remove(ef_engine *e, int remove)
{
    if (!is_net(e))
        return;
    e->conditioning.remove = remove != 0;
    ef_conditioning_update(&e->conditioning);
}

void ef_engine_set_schedule(ef_engine *e, ef_solver solver, int steps, float t0)
{
    if (!is_net(e) || !isfinite(t0))
        return;
    e->want_solver = solver == EF_SOLVER_MIDPOINT ? EF_SOLVER_MIDPOINT : EF_SOLVER_EULER;
    e->want_steps = steps < 1 ? 1 : steps > EF_MAX_STEPS ? EF_MAX_STEPS : steps;
    e->want_t0 = t0 < 0.0f ? 0.0f : t0 > 0.99f ? 0.99f : t0;
}

void ef_engine_get_schedule(const ef_engine *e, ef_solver *solver, int *steps, float *t0)
{
    *solver = e->want_solver;
    *steps = e->want_steps;
    *t0 = e->want_t0;
}

void ef_engine_set_seed(ef_engine *e, unsigned long long seed) { e->seed = seed; }

int ef_engine_set_control(ef_engine *e, ef_control control, double v)
{
    const ef_conditioning *c = &e->conditioning;
    if (isnan(v) || !ef_control_applies(control, e->model->kind))
        return 0;
    switch (control) {
    case EF_CONTROL_ENABLED: ef_engine_set_bypass(e, v < 0.5); break;
    case EF_CONTROL_AZIMUTH: ef_engine_set_position(e, v, c->elevation, c->distance); break;
    case EF_CONTROL_ELEVATION: ef_engine_set_position(e, c->azimuth, v, c->distance); break;
    case EF_CONTROL_DISTANCE: ef_engine_set_position(e, c->azimuth, c->elevation, v); break;
    case EF_CONTROL_YAW: ef_engine_set_head(e, v, c->pitch, c->roll); break;
    case EF_CONTROL_PITCH: ef_engine_set_head(e, c->yaw, fmin(90.0, fmax(-90.0, v)), c->roll); break;
    case EF_CONTROL_ROLL: ef_engine_set_head(e, c->yaw, c->pitch, v); break;
    case EF_CONTROL_ROOM: ef_engine_set_room(e, (int)lrint(fmin(1e6, fmax(-1e6, v)))); break;
    case EF_CONTROL_TARGET: return ef_engine_set_label(e, (int)lrint(fmin(1e6, fmax(-1e6, v))));
    case EF_CONTROL_MODE: ef_engine_set_remove(e, v >= 0.5); break;
    case EF_CONTROL_LIMIT: ef_engine_set_attenuation_limit(e, (float)v); break;
    case EF_CONTROL_STEPS: {
        /* 0: the model's whole default schedule; n: n steps of the current solver and t0. */
        ef_solver solver;
        int steps;
        float t0;
        if (v < 0.5)
            ef_model_default_schedule(e->model, &solver, &steps, &t0);
        else
            ef_engine_get_schedule(e, &solver, &steps, &t0);
        ef_engine_set_schedule(e, solver, v < 0.5 ? steps : (int)lrint(fmin(EF_MAX_STEPS, v)), t0);
        break;
    }
    case EF_CONTROL_GOVERNOR: ef_governor_set_share(&e->governor, fmin(1e6, v) / 100.0); break;
    case EF_CONTROL_MIX: ef_engine_set_mix(e, (float)v); break;
    case EF_CONTROL_GAIN: ef_engine_set_output_gain(e, (float)fmax(-1e6, fmin(1e6, v))); break;
    case EF_CONTROL_DECAY:
        e->decay_s = fmin(ef_control_get(EF_CONTROL_DECAY)->max, fmax(0.0, v));
        if (e->tail)
            ef_room_tail_set_rt60(e->tail, e->decay_s);
        break;
    case EF_CONTROL_COUNT: break;
    }
    return 0;
}

double ef_engine_get_control(const ef_engine *e, ef_control control)
{
    const ef_conditioning *c = &e->conditioning;
    switch (control) {
    case EF_CONTROL_ENABLED: return !e->bypass;
    case EF_CONTROL_AZIMUTH: return c->azimuth;
    case EF_CONTROL_ELEVATION: return c->elevation;
    case EF_CONTROL_DISTANCE: return c->distance;
    case EF_CONTROL_ROOM: return c->room;
    case EF_CONTROL_YAW: return c->yaw;
    case EF_CONTROL_PITCH: return c->pitch;
    case EF_CONTROL_ROLL: return c->roll;
    case EF_CONTROL_TARGET: return c->label;
    case EF_CONTROL_MODE: return c->remove;
    case EF_CONTROL_LIMIT: return e->attenuation_limit_db;
    case EF_CONTROL_STEPS: return e->want_steps;
    case EF_CONTROL_GOVERNOR: return 100.0 * e->governor.share;
    case EF_CONTROL_MIX: return e->mix;
    case EF_CONTROL_GAIN: return e->gain_db;
    case EF_CONTROL_DECAY: return e->decay_s;
    case EF_CONTROL_COUNT: break;
    }
    return NAN;
}

/* The share of the processed signal in the output, from mix, limit and bypass. */
static void update_output_stage(ef_engine *e)
{
    float wet = e->bypass ? 0.0f : e->mix;
    if (e->model->kind == EF_KIND_SEPARATE && e->attenuation_limit_db < EF_ATTENUATION_UNLIMITED_DB)
        wet *= 1.0f - powf(10.0f, -e->attenuation_limit_db / 20.0f);
    float gain = e->gain_db <= EF_GAIN_MIN_DB ? 0.0f : powf(10.0f, e->gain_db / 20.0f);
    ef_output_stage_set(e->stage, wet, gain);
}

void ef_engine_set_mix(ef_engine *e, float mix)
{
    if (!isfinite(mix))
        return;
    e->mix = mix < 0.0f ? 0.0f : mix > 1.0f ? 1.0f : mix;
    update_output_stage(e);
}

void ef_engine_set_attenuation_limit(ef_engine *e, float db)
{
    if (!isfinite(db) && !(db > 0.0f))
        return; /* NaN or -inf: ignored; +inf means unlimited */
    e->attenuation_limit_db = db < 0.0f ? 0.0f : db > EF_ATTENUATION_UNLIMITED_DB ? EF_ATTENUATION_UNLIMITED_DB : db;
    update_output_stage(e);
}

void ef_engine_set_bypass(ef_engine *e, int bypass)
{
    e->bypass = bypass != 0;
    update_output_stage(e);
}

void ef_engine_set_output_gain(ef_engine *e, float db)
{
    if (!isfinite(db) && !(db < 0.0f))
        return; /* NaN or +inf: ignored; -inf means silence */
    e->gain_db = db < EF_GAIN_MIN_DB ? EF_GAIN_MIN_DB : db > EF_GAIN_MAX_DB ? EF_GAIN_MAX_DB : db;
    update_output_stage(e);
}
