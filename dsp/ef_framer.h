/* ef_framer: turns blocks of any size into fixed hops.
 *
 * Callers push n samples per channel (any n >= 0); each time a whole hop has
 * arrived, the frame callback runs with hop input samples per input channel and
 * fills hop output samples per output channel. Output sample i of the stream is the
 * callback's output from the previous hop, so the framer adds exactly `hop` samples
 * of latency and its output does not depend on how the stream was partitioned.
 * Input and output buffers may alias (in-place processing). */
#ifndef EF_FRAMER_H
#define EF_FRAMER_H

#include "earflow.h"

#define EF_FRAMER_MAX_CHANNELS 8

typedef struct ef_framer ef_framer;

/* Called on the audio thread: must be real-time safe. */
typedef void (*ef_frame_fn)(void *ctx, const float *const *in, float *const *out);

ef_framer *ef_framer_new(int in_channels, int out_channels, int hop, ef_error *err);
void ef_framer_free(ef_framer *f);
/* Real-time safe: clears the buffered samples (silence until the next hop). */
void ef_framer_reset(ef_framer *f);
/* Real-time safe. */
void ef_framer_process(ef_framer *f, const float *const *in, float *const *out, int n,
                       ef_frame_fn fn, void *ctx);

#endif
