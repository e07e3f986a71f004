/* The spherical-head prior of binaural models (conditioning.prior "spherical_head",
 * docs/model-spec.md section 4): per ear and bin the complex gain that turns the
 * compressed mono spectrum into a first guess of that ear's spectrum, from a rigid
 * sphere's interaural delay (Woodworth) and head shadow (Brown & Duda 1998). The flow
 * starts there and the network corrects it. Real-time safe: no allocation. */
#ifndef EF_HEAD_PRIOR_H
#define EF_HEAD_PRIOR_H

/* Lateral cosine of the smoothed binaural features c (cos az, sin az, cos el, ...):
 * cos(el) sin(az) in double, clamped to [-1, 1]: +1 = the left ear's axis. */
double ef_head_prior_lateral(const float *c);

/* Gains for both ears (left first), each [re F][im F], for bins k = 0..F-1 of an
 * n_fft-point STFT at sample_rate, magnitude raised to alpha (the compression). */
void ef_head_prior_gains(double lateral, int n_fft, int sample_rate, float alpha,
                         float *left, float *right);

#endif
