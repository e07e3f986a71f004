/* clock: the one monotonic clock of the program and the live host (timeouts, status
 * lines, benchmark timings, the callback's own time). The engine keeps its own copy
 * (ef_governor_now in model/), since model/ is below common/ and links nothing of it. */
#ifndef EF_CLOCK_H
#define EF_CLOCK_H

/* Seconds on CLOCK_MONOTONIC (read through the vDSO on Linux: no system call, safe in
 * the audio thread). Only differences mean anything. */
double ef_clock_seconds(void);

#endif
