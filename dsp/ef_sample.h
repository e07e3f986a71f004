/* Which input samples the signal path takes. Beyond EF_SAMPLE_LIMIT (120 dB above
 * full scale: no real recording; the engine's EF_INPUT_LIMIT is the same bound) a
 * sample is treated like NaN or Inf: replaced by silence and counted. Within it
 * nothing overflows: the STFT sums at most 16384 samples and the compression squares
 * that sum (2 * (16384 * 1e6)^2 = 5.4e20, far below FLT_MAX), so every stage after it
 * stays finite. */
#ifndef EF_SAMPLE_H
#define EF_SAMPLE_H

#include <math.h>

#define EF_SAMPLE_LIMIT 1e6f

/* False for NaN, Inf and anything beyond the limit. */
static inline int ef_sample_ok(float x) { return fabsf(x) <= EF_SAMPLE_LIMIT; }

#endif
