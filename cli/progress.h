/* A one-line progress bar on a terminal; silent when stderr is not a terminal. */
#ifndef EF_PROGRESS_H
#define EF_PROGRESS_H

#include <stdbool.h>

typedef struct ef_progress {
    bool enabled;
    long total;
    int last_percent;
    double seconds_total;
} ef_progress;

void ef_progress_start(ef_progress *p, long total_frames, int sample_rate, bool quiet);
void ef_progress_update(ef_progress *p, long done_frames);
void ef_progress_finish(ef_progress *p);

#endif
