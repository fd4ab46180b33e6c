/* rng_inline.h — the Philox4x32-10 round, the word-to-float conversion and
 * the splitmix64 mixer as static inline functions, shared by rng.c (which exports them through
 * rng.h's API) and by hot loops that must inline them (the CPU backend's
 * dropout) and the CUDA kernels (HPCML_HD: __host__ __device__ under nvcc). One
 * definition, so the inlined, exported and device draws cannot drift. */
#ifndef HPCML_RNG_INLINE_H
#define HPCML_RNG_INLINE_H

#include <stdint.h>

#include "core/hd.h"
#include "core/rng.h"

#define RNG_PHILOX_M0 0xD2511F53u
#define RNG_PHILOX_M1 0xCD9E8D57u
#define RNG_PHILOX_W0 0x9E3779B9u /* golden ratio */
#define RNG_PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */
#define RNG_PHILOX_ROUNDS 10

/* One Philox round: two 32x32->64 products, the high halves mixed with the
 * other two words and the round key, the words permuted. */
static inline HPCML_HD rng_u32x4 rng_philox_round(rng_u32x4 c, uint32_t k0, uint32_t k1)
{
    uint64_t p0 = (uint64_t)RNG_PHILOX_M0 * c.v[0];
    uint64_t p1 = (uint64_t)RNG_PHILOX_M1 * c.v[2];
    rng_u32x4 r;
    r.v[0] = (uint32_t)(p1 >> 32) ^ c.v[1] ^ k0;
    r.v[1] = (uint32_t)p1;
    r.v[2] = (uint32_t)(p0 >> 32) ^ c.v[3] ^ k1;
    r.v[3] = (uint32_t)p0;
    return r;
}

/* The Philox4x32-10 block function; the key schedule is a Weyl sequence. */
static inline HPCML_HD rng_u32x4 rng_philox4x32_10_inline(rng_u32x4 ctr, uint32_t k0, uint32_t k1)
{
    for (int round = 0; round < RNG_PHILOX_ROUNDS; round++) {
        if (round > 0) {
            k0 += RNG_PHILOX_W0;
            k1 += RNG_PHILOX_W1;
        }
        ctr = rng_philox_round(ctr, k0, k1);
    }
    return ctr;
}

/* Uniform float in [0, 1) with 24 random bits from one word: exactly
 * (w >> 8) / 2^24 (both steps are exact in float). */
static inline HPCML_HD float rng_u01f_from_word_inline(uint32_t w)
{
    return (float)(w >> 8) * 0x1.0p-24f;
}

/* One splitmix64 step: the golden-ratio increment (so 0 does not map to 0),
 * then Stafford's variant-13 finalizer. A bijection on 64 bits. */
static inline HPCML_HD uint64_t rng_mix64_inline(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
