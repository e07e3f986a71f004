/* Conditioning: the controls a user sets (position, head pose, room; or label and
 * mode) turned into the network's feature vector (docs/model-spec.md, section 2),
 * smoothed once per frame so automation never steps. Real-time safe. */
#ifndef EF_CONDITIONING_H
#define EF_CONDITIONING_H

#define EF_COND_MAX 64

typedef struct ef_conditioning {
    int binaural;          /* else separation */
    int n_rooms, n_labels, dim;
    float dist_min, dist_max;
    float coef;            /* per-frame smoothing coefficient */
    /* controls */
    double azimuth, elevation, distance, yaw, pitch, roll;
    int room, label, remove;
    float target[EF_COND_MAX], smoothed[EF_COND_MAX];
    int primed;            /* smoothed holds a value (false after reset) */
} ef_conditioning;

void ef_conditioning_init(ef_conditioning *c, int binaural, int n_rooms, int n_labels,
                          float dist_min, float dist_max, double smoothing_ms, int hop,
                          int sample_rate);
/* Recomputes the target features from the controls. */
void ef_conditioning_update(ef_conditioning *c);
/* Advances the smoothing by one frame; returns the features for this frame. */
const float *ef_conditioning_next_frame(ef_conditioning *c);
void ef_conditioning_reset(ef_conditioning *c);

#endif
