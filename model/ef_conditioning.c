#include "ef_conditioning.h"

#include <math.h>
#include <string.h>

void ef_conditioning_init(ef_conditioning *c, int binaural, int n_rooms, int n_labels,
                          float dist_min, float dist_max, double smoothing_ms, int hop,
                          int sample_rate)
{
    memset(c, 0, sizeof *c);
    c->binaural = binaural;
    c->n_rooms = n_rooms;
    c->n_labels = n_labels;
    c->dim = binaural ? 5 + n_rooms : n_labels + 1;
    c->dist_min = dist_min;
    c->dist_max = dist_max;
    c->coef = smoothing_ms > 0
                  ? (float)(1.0 - exp(-(double)hop / ((double)sample_rate * smoothing_ms / 1000.0)))
                  : 1.0f;
    c->distance = 1.0;
    ef_conditioning_update(c);
}

/* Source direction relative to the head: rotate the world direction by the inverse
 * head rotation (yaw about z, then pitch about y, then roll about x; x front, y left,
 * z up, angles counter-clockwise as seen from the positive axis). */
static void relative_direction(const ef_conditioning *c, double *az, double *el)
{
    const double d = M_PI / 180.0;
    double a = c->azimuth * d, e = c->elevation * d;
    double v[3] = {cos(e) * cos(a), cos(e) * sin(a), sin(e)};
    if (c->yaw == 0.0 && c->pitch == 0.0 && c->roll == 0.0) {
        *az = a;
        *el = e;
        return;
    }
    double cy = cos(c->yaw * d), sy = sin(c->yaw * d);
    double cp = cos(c->pitch * d), sp = sin(c->pitch * d);
    double cr = cos(c->roll * d), sr = sin(c->roll * d);
    /* R = Rz(yaw) Ry(pitch) Rx(roll); relative = R^T v, undone in reverse order. */
    double x = cy * v[0] + sy * v[1], y = -sy * v[0] + cy * v[1], z = v[2];
    double x2 = cp * x - sp * z, z2 = sp * x + cp * z;
    double y3 = cr * y + sr * z2, z3 = -sr * y + cr * z2;
    *az = atan2(y3, x2);
    *el = asin(fmax(-1.0, fmin(1.0, z3)));
}

void ef_conditioning_update(ef_conditioning *c)
{
    float *t = c->target;
    memset(t, 0, sizeof(float) * EF_COND_MAX);
    if (c->binaural) {
        double az, el;
        relative_direction(c, &az, &el);
        double dist = fmin(fmax(c->distance, c->dist_min), c->dist_max);
        t[0] = (float)cos(az);
        t[1] = (float)sin(az);
        t[2] = (float)cos(el);
        t[3] = (float)sin(el);
        t[4] = (float)log(dist);
        t[5 + c->room] = 1.0f;
    } else {
        t[c->label] = 1.0f;
        t[c->n_labels] = c->remove ? 1.0f : 0.0f;
    }
}

const float *ef_conditioning_next_frame(ef_conditioning *c)
{
    if (!c->primed) {
        memcpy(c->smoothed, c->target, sizeof(float) * (size_t)c->dim);
        c->primed = 1;
    } else {
        for (int i = 0; i < c->dim; i++)
            c->smoothed[i] = c->smoothed[i] + c->coef * (c->target[i] - c->smoothed[i]);
    }
    return c->smoothed;
}

void ef_conditioning_reset(ef_conditioning *c) { c->primed = 0; }
