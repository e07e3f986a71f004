/* Recording from the audio thread: the callback pushes planar blocks into a
 * lock-free ring (ef_spsc_ring); a disk thread writes them to a file with
 * libsndfile. The callback never waits: when the ring is full the block is dropped
 * and counted, and the count is reported, so no sample is ever lost silently. */
#ifndef EF_RECORDER_H
#define EF_RECORDER_H

#include "earflow.h"

#include <stdbool.h>

typedef struct ef_recorder ef_recorder;

/* Opens `path` (format from the extension, float samples where the container
 * allows), refusing an existing file unless force, and starts the disk thread.
 * buffer_seconds: how much audio the ring holds; max_block: the largest push. */
ef_recorder *ef_recorder_new(const char *path, bool force, int channels, int sample_rate,
                                double buffer_seconds, int max_block, ef_error *err);

/* Real-time safe (one producer thread). ch: `channels` pointers, n frames; n above
 * max_block is pushed in pieces. */
void ef_recorder_push(ef_recorder *r, const float *const *ch, int n);

/* Frames dropped because the ring was full, and frames written to the file so far.
 * Any thread. */
long long ef_recorder_dropped(const ef_recorder *r);
long long ef_recorder_written(const ef_recorder *r);
const char *ef_recorder_path(const ef_recorder *r);

/* Stops the disk thread after it has written everything pushed and closes the file
 * (its header then holds the true length); the counters stay readable. -1 with err
 * on a write error. Call after the producer has stopped. */
int ef_recorder_finish(ef_recorder *r, ef_error *err);
/* Finishes (if not yet) and frees r. NULL is fine. */
void ef_recorder_free(ef_recorder *r);

#endif
