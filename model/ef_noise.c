#include "ef_noise.h"

#include <math.h>

#define PCG_MULT 6364136223846793005ULL

uint32_t ef_noise_u32(ef_noise *n)
{
    uint64_t old = n->state;
    n->state = old * PCG_MULT + n->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

void ef_noise_seed_sequence(ef_noise *n, uint64_t seed, uint64_t seq)
{
    n->state = 0;
    n->inc = (seq << 1u) | 1u;
    ef_noise_u32(n);
    n->state += seed;
    ef_noise_u32(n);
}

void ef_noise_seed(ef_noise *n, uint64_t seed) { ef_noise_seed_sequence(n, seed, 54u); }

static double uniform(ef_noise *n)
{
    return ((double)(ef_noise_u32(n) >> 8) + 0.5) / 16777216.0;
}

void ef_noise_normals(ef_noise *n, float *out, int count)
{
    for (int i = 0; i + 1 < count; i += 2) {
        double u1 = uniform(n), u2 = uniform(n);
        double r = sqrt(-2.0 * log(u1));
        out[i] = (float)(r * cos(2.0 * M_PI * u2));
        out[i + 1] = (float)(r * sin(2.0 * M_PI * u2));
    }
}
