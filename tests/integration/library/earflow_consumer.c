/* earflow_consumer: a program that embeds earflow as a user would, built outside the
 * tree against the installed library (pkg-config earflow sndfile): it renders a mono
 * file through a model with the engine's defaults and compensates the latency, the
 * way `earflow render` does.
 *
 *   earflow_consumer MODEL IN.wav OUT.wav      (exit 0 ok, 1 error) */
#include <earflow.h>
#include <sndfile.h>

#include <stdio.h>
#include <stdlib.h>

enum { BLOCK = 512 };

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: earflow_consumer MODEL IN.wav OUT.wav\n");
        return 1;
    }
    ef_error err = {{0}};
    ef_model *model = ef_model_load(argv[1], &err);
    if (!model) {
        fprintf(stderr, "earflow_consumer: %s\n", err.message);
        return 1;
    }
    SF_INFO in_info = {0};
    SNDFILE *in = sf_open(argv[2], SFM_READ, &in_info);
    if (!in || in_info.channels != 1 || ef_model_in_channels(model) != 1) {
        fprintf(stderr, "earflow_consumer: %s: need a mono file and a mono-input model\n",
                argv[2]);
        return 1;
    }
    ef_engine *engine = ef_engine_new(model, in_info.samplerate, BLOCK, &err);
    if (!engine) {
        fprintf(stderr, "earflow_consumer: %s\n", err.message);
        return 1;
    }
    const int channels = ef_model_out_channels(model);
    SF_INFO out_info = {.samplerate = in_info.samplerate, .channels = channels,
                        .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *out = sf_open(argv[3], SFM_WRITE, &out_info);
    if (!out) {
        fprintf(stderr, "earflow_consumer: %s: %s\n", argv[3], sf_strerror(NULL));
        return 1;
    }
    static float x[BLOCK], y[2][BLOCK], frame[2 * BLOCK];
    const float *inp[1] = {x};
    float *outp[2] = {y[0], y[1]};
    long skip = ef_engine_latency(engine), left = (long)in_info.frames;
    while (left > 0) {
        /* Past the end of the input, zeros push the last samples out. */
        sf_count_t got = sf_readf_float(in, x, BLOCK);
        for (sf_count_t i = got; i < BLOCK; i++)
            x[i] = 0.0f;
        ef_engine_process(engine, inp, outp, BLOCK);
        long first = skip < BLOCK ? skip : BLOCK;
        skip -= first;
        long n = BLOCK - first < left ? BLOCK - first : left;
        for (long i = 0; i < n; i++)
            for (int c = 0; c < channels; c++)
                frame[i * channels + c] = y[c][first + i];
        sf_writef_float(out, frame, n);
        left -= n;
    }
    sf_close(out);
    sf_close(in);
    ef_engine_free(engine);
    ef_model_free(model);
    return 0;
}
