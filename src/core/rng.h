/* rng.h — counter-based random numbers (Philox4x32-10, Salmon et al., SC'11).
 *
 * A draw is a pure function of (seed, stream, index, lane): any rank can
 * compute the numbers of global row i or trial i without coordination, so
 * results never depend on the rank count or the order of work. Streams
 * separate purposes (data generation, split, dropout, ...): see the
 * RNG_STREAM_* constants and never reuse one for a new purpose.
 *
 * For the tests only (no program calls them): rng_u01f_from_word. Exported for the tests;
 * programs reach them only through this room's other functions: philox4x32_10, rng_u01_from.
 * Tests: test_rng.c.
 */
#ifndef HPCML_RNG_H
#define HPCML_RNG_H

#include <stddef.h>
#include <stdint.h>

/* One stream per purpose; append new ones, never renumber. */
enum {
    RNG_STREAM_GEN_ROW = 1,     /* hpcml-gen: the values of row i */
    RNG_STREAM_GEN_DEFECT = 2,  /* hpcml-gen: missing cells and malformed rows */
    RNG_STREAM_SPLIT = 3,       /* etl: train/val/test assignment of row i */
    RNG_STREAM_RESAMPLE = 4,    /* etl: under/over-sampling */
    RNG_STREAM_INIT = 5,        /* train: weight initialization */
    RNG_STREAM_SAMPLER = 6,     /* train: epoch permutation */
    RNG_STREAM_DROPOUT = 7,     /* train: dropout masks */
    RNG_STREAM_SWEEP = 8,       /* sweep: trial configurations */
    RNG_STREAM_STREAM_ORDER = 9, /* train streaming: chunk order and window shuffles */
    RNG_STREAM_TPE = 10,         /* sweep: TPE's candidate draws for trial i */
    RNG_STREAM_GEN_DRIFT = 11    /* hpcml-gen: unseen categories of drifted data */
};

typedef struct {
    uint32_t v[4];
} rng_u32x4;

/* The raw Philox4x32-10 block function: ctr and key as in Random123. */
rng_u32x4 philox4x32_10(rng_u32x4 ctr, const uint32_t key[2]);

/* Four 32-bit words for (seed, stream, index): counter = {index lo, index hi,
 * stream, lane}, key = {seed lo, seed hi}. lane lets one index draw more than
 * four words (lane 0, 1, 2, ...). */
rng_u32x4 rng_block(uint64_t seed, uint32_t stream, uint64_t index, uint32_t lane);

/* Uniform double in [0, 1) with 53 random bits, from words w[2k], w[2k+1]. */
double rng_u01_from(rng_u32x4 b, int k /* 0 or 1 */);
/* Uniform float in [0, 1) with 24 random bits from one word. */
float rng_u01f_from_word(uint32_t w);
/* Uniform double in [0,1) for (seed, stream, index), draw number j (j >= 0). */
double rng_uniform(uint64_t seed, uint32_t stream, uint64_t index, uint32_t j);
/* Standard normal for (seed, stream, index), draw number j, via Box-Muller. */
double rng_normal(uint64_t seed, uint32_t stream, uint64_t index, uint32_t j);
/* Uniform integer in [0, n) without modulo bias (n > 0). */
uint64_t rng_below(uint64_t seed, uint32_t stream, uint64_t index, uint32_t j, uint64_t n);

/* A sequential generator over one (seed, stream, index): draws 0, 1, 2, ...
 * Handy when a row needs many numbers. */
typedef struct {
    uint64_t seed, index;
    uint32_t stream, lane;
    rng_u32x4 block;
    int used; /* words of block consumed (4 = empty) */
} rng_seq;

void rng_seq_init(rng_seq *s, uint64_t seed, uint32_t stream, uint64_t index);
uint32_t rng_seq_u32(rng_seq *s);
double rng_seq_u01(rng_seq *s);    /* [0,1), 53 bits */
double rng_seq_normal(rng_seq *s); /* standard normal */

/* 64-bit mixing hash (splitmix64 finalizer): keys, split decisions. */
uint64_t rng_mix64(uint64_t x);
/* FNV-1a 64 of bytes, then mixed: hashing string keys. */
uint64_t rng_hash_bytes(const void *data, size_t n, uint64_t seed);

#endif
