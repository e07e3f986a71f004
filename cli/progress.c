#include "progress.h"

#include <stdio.h>
#include <unistd.h>

void ef_progress_start(ef_progress *p, long total_frames, int sample_rate, bool quiet)
{
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->total = total_frames > 0 ? total_frames : 1;
    p->last_percent = -1;
    p->seconds_total = sample_rate > 0 ? (double)total_frames / sample_rate : 0.0;
}

void ef_progress_update(ef_progress *p, long done_frames)
{
    if (!p->enabled)
        return;
    int percent = (int)(100.0 * (double)done_frames / (double)p->total);
    if (percent > 100)
        percent = 100;
    if (percent == p->last_percent)
        return;
    p->last_percent = percent;
    char bar[41];
    int filled = percent * 40 / 100;
    for (int i = 0; i < 40; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[40] = 0;
    fprintf(stderr, "\r[%s] %3d%%  %.1f / %.1f s", bar, percent,
            p->seconds_total * percent / 100.0, p->seconds_total);
    fflush(stderr);
}

void ef_progress_finish(ef_progress *p)
{
    if (p->enabled)
        fprintf(stderr, "\n");
}
