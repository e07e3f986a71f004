/* The earflow LV2 plugins in a real (lilv) host, from the build folder.
 * usage: test_lv2 MODE ...   (LV2_PATH and EARFLOW_MODEL_DIR set by meson)
 *   render-match URI IN.wav REF.wav [SYMBOL=VALUE ...]
 *       the plugin's output, latency-aligned, equals REF (earflow render of IN with
 *       the same settings) for block sizes 1, 31, 256, 8192 and random sequences
 *   latency      the latency port equals the delay of an impulse (48 and 44.1 kHz),
 *                and run(0) sets it before any audio
 *   state GOLDEN_DIR   save -> restore round trip with a chosen model; a saved model
 *                that is gone falls back to the default with a logged warning
 *   swap GOLDEN_DIR    a model swap while audio runs: no click, latency updated
 *   steps        a steps change mid-stream: the click without a worker, and with one
 *   rt GOLDEN_DIR      no allocation, lock or file call in run() (needs rt_guard) */
#include "lv2_test_host.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#endif

static int failures;
static int short_run; /* EF_TEST_SHORT=1: the valgrind setup, some 100 times slower */

static void expect(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A check that reports its figures whether it passes or not, and lets the mode go on
 * to its other checks; the mode's cmocka test fails at its end if any failed. */
static void expect(int ok, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    print_message("%s - %s\n", ok ? "ok" : "FAIL", line);
    failures += !ok;
}

typedef struct signal2 {
    long n;
    int channels;
    float *ch[2];
} signal2;

static void signal_alloc(signal2 *s, int channels, long n)
{
    s->n = n;
    s->channels = channels;
    for (int c = 0; c < 2; c++)
        s->ch[c] = calloc((size_t)n + 1, sizeof(float));
}

static void signal_free(signal2 *s)
{
    for (int c = 0; c < 2; c++)
        free(s->ch[c]);
}

static int read_wav(const char *path, signal2 *s, int *rate)
{
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f || info.channels > 2) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    float *inter = malloc(sizeof(float) * (size_t)info.frames * (size_t)info.channels);
    sf_readf_float(f, inter, info.frames);
    sf_close(f);
    signal_alloc(s, info.channels, (long)info.frames);
    for (long i = 0; i < info.frames; i++)
        for (int c = 0; c < info.channels; c++)
            s->ch[c][i] = inter[i * info.channels + c];
    free(inter);
    *rate = info.samplerate;
    return 0;
}

static void apply_settings(lv2_host *h, char **settings, int n)
{
    for (int i = 0; i < n; i++) {
        char sym[64];
        float v;
        if (sscanf(settings[i], "%63[^=]=%f", sym, &v) == 2)
            lv2_host_set(h, sym, v);
    }
}

/* Runs IN (plus latency zeros) through a fresh instance; returns the aligned output. */
static int run_aligned(const char *uri, const signal2 *in, int rate, const int *sizes,
                       char **settings, int n_settings, signal2 *out, int max_block)
{
    lv2_host *h = lv2_host_new(uri, rate, max_block, LV2_HOST_ALL);
    if (!h)
        return -1;
    apply_settings(h, settings, n_settings);
    lv2_host_run(h, NULL, NULL, 0);
    int latency = (int)lv2_host_get(h, "latency");
    long total = in->n + latency;
    signal2 padded, raw;
    signal_alloc(&padded, in->channels, total);
    signal_alloc(&raw, lv2_host_outputs(h), total);
    for (int c = 0; c < in->channels; c++)
        memcpy(padded.ch[c], in->ch[c], sizeof(float) * (size_t)in->n);
    lv2_host_process(h, (const float *const *)padded.ch, raw.ch, total, sizes);
    signal_alloc(out, raw.channels, in->n);
    for (int c = 0; c < raw.channels; c++)
        memcpy(out->ch[c], raw.ch[c] + latency, sizeof(float) * (size_t)in->n);
    signal_free(&padded);
    signal_free(&raw);
    if (lv2_host_log(h)[0]) /* what the plugin logged (the scripts may look for it) */
        printf("# plugin log: %s", lv2_host_log(h));
    lv2_host_free(h);
    return 0;
}

static double max_diff(const signal2 *a, const signal2 *b, double *ref_peak)
{
    double d = 0, peak = 0;
    for (int c = 0; c < a->channels; c++)
        for (long i = 0; i < a->n; i++) {
            d = fmax(d, fabs((double)a->ch[c][i] - (double)b->ch[c][i]));
            peak = fmax(peak, fabs((double)b->ch[c][i]));
        }
    *ref_peak = peak;
    return d;
}

static int mode_render_match(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    const char *uri = argv[2];
    signal2 in, ref;
    int rate, ref_rate;
    if (read_wav(argv[3], &in, &rate) || read_wav(argv[4], &ref, &ref_rate))
        return 1;
    static const int b1[] = {1, 0}, b31[] = {31, 0}, b256[] = {256, 0}, b8192[] = {8192, 0};
    int random_sizes[65];
    srand(7);
    for (int i = 0; i < 64; i++)
        random_sizes[i] = 1 + rand() % (i % 8 == 0 ? 3000 : 300);
    random_sizes[64] = 0;
    struct { const char *name; const int *sizes; int max_block; } cases[] = {
        {"block 1", b1, 8192}, {"block 31", b31, 8192}, {"block 256", b256, 256},
        {"block 8192", b8192, 8192}, {"random blocks up to 3000", random_sizes, 4096},
        {"random blocks, host max 100 (chunked)", random_sizes, 100},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        /* EF_TEST_SHORT=1 (the valgrind setup): the two random partitions only (block
         * sizes 1 to 3000, and chunking behind a host maximum of 100) */
        if (short_run && k < 4)
            continue;
        signal2 out;
        if (run_aligned(uri, &in, rate, cases[k].sizes, argv + 5, argc - 5, &out, cases[k].max_block)) {
            expect(0, "%s: instantiate", cases[k].name);
            continue;
        }
        double peak = 0, d = out.channels == ref.channels ? max_diff(&out, &ref, &peak) : 1e9;
        expect(d <= 1e-6 * fmax(peak, 1e-3) && peak > 1e-3,
               "%s %s: plugin == earflow render, max error %.3g (peak %.3f)", uri, cases[k].name, d, peak);
        signal_free(&out);
    }
    signal_free(&in);
    signal_free(&ref);
    return failures ? 1 : 0;
}

/* The delay of the first sample above half the impulse. */
static long first_peak(const float *x, long n)
{
    for (long i = 0; i < n; i++)
        if (fabsf(x[i]) > 0.5f)
            return i;
    return -1;
}

static int mode_latency(void)
{
    static const int sizes[] = {64, 0};
    const char *uris[] = {"urn:earflow:binaural", "urn:earflow:separate"};
    for (int u = 0; u < 2; u++)
        for (int r = 0; r < 2; r++) {
            int rate = r ? 44100 : 48000;
            /* mix 0: the output is the dry input delayed by what the engine reports */
            for (int model = 0; model < 2; model++) {
                char *saved = getenv("EARFLOW_MODEL_DIR") ? strdup(getenv("EARFLOW_MODEL_DIR")) : NULL;
                if (!model)
                    setenv("EARFLOW_MODEL_DIR", "/nonexistent", 1);
                lv2_host *h = lv2_host_new(uris[u], rate, 4096, LV2_HOST_ALL);
                if (saved)
                    setenv("EARFLOW_MODEL_DIR", saved, 1);
                free(saved);
                if (!h) {
                    expect(0, "instantiate");
                    continue;
                }
                lv2_host_set(h, "latency", -1.0f);
                if (model) /* before the first run: the controls start there, no glide */
                    lv2_host_set(h, "mix", 0.0f);
                lv2_host_run(h, NULL, NULL, 0);
                int latency = (int)lv2_host_get(h, "latency");
                expect(latency > 0, "%s %d Hz: run(0) reports the latency (%d)", uris[u], rate, latency);
                signal2 in, out;
                signal_alloc(&in, 1, 8192);
                signal_alloc(&out, 2, 8192);
                in.ch[0][1000] = 1.0f;
                lv2_host_process(h, (const float *const *)in.ch, out.ch, 8192, sizes);
                long delay = first_peak(out.ch[0], 8192) - 1000;
                /* Resampled impulses spread; the peak is within a sample of the delay. */
                long tolerance = rate == 48000 ? 0 : 1;
                expect(labs(delay - latency) <= tolerance,
                       "%s %d Hz %s: impulse delay %ld == latency port %d", uris[u], rate,
                       model ? "golden model, mix 0" : "no model (dry)", delay, latency);
                signal_free(&in);
                signal_free(&out);
                lv2_host_free(h);
            }
        }
    return failures ? 1 : 0;
}

static void sine(signal2 *s, double freq, int rate)
{
    for (int c = 0; c < s->channels; c++)
        for (long i = 0; i < s->n; i++)
            s->ch[c][i] = (float)(0.5 * sin(2 * M_PI * freq * (double)i / rate + c));
}

static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    if (!a || !b)
        return -1;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        fwrite(buf, 1, n, b);
    fclose(a);
    return fclose(b);
}

/* Output of a fresh instance over a sine (first n samples). */
static void fresh_output(lv2_host *h, signal2 *out, long n, int rate)
{
    static const int sizes[] = {256, 0};
    signal2 in;
    signal_alloc(&in, lv2_host_inputs(h), n);
    sine(&in, 300, rate);
    signal_alloc(out, lv2_host_outputs(h), n);
    lv2_host_process(h, (const float *const *)in.ch, out->ch, n, sizes);
    signal_free(&in);
}

typedef struct restorer {
    lv2_host *h;
    const char *dirs[2];
    int rounds;
    atomic_int done;
} restorer;

static void *restore_loop(void *arg)
{
    restorer *r = arg;
    for (int i = 0; i < r->rounds; i++) {
        lv2_host_restore(r->h, r->dirs[i % 2]);
        nanosleep(&(struct timespec){0, 3000000}, NULL); /* 3 ms: a few runs between */
    }
    atomic_store(&r->done, 1);
    return NULL;
}

/* Whether the state saved in dir names a model file. */
static int state_names_model(const char *dir)
{
    char path[4300], line[4300];
    snprintf(path, sizeof path, "%s/state.ttl", dir);
    FILE *f = fopen(path, "r");
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        found |= strstr(line, ".safetensors") != NULL;
    if (f)
        fclose(f);
    return found;
}

static void concurrent_restores(const char *uri, const char *chosen_dir, const char *tmp)
{
    char empty_dir[4200], after_dir[4200];
    snprintf(empty_dir, sizeof empty_dir, "%s/empty", tmp);
    snprintf(after_dir, sizeof after_dir, "%s/after", tmp);
    lv2_host *blank = lv2_host_new(uri, 48000, 256, LV2_HOST_ALL);
    expect(lv2_host_save(blank, empty_dir) == 0 && !state_names_model(empty_dir),
           "a state without a model saved to %s", empty_dir);
    lv2_host_free(blank);
    lv2_host *h = lv2_host_new(uri, 48000, 256, LV2_HOST_ALL);
    /* 41 restores: chosen, empty, ..., chosen last (EF_TEST_SHORT=1, under valgrind: 9) */
    restorer r = {h, {chosen_dir, empty_dir}, short_run ? 9 : 41, 0};
    signal2 in, out;
    signal_alloc(&in, lv2_host_inputs(h), 256);
    sine(&in, 300, 48000);
    signal_alloc(&out, lv2_host_outputs(h), 256);
    pthread_t thread;
    expect(pthread_create(&thread, NULL, restore_loop, &r) == 0, "restore thread started");
    long runs = 0, bad = 0;
    const int tail_runs = short_run ? 40 : 400; /* after the last restore: it plays */
    for (int tail = 0; tail < tail_runs; runs++) {
        const float *bin[2] = {in.ch[0], in.ch[lv2_host_inputs(h) - 1]};
        lv2_host_run(h, bin, out.ch, 256);
        for (int c = 0; c < lv2_host_outputs(h); c++)
            for (int i = 0; i < 256; i++)
                bad += !isfinite(out.ch[c][i]) || fabsf(out.ch[c][i]) > 10.0f;
        if (atomic_load(&r.done))
            tail++;
        else /* a paced audio thread; valgrind also runs one thread at a time */
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    pthread_join(thread, NULL);
    expect(bad == 0, "%d restores beside %ld runs: every output sample finite and in range "
           "(%ld not)", r.rounds, runs, bad);
    expect(lv2_host_save(h, after_dir) == 0 && state_names_model(after_dir),
           "after them the last state restored plays (its model is what a save stores)");
    signal_free(&in);
    signal_free(&out);
    lv2_host_free(h);
}

static int mode_state(const char *golden)
{
    char tmp[] = "/tmp/earflow-lv2-state-XXXXXX";
    if (!mkdtemp(tmp))
        return 1;
    char model[4200], dir[4200];
    snprintf(model, sizeof model, "%s/chosen.safetensors", tmp);
    snprintf(dir, sizeof dir, "%s/session", tmp);
    char src[4200];
    snprintf(src, sizeof src, "%s/separate_tiny.safetensors", golden);
    copy_file(src, model);
    setenv("EARFLOW_MODEL_DIR", "/nonexistent", 1); /* the default is then the dry signal */
    const char *uri = "urn:earflow:separate";
    lv2_host *a = lv2_host_new(uri, 48000, 256, LV2_HOST_ALL);
    lv2_host_send_path(a, model);
    signal2 tmp_out;
    fresh_output(a, &tmp_out, 48000, 48000); /* load, warm up, crossfade */
    signal_free(&tmp_out);
    expect(lv2_host_save(a, dir) == 0, "state saved to %s", dir);
    lv2_host_free(a);

    lv2_host *b = lv2_host_new(uri, 48000, 256, LV2_HOST_ALL);
    expect(lv2_host_restore(b, dir) == 0, "state restored");
    setenv("EARFLOW_MODEL_DIR", tmp, 1);
    char as_default[4200]; /* the same file as the default model of a reference */
    snprintf(as_default, sizeof as_default, "%s/separate.safetensors", tmp);
    rename(model, as_default);
    lv2_host *ref = lv2_host_new(uri, 48000, 256, LV2_HOST_ALL); /* loads it as default */
    rename(as_default, model);
    signal2 ob, oref;
    fresh_output(b, &ob, 24000, 48000);
    fresh_output(ref, &oref, 24000, 48000);
    double peak, d = max_diff(&ob, &oref, &peak);
    expect(d == 0.0 && peak > 1e-3, "restored instance runs the saved model (max diff %.3g)", d);
    signal_free(&ob);
    signal_free(&oref);
    lv2_host_free(b);
    lv2_host_free(ref);

    /* Restore beside run(), as Ardour does for every preset it loads: a thread restores
     * the saved state (the chosen model) and an empty one (the default: here the dry
     * signal) in turn while the audio thread runs on; restore must never free what
     * run() uses (it did: a use-after-free, a crash in Ardour). Then the last state
     * restored plays, as a save shows. */
    concurrent_restores(uri, dir, tmp);

    /* The saved model is gone: default model (here: none, the dry signal), warned. */
    unlink(model);
    setenv("EARFLOW_MODEL_DIR", "/nonexistent", 1);
    lv2_host *c = lv2_host_new(uri, 48000, 256, LV2_HOST_ALL);
    expect(lv2_host_restore(c, dir) == 0, "state with a missing model restores");
    expect(strstr(lv2_host_log(c), "is gone") != NULL, "a warning is logged: %s", lv2_host_log(c));
    lv2_host *dry = lv2_host_new(uri, 48000, 256, LV2_HOST_ALL);
    signal2 oc, odry;
    fresh_output(c, &oc, 24000, 48000);
    fresh_output(dry, &odry, 24000, 48000);
    d = max_diff(&oc, &odry, &peak);
    expect(d == 0.0, "it falls back to the default (max diff %.3g)", d);
    signal_free(&oc);
    signal_free(&odry);
    lv2_host_free(c);
    lv2_host_free(dry);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        return 1;
    return failures ? 1 : 0;
}

/* A change at block `at` (a model swap by patch:Set, or a steps change) must give
 * exactly the crossfade of the plugin's design: out = old + g (new - old), where old
 * is an instance that never changed, new is a fresh instance with the new setting
 * started one block later (when the worker's answer arrives), g = 0 during the
 * warm-up of 2 latencies, then rising linearly over 20 ms. A hard switch, a missing
 * warm-up or a misaligned fade all fail this. Returns the largest deviation. */
typedef struct change {
    const char *uri, *old_model_dir, *new_model_dir, *path; /* path: sent by patch:Set */
    int old_steps, new_steps;
} change;

static lv2_host *instance(const char *uri, const char *model_dir, int steps)
{
    setenv("EARFLOW_MODEL_DIR", model_dir, 1);
    lv2_host *h = lv2_host_new(uri, 48000, 256, LV2_HOST_ALL);
    lv2_host_set(h, "steps", (float)steps);
    return h;
}

static double check_change(const change *c, double *steepest_gain_step)
{
    const int rate = 48000, block = 256;
    /* whole blocks, about 1 s; EF_TEST_SHORT=1: the change after 16 blocks, and 20 more
     * (the warm-up of 2 latencies and the 20 ms fade take 8) */
    const long n = (short_run ? 36L : 188L) * block, at = (short_run ? 16L : 96L) * block;
    signal2 in, x, old, fresh;
    signal_alloc(&in, 1, n);
    sine(&in, 300, rate);
    signal_alloc(&x, 2, n);
    signal_alloc(&old, 2, n);
    signal_alloc(&fresh, 2, n);
    lv2_host *hx = instance(c->uri, c->old_model_dir, c->old_steps);
    lv2_host *hold = instance(c->uri, c->old_model_dir, c->old_steps);
    lv2_host *hnew = instance(c->uri, c->new_model_dir, c->new_steps);
    for (long i = 0; i < n; i += block) {
        if (i == at) {
            if (c->path)
                lv2_host_send_path(hx, c->path);
            else
                lv2_host_set(hx, "steps", (float)c->new_steps);
        }
        const float *bin[1] = {in.ch[0] + i};
        float *bx[2] = {x.ch[0] + i, x.ch[1] + i}, *bo[2] = {old.ch[0] + i, old.ch[1] + i};
        lv2_host_run(hx, bin, bx, block);
        lv2_host_run(hold, bin, bo, block);
        if (i > at) {
            float *bn[2] = {fresh.ch[0] + i, fresh.ch[1] + i};
            lv2_host_run(hnew, bin, bn, block);
        }
    }
    const long start = at + block, warmup = 2L * (long)lv2_host_get(hnew, "latency");
    const long fade = (long)ceil(0.020 * rate);
    double worst = 0, gain_step = 0, prev_g = 0;
    for (long i = start; i < n; i++) {
        long t = i - start - warmup;
        double g = t < 0 ? 0.0 : t >= fade ? 1.0 : (double)t / (double)fade;
        gain_step = fmax(gain_step, g - prev_g);
        prev_g = g;
        for (int ch = 0; ch < lv2_host_outputs(hx); ch++) {
            double want = old.ch[ch][i] + g * (fresh.ch[ch][i] - old.ch[ch][i]);
            worst = fmax(worst, fabs(x.ch[ch][i] - want) / fmax(1.0, fabs(want)));
        }
    }
    *steepest_gain_step = gain_step;
    lv2_host_free(hx);
    lv2_host_free(hold);
    lv2_host_free(hnew);
    signal_free(&in);
    signal_free(&x);
    signal_free(&old);
    signal_free(&fresh);
    return worst;
}

static int mode_swap(const char *golden)
{
    char model[4200];
    snprintf(model, sizeof model, "%s/separate_tiny.safetensors", golden);
    double g;
    /* from no model (the dry signal) to the golden model */
    change c = {"urn:earflow:separate", "/nonexistent", golden, model, 0, 0};
    /* the fresh reference finds the model as its default: the golden folder lacks the
     * shipped name, so give it a folder that has it */
    c.new_model_dir = getenv("EARFLOW_MODEL_DIR");
    double d = check_change(&c, &g);
    expect(d < 1e-5, "model swap while audio runs = warm-up then a 20 ms linear crossfade "
           "(max deviation %.2g, steepest gain step %.5f per sample)", d, g);
    return failures ? 1 : 0;
}

static int mode_steps(void)
{
    const char *models = getenv("EARFLOW_MODEL_DIR");
    double g;
    change c = {"urn:earflow:binaural", models, models, NULL, 1, 4};
    double d = check_change(&c, &g);
    expect(d < 1e-5, "steps 1 -> 4 mid-stream = a rebuilt engine crossfaded in "
           "(max deviation %.2g)", d);
    /* The output port running_steps reports the steps the network runs. */
    lv2_host *h = instance("urn:earflow:binaural", models, 3);
    signal2 in, out;
    signal_alloc(&in, 1, 4096);
    sine(&in, 300, 48000);
    signal_alloc(&out, 2, 4096);
    for (long i = 0; i < 4096; i += 256) {
        const float *bin[1] = {in.ch[0] + i};
        float *bout[2] = {out.ch[0] + i, out.ch[1] + i};
        lv2_host_run(h, bin, bout, 256);
    }
    const float running = lv2_host_get(h, "running_steps");
    expect(running == 3.0f, "steps 3: the running_steps port says %g", running);
    lv2_host_free(h);
    signal_free(&in);
    signal_free(&out);
    return failures ? 1 : 0;
}

static int mode_rt(const char *golden)
{
#ifdef UNDER_SANITIZER
    (void)golden;
    puts("SKIP: the rt_guard interposer (LD_PRELOAD) cannot run under AddressSanitizer");
    return 77;
#else
    rt_guard_api guard;
    if (!rt_guard_find(&guard)) {
        puts("FAIL - librt_guard.so is not preloaded");
        return 1;
    }
    char model[4200];
    snprintf(model, sizeof model, "%s/separate_tiny.safetensors", golden);
    const char *uris[] = {"urn:earflow:binaural", "urn:earflow:separate", "urn:earflow:separate-stereo"};
    for (int u = 0; u < 3; u++)
        for (int r = 0; r < 2; r++) {
            int rate = r ? 44100 : 48000;
            lv2_host *h = lv2_host_new(uris[u], rate, 1024, LV2_HOST_ALL);
            lv2_host_guard(h, &guard);
            long before = guard.violations();
            signal2 in, out;
            signal_alloc(&in, 2, 4096);
            sine(&in, 440, rate);
            signal_alloc(&out, 2, 4096);
            srand(3);
            lv2_host_set(h, "governor", 50.0f); /* its clock and decisions run in run() too */
            /* EF_TEST_SHORT=1 (the valgrind setup): 60 runs, the swap at the 20th */
            const int runs = short_run ? 60 : 400, swap_at = short_run ? 20 : 100;
            for (int k = 0; k < runs; k++) {
                int n = k % 50 == 0 ? 0 : k % 7 == 0 ? 1 : 1 + rand() % 1024;
                const char *sym[] = {"enabled", "mix", "gain", "steps"};
                lv2_host_set(h, sym[k % 4], (float)(rand() % 2));
                if (u == 0)
                    lv2_host_set(h, "azimuth", (float)(rand() % 360 - 180));
                else
                    lv2_host_set(h, "target", (float)(rand() % 3));
                if (k == swap_at && u > 0)
                    lv2_host_send_path(h, model);
                const float *bin[2] = {in.ch[0], in.ch[1]};
                lv2_host_run(h, bin, out.ch, n);
            }
            long v = guard.violations() - before;
            expect(v == 0, "%s %d Hz: %d runs with control changes, steps changes, the governor on%s: %ld "
                   "forbidden calls in run()%s%s", uris[u], rate, runs,
                   u ? " and a model swap" : "", v, v ? ", last: " : "", v ? guard.last() : "");
            signal_free(&in);
            signal_free(&out);
            lv2_host_free(h);
        }
    return failures ? 1 : 0;
#endif
}

/* One mode per process (meson runs each as a test), run as one cmocka test. */
typedef struct mode_call {
    int argc;
    char **argv;
    int (*run)(int argc, char **argv);
} mode_call;

static int run_render_match(int argc, char **argv) { return mode_render_match(argc, argv); }
static int run_latency(int argc, char **argv) { (void)argc, (void)argv; return mode_latency(); }
static int run_state(int argc, char **argv) { (void)argc; return mode_state(argv[2]); }
static int run_swap(int argc, char **argv) { (void)argc; return mode_swap(argv[2]); }
static int run_steps(int argc, char **argv) { (void)argc, (void)argv; return mode_steps(); }
static int run_rt(int argc, char **argv) { (void)argc; return mode_rt(argv[2]); }

static void test_mode(void **state)
{
    const mode_call *c = *state;
    assert_int_equal(c->run(c->argc, c->argv), 0);
    assert_int_equal(failures, 0);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int min_args;
        int (*run)(int, char **);
    } modes[] = {
        {"render-match", 2, run_render_match}, {"latency", 2, run_latency},
        {"state", 3, run_state}, {"swap", 3, run_swap}, {"steps", 2, run_steps},
        {"rt", 3, run_rt},
    };
    if (argc < 2)
        return 2;
    /* A tool for the host scripts (Ardour's test): the latency this host reads from
     * the plugin's port after run(0), at a rate. */
    if (argc == 4 && !strcmp(argv[1], "report-latency")) {
        lv2_host *h = lv2_host_new(argv[2], atof(argv[3]), 4096, LV2_HOST_ALL);
        if (!h)
            return 1;
        lv2_host_run(h, NULL, NULL, 0);
        printf("%d\n", (int)lv2_host_get(h, "latency"));
        lv2_host_free(h);
        return 0;
    }
    const char *short_env = getenv("EF_TEST_SHORT");
    short_run = short_env && !strcmp(short_env, "1");
#ifdef UNDER_SANITIZER
    if (!strcmp(argv[1], "rt")) {
        puts("SKIP: the rt_guard interposer (LD_PRELOAD) cannot run under AddressSanitizer");
        return 77;
    }
#endif
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (!strcmp(argv[1], modes[i].name) && argc >= modes[i].min_args) {
            mode_call call = {argc, argv, modes[i].run};
            const struct CMUnitTest tests[] = {
                cmocka_unit_test_prestate(test_mode, &call),
            };
            return cmocka_run_group_tests_name(modes[i].name, tests, NULL, NULL);
        }
    fprintf(stderr, "test_lv2: unknown mode %s (or too few arguments)\n", argv[1]);
    return 2;
}
