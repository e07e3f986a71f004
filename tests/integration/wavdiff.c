/* wavdiff A B [--max-abs X] [--max-db Y]: compares two audio files sample by sample
 * (same channels and length), prints the max absolute error and the error energy in
 * dB relative to A, and exits 1 when a given bound is exceeded. A test tool. */
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: wavdiff A B [--max-abs X] [--max-db Y]\n");
        return 2;
    }
    double max_abs = INFINITY, max_db = INFINITY;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--max-abs") == 0)
            max_abs = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--max-db") == 0)
            max_db = atof(argv[i + 1]);
    }
    SF_INFO ia = {0}, ib = {0};
    SNDFILE *a = sf_open(argv[1], SFM_READ, &ia), *b = sf_open(argv[2], SFM_READ, &ib);
    if (!a || !b) {
        fprintf(stderr, "wavdiff: cannot open %s\n", a ? argv[2] : argv[1]);
        if (a)
            sf_close(a);
        if (b)
            sf_close(b);
        return 2;
    }
    if (ia.channels != ib.channels || ia.frames != ib.frames || ia.samplerate != ib.samplerate) {
        printf("shape differs: %d ch %lld frames %d Hz vs %d ch %lld frames %d Hz\n",
               ia.channels, (long long)ia.frames, ia.samplerate, ib.channels,
               (long long)ib.frames, ib.samplerate);
        sf_close(a);
        sf_close(b);
        return 1;
    }
    double worst = 0, err = 0, sig = 0;
    float fa[4096], fb[4096];
    sf_count_t n;
    while ((n = sf_read_float(a, fa, 4096 - 4096 % ia.channels)) > 0) {
        if (sf_read_float(b, fb, n) != n)
            break;
        for (sf_count_t i = 0; i < n; i++) {
            double d = (double)fa[i] - (double)fb[i];
            worst = fmax(worst, fabs(d));
            err += d * d;
            sig += (double)fa[i] * (double)fa[i];
        }
    }
    sf_close(a);
    sf_close(b);
    double db = err > 0 ? 10.0 * log10(err / (sig > 0 ? sig : 1e-30)) : -INFINITY;
    printf("max abs error %.3g, error %.1f dB\n", worst, db);
    return worst > max_abs || db > max_db ? 1 : 0;
}
