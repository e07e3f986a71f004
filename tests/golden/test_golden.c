/* Proves C == PyTorch: the streaming engine reproduces the golden outputs that
 * train/make_golden.py computed offline with the PyTorch twin, for every schedule,
 * block size and random partition, with the conditioning moving every block.
 * usage: test_golden GOLDEN_DIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "earflow.h"
#include "ef_safetensors.h"
#include "test_util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *golden_dir;

typedef struct golden_case {
    ef_st_file *file;
    cJSON *meta;
    ef_model *model;
    const float *input, *params;
    long n, frames;
    int moving;
} golden_case;

static void open_case(golden_case *g, const char *name)
{
    char path[1024];
    ef_error err = {{0}};
    snprintf(path, sizeof path, "%s/%s", golden_dir, name);
    g->file = ef_st_read(path, &err);
    if (!g->file)
        fail_msg("%s", err.message);
    cJSON *outer = cJSON_Parse(g->file->metadata_json);
    const cJSON *text = cJSON_GetObjectItem(outer, "golden");
    assert_true(cJSON_IsString(text));
    g->meta = cJSON_Parse(text->valuestring);
    cJSON_Delete(outer);
    assert_non_null(g->meta);
    snprintf(path, sizeof path, "%s/%s", golden_dir,
             cJSON_GetObjectItem(g->meta, "model")->valuestring);
    g->model = ef_model_load(path, &err);
    if (!g->model)
        fail_msg("%s", err.message);
    const ef_st_tensor *in = ef_st_find(g->file, "input");
    const ef_st_tensor *pr = ef_st_find(g->file, "params");
    assert_non_null(in);
    assert_non_null(pr);
    g->input = in->data;
    g->n = (long)in->count;
    g->params = pr->data;
    g->frames = pr->shape[0];
    g->moving = cJSON_IsTrue(cJSON_GetObjectItem(g->meta, "moving"));
}

static void close_case(golden_case *g)
{
    ef_model_free(g->model);
    cJSON_Delete(g->meta);
    ef_st_free(g->file);
}

static void set_params(ef_engine *e, const ef_model *m, const float *row)
{
    if (ef_model_kind(m) == EF_KIND_BINAURAL) {
        ef_engine_set_position(e, row[0], row[1], row[2]);
        ef_engine_set_room(e, (int)lrintf(row[3]));
    } else {
        ef_engine_set_label(e, (int)lrintf(row[0]));
        ef_engine_set_remove(e, (int)lrintf(row[1]));
    }
}

/* Streams input + latency zeros in blocks (sizes cycled, 0 = random 1..max_rand),
 * setting before each block the parameters of the next frame to be computed.
 * Returns the worst |error| / RMS(reference) over channels. */
static double run_case(const golden_case *g, const cJSON *sched, const float *ref,
                       const int *sizes, int n_sizes, int max_rand, uint32_t seed)
{
    ef_error err = {{0}};
    ef_engine *e = ef_engine_new(g->model, 48000, 4096, &err);
    if (!e)
        fail_msg("%s", err.message);
    const char *solver = cJSON_GetObjectItem(sched, "solver")->valuestring;
    ef_engine_set_schedule(e, strcmp(solver, "midpoint") == 0 ? EF_SOLVER_MIDPOINT : EF_SOLVER_EULER,
                           cJSON_GetObjectItem(sched, "steps")->valueint,
                           (float)cJSON_GetObjectItem(sched, "t0")->valuedouble);
    ef_engine_set_seed(e, (unsigned long long)cJSON_GetObjectItem(g->meta, "seed")->valuedouble);
    const cJSON *decay = cJSON_GetObjectItem(g->meta, "decay"); /* the decay control, if set */
    if (cJSON_IsNumber(decay))
        ef_engine_set_control(e, EF_CONTROL_DECAY, decay->valuedouble);
    ef_engine_reset(e);
    const int latency = ef_engine_latency(e), hop = ef_model_hop(g->model);
    const int co = ef_model_out_channels(g->model);
    const long total = g->n + latency;
    float *in = calloc((size_t)total, sizeof(float));
    float *out[2] = {calloc((size_t)total, sizeof(float)), calloc((size_t)total, sizeof(float))};
    memcpy(in, g->input, sizeof(float) * (size_t)g->n);
    long pos = 0;
    int k = 0;
    while (pos < total) {
        int b = sizes[k++ % n_sizes];
        if (b == 0)
            b = 1 + (int)(test_rand(&seed) % (uint32_t)max_rand);
        if (b > total - pos)
            b = (int)(total - pos);
        long frame = pos / hop;
        if (frame < g->frames)
            set_params(e, g->model, g->params + 4 * frame);
        const float *ins[1] = {in + pos};
        float *outs[2] = {out[0] + pos, out[1] + pos};
        ef_engine_process(e, ins, outs, b);
        pos += b;
    }
    double worst = 0;
    for (int c = 0; c < co; c++) {
        const float *r = ref + (size_t)c * (size_t)g->n;
        double ss = 0, mx = 0;
        for (long i = 0; i < g->n; i++) {
            ss += (double)r[i] * r[i];
            mx = fmax(mx, fabs((double)out[c][i + latency] - (double)r[i]));
        }
        worst = fmax(worst, mx / sqrt(ss / (double)g->n));
    }
    assert_int_equal(ef_engine_sanitized(e), 0);
    ef_engine_free(e);
    free(in);
    free(out[0]);
    free(out[1]);
    return worst;
}

static void check_case_file(const char *name)
{
    golden_case g;
    memset(&g, 0, sizeof g);
    open_case(&g, name);
    const int hop = ef_model_hop(g.model);
    const cJSON *cases = cJSON_GetObjectItem(g.meta, "cases"), *sched;
    double overall = 0;
    cJSON_ArrayForEach(sched, cases)
    {
        const char *cname = cJSON_GetObjectItem(sched, "name")->valuestring;
        /* EF_TEST_SHORT=1 (the valgrind setup, some 100 times slower): the schedules of
         * at most 2 steps (Euler 1 step; midpoint 2 steps from t0 0.5: both solvers) */
        if (test_short() && cJSON_GetObjectItem(sched, "steps")->valueint > 2)
            continue;
        /* ... and the midpoint solver on the static cases only: the solver's code is the
         * same for every network shape, and Euler 1 step already runs each shape's code
         * (midpoint 2 steps from 0.5 is 4 network evaluations a frame, Euler 1 step one:
         * the moving cases' midpoint runs were half of golden's time under memcheck) */
        if (test_short() && g.moving && strcmp(cJSON_GetObjectItem(sched, "solver")->valuestring, "midpoint") == 0)
            continue;
        char key[128];
        snprintf(key, sizeof key, "out.%s", cname);
        const ef_st_tensor *ref = ef_st_find(g.file, key);
        assert_non_null(ref);
        /* Moving conditioning can only change between frames when no block holds
         * two frame boundaries: blocks of at most one hop, random and fixed. Static
         * conditioning allows every block size. */
        const int static_sizes[] = {1, 7, 64, 127, 128, 1000, 4096, 0};
        const int moving_sizes[] = {1, 37, hop, 0};
        const int *sizes = g.moving ? moving_sizes : static_sizes;
        int n_sizes = g.moving ? 4 : 8;
        /* EF_TEST_SHORT=1: the mixed partition below only (random blocks, 3 and 1) */
        const int s0 = test_short() ? n_sizes : 0;
        for (int s = s0; s < n_sizes; s++) {
            double err = run_case(&g, sched, ref->data, &sizes[s], 1, g.moving ? hop : 4096,
                                  (uint32_t)(17 + s));
            overall = fmax(overall, err);
            if (err >= 1e-4)
                fail_msg("%s %s block %d: error %.3g of RMS", name, cname, sizes[s], err);
        }
        const int mix[] = {0, 3, 0, 1};
        double err = run_case(&g, sched, ref->data, mix, 4, g.moving ? hop : 4096, 99);
        overall = fmax(overall, err);
        assert_true(err < 1e-4);
    }
    printf("# %s: worst error %.3g of the reference RMS\n", name, overall);
    close_case(&g);
}

static void binaural_static(void **state) { (void)state; check_case_file("binaural_static.safetensors"); }
static void binaural_moving(void **state) { (void)state; check_case_file("binaural_moving.safetensors"); }
static void separate_static(void **state) { (void)state; check_case_file("separate_static.safetensors"); }
static void separate_moving(void **state) { (void)state; check_case_file("separate_moving.safetensors"); }
/* arch.head "mask": the network's output is a complex mask on the input spectrum */
static void binaural_mask_moving(void **state) { (void)state; check_case_file("binaural_mask_moving.safetensors"); }
static void separate_mask_moving(void **state) { (void)state; check_case_file("separate_mask_moving.safetensors"); }
/* conditioning.prior "spherical_head" (with a mask head): the flow starts at a sphere's ears */
static void binaural_prior_moving(void **state) { (void)state; check_case_file("binaural_prior_moving.safetensors"); }
/* arch.out_gain: a per-bin gain on the mask from the embedding (random log gains ~ +-1) */
static void binaural_gain_moving(void **state) { (void)state; check_case_file("binaural_gain_moving.safetensors"); }
/* conditioning.room_tail: a late tail per ear added to the prior; the case switches
 * rooms every 50 frames (anechoic, small, large) and moves the source 0.5 to 3 m */
static void binaural_tail_moving(void **state) { (void)state; check_case_file("binaural_tail_moving.safetensors"); }
/* the same with the decay control at 0.6 s (the tables: 0.30, 0.55 and 1.30 s) */
static void binaural_tail_decay(void **state) { (void)state; check_case_file("binaural_tail_decay.safetensors"); }
/* arch.tail_gain: the mask on the direct sound only, the network's gain on the tail */
static void binaural_tailgain_moving(void **state)
{
    (void)state;
    check_case_file("binaural_tailgain_moving.safetensors");
}
/* arch.label_heads: an output layer per label, weighed by the smoothed label; the case
 * switches labels every 40 frames, so the sum crossfades between heads */
static void separate_heads_moving(void **state)
{
    (void)state;
    check_case_file("separate_heads_moving.safetensors");
}

/* Run `silent` hops of zeros (the first sample `first`), then `n` samples of sound,
 * through a reset engine; the output while the sound plays goes to out[2][n]. */
static void run_after_silence(ef_engine *e, int hop, int silent, float first, const float *sound,
                              int n, float *const *out)
{
    float zeros[512] = {0}, l[512], r[512];
    float *scratch[2] = {l, r};
    assert_true(hop <= 512);
    ef_engine_reset(e);
    for (int b = 0; b < silent; b++) {
        zeros[0] = b == 0 ? first : 0.0f;
        const float *ins[1] = {zeros};
        ef_engine_process(e, ins, scratch, hop);
    }
    for (int i = 0; i < n; i += hop) {
        const float *ins[1] = {sound + i};
        float *outs[2] = {out[0] + i, out[1] + i};
        ef_engine_process(e, ins, outs, hop);
    }
}

/* The random draws (the start noise, the room tail's phases) start with the sound
 * (docs/model-spec.md section 5): 40 and 100 hops of digital silence before the same
 * sound give the same samples. That the comparison can fail is measured in the same
 * run: one sample of 1e-30 at the start of the silence starts the draws 40 hops early,
 * and the output must then differ (the sample's own tail is some 600 dB down). */
static void leading_silence_changes_nothing(void **state)
{
    (void)state;
    char path[1024];
    ef_error err = {{0}};
    snprintf(path, sizeof path, "%s/%s", golden_dir, "binaural_tailgain_tiny.safetensors");
    ef_model *m = ef_model_load(path, &err);
    assert_non_null(m);
    const int hop = 128, n = 128 * 200;
    ef_engine *e = ef_engine_new(m, 48000, hop, &err);
    assert_non_null(e);
    ef_engine_set_room(e, 1);
    ef_engine_set_position(e, 60.0, 0.0, 3.0);
    /* EF_TEST_SHORT=1: one Euler step (the draws start the same way whatever the
     * schedule; the model's own, midpoint 2 steps from 0.5, is 4 network evaluations a
     * frame: 70 of golden's 403 s under memcheck here) */
    test_short_schedule(e);
    float *sound = malloc(sizeof(float) * (size_t)n), *buf = malloc(sizeof(float) * 6 * (size_t)n);
    assert_non_null(sound);
    assert_non_null(buf);
    uint32_t seed = 11;
    for (int i = 0; i < n; i++)
        sound[i] = 0.3f * test_uniform(&seed);
    float *a[2] = {buf, buf + n}, *b[2] = {buf + 2 * n, buf + 3 * n}, *c[2] = {buf + 4 * n, buf + 5 * n};
    run_after_silence(e, hop, 40, 0.0f, sound, n, a);
    run_after_silence(e, hop, 100, 0.0f, sound, n, b);
    run_after_silence(e, hop, 40, 1e-30f, sound, n, c);
    double same = 0.0, moved = 0.0, energy = 0.0;
    for (int i = 0; i < 2 * n; i++) {
        same = fmax(same, fabs((double)buf[i] - buf[2 * n + i]));
        moved += ((double)buf[i] - buf[4 * n + i]) * ((double)buf[i] - buf[4 * n + i]);
        energy += (double)buf[i] * buf[i];
    }
    printf("leading silence: 40 vs 100 hops max |diff| %g; draws started 40 hops early: %.1f dB\n",
           same, 10.0 * log10(moved / energy + 1e-300));
    assert_true(energy > 0.0);
    assert_true(same == 0.0);
    assert_true(moved > 1e-4 * energy);
    free(sound);
    free(buf);
    ef_engine_free(e);
    ef_model_free(m);
}

/* Extreme and invalid control values are clamped or ignored: the output stays
 * finite and nothing is replaced as non-finite. */
static void extreme_controls_stay_safe(void **state)
{
    (void)state;
    /* the tail-gain model too: its room tail and exp(gain) on the audio path */
    const char *models[] = {"binaural_tiny.safetensors", "separate_tiny.safetensors",
                            "binaural_tailgain_tiny.safetensors"};
    for (int k = 0; k < 3; k++) {
        char path[1024];
        ef_error err = {{0}};
        snprintf(path, sizeof path, "%s/%s", golden_dir, models[k]);
        ef_model *m = ef_model_load(path, &err);
        assert_non_null(m);
        ef_engine *e = ef_engine_new(m, 44100, 64, &err);
        assert_non_null(e);
        uint32_t seed = 5;
        float in[64], o0[64], o1[64];
        float *outs[2] = {o0, o1};
        const double wild[] = {NAN, INFINITY, -INFINITY, 1e30, -1e30, 0.0, 720.0, -450.0};
        /* 64 blocks hold every pair of wild values: EF_TEST_SHORT=1 (memcheck) runs
         * them once, the full run six times and a quarter */
        const int blocks = test_short() ? 64 : 400;
        for (int blk = 0; blk < blocks; blk++) {
            double v = wild[blk % 8], w = wild[(blk / 8) % 8];
            ef_engine_set_position(e, v, w, blk % 3 ? v : 0.0);
            ef_engine_set_head(e, w, v, w);
            ef_engine_set_room(e, blk % 2 ? -7 : 1 << 30);
            ef_engine_set_label(e, blk % 2 ? -7 : 1 << 30);
            ef_engine_set_remove(e, blk);
            ef_engine_set_schedule(e, blk % 2 ? EF_SOLVER_MIDPOINT : (ef_solver)99,
                                   blk % 3 ? 1000 : -5, (float)v);
            for (int i = 0; i < 64; i++)
                in[i] = test_uniform(&seed);
            const float *ins[1] = {in};
            ef_engine_process(e, ins, outs, 64);
            for (int c = 0; c < ef_model_out_channels(m); c++)
                for (int i = 0; i < 64; i++)
                    assert_true(isfinite(outs[c][i]));
        }
        ef_solver solver;
        int steps;
        float t0;
        ef_engine_get_schedule(e, &solver, &steps, &t0);
        assert_true(steps >= 1 && steps <= EF_MAX_STEPS && t0 >= 0.0f && t0 <= 0.99f);
        assert_int_equal(ef_engine_sanitized(e), 0);
        ef_engine_free(e);
        ef_model_free(m);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_golden GOLDEN_DIR\n");
        return 2;
    }
    golden_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(binaural_static),
        cmocka_unit_test(binaural_moving),
        cmocka_unit_test(separate_static),
        cmocka_unit_test(separate_moving),
        cmocka_unit_test(binaural_mask_moving),
        cmocka_unit_test(separate_mask_moving),
        cmocka_unit_test(binaural_prior_moving),
        cmocka_unit_test(binaural_gain_moving),
        cmocka_unit_test(binaural_tail_moving),
        cmocka_unit_test(binaural_tail_decay),
        cmocka_unit_test(binaural_tailgain_moving),
        cmocka_unit_test(separate_heads_moving),
        cmocka_unit_test(leading_silence_changes_nothing),
        cmocka_unit_test(extreme_controls_stay_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
