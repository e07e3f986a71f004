/* The velocity network U(x, t, c) of docs/model-spec.md, evaluated one STFT frame at
 * a time, with its buffer bank: one history of past frames per causal convolution
 * and per solver evaluation. Weights are borrowed from the model file. */
#ifndef EF_UNET_H
#define EF_UNET_H

#include "ef_kernels.h"
#include "earflow.h"
#include "ef_safetensors.h"

#define EF_UNET_MAX_LEVELS 6
#define EF_UNET_MAX_MID 8
/* arch.out_gain's and arch.tail_gain's log gains are clamped to +-this (natural log:
 * x 4.5e-5 .. x 22026) so that no weights can make them overflow. */
#define EF_UNET_OUT_GAIN_MAX_LOG 10.0f

typedef struct ef_unet_config {
    int c_out, c_cond;    /* complex channels */
    int n_bins;           /* F = n_fft / 2 */
    int levels;           /* L */
    int widths[EF_UNET_MAX_LEVELS + 1];
    int kt, groups, emb_dim, fourier_dim, cond_dim;
    int n_mid;
    int freq_emb;         /* a learned [w0][F] frequency embedding after in_conv */
    int out_gain;         /* a per-bin, per-output-channel gain from the embedding */
    int tail_gain;        /* c_out more output channels: per ear a log gain on the room tail */
    int n_heads;          /* output layers, summed weighed by c[0..n_heads-1] (label heads); 1: one */
    int dil_enc[EF_UNET_MAX_LEVELS], dil_mid[EF_UNET_MAX_MID], dil_dec[EF_UNET_MAX_LEVELS];
} ef_unet_config;


typedef struct ef_norm {
    const float *w, *b;
    int channels, groups;
} ef_norm;

typedef struct ef_linear {
    const float *w, *b; /* [out][in], [out] */
    int out, in;
} ef_linear;

typedef struct ef_resblock {
    ef_norm norm1, norm2;
    ef_conv conv1, conv2;
    ef_linear proj;
    int n_bins;
    int history; /* past frames conv1 needs: (kt - 1) * dil */
} ef_resblock;

typedef struct ef_unet {
    ef_unet_config cfg;
    const float *t_freqs;
    const float *freq_emb; /* [w0][F] or NULL */
    ef_linear fc1, fc2;
    ef_conv in_conv, out_conv;
    ef_conv down[EF_UNET_MAX_LEVELS], up[EF_UNET_MAX_LEVELS];
    ef_resblock enc[EF_UNET_MAX_LEVELS], mid[EF_UNET_MAX_MID], dec[EF_UNET_MAX_LEVELS];
    ef_norm out_norm;
    ef_linear out_gain;    /* [c_out F][E] -> log gains; .w NULL when absent */
    ef_kernels kernels; /* for this CPU (ef_kernels.h) */
    float *wino;        /* owned: the convolutions' Winograd weights (SIMD kernels), or NULL */
} ef_unet;

typedef struct ef_unet_state ef_unet_state;

/* The most memory the state of one engine may take (ef_unet_state_new): a tiny
 * file can declare a network whose histories take gigabytes (n_fft 16384, kt 9,
 * dilation 256 on every block: 8.6 GB from an 8 KB file). 256 MiB is 40 times the
 * shipped separation model's whole engine. */
#define EF_UNET_MAX_STATE_BYTES ((double)(256u << 20))

/* Checks the config and binds the network's tensors of `file` by name and shape,
 * marking each in `used` (one int per tensor of the file: the caller checks that
 * every tensor was used); the state for `evaluations` solver evaluations must fit in
 * EF_UNET_MAX_STATE_BYTES. Returns 0 or -1 with err. */
int ef_unet_bind(ef_unet *net, const ef_unet_config *cfg, const ef_st_file *file,
                 int evaluations, int *used, ef_error *err);
/* Frees what ef_unet_bind allocated (the transformed weights); the tensors stay the file's. */
void ef_unet_release(ef_unet *net);
/* Multiply-accumulates for one evaluation of one frame. */
long ef_unet_macs(const ef_unet *net);

/* Scratch and a buffer bank for `evaluations` solver evaluations per frame. */
ef_unet_state *ef_unet_state_new(const ef_unet *net, int evaluations, ef_error *err);
void ef_unet_state_free(ef_unet_state *st);
size_t ef_unet_state_bytes(const ef_unet_state *st);
/* Real-time safe: zeroes every history. */
void ef_unet_state_reset(ef_unet_state *st);
/* Real-time safe (no allocation; rings move by pointer, a copy only where two new
 * evaluations share a source): after a schedule change, new evaluation e (0..n-1)
 * continues the history of old evaluation from[e], or starts from zeros where
 * from[e] < 0; evaluations from n on are zeroed. */
void ef_unet_state_carry(ef_unet_state *st, const int *from, int n);

/* Real-time safe. x: [2 c_out][F] state, cond: [2 c_cond][F], c: [cond_dim];
 * v: [2 c_out][F] the network's output (a velocity or a mask), then with tail_gain
 * [c_out][F] log gains on the room tail. `evaluation` picks the history set. */
void ef_unet_eval(const ef_unet *net, ef_unet_state *st, int evaluation, const float *x,
                  const float *cond, float t, const float *c, float *v);

#endif
