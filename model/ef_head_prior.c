/* Spherical-head prior: see ef_head_prior.h. Double inside, like the twin
 * (train/earflow_train/dsp.py head_prior_gains), then rounded to float32. */
#include "ef_head_prior.h"

#include <math.h>

#define HEAD_RADIUS 0.0875     /* m */
#define SPEED_OF_SOUND 343.0   /* m/s */
#define SHADOW_ALPHA_MIN 0.1
#define SHADOW_THETA_MIN (150.0 * M_PI / 180.0)

double ef_head_prior_lateral(const float *c)
{
    double g = (double)c[2] * (double)c[1];
    return g < -1.0 ? -1.0 : g > 1.0 ? 1.0 : g;
}

/* Woodworth: extra travel time to an ear whose axis makes angle theta (cos = s) with
 * the source direction, relative to the head centre. */
static double travel(double s, double theta)
{
    const double a_c = HEAD_RADIUS / SPEED_OF_SOUND;
    return theta < M_PI / 2 ? -a_c * s : a_c * (theta - M_PI / 2);
}

static void ear_gains(double theta, double tau, int n_fft, int sample_rate, float alpha_c,
                      float *out)
{
    const int F = n_fft / 2;
    /* Brown & Duda: H = (1 + j alpha u) / (1 + j u), u = w / (2 w0), w0 = c / a */
    const double al = (1.0 + SHADOW_ALPHA_MIN / 2) +
                      (1.0 - SHADOW_ALPHA_MIN / 2) * cos(theta / SHADOW_THETA_MIN * M_PI);
    const double p = ((double)alpha_c - 1.0) / 2.0;
    for (int k = 0; k < F; k++) {
        const double w = 2.0 * M_PI * k * (double)sample_rate / n_fft;
        const double u = w * HEAD_RADIUS / (2.0 * SPEED_OF_SOUND);
        const double den = 1.0 + u * u;
        const double h_re = (1.0 + al * u * u) / den, h_im = (al * u - u) / den;
        const double c = cos(w * tau), sn = sin(w * tau);
        const double p_re = h_re * c + h_im * sn, p_im = h_im * c - h_re * sn; /* H e^{-j w tau} */
        const double g = pow(p_re * p_re + p_im * p_im, p); /* |P| = |H|^alpha */
        out[k] = (float)(p_re * g);
        out[F + k] = (float)(p_im * g);
    }
}

void ef_head_prior_gains(double lateral, int n_fft, int sample_rate, float alpha,
                         float *left, float *right)
{
    const double s_l = lateral, s_r = -lateral;
    const double th_l = acos(s_l), th_r = acos(s_r);
    double tau_l = travel(s_l, th_l), tau_r = travel(s_r, th_r);
    const double lead = tau_l < tau_r ? tau_l : tau_r; /* the nearer ear at 0 */
    tau_l -= lead;
    tau_r -= lead;
    ear_gains(th_l, tau_l, n_fft, sample_rate, alpha, left);
    ear_gains(th_r, tau_r, n_fft, sample_rate, alpha, right);
}
