/* A change of solver steps while running (the Steps control, and the CPU governor)
 * keeps the network's history (ef_unet_state_carry), so it does not restart the network.
 * For each shipped model and step change A -> B at 0.75 s of the example voice:
 *   - before the change the output equals a run at A throughout, sample for sample;
 *   - in the 100 ms after it, its error against a run at B throughout is no larger than
 *     the difference between the runs at A and at B there (the change sounds like going
 *     from one to the other, not like a restart: a restart from zero history was
 *     -4 dB against B for the separation model, the runs at A and B -20 to -35 dB);
 *   - from 320 ms on it equals the run at B (the history of A has left the network:
 *     the separation model sees 36 frames of 8 ms, 288 ms, plus its window).
 * Figures are printed. usage: test_schedule_change MODELS_DIR VOICE_WAV */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "earflow.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>

#define RATE 48000
#define BLOCK 256
#define CHANGE_AT (BLOCK * 141) /* 0.75 s, in the voice */
#define GLIDE (RATE / 10)
#define SETTLED (RATE * 8 / 25) /* 320 ms: past the longest receptive field (separation: 36 frames of 8 ms + its 16 ms window) */

static const char *models_dir, *voice_path;

typedef struct signal {
    float *in, *out[3][2]; /* runs: A throughout, B throughout, A then B */
    long n;
} signal;

static void run(const ef_model *m, const signal *s, int a, int b, float *out[2])
{
    ef_error err = {{0}};
    ef_engine *e = ef_engine_new(m, RATE, BLOCK, &err);
    assert_non_null(e);
    ef_solver solver;
    int steps;
    float t0;
    ef_engine_get_schedule(e, &solver, &steps, &t0);
    ef_engine_set_schedule(e, solver, a, t0);
    ef_engine_reset(e);
    for (long p = 0; p < s->n; p += BLOCK) {
        if (p == CHANGE_AT)
            ef_engine_set_schedule(e, solver, b, t0);
        const float *ins[1] = {s->in + p};
        float *outs[2] = {out[0] + p, out[1] + p};
        ef_engine_process(e, ins, outs, (int)(s->n - p < BLOCK ? s->n - p : BLOCK));
    }
    ef_engine_free(e);
}

/* Error energy of x against y over [from, to), in dB of y's (-400: equal). */
static double error_db(float *const x[2], float *const y[2], int channels, long from, long to)
{
    double err = 0, sig = 0;
    for (int c = 0; c < channels; c++)
        for (long k = from; k < to; k++) {
            const double d = (double)x[c][k] - y[c][k];
            err += d * d;
            sig += (double)y[c][k] * y[c][k];
        }
    return err > 0 ? 10 * log10(err / sig) : -400;
}

static void check_model(const char *name, const int (*changes)[2], int n_changes)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.safetensors", models_dir, name);
    ef_error err = {{0}};
    ef_model *m = ef_model_load(path, &err);
    if (!m) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        fail();
    }
    SF_INFO info = {0};
    SNDFILE *f = sf_open(voice_path, SFM_READ, &info);
    assert_non_null(f);
    assert_int_equal(info.channels, 1);
    assert_int_equal(info.samplerate, RATE);
    signal s = {.n = (long)info.frames};
    assert_true(s.n >= CHANGE_AT + 2 * SETTLED);
    s.in = calloc((size_t)s.n, sizeof(float));
    assert_int_equal(sf_readf_float(f, s.in, info.frames), info.frames);
    sf_close(f);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 2; c++)
            s.out[r][c] = calloc((size_t)s.n, sizeof(float));
    const int ch = ef_model_out_channels(m);
    for (int i = 0; i < n_changes; i++) {
        const int a = changes[i][0], b = changes[i][1];
        run(m, &s, a, a, s.out[0]);
        run(m, &s, b, b, s.out[1]);
        run(m, &s, a, b, s.out[2]);
        const double before = error_db(s.out[2], s.out[0], ch, 0, CHANGE_AT);
        const double glide = error_db(s.out[2], s.out[1], ch, CHANGE_AT, CHANGE_AT + GLIDE);
        const double apart = error_db(s.out[0], s.out[1], ch, CHANGE_AT, CHANGE_AT + GLIDE);
        const double after = error_db(s.out[2], s.out[1], ch, CHANGE_AT + SETTLED, s.n);
        printf("# %s steps %d -> %d: before the change vs %d: %.1f dB; first 100 ms vs %d: "
               "%.1f dB (runs at %d and %d differ by %.1f dB there); from %d ms on vs %d: %.1f dB\n",
               name, a, b, a, before, b, glide, a, b, apart, SETTLED * 1000 / RATE, b, after);
        assert_true(before <= -400);
        assert_true(glide <= apart);
        assert_true(after <= -100);
    }
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 2; c++)
            free(s.out[r][c]);
    free(s.in);
    ef_model_free(m);
}

static const int changes[][2] = {{2, 1}, {1, 2}, {2, 4}, {4, 1}};

static void separate_model(void **state)
{
    (void)state;
    check_model("separate", changes, 4);
}

static void binaural_model(void **state)
{
    (void)state;
    check_model("binaural", changes, 4);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_schedule_change MODELS_DIR VOICE_WAV\n");
        return 2;
    }
    models_dir = argv[1];
    voice_path = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(separate_model),
        cmocka_unit_test(binaural_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
