/* ef_rate_adapter: runs a processing core that works at a fixed rate (the model's,
 * 48 kHz) inside a host running at another rate, with libsamplerate on the way in
 * and out, at a constant, exactly known latency.
 *
 * libsamplerate's converters are time-aligned (output sample k sits at input time
 * k / ratio) but hold back a few samples while they wait for lookahead. The adapter
 * (1) pads the core's stream by w core-rate samples so that the core's latency maps
 * to a whole number of host samples, and (2) pre-fills its output FIFO with the
 * largest hold-back the pair of converters can show, measured at creation by a dry
 * run with one-sample blocks (the converters' output counts depend only on how many
 * samples went in, not on their values or partition). So the latency is
 *     P + (core_latency + w) * host_rate / core_rate      host samples, exactly.
 *
 * create/destroy are not real-time safe; process is, and so is reset (it replays the
 * priming: libsamplerate's src_reset and src_process on a pad of zeros, bounded work
 * with no allocation). */
#ifndef EF_RATE_ADAPTER_H
#define EF_RATE_ADAPTER_H

#include "earflow.h"

typedef struct ef_rate_adapter ef_rate_adapter;

/* Core callback at core rate: n samples in per input channel, n out per output
 * channel, n <= ef_rate_adapter_max_core_block(). Must be real-time safe. */
typedef void (*ef_core_fn)(void *ctx, const float *const *in, float *const *out, int n);

typedef enum ef_resample_quality {
    EF_RESAMPLE_FAST,   /* libsamplerate SRC_SINC_FASTEST */
    EF_RESAMPLE_MEDIUM, /* SRC_SINC_MEDIUM_QUALITY */
    EF_RESAMPLE_BEST,   /* SRC_SINC_BEST_QUALITY */
} ef_resample_quality;

ef_rate_adapter *ef_rate_adapter_new(int host_rate, int core_rate, int in_channels,
                                        int out_channels, int max_block, int core_latency,
                                        ef_resample_quality quality, ef_error *err);
void ef_rate_adapter_free(ef_rate_adapter *ra);
int ef_rate_adapter_reset(ef_rate_adapter *ra);
/* Largest n the core callback will be given. */
int ef_rate_adapter_max_core_block(const ef_rate_adapter *ra);
/* Total latency in host samples, core included. */
int ef_rate_adapter_latency(const ef_rate_adapter *ra);
/* Blocks in which the output FIFO ran dry (should stay 0; counted, never fatal). */
long ef_rate_adapter_underruns(const ef_rate_adapter *ra);
/* Real-time safe. n in 0..max_block; in and out may alias. */
void ef_rate_adapter_process(ef_rate_adapter *ra, const float *const *in, float *const *out,
                             int n, ef_core_fn core, void *ctx);

#endif
