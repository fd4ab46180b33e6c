/* sampler.c — the distributed sampler's index math. See sampler.h. */
#include "train/sampler.h"

#include "core/rng.h"
#include "core/rng_inline.h"
#include "core/status.h"

int sampler_init(sampler *s, uint64_t rows, uint64_t global_batch, int ranks, int drop_last,
                 uint64_t seed)
{
    HPCML_CHECK(rows > 0, HPCML_EDATA, "sampler: the training split is empty");
    HPCML_CHECK(ranks > 0, HPCML_EINTERNAL, "sampler: %d ranks", ranks);
    HPCML_CHECK(global_batch >= (uint64_t)ranks, HPCML_EUSAGE,
                "train.batch_size = %llu is smaller than the %d ranks (every rank needs a row)",
                (unsigned long long)global_batch, ranks);
    HPCML_CHECK(!drop_last || global_batch <= rows, HPCML_EUSAGE,
                "train.batch_size = %llu with drop_last leaves no batch of the %llu rows",
                (unsigned long long)global_batch, (unsigned long long)rows);
    s->rows = rows;
    s->global_batch = global_batch;
    s->ranks = ranks;
    s->drop_last = drop_last;
    s->seed = seed;
    s->steps = drop_last ? rows / global_batch : (rows + global_batch - 1) / global_batch;
    return HPCML_OK;
}

void sampler_rank_slice(const sampler *s, int rank, uint64_t *lo, uint64_t *hi)
{
    sampler_shard_range(s->global_batch, s->ranks, rank, lo, hi);
}

uint64_t sampler_max_slice(const sampler *s)
{
    return (s->global_batch + (uint64_t)s->ranks - 1) / (uint64_t)s->ranks;
}

/* ---- the keyed bijection ---------------------------------------------------
 * A balanced Feistel network on 2h bits (2^(2h) >= n) is a bijection for any
 * round function; values that land outside [0, n) are fed through again
 * ("cycle walking", Black & Rogaway 2002), which keeps it a bijection of
 * [0, n). 2^(2h) < 4n, so fewer than four passes are expected. The round
 * function is the splitmix64 finalizer of (half ^ round key), round keys
 * come from Philox on (seed, RNG_STREAM_SAMPLER, epoch). */

void sampler_perm_init(sampler_perm *p, uint64_t seed, uint64_t epoch, uint64_t n)
{
    sampler_perm_init_keyed(p, seed, RNG_STREAM_SAMPLER, epoch, 0, n);
}

void sampler_perm_init_keyed(sampler_perm *p, uint64_t seed, uint32_t stream, uint64_t counter,
                             uint32_t lane0, uint64_t n)
{
    p->n = n;
    int bits = 2;
    while (bits < 64 && (1ull << bits) < n)
        bits++;
    if (bits % 2) bits++;
    p->half_bits = bits / 2;
    for (int r = 0; r < SAMPLER_FEISTEL_ROUNDS; r += 2) {
        rng_u32x4 b = rng_block(seed, stream, counter, lane0 + (uint32_t)(r / 2));
        p->key[r] = (uint64_t)b.v[0] | (uint64_t)b.v[1] << 32;
        if (r + 1 < SAMPLER_FEISTEL_ROUNDS)
            p->key[r + 1] = (uint64_t)b.v[2] | (uint64_t)b.v[3] << 32;
    }
}

static uint64_t feistel(const sampler_perm *p, uint64_t x)
{
    const int h = p->half_bits;
    const uint64_t mask = h >= 64 ? ~0ull : (1ull << h) - 1;
    uint64_t left = x >> h, right = x & mask;
    for (int r = 0; r < SAMPLER_FEISTEL_ROUNDS; r++) {
        uint64_t f = rng_mix64_inline(right ^ p->key[r]) & mask;
        uint64_t next = left ^ f;
        left = right;
        right = next;
    }
    return left << h | right;
}

uint64_t sampler_perm_apply(const sampler_perm *p, uint64_t i)
{
    if (p->n <= 1) return 0;
    uint64_t x = feistel(p, i);
    while (x >= p->n)
        x = feistel(p, x);
    return x;
}

void sampler_perm_apply_many(const sampler_perm *p, uint64_t *x, size_t count)
{
    enum { LANES = 8 };
    if (p->n <= 1) {
        for (size_t k = 0; k < count; k++)
            x[k] = 0;
        return;
    }
    const int h = p->half_bits;
    const uint64_t mask = h >= 64 ? ~0ull : (1ull << h) - 1;
    size_t k = 0;
    for (; k + LANES <= count; k += LANES) {
        uint64_t left[LANES], right[LANES];
        for (int i = 0; i < LANES; i++) {
            left[i] = x[k + i] >> h;
            right[i] = x[k + i] & mask;
        }
        for (int r = 0; r < SAMPLER_FEISTEL_ROUNDS; r++)
            for (int i = 0; i < LANES; i++) {
                const uint64_t next = left[i] ^ (rng_mix64_inline(right[i] ^ p->key[r]) & mask);
                left[i] = right[i];
                right[i] = next;
            }
        for (int i = 0; i < LANES; i++) { /* the few that walk on: one at a time */
            uint64_t v = left[i] << h | right[i];
            while (v >= p->n)
                v = feistel(p, v);
            x[k + i] = v;
        }
    }
    for (; k < count; k++)
        x[k] = sampler_perm_apply(p, x[k]);
}

uint64_t sampler_permute(uint64_t seed, uint64_t epoch, uint64_t n, uint64_t i)
{
    sampler_perm p;
    sampler_perm_init(&p, seed, epoch, n);
    return sampler_perm_apply(&p, i);
}

void sampler_epoch_perm(const sampler *s, uint64_t epoch, sampler_perm *perm)
{
    sampler_perm_init(perm, s->seed, epoch, s->rows);
}

uint64_t sampler_row_at(const sampler *s, const sampler_perm *perm, uint64_t position)
{
    return sampler_perm_apply(perm, position % s->rows);
}

void sampler_rows_at(const sampler *s, const sampler_perm *perm, uint64_t *positions, size_t count)
{
    for (size_t k = 0; k < count; k++)
        positions[k] %= s->rows;
    sampler_perm_apply_many(perm, positions, count);
}

/* ---- shards ----------------------------------------------------------------- */

void sampler_shard_range(uint64_t n, int parts, int part, uint64_t *lo, uint64_t *hi)
{
    *lo = (uint64_t)((unsigned __int128)n * (unsigned)part / (unsigned)parts);
    *hi = (uint64_t)((unsigned __int128)n * (unsigned)(part + 1) / (unsigned)parts);
}

int sampler_shard_owner(uint64_t n, int parts, uint64_t row)
{
    /* The largest k with floor(n k / parts) <= row, i.e. k < (row + 1) parts / n. */
    unsigned __int128 k = ((unsigned __int128)(row + 1) * (unsigned)parts - 1) / n;
    return (int)k;
}
