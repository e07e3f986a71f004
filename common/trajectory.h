/* Source trajectories for binaural rendering: a text file with one row per time,
 * "seconds azimuth elevation distance", times increasing; '#' starts a comment.
 * Azimuths may be unwrapped (0 then 720 turns twice) within +-1e6 degrees; a row
 * (without its comment) has at most 511 characters. Positions between rows are
 * interpolated linearly, held before the first row and after the last. */
#ifndef EF_TRAJECTORY_H
#define EF_TRAJECTORY_H

#include "earflow.h"

#include <stddef.h>

typedef struct ef_trajectory ef_trajectory;

ef_trajectory *ef_trajectory_parse(const char *text, size_t len, ef_error *err);
ef_trajectory *ef_trajectory_load(const char *path, ef_error *err);
void ef_trajectory_free(ef_trajectory *t);
/* Position at time `seconds`. */
void ef_trajectory_at(const ef_trajectory *t, double seconds, double *azimuth,
                      double *elevation, double *distance);

#endif
