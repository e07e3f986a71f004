/* align: time alignment of audio files for the live tests.
 *
 *   align find SIGNAL IN            the offset at which SIGNAL (mono) occurs in IN's
 *                                   first channel, sample-exact (exit 1: nowhere)
 *   align compare REF CAP LAG_MIN LAG_MAX MAX_DB
 *                                   the lag k in LAG_MIN..LAG_MAX that best matches
 *                                   CAP[m] with REF[m + k] (all channels), its error
 *                                   energy in dB of the signal; exit 1 above MAX_DB
 *   align jumps REF CAP LAG SPAN SEG
 *                                   the best lag within LAG +- SPAN of each SEG-frame
 *                                   segment of CAP, and where it changes: a stream that
 *                                   lost or repeated a cycle shows a jump of whole cycles
 *   align pieces REF CAP PERIOD MAX_MISSING
 *                                   CAP cut into PERIOD-frame cycles, each one that is not
 *                                   silent looked for in REF, sample-exact at any lag:
 *                                   what a graph that lost or repeated cycles (xruns)
 *                                   delivered; exit 1 when more than MAX_MISSING are nowhere
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

/* The error energy of CAP[m] against REF[m + k] for m in [from, to), in dB of REF's
 * energy there (-400: equal; INFINITY: REF silent); the largest difference in *worst. */
static double error_db(const float *r, long nr, int cr, const float *c, long from, long to,
                       long k, double *worst)
{
    double err = 0, sig = 0;
    *worst = 0;
    for (long m = from; m < to; m++) {
        if (m + k < 0 || m + k >= nr)
            continue;
        for (int ch = 0; ch < cr; ch++) {
            double a = r[(m + k) * cr + ch], b = c[m * cr + ch];
            err += (a - b) * (a - b);
            sig += a * a;
            *worst = fmax(*worst, fabs(a - b));
        }
    }
    return sig > 0 ? (err > 0 ? 10 * log10(err / sig) : -400) : INFINITY;
}

/* The lag in lo..hi with the least error over CAP[from, to). */
static long best_lag(const float *r, long nr, int cr, const float *c, long from, long to,
                     long lo, long hi, double *best_db, double *best_max)
{
    long best = lo;
    *best_db = INFINITY;
    *best_max = 0;
    for (long k = lo; k <= hi; k++) {
        double worst, db = error_db(r, nr, cr, c, from, to, k, &worst);
        if (db < *best_db) {
            *best_db = db;
            *best_max = worst;
            best = k;
        }
    }
    return best;
}

static int load_pair(const char *ref_path, const char *cap_path, float **r, long *nr,
                     float **c, long *nc, int *channels)
{
    int cr, cc;
    *r = load(ref_path, nr, &cr);
    *c = load(cap_path, nc, &cc);
    *channels = cr;
    if (cr == cc)
        return 0;
    fprintf(stderr, "align: %d vs %d channels\n", cr, cc);
    free(*r);
    free(*c);
    return 2;
}

static int compare(const char *ref_path, const char *cap_path, long lo, long hi, double max_db)
{
    float *r, *c;
    long nr, nc;
    int ch;
    if (load_pair(ref_path, cap_path, &r, &nr, &c, &nc, &ch))
        return 2;
    double best_db, best_max;
    long best = best_lag(r, nr, ch, c, 0, nc, lo, hi, &best_db, &best_max);
    printf("lag %ld error %.1f dB max abs %.3g\n", best, best_db, best_max);
    free(r);
    free(c);
    return best_db <= max_db ? 0 : 1;
}

/* Prints "jumps N" and one line per change of the segments' best lag (segments where
 * REF is silent or nothing matches better than -20 dB are skipped). */
static int jumps(const char *ref_path, const char *cap_path, long lag, long span, long seg)
{
    float *r, *c;
    long nr, nc, prev = lag, n = 0;
    int ch;
    if (seg <= 0 || load_pair(ref_path, cap_path, &r, &nr, &c, &nc, &ch))
        return 2;
    char lines[4096] = "";
    for (long from = 0; from + seg <= nc; from += seg) {
        double db, worst;
        long k = best_lag(r, nr, ch, c, from, from + seg, lag - span, lag + span, &db, &worst);
        if (!(db < -20) || k == prev)
            continue;
        size_t used = strlen(lines);
        snprintf(lines + used, sizeof lines - used, "lag %ld -> %ld at capture frame %ld\n", prev,
                 k, from);
        prev = k;
        n++;
    }
    printf("jumps %ld\n%s", n, lines);
    free(r);
    free(c);
    return 0;
}

/* Whether CAP[from, from + n) equals REF[m + k] exactly (all channels), REF being zero
 * outside its frames. */
static int equal_at(const float *r, long nr, const float *c, int ch, long from, long n, long k)
{
    for (long m = from; m < from + n; m++)
        for (int i = 0; i < ch; i++) {
            float a = m + k >= 0 && m + k < nr ? r[(m + k) * ch + i] : 0.0f;
            if (a != c[m * ch + i])
                return 0;
        }
    return 1;
}

/* Cuts CAP into PERIOD-frame cycles and looks for each one that is not silent in REF,
 * sample-exact at any lag (the last one's first). Prints the counts, and how many of
 * REF's non-silent frames the found cycles cover; exit 1 when more than MAX_MISSING
 * cycles occur nowhere in REF. */
static int pieces(const char *ref_path, const char *cap_path, long period, long max_missing)
{
    float *r, *c;
    long nr, nc;
    int ch;
    if (period <= 0 || load_pair(ref_path, cap_path, &r, &nr, &c, &nc, &ch))
        return 2;
    char *covered = calloc((size_t)nr + 1, 1);
    long cycles = nc / period, silent = 0, found = 0, missing = 0, lags = 0, lag = 0;
    for (long i = 0; i < cycles; i++) {
        long from = i * period;
        if (equal_at(r, 0, c, ch, from, period, 0)) {
            silent++;
            continue;
        }
        int hit = found && equal_at(r, nr, c, ch, from, period, lag);
        for (long k = -from - period; !hit && k <= nr - from; k++)
            if (equal_at(r, nr, c, ch, from, period, k)) {
                lags += found > 0;
                lag = k;
                hit = 1;
            }
        found += hit;
        missing += !hit;
        for (long m = from + lag; hit && m < from + lag + period; m++)
            if (m >= 0 && m < nr)
                covered[m] = 1;
    }
    long signal = 0, covered_signal = 0;
    for (long m = 0; m < nr; m++) {
        int sound = 0;
        for (int i = 0; i < ch; i++)
            sound |= r[m * ch + i] != 0.0f;
        signal += sound;
        covered_signal += sound && covered[m];
    }
    printf("cycles %ld silent %ld found %ld missing %ld lag changes %ld; covered %ld of %ld"
           " non-silent reference frames\n",
           cycles, silent, found, missing, lags, covered_signal, signal);
    free(covered);
    free(r);
    free(c);
    return missing <= max_missing ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "find"))
        return find(argv[2], argv[3]);
    if (argc == 7 && !strcmp(argv[1], "compare"))
        return compare(argv[2], argv[3], atol(argv[4]), atol(argv[5]), atof(argv[6]));
    if (argc == 7 && !strcmp(argv[1], "jumps"))
        return jumps(argv[2], argv[3], atol(argv[4]), atol(argv[5]), atol(argv[6]));
    if (argc == 6 && !strcmp(argv[1], "pieces"))
        return pieces(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
    fprintf(stderr, "usage: align find SIGNAL IN | align compare REF CAP LAG_MIN LAG_MAX MAX_DB"
                    " | align jumps REF CAP LAG SPAN SEG"
                    " | align pieces REF CAP PERIOD MAX_MISSING\n");
    return 2;
}
