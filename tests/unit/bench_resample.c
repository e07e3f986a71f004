/* bench_resample: why the engine uses libsamplerate's SINC_MEDIUM. For each
 * converter quality, the rate adapter wraps a 512-sample delay (the engine's core
 * latency) and reports round-trip error, latency and CPU time per minute of audio;
 * with libsoxr available it also reports how many samples soxr holds back.
 * Run: ./build/tests/bench_resample   (or meson test -C build --benchmark) */
#include "ef_rate_adapter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef HAVE_SOXR
#include <soxr.h>
#endif

#define CORE_RATE 48000
#define CORE_LATENCY 512

typedef struct delay_line {
    float buf[CORE_LATENCY];
    int pos;
} delay_line;

static void delay_core(void *ctx, const float *const *in, float *const *out, int n)
{
    delay_line *d = ctx;
    for (int i = 0; i < n; i++) {
        float x = in[0][i];
        out[0][i] = d->buf[d->pos];
        d->buf[d->pos] = x;
        d->pos = (d->pos + 1) % CORE_LATENCY;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Sum of sines up to 80 % of the lower Nyquist frequency. */
static void tones(float *x, long n, int rate)
{
    double top = 0.8 * 0.5 * (rate < CORE_RATE ? rate : CORE_RATE);
    memset(x, 0, sizeof(float) * (size_t)n);
    for (int k = 0; k < 24; k++) {
        double f = 50.0 + (top - 50.0) * k / 23.0;
        for (long i = 0; i < n; i++)
            x[i] += (float)(0.03 * sin(2.0 * M_PI * f * (double)i / rate + k));
    }
}

static void measure(ef_resample_quality q, const char *name, int rate)
{
    const int block = 256;
    const long n = 60L * rate;
    float *in = malloc(sizeof(float) * (size_t)n), *out = malloc(sizeof(float) * (size_t)n);
    delay_line d = {{0}, 0};
    ef_error err = {{0}};
    ef_rate_adapter *ra = ef_rate_adapter_new(rate, CORE_RATE, 1, 1, block, CORE_LATENCY, q, &err);
    if (!ra || !in || !out) {
        printf("| %s | %d | %s |\n", name, rate, ra ? "out of memory" : err.message);
        return;
    }
    tones(in, n, rate);
    double t = now_s();
    for (long p = 0; p < n; p += block) {
        int b = n - p < block ? (int)(n - p) : block;
        const float *ins[1] = {in + p};
        float *outs[1] = {out + p};
        ef_rate_adapter_process(ra, ins, outs, b, delay_core, &d);
    }
    t = now_s() - t;
    const int lat = ef_rate_adapter_latency(ra);
    double e = 0, s = 0;
    for (long i = rate / 50; i + lat < n - rate / 50; i++) {
        double diff = (double)out[i + lat] - in[i];
        e += diff * diff;
        s += (double)in[i] * in[i];
    }
    printf("| %s | %d | %.1f dB | %d (%.2f ms) | %.2f s | %ld |\n", name, rate,
           10 * log10(e / s), lat, 1000.0 * lat / rate, t, ef_rate_adapter_underruns(ra));
    ef_rate_adapter_free(ra);
    free(in);
    free(out);
}

#ifdef HAVE_SOXR
/* Largest shortfall of soxr's output against its input, 64-sample blocks. */
static void soxr_holdback(double r_in, double r_out)
{
    soxr_error_t e;
    soxr_quality_spec_t qs = soxr_quality_spec(SOXR_HQ, 0);
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1);
    soxr_t s = soxr_create(r_in, r_out, 1, &e, &io, &qs, &rt);
    static float in[64], out[4096];
    double produced = 0, worst = 0;
    for (long fed = 0; fed < 48000; fed += 64) {
        size_t idone, odone;
        soxr_process(s, in, 64, &idone, out, 4096, &odone);
        produced += (double)odone;
        double expect = (double)(fed + 64) * r_out / r_in;
        worst = fmax(worst, expect - produced);
    }
    printf("libsoxr HQ %g -> %g Hz holds back up to %.0f output samples (%.1f ms)\n", r_in,
           r_out, worst, 1000.0 * worst / r_out);
    soxr_delete(s);
}
#endif

int main(void)
{
    const struct {
        ef_resample_quality q;
        const char *name;
    } qs[] = {{EF_RESAMPLE_FAST, "SINC_FASTEST"},
              {EF_RESAMPLE_MEDIUM, "SINC_MEDIUM"},
              {EF_RESAMPLE_BEST, "SINC_BEST"}};
    const int rates[] = {8000, 44100, 96000};
    printf("Rate adapter round trip around a %d-sample core, 60 s of tones, blocks of 256\n\n",
           CORE_LATENCY);
    printf("| converter | host rate | round-trip error | latency | CPU for 60 s | underruns |\n");
    printf("|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++)
            measure(qs[i].q, qs[i].name, rates[r]);
#ifdef HAVE_SOXR
    printf("\n");
    soxr_holdback(44100, 48000);
    soxr_holdback(48000, 44100);
#endif
    return 0;
}
