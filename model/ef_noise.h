/* The flow's seeded noise: PCG32 (XSH-RR) + Box-Muller, bit-exact with train/'s
 * Pcg32 (docs/model-spec.md, section 5). Real-time safe. */
#ifndef EF_NOISE_H
#define EF_NOISE_H

#include <stdint.h>

typedef struct ef_noise {
    uint64_t state, inc;
} ef_noise;

void ef_noise_seed(ef_noise *n, uint64_t seed);
/* The same on another sequence (pcg32_srandom(seed, seq)): the room tail's phases. */
void ef_noise_seed_sequence(ef_noise *n, uint64_t seed, uint64_t seq);
uint32_t ef_noise_u32(ef_noise *n);
/* count standard normals (count even) as float32. */
void ef_noise_normals(ef_noise *n, float *out, int count);

#endif
