/* align: time alignment of audio files for the live tests.
 *
 *   align find SIGNAL IN            the offset at which SIGNAL (mono) occurs in IN's
 *                                   first channel, sample-exact (exit 1: nowhere)
 *   align compare REF CAP LAG_MIN LAG_MAX MAX_DB
 *                                   the lag k in LAG_MIN..LAG_MAX that best matches
 *                                   CAP[m] with REF[m + k] (all channels), its error
 *                                   energy in dB of the signal; exit 1 above MAX_DB
 */
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *load(const char *path, long *frames, int *channels)
{
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        fprintf(stderr, "align: cannot open %s\n", path);
        exit(2);
    }
    float *d = malloc(sizeof(float) * (size_t)info.frames * (size_t)info.channels + 1);
    *frames = (long)sf_readf_float(f, d, info.frames);
    *channels = info.channels;
    sf_close(f);
    return d;
}

static int find(const char *sig_path, const char *in_path)
{
    long ns, ni;
    int cs, ci;
    float *s = load(sig_path, &ns, &cs), *in = load(in_path, &ni, &ci);
    for (long k = 0; k + ns <= ni; k++) {
        long m = 0;
        while (m < ns && in[(k + m) * ci] == s[m * cs])
            m++;
        if (m == ns) {
            printf("%ld\n", k);
            free(s);
            free(in);
            return 0;
        }
    }
    fprintf(stderr, "align: %s does not occur in %s\n", sig_path, in_path);
    free(s);
    free(in);
    return 1;
}

static int compare(const char *ref_path, const char *cap_path, long lo, long hi, double max_db)
{
    long nr, nc;
    int cr, cc;
    float *r = load(ref_path, &nr, &cr), *c = load(cap_path, &nc, &cc);
    if (cr != cc) {
        fprintf(stderr, "align: %d vs %d channels\n", cr, cc);
        return 2;
    }
    double best_db = INFINITY, best_max = 0;
    long best = lo;
    for (long k = lo; k <= hi; k++) {
        double err = 0, sig = 0, worst = 0;
        for (long m = 0; m < nc; m++) {
            if (m + k < 0 || m + k >= nr)
                continue;
            for (int ch = 0; ch < cc; ch++) {
                double a = r[(m + k) * cr + ch], b = c[m * cc + ch];
                err += (a - b) * (a - b);
                sig += a * a;
                worst = fmax(worst, fabs(a - b));
            }
        }
        double db = sig > 0 ? (err > 0 ? 10 * log10(err / sig) : -400) : INFINITY;
        if (db < best_db) {
            best_db = db;
            best = k;
            best_max = worst;
        }
    }
    printf("lag %ld error %.1f dB max abs %.3g\n", best, best_db, best_max);
    free(r);
    free(c);
    return best_db <= max_db ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "find"))
        return find(argv[2], argv[3]);
    if (argc == 7 && !strcmp(argv[1], "compare"))
        return compare(argv[2], argv[3], atol(argv[4]), atol(argv[5]), atof(argv[6]));
    fprintf(stderr, "usage: align find SIGNAL IN | align compare REF CAP LAG_MIN LAG_MAX MAX_DB\n");
    return 2;
}
