/* rng.c — Philox4x32-10 and the draws built on it. See rng.h.
 *
 * Lane map. The counter's fourth word (the lane) is split by its top two bits
 * into four regions, one per kind of draw, so that draws of different kinds on
 * the same (seed, stream, index) never share a Philox block:
 *
 *   kind                  lane                       words used
 *   rng_uniform(j)        j/2                        w[2(j%2)], w[2(j%2)+1]
 *   rng_normal(j)         0x40000000 | j/2           all four: u1 = w0,w1; u2 = w2,w3;
 *                                                    j even: r cos(t), j odd: r sin(t)
 *   rng_below(j), try a   0x80000000 | j*64 + a/2    64-bit word pair a%2
 *   rng_seq               0xC0000000 | 0, 1, 2, ...  consumed in order
 *   rng_block(lane)       lane as given              (raw access, caller's choice)
 *
 * So every draw is a pure function of (seed, stream, index, j) and no draw
 * depends on which other draws were made. rng_uniform and rng_normal accept
 * j < 2^31, rng_below j < 2^24 (larger j wrap into other draws' blocks). */
#include "core/rng.h"
#include "core/rng_inline.h"

#include <math.h>
#include <string.h>

#define LANE_UNIFORM     0x00000000u
#define LANE_NORMAL      0x40000000u
#define LANE_BELOW       0x80000000u
#define LANE_SEQ         0xC0000000u
#define LANE_REGION_MASK 0x3FFFFFFFu
#define BELOW_TRIES      128 /* two 64-bit tries per block: 64 blocks per draw */

rng_u32x4 philox4x32_10(rng_u32x4 ctr, const uint32_t key[2])
{
    return rng_philox4x32_10_inline(ctr, key[0], key[1]);
}

rng_u32x4 rng_block(uint64_t seed, uint32_t stream, uint64_t index, uint32_t lane)
{
    rng_u32x4 ctr = {{(uint32_t)index, (uint32_t)(index >> 32), stream, lane}};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    return philox4x32_10(ctr, key);
}

double rng_u01_from(rng_u32x4 b, int k)
{
    /* 32 bits from the first word, the top 21 of the second. */
    uint64_t bits = ((uint64_t)b.v[2 * k] << 21) | (b.v[2 * k + 1] >> 11);
    return (double)bits * 0x1.0p-53;
}

float rng_u01f_from_word(uint32_t w)
{
    return rng_u01f_from_word_inline(w);
}

double rng_uniform(uint64_t seed, uint32_t stream, uint64_t index, uint32_t j)
{
    rng_u32x4 b = rng_block(seed, stream, index, LANE_UNIFORM | ((j >> 1) & LANE_REGION_MASK));
    return rng_u01_from(b, (int)(j & 1));
}

/* Box-Muller on one block: u1 in (0, 1] keeps the logarithm finite. */
static double box_muller(rng_u32x4 b, int odd)
{
    double u1 = 1.0 - rng_u01_from(b, 0);
    double u2 = rng_u01_from(b, 1);
    double r = sqrt(-2.0 * log(u1));
    double t = 6.283185307179586476925 * u2;
    return odd ? r * sin(t) : r * cos(t);
}

double rng_normal(uint64_t seed, uint32_t stream, uint64_t index, uint32_t j)
{
    rng_u32x4 b = rng_block(seed, stream, index, LANE_NORMAL | ((j >> 1) & LANE_REGION_MASK));
    return box_muller(b, (int)(j & 1));
}

uint64_t rng_below(uint64_t seed, uint32_t stream, uint64_t index, uint32_t j, uint64_t n)
{
    if (n <= 1) return 0;
    /* Lemire (2019): the high word of x*n is uniform on [0, n) once the low
     * word avoids the 2^64 mod n values that would bias it. */
    uint64_t threshold = (0 - n) % n; /* 2^64 mod n */
    unsigned __int128 m = 0;
    uint32_t base = LANE_BELOW | ((j * 64u) & LANE_REGION_MASK);
    for (int a = 0; a < BELOW_TRIES; a++) {
        rng_u32x4 b = rng_block(seed, stream, index, base + (uint32_t)(a / 2));
        int k = a % 2;
        uint64_t x = ((uint64_t)b.v[2 * k] << 32) | b.v[2 * k + 1];
        m = (unsigned __int128)x * n;
        if ((uint64_t)m >= threshold) break;
        /* 128 rejections in a row have probability below 2^-128: the last
         * try is then used as is. */
    }
    return (uint64_t)(m >> 64);
}

void rng_seq_init(rng_seq *s, uint64_t seed, uint32_t stream, uint64_t index)
{
    s->seed = seed;
    s->index = index;
    s->stream = stream;
    s->lane = 0;
    s->used = 4;
    s->block.v[0] = s->block.v[1] = s->block.v[2] = s->block.v[3] = 0;
}

static void seq_refill(rng_seq *s)
{
    s->block = rng_block(s->seed, s->stream, s->index, LANE_SEQ | (s->lane & LANE_REGION_MASK));
    s->lane++;
    s->used = 0;
}

uint32_t rng_seq_u32(rng_seq *s)
{
    if (s->used >= 4) seq_refill(s);
    return s->block.v[s->used++];
}

double rng_seq_u01(rng_seq *s)
{
    uint32_t hi = rng_seq_u32(s);
    uint32_t lo = rng_seq_u32(s);
    return (double)(((uint64_t)hi << 21) | (lo >> 11)) * 0x1.0p-53;
}

/* A normal takes a fresh block and returns its cosine half; the sine half
 * is parked in the spent block's first two words and used = 5 marks it as
 * pending, so the next normal costs no Philox call and no logarithm. Any
 * other draw in between discards it (used >= 4 means the block is empty). */
#define SEQ_SINE_PENDING 5

double rng_seq_normal(rng_seq *s)
{
    double z;
    if (s->used == SEQ_SINE_PENDING) {
        memcpy(&z, s->block.v, sizeof z);
        s->used = 4;
        return z;
    }
    seq_refill(s);
    double u1 = 1.0 - rng_u01_from(s->block, 0);
    double u2 = rng_u01_from(s->block, 1);
    double r = sqrt(-2.0 * log(u1));
    double t = 6.283185307179586476925 * u2;
    z = r * sin(t);
    memcpy(s->block.v, &z, sizeof z);
    s->used = SEQ_SINE_PENDING;
    return r * cos(t);
}

uint64_t rng_mix64(uint64_t x)
{
    return rng_mix64_inline(x);
}

uint64_t rng_hash_bytes(const void *data, size_t n, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 0xCBF29CE484222325ull ^ rng_mix64(seed); /* FNV-1a 64 offset basis */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull; /* FNV-1a 64 prime */
    }
    return rng_mix64(h);
}
