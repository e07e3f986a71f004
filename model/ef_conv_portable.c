/* The portable convolution kernel: plain C that the compiler vectorizes with
 * whatever the baseline ISA offers (SSE2 on x86-64). */
#include "ef_kernels.h"

#include <stddef.h>

/* out[f] += the 3-tap frequency kernel k applied to src (zero padded by one bin). */
static void freq_taps(const float *src, int n_in, int stride, const float *k, float *out,
                      int n_out)
{
    const float k0 = k[0], k1 = k[1], k2 = k[2];
    if (stride == 1) {
        out[0] += k1 * src[0] + (n_in > 1 ? k2 * src[1] : 0.0f);
        for (int f = 1; f < n_out - 1; f++)
            out[f] += k0 * src[f - 1] + k1 * src[f] + k2 * src[f + 1];
        if (n_out > 1)
            out[n_out - 1] += k0 * src[n_out - 2] + k1 * src[n_out - 1];
    } else {
        /* stride 2: out[f] reads src[2f-1], src[2f], src[2f+1]; the last tap exists
         * because n_in = 2 n_out. */
        out[0] += k1 * src[0] + k2 * src[1];
        for (int f = 1; f < n_out; f++)
            out[f] += k0 * src[2 * f - 1] + k1 * src[2 * f] + k2 * src[2 * f + 1];
    }
}

void ef_conv_portable(const ef_conv *c, const float *const *taps, int n_in, float *scratch,
                      float *out)
{
    (void)scratch; /* direct form only */
    const int n_out = n_in / c->stride;
    for (int co = 0; co < c->cout; co++) {
        float *o = out + (size_t)co * (size_t)n_out;
        for (int f = 0; f < n_out; f++)
            o[f] = c->b[co];
        for (int ci = 0; ci < c->cin; ci++)
            for (int i = 0; i < c->kt; i++) {
                if (!taps[i])
                    continue;
                const float *k =
                    c->w + (((size_t)co * (size_t)c->cin + (size_t)ci) * (size_t)c->kt + (size_t)i) * 3;
                freq_taps(taps[i] + (size_t)ci * (size_t)n_in, n_in, c->stride, k, o, n_out);
            }
    }
}
