/* lateral: which ear a stereo file favours.
 *
 *   lateral FILE     prints "ild_db D lag_us L": D = 10 log10(E_left / E_right) over the
 *                    whole file; L = the interaural lag by cross-correlation of the two
 *                    channels within +-1 ms (positive: the LEFT channel leads, i.e. the
 *                    right one is a delayed copy), at 1-sample resolution.
 */
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: lateral FILE\n");
        return 2;
    }
    SF_INFO info = {0};
    SNDFILE *f = sf_open(argv[1], SFM_READ, &info);
    if (!f || info.channels != 2) {
        fprintf(stderr, "lateral: %s: cannot open or not stereo\n", argv[1]);
        return 2;
    }
    float *d = malloc(sizeof(float) * 2 * (size_t)info.frames + 1);
    long n = (long)sf_readf_float(f, d, info.frames);
    sf_close(f);
    double el = 0, er = 0;
    for (long i = 0; i < n; i++) {
        el += (double)d[2 * i] * d[2 * i];
        er += (double)d[2 * i + 1] * d[2 * i + 1];
    }
    int maxlag = info.samplerate / 1000;
    double best = -INFINITY;
    int best_k = 0;
    for (int k = -maxlag; k <= maxlag; k++) {   /* sum_i L[i] R[i + k]: peak at k > 0 when R lags */
        double acc = 0;
        for (long i = 0; i < n; i++) {
            long j = i + k;
            if (j >= 0 && j < n)
                acc += (double)d[2 * i] * d[2 * j + 1];
        }
        if (acc > best) {
            best = acc;
            best_k = k;
        }
    }
    printf("ild_db %.2f lag_us %.1f\n", 10 * log10((el + 1e-30) / (er + 1e-30)),
           1e6 * best_k / info.samplerate);
    free(d);
    return 0;
}
