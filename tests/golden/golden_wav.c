/* golden_wav FILE TENSOR OUT.wav: writes a golden tensor ([n] or [channels, n]) as a
 * 48 kHz float WAV, so the CLI can be checked against PyTorch's output. A test tool. */
#include "ef_safetensors.h"

#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: golden_wav FILE TENSOR OUT.wav\n");
        return 2;
    }
    ef_error err = {{0}};
    ef_st_file *f = ef_st_read(argv[1], &err);
    const ef_st_tensor *t = f ? ef_st_find(f, argv[2]) : NULL;
    if (!t || t->n_dims < 1 || t->n_dims > 2) {
        fprintf(stderr, "golden_wav: %s\n", f ? "no such 1-D or 2-D tensor" : err.message);
        return 1;
    }
    int ch = t->n_dims == 2 ? (int)t->shape[0] : 1;
    long n = t->n_dims == 2 ? t->shape[1] : t->shape[0];
    SF_INFO info = {.samplerate = 48000, .channels = ch, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *out = sf_open(argv[3], SFM_WRITE, &info);
    float *inter = malloc(sizeof(float) * (size_t)(n * ch));
    if (!out || !inter)
        return 1;
    for (long i = 0; i < n; i++)
        for (int c = 0; c < ch; c++)
            inter[i * ch + c] = t->data[(size_t)c * (size_t)n + (size_t)i];
    int ok = sf_writef_float(out, inter, n) == n;
    sf_close(out);
    free(inter);
    ef_st_free(f);
    return ok ? 0 : 1;
}
