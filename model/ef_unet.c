#include "ef_unet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ef_unet_state {
    int evaluations, n_blocks;
    float **ring;   /* [evaluation * n_blocks + block] -> history frames */
    int *ring_pos;  /* next slot to write */
    int *ring_len;  /* frames in that ring (the block's history) */
    size_t *frame_size;
    float *input, *h, *a, *b, *up;
    float *skip[EF_UNET_MAX_LEVELS];
    float *u, *e1, *e, *projv;
    float *gain; /* [c_out F] arch.out_gain's log gains */
    float *heads; /* [n_heads][out channels][F] arch.label_heads' outputs before the sum */
    float *scratch; /* the conv kernels' (ef_conv_scratch_floats) */
    size_t bytes;
};

/* ------------------------------------------------------------------ binding */

/* Binds "<prefix>.weight" (shape given) and "<prefix>.bias" ([bias_len]). */
static int bind_pair(const ef_st_file *file, const char *prefix, int n_dims, const long *shape,
                     long bias_len, const float **w, const float **b, int *used, ef_error *err)
{
    char name[96];
    snprintf(name, sizeof name, "%s.weight", prefix);
    const ef_st_tensor *tw = ef_st_need(file, name, n_dims, shape, used, err);
    snprintf(name, sizeof name, "%s.bias", prefix);
    const ef_st_tensor *tb = tw ? ef_st_need(file, name, 1, &bias_len, used, err) : NULL;
    if (!tb)
        return -1;
    *w = tw->data;
    *b = tb->data;
    return 0;
}

static int bind_conv(ef_conv *c, const ef_st_file *file, const char *prefix, int cout,
                     int cin, int kt, int dil, int stride, int *used, ef_error *err)
{
    *c = (ef_conv){NULL, NULL, cout, cin, kt, dil, stride, NULL};
    return bind_pair(file, prefix, 4, (long[]){cout, cin, kt, 3}, cout, &c->w, &c->b, used, err);
}

static int bind_norm(ef_norm *n, const ef_st_file *file, const char *prefix, int ch,
                     int groups, int *used, ef_error *err)
{
    *n = (ef_norm){NULL, NULL, ch, groups};
    return bind_pair(file, prefix, 1, (long[]){ch}, ch, &n->w, &n->b, used, err);
}

static int bind_linear(ef_linear *l, const ef_st_file *file, const char *prefix, int out,
                       int in, int *used, ef_error *err)
{
    *l = (ef_linear){NULL, NULL, out, in};
    return bind_pair(file, prefix, 2, (long[]){out, in}, out, &l->w, &l->b, used, err);
}

static int bind_block(ef_resblock *r, const ef_st_file *file, const char *prefix, int ch,
                      int n_bins, int dil, const ef_unet_config *cfg, int *used, ef_error *err)
{
    char p[80];
    r->n_bins = n_bins;
    r->history = (cfg->kt - 1) * dil;
    snprintf(p, sizeof p, "%s.norm1", prefix);
    if (bind_norm(&r->norm1, file, p, ch, cfg->groups, used, err))
        return -1;
    snprintf(p, sizeof p, "%s.norm2", prefix);
    if (bind_norm(&r->norm2, file, p, ch, cfg->groups, used, err))
        return -1;
    snprintf(p, sizeof p, "%s.conv1", prefix);
    if (bind_conv(&r->conv1, file, p, ch, ch, cfg->kt, dil, 1, used, err))
        return -1;
    snprintf(p, sizeof p, "%s.conv2", prefix);
    if (bind_conv(&r->conv2, file, p, ch, ch, 1, 1, 1, used, err))
        return -1;
    snprintf(p, sizeof p, "%s.proj", prefix);
    return bind_linear(&r->proj, file, p, ch, cfg->emb_dim, used, err);
}

static int check_config(const ef_unet_config *c, ef_error *err)
{
    if (c->levels < 0 || c->levels > EF_UNET_MAX_LEVELS) {
        ef_error_set(err, "arch: 1 to %d widths are supported", EF_UNET_MAX_LEVELS + 1);
        return -1;
    }
    if (c->n_mid < 0 || c->n_mid > EF_UNET_MAX_MID) {
        ef_error_set(err, "arch: at most %d dil_mid entries", EF_UNET_MAX_MID);
        return -1;
    }
    if (c->kt < 1 || c->kt > 9 || c->groups < 1 || c->emb_dim < 1 || c->emb_dim > 4096 ||
        c->fourier_dim < 1 || c->fourier_dim > 4096 || c->cond_dim < 1) {
        ef_error_set(err, "arch: kt, groups, emb_dim or fourier_dim out of range");
        return -1;
    }
    if (c->n_heads < 1 || c->n_heads > c->cond_dim) {
        ef_error_set(err, "arch: %d output heads for %d conditioning features", c->n_heads, c->cond_dim);
        return -1;
    }
    if (c->n_bins < 1 || c->n_bins % (1 << c->levels) != 0) {
        ef_error_set(err, "arch: %d bins not divisible by 2^%d levels", c->n_bins, c->levels);
        return -1;
    }
    for (int l = 0; l <= c->levels; l++)
        if (c->widths[l] < 1 || c->widths[l] > 1024 || c->widths[l] % c->groups != 0) {
            ef_error_set(err, "arch: width %d must be 1..1024 and divisible by groups %d",
                         c->widths[l], c->groups);
            return -1;
        }
    for (int l = 0; l < c->levels; l++)
        if (c->dil_enc[l] < 1 || c->dil_enc[l] > 256 || c->dil_dec[l] < 1 || c->dil_dec[l] > 256) {
            ef_error_set(err, "arch: dilations must be 1..256");
            return -1;
        }
    for (int i = 0; i < c->n_mid; i++)
        if (c->dil_mid[i] < 1 || c->dil_mid[i] > 256) {
            ef_error_set(err, "arch: dilations must be 1..256");
            return -1;
        }
    return 0;
}

/* The output layer's channels per head: the mask or velocity, and with tail_gain the
 * tail's log gains. */
static int out_channels(const ef_unet_config *c) { return (c->tail_gain ? 3 : 2) * c->c_out; }

/* What ef_unet_state_new will allocate for cfg (its buffers, same sizes; the conv
 * kernels' scratch at most, since which convolutions take Winograd is known only once
 * bound), in bytes; double so that no product overflows. */
static double state_bytes(const ef_unet_config *c, int evaluations)
{
    double history = 0; /* floats per evaluation: each block's (kt - 1) * dil past frames */
    for (int l = 0; l < c->levels; l++)
        history += (double)(c->kt - 1) * (c->dil_enc[l] + c->dil_dec[l]) * c->widths[l] *
                   (c->n_bins >> l);
    for (int i = 0; i < c->n_mid; i++)
        history += (double)(c->kt - 1) * c->dil_mid[i] * c->widths[c->levels] *
                   (c->n_bins >> c->levels);
    double biggest = 2.0 * (c->c_out + c->c_cond) * c->n_bins, skips = 0;
    for (int l = 0; l <= c->levels; l++) {
        int w = l < c->levels && c->widths[l + 1] > c->widths[l] ? c->widths[l + 1] : c->widths[l];
        if ((double)w * (c->n_bins >> l) > biggest)
            biggest = (double)w * (c->n_bins >> l);
        if (l < c->levels)
            skips += (double)c->widths[l] * (c->n_bins >> l);
    }
    /* the conv kernels' scratch, at most: 4 transformed planes of kt x cin rows of half
     * a frame's bins, padded to 16 tiles (ef_conv_scratch_floats) */
    const double scratch = 2.0 * c->kt * biggest + 64.0 * c->kt * EF_CONV_WINOGRAD_MAX_ROWS +
                           EF_CONV_WINOGRAD_BLOCK_FLOATS;
    return sizeof(float) * (evaluations * history + 5 * biggest + skips + scratch +
                            2 * c->fourier_dim + c->cond_dim + 2 * c->emb_dim + 1024 +
                            (c->n_heads > 1 ? (double)c->n_heads * out_channels(c) * c->n_bins : 0));
}

static const ef_resblock *block_at(const ef_unet *net, int k)
{
    const int L = net->cfg.levels;
    if (k < L)
        return &net->enc[k];
    if (k < L + net->cfg.n_mid)
        return &net->mid[k - L];
    return &net->dec[k - L - net->cfg.n_mid];
}

#define MAX_CONVS (2 + 2 * EF_UNET_MAX_LEVELS + 2 * (2 * EF_UNET_MAX_LEVELS + EF_UNET_MAX_MID))

/* Every convolution of the network and its input bins; returns the count. */
static int all_convs(const ef_unet *net, ef_conv **convs, int *n_in)
{
    ef_unet *mut = (ef_unet *)net; /* the list serves both binding and reading */
    const ef_unet_config *c = &net->cfg;
    int n = 0;
    convs[n] = &mut->in_conv, n_in[n++] = c->n_bins;
    convs[n] = &mut->out_conv, n_in[n++] = c->n_bins;
    for (int l = 0; l < c->levels; l++) {
        convs[n] = &mut->down[l], n_in[n++] = c->n_bins >> l;
        convs[n] = &mut->up[l], n_in[n++] = c->n_bins >> l;
    }
    for (int k = 0; k < 2 * c->levels + c->n_mid; k++) {
        ef_resblock *r = (ef_resblock *)block_at(net, k);
        convs[n] = &r->conv1, n_in[n++] = r->n_bins;
        convs[n] = &r->conv2, n_in[n++] = r->n_bins;
    }
    return n;
}

/* The SIMD kernels' Winograd weights of every convolution they serve, in one block. */
static int transform_weights(ef_unet *net, ef_error *err)
{
    ef_conv *convs[MAX_CONVS];
    int n_in[MAX_CONVS];
    const int n = all_convs(net, convs, n_in);
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += ef_conv_winograd_floats(convs[i]);
    if (total == 0)
        return 0;
    net->wino = malloc(sizeof(float) * total);
    if (!net->wino) {
        ef_error_set(err, "out of memory for the network's transformed weights");
        return -1;
    }
    float *u = net->wino;
    for (int i = 0; i < n; i++) {
        const size_t size = ef_conv_winograd_floats(convs[i]);
        if (size) {
            ef_conv_winograd_weights(convs[i], u);
            convs[i]->wino = u;
            u += size;
        }
    }
    return 0;
}

int ef_unet_bind(ef_unet *net, const ef_unet_config *cfg, const ef_st_file *file,
                 int evaluations, int *used, ef_error *err)
{
    if (check_config(cfg, err))
        return -1;
    const double bytes = state_bytes(cfg, evaluations);
    if (bytes > EF_UNET_MAX_STATE_BYTES) {
        ef_error_set(err, "arch: the network's state would take %.0f MiB per engine "
                     "(%d solver evaluations; at most %.0f MiB): n_fft, widths, kt or "
                     "dilations too large", bytes / 1048576.0, evaluations,
                     EF_UNET_MAX_STATE_BYTES / 1048576.0);
        return -1;
    }
    memset(net, 0, sizeof *net);
    net->cfg = *cfg;
    ef_kernels_for(ef_conv_best_isa(), &net->kernels);
    const int L = cfg->levels, E = cfg->emb_dim, Ef = cfg->fourier_dim;
    const ef_st_tensor *tf = ef_st_need(file, "emb.t_freqs", 1, (long[]){Ef}, used, err);
    if (!tf)
        return -1;
    net->t_freqs = tf->data;
    if (bind_linear(&net->fc1, file, "emb.fc1", E, 2 * Ef + cfg->cond_dim, used, err) ||
        bind_linear(&net->fc2, file, "emb.fc2", E, E, used, err) ||
        bind_conv(&net->in_conv, file, "in_conv", cfg->widths[0],
                  2 * (cfg->c_out + cfg->c_cond), 1, 1, 1, used, err))
        return -1;
    if (cfg->freq_emb) {
        const ef_st_tensor *fe =
            ef_st_need(file, "freq_emb", 2, (long[]){cfg->widths[0], cfg->n_bins}, used, err);
        if (!fe)
            return -1;
        net->freq_emb = fe->data;
    }
    char p[64];
    for (int l = 0; l < L; l++) {
        int F_l = cfg->n_bins >> l;
        snprintf(p, sizeof p, "enc.%d", l);
        if (bind_block(&net->enc[l], file, p, cfg->widths[l], F_l, cfg->dil_enc[l], cfg, used, err))
            return -1;
        snprintf(p, sizeof p, "dec.%d", l);
        if (bind_block(&net->dec[l], file, p, cfg->widths[l], F_l, cfg->dil_dec[l], cfg, used, err))
            return -1;
        snprintf(p, sizeof p, "down.%d", l);
        if (bind_conv(&net->down[l], file, p, cfg->widths[l + 1], cfg->widths[l], 1, 1, 2, used, err))
            return -1;
        snprintf(p, sizeof p, "up.%d", l);
        if (bind_conv(&net->up[l], file, p, cfg->widths[l], cfg->widths[l + 1], 1, 1, 1, used, err))
            return -1;
    }
    for (int i = 0; i < cfg->n_mid; i++) {
        snprintf(p, sizeof p, "mid.%d", i);
        if (bind_block(&net->mid[i], file, p, cfg->widths[L], cfg->n_bins >> L, cfg->dil_mid[i],
                       cfg, used, err))
            return -1;
    }
    if (bind_norm(&net->out_norm, file, "out_norm", cfg->widths[0], cfg->groups, used, err) ||
        bind_conv(&net->out_conv, file, "out_conv", out_channels(cfg) * cfg->n_heads, cfg->widths[0], 1,
                  1, 1, used, err))
        return -1;
    if (cfg->out_gain &&
        bind_linear(&net->out_gain, file, "out_gain", cfg->c_out * cfg->n_bins, E, used, err))
        return -1;
    return net->kernels.isa != EF_CONV_PORTABLE ? transform_weights(net, err) : 0;
}

void ef_unet_release(ef_unet *net)
{
    free(net->wino);
    net->wino = NULL;
}

static long conv_macs(const ef_conv *c, int n_bins_out)
{
    return (long)c->cout * c->cin * c->kt * 3 * n_bins_out;
}

static long block_macs(const ef_resblock *r)
{
    return conv_macs(&r->conv1, r->n_bins) + conv_macs(&r->conv2, r->n_bins) +
           (long)r->proj.out * r->proj.in;
}

long ef_unet_macs(const ef_unet *net)
{
    const ef_unet_config *c = &net->cfg;
    long m = (long)c->emb_dim * (2 * c->fourier_dim + c->cond_dim) + (long)c->emb_dim * c->emb_dim;
    m += conv_macs(&net->in_conv, c->n_bins) + conv_macs(&net->out_conv, c->n_bins);
    for (int l = 0; l < c->levels; l++)
        m += block_macs(&net->enc[l]) + block_macs(&net->dec[l]) +
             conv_macs(&net->down[l], c->n_bins >> (l + 1)) + conv_macs(&net->up[l], c->n_bins >> l);
    for (int i = 0; i < c->n_mid; i++)
        m += block_macs(&net->mid[i]);
    if (net->out_gain.w)
        m += (long)net->out_gain.out * net->out_gain.in;
    return m;
}

/* ------------------------------------------------------------------ state */


static float *alloc_floats(ef_unet_state *st, size_t n)
{
    size_t bytes = (n ? n : 1) * sizeof(float);
    bytes = (bytes + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    if (p) {
        memset(p, 0, bytes);
        st->bytes += bytes;
    }
    return p;
}

ef_unet_state *ef_unet_state_new(const ef_unet *net, int evaluations, ef_error *err)
{
    const ef_unet_config *c = &net->cfg;
    ef_unet_state *st = calloc(1, sizeof *st);
    if (!st || evaluations < 1) {
        ef_error_set(err, st ? "no solver evaluations" : "out of memory");
        free(st);
        return NULL;
    }
    st->evaluations = evaluations;
    st->n_blocks = 2 * c->levels + c->n_mid;
    int rings = evaluations * st->n_blocks;
    st->ring = calloc((size_t)(rings ? rings : 1), sizeof *st->ring);
    st->ring_pos = calloc((size_t)(rings ? rings : 1), sizeof *st->ring_pos);
    st->ring_len = calloc((size_t)(rings ? rings : 1), sizeof *st->ring_len);
    st->frame_size = calloc((size_t)(rings ? rings : 1), sizeof *st->frame_size);
    int ok = st->ring && st->ring_pos && st->ring_len && st->frame_size;
    for (int e = 0; ok && e < evaluations; e++)
        for (int k = 0; ok && k < st->n_blocks; k++) {
            const ef_resblock *r = block_at(net, k);
            int i = e * st->n_blocks + k;
            st->ring_len[i] = r->history;
            st->frame_size[i] = (size_t)r->conv1.cin * (size_t)r->n_bins;
            if (r->history > 0)
                ok &= (st->ring[i] = alloc_floats(st, st->frame_size[i] * (size_t)r->history)) != NULL;
        }
    size_t biggest = (size_t)2 * (size_t)(c->c_out + c->c_cond) * (size_t)c->n_bins;
    /* Largest frame: any level's width at its bins, or the upsampled input of a
     * decoder level (width l+1 at the bins of level l). */
    for (int l = 0; l <= c->levels; l++) {
        int w = l < c->levels && c->widths[l + 1] > c->widths[l] ? c->widths[l + 1] : c->widths[l];
        size_t s = (size_t)w * (size_t)(c->n_bins >> l);
        if (s > biggest)
            biggest = s;
    }
    ok = ok && (st->input = alloc_floats(st, biggest)) && (st->h = alloc_floats(st, biggest)) &&
         (st->a = alloc_floats(st, biggest)) && (st->b = alloc_floats(st, biggest)) &&
         (st->up = alloc_floats(st, biggest)) &&
         (st->u = alloc_floats(st, (size_t)(2 * c->fourier_dim + c->cond_dim))) &&
         (st->e1 = alloc_floats(st, (size_t)c->emb_dim)) && (st->e = alloc_floats(st, (size_t)c->emb_dim)) &&
         (st->projv = alloc_floats(st, 1024)) &&
         (st->gain = alloc_floats(st, (size_t)c->c_out * (size_t)c->n_bins)) &&
         (st->heads = alloc_floats(st, c->n_heads > 1 ? (size_t)c->n_heads * (size_t)out_channels(c) *
                                                            (size_t)c->n_bins : 0));
    for (int l = 0; ok && l < c->levels; l++)
        ok &= (st->skip[l] = alloc_floats(st, (size_t)c->widths[l] * (size_t)(c->n_bins >> l))) != NULL;
    ef_conv *convs[MAX_CONVS];
    int n_in[MAX_CONVS];
    size_t scratch = 0;
    for (int i = 0, n = all_convs(net, convs, n_in); i < n; i++) {
        const size_t need = ef_conv_scratch_floats(convs[i], n_in[i]);
        scratch = need > scratch ? need : scratch;
    }
    ok = ok && (scratch == 0 || (st->scratch = alloc_floats(st, scratch)) != NULL);
    if (!ok) {
        ef_error_set(err, "out of memory for the network state");
        ef_unet_state_free(st);
        return NULL;
    }
    return st;
}

void ef_unet_state_free(ef_unet_state *st)
{
    if (!st)
        return;
    if (st->ring)
        for (int i = 0; i < st->evaluations * st->n_blocks; i++)
            free(st->ring[i]);
    free(st->ring);
    free(st->ring_pos);
    free(st->ring_len);
    free(st->frame_size);
    free(st->input);
    free(st->h);
    free(st->a);
    free(st->b);
    free(st->up);
    for (int l = 0; l < EF_UNET_MAX_LEVELS; l++)
        free(st->skip[l]);
    free(st->u);
    free(st->e1);
    free(st->e);
    free(st->projv);
    free(st->gain);
    free(st->heads);
    free(st->scratch);
    free(st);
}

size_t ef_unet_state_bytes(const ef_unet_state *st) { return st->bytes; }

void ef_unet_state_reset(ef_unet_state *st)
{
    for (int i = 0; i < st->evaluations * st->n_blocks; i++) {
        st->ring_pos[i] = 0;
        if (st->ring[i])
            memset(st->ring[i], 0, sizeof(float) * st->frame_size[i] * (size_t)st->ring_len[i]);
    }
}

void ef_unet_state_carry(ef_unet_state *st, const int *from, int n)
{
    enum { MAX_EVALUATIONS = 2 * EF_MAX_STEPS };
    const int evs = st->evaluations < MAX_EVALUATIONS ? st->evaluations : MAX_EVALUATIONS;
    n = n < evs ? n : evs;
    for (int k = 0; k < st->n_blocks; k++) {
        float *old[MAX_EVALUATIONS];
        int old_pos[MAX_EVALUATIONS], taken[MAX_EVALUATIONS] = {0}, got[MAX_EVALUATIONS] = {0};
        for (int o = 0; o < evs; o++) {
            old[o] = st->ring[o * st->n_blocks + k];
            old_pos[o] = st->ring_pos[o * st->n_blocks + k];
        }
        /* First, each source's ring moves whole (pointer and position) to the first new
         * evaluation that wants it: no copying in the usual case. */
        for (int e = 0; e < n; e++) {
            const int o = from[e];
            if (o < 0 || o >= evs || taken[o])
                continue;
            st->ring[e * st->n_blocks + k] = old[o];
            st->ring_pos[e * st->n_blocks + k] = old_pos[o];
            taken[o] = got[e] = 1;
        }
        /* The rest get the rings no one took, filled with a copy of their source (still
         * intact: only untaken rings are written) or zeros. */
        int spare = 0;
        for (int e = 0; e < evs; e++) {
            if (got[e] && e < n)
                continue;
            while (taken[spare])
                spare++;
            taken[spare] = 1;
            const int i = e * st->n_blocks + k, o = e < n ? from[e] : -1;
            const size_t bytes = sizeof(float) * st->frame_size[i] * (size_t)st->ring_len[i];
            st->ring[i] = old[spare];
            if (old[spare] && o >= 0 && o < evs) {
                memcpy(old[spare], old[o], bytes);
                st->ring_pos[i] = old_pos[o];
            } else {
                if (old[spare])
                    memset(old[spare], 0, bytes);
                st->ring_pos[i] = 0;
            }
        }
    }
}

/* ------------------------------------------------------------------ layers */

static inline float silu(float x) { return x / (1.0f + expf(-x)); }

static void linear(const ef_linear *l, const float *in, float *out)
{
    for (int o = 0; o < l->out; o++) {
        const float *w = l->w + (size_t)o * (size_t)l->in;
        float acc = l->b[o];
        for (int i = 0; i < l->in; i++)
            acc += w[i] * in[i];
        out[o] = acc;
    }
}

/* Group norm over one frame [C][F], then silu; in place allowed. */
static void group_norm(const ef_unet *net, const ef_norm *n, const float *x, int n_bins, float *y)
{
    net->kernels.norm_silu(x, n->channels, n->groups, n_bins, n->w, n->b, y);
}

static void conv(const ef_unet *net, ef_unet_state *st, const ef_conv *c, const float *const *taps,
                 int n_in, float *out)
{
    net->kernels.conv(c, taps, n_in, st->scratch, out);
}

static void conv1x(const ef_unet *net, ef_unet_state *st, const ef_conv *c, const float *in, int n_in,
                   float *out)
{
    const float *taps[1] = {in};
    conv(net, st, c, taps, n_in, out);
}

/* x [C][F] -> x + block(x), in place. */
static void resblock(const ef_unet *net, const ef_resblock *r, ef_unet_state *st, int ring_index,
                     float *x)
{
    const int F = r->n_bins, C = r->conv1.cin, kt = r->conv1.kt;
    float *a = st->a, *b = st->b;
    group_norm(net, &r->norm1, x, F, a);
    const float *taps[16];
    float *ring = st->ring[ring_index];
    const int len = st->ring_len[ring_index];
    const size_t fs = st->frame_size[ring_index];
    int pos = st->ring_pos[ring_index];
    for (int i = 0; i < kt; i++) {
        int lag = (kt - 1 - i) * r->conv1.dil;
        taps[i] = lag == 0 ? a : ring + (size_t)((pos - lag + len) % len) * fs;
    }
    conv(net, st, &r->conv1, taps, F, b);
    if (len > 0) {
        memcpy(ring + (size_t)pos * fs, a, sizeof(float) * fs);
        st->ring_pos[ring_index] = (pos + 1) % len;
    }
    linear(&r->proj, st->e, st->projv);
    for (int c = 0; c < C; c++)
        for (int f = 0; f < F; f++)
            b[(size_t)c * (size_t)F + (size_t)f] += st->projv[c];
    group_norm(net, &r->norm2, b, F, b);
    conv1x(net, st, &r->conv2, b, F, a);
    for (size_t i = 0; i < (size_t)C * (size_t)F; i++)
        x[i] += a[i];
}

void ef_unet_eval(const ef_unet *net, ef_unet_state *st, int evaluation, const float *x,
                  const float *cond, float t, const float *c, float *v)
{
    const ef_unet_config *cfg = &net->cfg;
    const int L = cfg->levels, F = cfg->n_bins, Ef = cfg->fourier_dim;
    const int ring0 = evaluation * st->n_blocks;

    /* embedding: [sin(2 pi f t), cos(2 pi f t), c] -> fc1 -> silu -> fc2 -> silu */
    const float two_pi = (float)(2.0 * M_PI);
    for (int i = 0; i < Ef; i++) {
        float arg = two_pi * net->t_freqs[i] * t;
        st->u[i] = sinf(arg);
        st->u[Ef + i] = cosf(arg);
    }
    memcpy(st->u + 2 * Ef, c, sizeof(float) * (size_t)cfg->cond_dim);
    linear(&net->fc1, st->u, st->e1);
    for (int i = 0; i < cfg->emb_dim; i++)
        st->e1[i] = silu(st->e1[i]);
    linear(&net->fc2, st->e1, st->e);
    for (int i = 0; i < cfg->emb_dim; i++)
        st->e[i] = silu(st->e[i]);

    const size_t xs = (size_t)2 * (size_t)cfg->c_out * (size_t)F;
    memcpy(st->input, x, sizeof(float) * xs);
    memcpy(st->input + xs, cond, sizeof(float) * (size_t)2 * (size_t)cfg->c_cond * (size_t)F);
    conv1x(net, st, &net->in_conv, st->input, F, st->h);
    if (net->freq_emb) /* where in frequency we are: what HRTFs and spectra depend on */
        for (size_t i = 0; i < (size_t)cfg->widths[0] * (size_t)F; i++)
            st->h[i] += net->freq_emb[i];
    for (int l = 0; l < L; l++) {
        resblock(net, &net->enc[l], st, ring0 + l, st->h);
        memcpy(st->skip[l], st->h, sizeof(float) * (size_t)cfg->widths[l] * (size_t)(F >> l));
        conv1x(net, st, &net->down[l], st->h, F >> l, st->up);
        memcpy(st->h, st->up, sizeof(float) * (size_t)cfg->widths[l + 1] * (size_t)(F >> (l + 1)));
    }
    for (int i = 0; i < cfg->n_mid; i++)
        resblock(net, &net->mid[i], st, ring0 + L + i, st->h);
    for (int l = L - 1; l >= 0; l--) {
        const int Fl = F >> l, Fs = Fl / 2, cin = cfg->widths[l + 1];
        for (int ch = 0; ch < cin; ch++)
            for (int f = 0; f < Fs; f++) {
                float val = st->h[(size_t)ch * (size_t)Fs + (size_t)f];
                st->up[(size_t)ch * (size_t)Fl + 2 * (size_t)f] = val;
                st->up[(size_t)ch * (size_t)Fl + 2 * (size_t)f + 1] = val;
            }
        conv1x(net, st, &net->up[l], st->up, Fl, st->h);
        const size_t n = (size_t)cfg->widths[l] * (size_t)Fl;
        for (size_t i = 0; i < n; i++)
            st->h[i] += st->skip[l][i];
        resblock(net, &net->dec[l], st, ring0 + L + cfg->n_mid + l, st->h);
    }
    group_norm(net, &net->out_norm, st->h, F, st->a);
    if (cfg->n_heads > 1) {
        /* arch.label_heads: each label's output layer, weighed by the smoothed label, so
         * that a label change crossfades between heads as it does the conditioning */
        const size_t n = (size_t)out_channels(cfg) * (size_t)F;
        conv1x(net, st, &net->out_conv, st->a, F, st->heads);
        for (size_t i = 0; i < n; i++)
            v[i] = c[0] * st->heads[i];
        for (int hd = 1; hd < cfg->n_heads; hd++)
            for (size_t i = 0; i < n; i++)
                v[i] += c[hd] * st->heads[(size_t)hd * n + i];
    } else {
        conv1x(net, st, &net->out_conv, st->a, F, v);
    }
    if (net->out_gain.w) {
        /* a real gain per output channel and bin, straight from the direction: what
         * an HRTF's magnitude is; the convolutions would need many layers for it */
        linear(&net->out_gain, st->e, st->gain);
        for (int ch = 0; ch < cfg->c_out; ch++)
            for (int f = 0; f < F; f++) {
                float g = fminf(fmaxf(st->gain[(size_t)ch * (size_t)F + (size_t)f],
                                      -EF_UNET_OUT_GAIN_MAX_LOG), EF_UNET_OUT_GAIN_MAX_LOG);
                float s = expf(g);
                v[(size_t)(2 * ch) * (size_t)F + (size_t)f] *= s;
                v[(size_t)(2 * ch + 1) * (size_t)F + (size_t)f] *= s;
            }
    }
}
