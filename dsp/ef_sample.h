/* Which input samples the signal path takes. Beyond EF_INPUT_LIMIT (earflow.h: 120 dB
 * above full scale, no real recording; defined there once) a sample is treated like
 * NaN or Inf: replaced by silence and counted. Within it
 * nothing overflows: the STFT sums at most 16384 samples and the compression squares
 * that sum (2 * (16384 * 1e6)^2 = 5.4e20, far below FLT_MAX), so every stage after it
 * stays finite. */
#ifndef EF_SAMPLE_H
#define EF_SAMPLE_H

#include "earflow.h"

#include <math.h>

/* False for NaN, Inf and anything beyond the limit. */
static inline int ef_sample_ok(float x) { return fabsf(x) <= EF_INPUT_LIMIT; }

#endif
