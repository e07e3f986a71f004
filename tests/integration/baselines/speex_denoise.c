/* speex_denoise: the Speex DSP noise suppressor (libspeexdsp's preprocessor, denoiser
 * only: no AGC, VAD or dereverb) on a mono file, the DSP baseline that
 * train/evaluate_separate.py scores the separation models against.
 *
 *   speex_denoise --suppress DB IN.wav OUT.wav
 *
 * DB: the most the suppressor may take off the noise, 1..100 (Speex's default is 15).
 * Frames of 20 ms at the file's rate. The preprocessor's output lags its input by one
 * frame (measured: 960 samples at 48 kHz); the input is padded by a frame and that
 * lag dropped, so the output is aligned with the input and as long; float WAV out. The
 * preprocessor takes 16-bit samples: the input is scaled by 32767 and clipped there,
 * which is what a user of this library gives it too. Exit 0 on success, 2 on bad
 * arguments, 1 on a file error. */
#include <sndfile.h>
#include <speex/speex_preprocess.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: speex_denoise --suppress DB(1..100) IN.wav OUT.wav\n");
    return 2;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    double suppress = argc == 5 && !strcmp(argv[1], "--suppress") ? strtod(argv[2], &end) : 0;
    if (!end || *end != '\0' || !(suppress >= 1 && suppress <= 100))
        return usage();
    SF_INFO info = {0};
    SNDFILE *in = sf_open(argv[3], SFM_READ, &info);
    if (!in || info.channels != 1 || info.frames < 1) {
        fprintf(stderr, "speex_denoise: %s: need a mono audio file\n", argv[3]);
        return 1;
    }
    const long n = (long)info.frames;
    const int frame = info.samplerate / 50;
    const long padded = (n + frame + frame - 1) / frame * frame; /* + the lag */
    float *x = calloc((size_t)padded, sizeof *x);
    spx_int16_t *buf = calloc((size_t)frame, sizeof *buf);
    SpeexPreprocessState *st = speex_preprocess_state_init(frame, info.samplerate);
    if (!x || !buf || !st || sf_readf_float(in, x, n) != n) {
        fprintf(stderr, "speex_denoise: %s: cannot read it\n", argv[3]);
        return 1;
    }
    sf_close(in);
    int on = 1, off = 0, level = -(int)(suppress + 0.5);
    speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_DENOISE, &on);
    speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_AGC, &off);
    speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_DEREVERB, &off);
    speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &level);
    for (long at = 0; at < padded; at += frame) {
        for (int i = 0; i < frame; i++) {
            float v = x[at + i] * 32767.0f;
            buf[i] = (spx_int16_t)(v > 32767.0f ? 32767 : v < -32768.0f ? -32768 : v);
        }
        speex_preprocess_run(st, buf);
        for (int i = 0; i < frame; i++)
            x[at + i] = (float)buf[i] / 32767.0f;
    }
    speex_preprocess_state_destroy(st);
    SF_INFO oi = {.samplerate = info.samplerate, .channels = 1,
                  .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *out = sf_open(argv[4], SFM_WRITE, &oi);
    if (!out || sf_writef_float(out, x + frame, n) != n) {
        fprintf(stderr, "speex_denoise: cannot write %s\n", argv[4]);
        return 1;
    }
    sf_close(out);
    free(x);
    free(buf);
    return 0;
}
