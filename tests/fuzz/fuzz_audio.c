/* Fuzz target: an input audio file's bytes through what `earflow render` does with
 * them: cli/audio_input (libsndfile over the bytes with sf_open_virtual: any
 * container and sample format it knows, the channel count, length and rate checks)
 * and cli/render_engines (one identity engine per channel at the file's rate, so
 * any rate but 48 kHz goes through the resampler), for the first frames of the file.
 * The output must stay finite (NaN/Inf input is replaced by silence), a refusal
 * must come with a message. */
#include "audio_input.h"
#include "render_engines.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Enough to pass the latency at every rate; bounded so that a header claiming hours
 * does not make a slow input. */
#define MAX_FRAMES 12000

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_audio: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Odd block sizes too, from the input's size: the framer takes any. */
    const int block = 1 + (int)(size % 1500);
    ef_error err = {{0}};
    ef_audio_input *in = ef_audio_input_open_memory(data, size, "fuzz", block, &err);
    if (!in) {
        check(err.message[0] != 0, "refused without a message");
        return 0;
    }
    const int chs = ef_audio_input_channels(in);
    check(chs >= 1 && chs <= EF_AUDIO_MAX_CHANNELS && ef_audio_input_frames(in) > 0,
          "accepted an input it should refuse");
    ef_model *model = ef_model_identity(&err);
    check(model != NULL, err.message);
    ef_render_engines *r =
        ef_render_engines_new(model, chs, ef_audio_input_sample_rate(in), block, NULL, &err);
    check(r != NULL, err.message); /* the input's checks cover what the engine refuses */
    const int out_chs = ef_render_engines_out_channels(r);
    float *ins[EF_AUDIO_MAX_CHANNELS] = {0}, *outs[EF_RENDER_MAX_CHANNELS] = {0};
    for (int c = 0; c < chs; c++)
        check((ins[c] = malloc(sizeof(float) * (size_t)block)) != NULL, "out of memory");
    for (int c = 0; c < out_chs; c++)
        check((outs[c] = malloc(sizeof(float) * (size_t)block)) != NULL, "out of memory");
    long done = 0;
    while (done < MAX_FRAMES) {
        long got = ef_audio_input_read(in, ins, block, &err);
        if (got < 0) {
            check(err.message[0] != 0, "read failed without a message");
            break;
        }
        ef_render_engines_process(r, (const float *const *)ins, outs, block, done);
        for (int c = 0; c < out_chs; c++)
            for (int i = 0; i < block; i++)
                check(isfinite(outs[c][i]), "non-finite output");
        done += block;
        if (got == 0)
            break;
    }
    for (int c = 0; c < EF_AUDIO_MAX_CHANNELS; c++)
        free(ins[c]);
    for (int c = 0; c < EF_RENDER_MAX_CHANNELS; c++)
        free(outs[c]);
    ef_render_engines_free(r);
    ef_model_free(model);
    ef_audio_input_close(in);
    return 0;
}
