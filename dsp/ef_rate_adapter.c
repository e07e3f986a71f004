#include "ef_rate_adapter.h"

#include "ef_framer.h" /* EF_FRAMER_MAX_CHANNELS */

#include <samplerate.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CH EF_FRAMER_MAX_CHANNELS

struct ef_rate_adapter {
    int host_rate, core_rate, in_ch, out_ch, max_block;
    int core_latency, pad, prefill, latency, core_max;
    double up_ratio, down_ratio;
    SRC_STATE *up[MAX_CH], *down[MAX_CH];
    float *core_in[MAX_CH], *core_out[MAX_CH]; /* core_max each */
    float *down_out[MAX_CH];                   /* down_max each */
    int down_max;
    float *fifo[MAX_CH]; /* output ring, fifo_cap each */
    int fifo_cap, fifo_read, fifo_count;
    float *host_in[MAX_CH]; /* copy of the host input: in and out may alias */
    long underruns;
};

static long gcd_l(long a, long b)
{
    while (b) {
        long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int converter_type(ef_resample_quality q)
{
    switch (q) {
    case EF_RESAMPLE_FAST: return SRC_SINC_FASTEST;
    case EF_RESAMPLE_BEST: return SRC_SINC_BEST_QUALITY;
    default: return SRC_SINC_MEDIUM_QUALITY;
    }
}

/* Runs one converter over n input samples; returns the samples produced. */
static int convert(SRC_STATE *s, double ratio, const float *in, int n, float *out, int cap)
{
    SRC_DATA d;
    memset(&d, 0, sizeof d);
    d.data_in = in;
    d.input_frames = n;
    d.data_out = out;
    d.output_frames = cap;
    d.src_ratio = ratio;
    if (src_process(s, &d) != 0)
        return 0;
    return (int)d.output_frames_gen;
}

static void fifo_push(ef_rate_adapter *ra, float *const *src, int n)
{
    if (n > ra->fifo_cap - ra->fifo_count) /* cannot happen with the sizes chosen */
        n = ra->fifo_cap - ra->fifo_count;
    int w = (ra->fifo_read + ra->fifo_count) % ra->fifo_cap;
    for (int c = 0; c < ra->out_ch; c++) {
        int first = n < ra->fifo_cap - w ? n : ra->fifo_cap - w;
        memcpy(ra->fifo[c] + w, src[c], sizeof(float) * (size_t)first);
        memcpy(ra->fifo[c], src[c] + first, sizeof(float) * (size_t)(n - first));
    }
    ra->fifo_count += n;
}

/* Feeds `pad` zeros through each down converter into the FIFO, then `prefill`
 * zeros: the state the adapter starts from after create and reset. */
static void prime(ef_rate_adapter *ra, int with_prefill)
{
    for (int c = 0; c < ra->in_ch; c++)
        src_reset(ra->up[c]);
    int produced = 0;
    for (int c = 0; c < ra->out_ch; c++) {
        src_reset(ra->down[c]);
        memset(ra->core_out[c], 0, sizeof(float) * (size_t)ra->pad);
        produced = convert(ra->down[c], ra->down_ratio, ra->core_out[c], ra->pad,
                           ra->down_out[c], ra->down_max);
    }
    ra->fifo_read = 0;
    ra->fifo_count = 0;
    if (with_prefill) {
        for (int c = 0; c < ra->out_ch; c++)
            memset(ra->fifo[c], 0, sizeof(float) * (size_t)ra->prefill);
        ra->fifo_count = ra->prefill;
    }
    fifo_push(ra, ra->down_out, produced);
    ra->underruns = 0;
}

/* Dry run, one sample at a time: the largest shortfall of output against input. */
static int measure_holdback(ef_rate_adapter *ra)
{
    prime(ra, 0);
    long in_total = 0, out_total = ra->fifo_count;
    int worst = 0;
    const float zero = 0.0f;
    int steps = 4 * ra->host_rate / 100 + 4096; /* well past the converters' warm-up */
    for (int i = 0; i < steps; i++) {
        int k = convert(ra->up[0], ra->up_ratio, &zero, 1, ra->core_in[0], ra->core_max);
        int m = convert(ra->down[0], ra->down_ratio, ra->core_in[0], k, ra->down_out[0],
                        ra->down_max);
        in_total += 1;
        out_total += m;
        if (in_total - out_total > worst)
            worst = (int)(in_total - out_total);
    }
    return worst;
}

ef_rate_adapter *ef_rate_adapter_new(int host_rate, int core_rate, int in_channels,
                                        int out_channels, int max_block, int core_latency,
                                        ef_resample_quality quality, ef_error *err)
{
    if (host_rate < 8000 || host_rate > 192000) {
        ef_error_set(err, "unsupported sample rate %d Hz (8000..192000)", host_rate);
        return NULL;
    }
    if (in_channels < 1 || in_channels > MAX_CH || out_channels < 1 ||
        out_channels > MAX_CH || max_block < 1 || max_block > 1 << 20 || core_latency < 0) {
        ef_error_set(err, "rate adapter: unsupported layout");
        return NULL;
    }
    ef_rate_adapter *ra = calloc(1, sizeof *ra);
    if (!ra) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    ra->host_rate = host_rate;
    ra->core_rate = core_rate;
    ra->in_ch = in_channels;
    ra->out_ch = out_channels;
    ra->max_block = max_block;
    ra->core_latency = core_latency;
    ra->up_ratio = (double)core_rate / (double)host_rate;
    ra->down_ratio = (double)host_rate / (double)core_rate;

    /* (core_latency + pad) * host/core must be whole: pad up to a multiple of q. */
    long q = core_rate / gcd_l(core_rate, host_rate);
    ra->pad = (int)((q - core_latency % q) % q);

    ra->core_max = (int)((long)max_block * core_rate / host_rate) + 256;
    if (ra->core_max < ra->pad + 1)
        ra->core_max = ra->pad + 1;
    ra->down_max = (int)((long)ra->core_max * host_rate / core_rate) + 256;
    int type = converter_type(quality), e = 0, ok = 1;
    for (int c = 0; c < in_channels; c++) {
        ok &= (ra->up[c] = src_new(type, 1, &e)) != NULL;
        ok &= (ra->core_in[c] = calloc((size_t)ra->core_max, sizeof(float))) != NULL;
        ok &= (ra->host_in[c] = calloc((size_t)max_block, sizeof(float))) != NULL;
    }
    for (int c = 0; c < out_channels; c++) {
        ok &= (ra->down[c] = src_new(type, 1, &e)) != NULL;
        ok &= (ra->core_out[c] = calloc((size_t)ra->core_max, sizeof(float))) != NULL;
        ok &= (ra->down_out[c] = calloc((size_t)ra->down_max, sizeof(float))) != NULL;
    }
    if (!ok) {
        ef_error_set(err, "cannot create the resampler: %s", e ? src_strerror(e) : "out of memory");
        ef_rate_adapter_free(ra);
        return NULL;
    }
    ra->fifo_cap = ra->down_max; /* big enough for the measurement run */
    for (int c = 0; c < out_channels && ok; c++)
        ok &= (ra->fifo[c] = calloc((size_t)ra->fifo_cap, sizeof(float))) != NULL;
    if (ok) {
        ra->prefill = measure_holdback(ra);
        for (int c = 0; c < out_channels; c++) {
            free(ra->fifo[c]);
            ra->fifo[c] = NULL;
        }
        ra->fifo_cap = ra->prefill + ra->pad + max_block + ra->down_max + 64;
        for (int c = 0; c < out_channels; c++)
            ok &= (ra->fifo[c] = calloc((size_t)ra->fifo_cap, sizeof(float))) != NULL;
    }
    if (!ok) {
        ef_error_set(err, "out of memory");
        ef_rate_adapter_free(ra);
        return NULL;
    }
    ra->latency = ra->prefill + (int)((long)(core_latency + ra->pad) * host_rate / core_rate);
    prime(ra, 1);
    return ra;
}

void ef_rate_adapter_free(ef_rate_adapter *ra)
{
    if (!ra)
        return;
    for (int c = 0; c < MAX_CH; c++) {
        if (ra->up[c])
            src_delete(ra->up[c]);
        if (ra->down[c])
            src_delete(ra->down[c]);
        free(ra->core_in[c]);
        free(ra->core_out[c]);
        free(ra->down_out[c]);
        free(ra->fifo[c]);
        free(ra->host_in[c]);
    }
    free(ra);
}

int ef_rate_adapter_reset(ef_rate_adapter *ra)
{
    prime(ra, 1);
    return 0;
}

int ef_rate_adapter_max_core_block(const ef_rate_adapter *ra) { return ra->core_max; }
int ef_rate_adapter_latency(const ef_rate_adapter *ra) { return ra->latency; }
long ef_rate_adapter_underruns(const ef_rate_adapter *ra) { return ra->underruns; }

void ef_rate_adapter_process(ef_rate_adapter *ra, const float *const *in, float *const *out,
                             int n, ef_core_fn core, void *ctx)
{
    if (n <= 0)
        return;
    if (n > ra->max_block)
        n = ra->max_block; /* documented contract; never write past the caller's buffers */
    for (int c = 0; c < ra->in_ch; c++)
        memcpy(ra->host_in[c], in[c], sizeof(float) * (size_t)n);
    int k = 0;
    for (int c = 0; c < ra->in_ch; c++)
        k = convert(ra->up[c], ra->up_ratio, ra->host_in[c], n, ra->core_in[c], ra->core_max);
    if (k > 0) {
        core(ctx, (const float *const *)ra->core_in, ra->core_out, k);
        int m = 0;
        for (int c = 0; c < ra->out_ch; c++)
            m = convert(ra->down[c], ra->down_ratio, ra->core_out[c], k, ra->down_out[c],
                        ra->down_max);
        fifo_push(ra, ra->down_out, m);
    }
    int avail = ra->fifo_count < n ? ra->fifo_count : n;
    for (int c = 0; c < ra->out_ch; c++) {
        int first = avail < ra->fifo_cap - ra->fifo_read ? avail : ra->fifo_cap - ra->fifo_read;
        memcpy(out[c], ra->fifo[c] + ra->fifo_read, sizeof(float) * (size_t)first);
        memcpy(out[c] + first, ra->fifo[c], sizeof(float) * (size_t)(avail - first));
        memset(out[c] + avail, 0, sizeof(float) * (size_t)(n - avail));
    }
    ra->fifo_read = (ra->fifo_read + avail) % ra->fifo_cap;
    ra->fifo_count -= avail;
    if (avail < n)
        ra->underruns++;
}
