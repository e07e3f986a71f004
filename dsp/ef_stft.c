#include "ef_stft.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ef_stft_analyzer {
    int n_fft, hop;
    float *window;   /* n_fft */
    float *history;  /* last n_fft input samples */
    float *fft_in;   /* n_fft, windowed */
    fftwf_complex *fft_out;
    fftwf_plan plan;
};

struct ef_stft_synthesizer {
    int n_fft, hop;
    float *window;   /* n_fft, includes 1/n_fft and the overlap normalisation */
    float *ola;      /* n_fft overlap-add accumulator */
    fftwf_complex *fft_in;
    float *fft_out;
    fftwf_plan plan;
};

/* FFTW's planner is not thread-safe; hosts may instantiate plugins from several
 * threads at once, so planning is serialised here (FFTW's own make_planner_thread_safe
 * needs the threads library initialised by whoever calls first, which we cannot
 * guarantee inside a plugin). */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

int ef_stft_check_config(int n_fft, int hop, ef_error *err)
{
    if (n_fft < 16 || n_fft > 16384 || n_fft % 2 != 0) {
        ef_error_set(err, "n_fft %d unsupported (even, 16..16384)", n_fft);
        return -1;
    }
    if (hop < 1 || n_fft % hop != 0 || n_fft / hop < 2) {
        ef_error_set(err, "hop %d must divide n_fft %d with at least 2 frames of overlap",
                     hop, n_fft);
        return -1;
    }
    return 0;
}

static void fill_sqrt_hann(float *w, int n)
{
    for (int i = 0; i < n; i++)
        w[i] = (float)sqrt(0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)n));
}

ef_stft_analyzer *ef_stft_analyzer_new(int n_fft, int hop, ef_error *err)
{
    if (ef_stft_check_config(n_fft, hop, err))
        return NULL;
    ef_stft_analyzer *a = calloc(1, sizeof *a);
    if (!a) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    a->n_fft = n_fft;
    a->hop = hop;
    a->window = fftwf_malloc(sizeof(float) * (size_t)n_fft);
    a->history = fftwf_malloc(sizeof(float) * (size_t)n_fft);
    a->fft_in = fftwf_malloc(sizeof(float) * (size_t)n_fft);
    a->fft_out = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(n_fft / 2 + 1));
    if (a->window && a->history && a->fft_in && a->fft_out) {
        pthread_mutex_lock(&planner_lock);
        a->plan = fftwf_plan_dft_r2c_1d(n_fft, a->fft_in, a->fft_out, FFTW_ESTIMATE);
        pthread_mutex_unlock(&planner_lock);
    }
    if (!a->plan) {
        ef_error_set(err, "cannot allocate the STFT analyser (n_fft %d)", n_fft);
        ef_stft_analyzer_free(a);
        return NULL;
    }
    fill_sqrt_hann(a->window, n_fft);
    ef_stft_analyzer_reset(a);
    return a;
}

void ef_stft_analyzer_free(ef_stft_analyzer *a)
{
    if (!a)
        return;
    if (a->plan) {
        pthread_mutex_lock(&planner_lock);
        fftwf_destroy_plan(a->plan);
        pthread_mutex_unlock(&planner_lock);
    }
    fftwf_free(a->window);
    fftwf_free(a->history);
    fftwf_free(a->fft_in);
    fftwf_free(a->fft_out);
    free(a);
}

void ef_stft_analyzer_reset(ef_stft_analyzer *a)
{
    memset(a->history, 0, sizeof(float) * (size_t)a->n_fft);
}

void ef_stft_analyzer_push(ef_stft_analyzer *a, const float *samples, float *frame)
{
    const int n = a->n_fft, h = a->hop;
    memmove(a->history, a->history + h, sizeof(float) * (size_t)(n - h));
    memcpy(a->history + (n - h), samples, sizeof(float) * (size_t)h);
    for (int i = 0; i < n; i++)
        a->fft_in[i] = a->history[i] * a->window[i];
    fftwf_execute(a->plan);
    memcpy(frame, a->fft_out, sizeof(fftwf_complex) * (size_t)(n / 2 + 1));
}

ef_stft_synthesizer *ef_stft_synthesizer_new(int n_fft, int hop, ef_error *err)
{
    if (ef_stft_check_config(n_fft, hop, err))
        return NULL;
    ef_stft_synthesizer *s = calloc(1, sizeof *s);
    if (!s) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    s->n_fft = n_fft;
    s->hop = hop;
    s->window = fftwf_malloc(sizeof(float) * (size_t)n_fft);
    s->ola = fftwf_malloc(sizeof(float) * (size_t)n_fft);
    s->fft_in = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(n_fft / 2 + 1));
    s->fft_out = fftwf_malloc(sizeof(float) * (size_t)n_fft);
    if (s->window && s->ola && s->fft_in && s->fft_out) {
        pthread_mutex_lock(&planner_lock);
        s->plan = fftwf_plan_dft_c2r_1d(n_fft, s->fft_in, s->fft_out, FFTW_ESTIMATE);
        pthread_mutex_unlock(&planner_lock);
    }
    if (!s->plan) {
        ef_error_set(err, "cannot allocate the STFT synthesiser (n_fft %d)", n_fft);
        ef_stft_synthesizer_free(s);
        return NULL;
    }
    /* Synthesis window = w / (n * sum_k w^2[j + k*hop]): the 1/n undoes FFTW's
     * unnormalised inverse, the sum makes overlap-added w_a*w_s exactly 1. */
    fill_sqrt_hann(s->window, n_fft);
    for (int j = 0; j < hop; j++) {
        double sum = 0.0;
        for (int k = j; k < n_fft; k += hop)
            sum += (double)s->window[k] * (double)s->window[k];
        for (int k = j; k < n_fft; k += hop)
            s->window[k] = (float)((double)s->window[k] / (sum * (double)n_fft));
    }
    ef_stft_synthesizer_reset(s);
    return s;
}

void ef_stft_synthesizer_free(ef_stft_synthesizer *s)
{
    if (!s)
        return;
    if (s->plan) {
        pthread_mutex_lock(&planner_lock);
        fftwf_destroy_plan(s->plan);
        pthread_mutex_unlock(&planner_lock);
    }
    fftwf_free(s->window);
    fftwf_free(s->ola);
    fftwf_free(s->fft_in);
    fftwf_free(s->fft_out);
    free(s);
}

void ef_stft_synthesizer_reset(ef_stft_synthesizer *s)
{
    memset(s->ola, 0, sizeof(float) * (size_t)s->n_fft);
}

void ef_stft_synthesizer_push(ef_stft_synthesizer *s, const float *frame, float *samples)
{
    const int n = s->n_fft, h = s->hop;
    memcpy(s->fft_in, frame, sizeof(fftwf_complex) * (size_t)(n / 2 + 1));
    /* A real signal's DC and Nyquist bins are real; c2r ignores their imaginary
     * parts, which is what the reference (numpy irfft) does too. */
    fftwf_execute(s->plan);
    for (int i = 0; i < n; i++)
        s->ola[i] += s->fft_out[i] * s->window[i];
    memcpy(samples, s->ola, sizeof(float) * (size_t)h);
    memmove(s->ola, s->ola + h, sizeof(float) * (size_t)(n - h));
    memset(s->ola + (n - h), 0, sizeof(float) * (size_t)h);
}
