/* Streaming STFT analysis and synthesis, one channel each, one hop at a time.
 *
 * Window: periodic sqrt-Hann for analysis and synthesis; the synthesis side is
 * normalised so that analysis followed by synthesis reconstructs the input exactly
 * for any hop that divides n_fft with n_fft/hop >= 2 (docs/model-spec.md, section 1).
 * Frames are n_fft/2+1 complex bins stored interleaved (re, im), unnormalised
 * forward FFT (as torch.stft(normalized=False)).
 *
 * Alignment: the analyser starts from n_fft zeros; after the m-th push (m from 0)
 * the frame covers input samples [(m+1)*hop - n_fft, (m+1)*hop). The synthesiser
 * overlap-adds and returns the hop samples that no later frame touches, so
 * analyser + synthesiser delay the signal by n_fft - hop samples.
 *
 * create/destroy are not real-time safe; push functions are (no allocation). */
#ifndef EF_STFT_H
#define EF_STFT_H

#include "earflow.h"

typedef struct ef_stft_analyzer ef_stft_analyzer;
typedef struct ef_stft_synthesizer ef_stft_synthesizer;

/* Checks that n_fft is even, in [16, 16384], and that hop divides it with at least
 * two frames overlapping. Returns 0 when valid, else -1 with err filled. */
int ef_stft_check_config(int n_fft, int hop, ef_error *err);

ef_stft_analyzer *ef_stft_analyzer_new(int n_fft, int hop, ef_error *err);
void ef_stft_analyzer_free(ef_stft_analyzer *a);
void ef_stft_analyzer_reset(ef_stft_analyzer *a);
/* Real-time safe. Takes hop new samples, writes 2*(n_fft/2+1) floats to frame. */
void ef_stft_analyzer_push(ef_stft_analyzer *a, const float *samples, float *frame);

ef_stft_synthesizer *ef_stft_synthesizer_new(int n_fft, int hop, ef_error *err);
void ef_stft_synthesizer_free(ef_stft_synthesizer *s);
void ef_stft_synthesizer_reset(ef_stft_synthesizer *s);
/* Real-time safe. Takes one frame (2*(n_fft/2+1) floats), writes hop samples. */
void ef_stft_synthesizer_push(ef_stft_synthesizer *s, const float *frame, float *samples);

#endif
