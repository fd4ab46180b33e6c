/* sampler.h — the distributed sampler's index math: which training row sits
 * at which place of which global batch, and which rank computes it.
 *
 * Pure functions of (seed, epoch, rows, global batch, ranks); no MPI, no I/O.
 *
 * Epoch e is a sequence of positions p = 0, 1, ..., steps * batch - 1. The
 * row at position p is perm_e(p mod rows), where perm_e is a pseudo-random
 * bijection of [0, rows) keyed by (seed, epoch) (a Feistel network with
 * cycle walking, so any one position is computed in O(1) without building
 * the permutation). Global batch t holds positions [t * batch, (t + 1) *
 * batch). Without drop_last the last batch is padded by wrap-around (it
 * repeats the first rows of the epoch's order), so every batch is full;
 * with drop_last the partial batch is dropped. Rank r computes the
 * contiguous slice [batch * r / ranks, batch * (r + 1) / ranks) of every
 * batch.
 *
 * So the global batches, their order and every sample's dropout key (its
 * position) are the same for any rank count: changing the rank count only
 * changes how each batch's gradient is summed (floating-point order), not
 * which samples are in it. (PyTorch's DistributedSampler strides the
 * permutation by rank, so its batches change with the world size.)
 *
 * Where the rows live: rank r reads the contiguous block shard
 * sampler_shard_range(rows, ranks, r) of the file; each epoch the rows a
 * rank needs are fetched from their owners by one all-to-all exchange
 * (trainer.c). */
#ifndef HPCML_TRAIN_SAMPLER_H
#define HPCML_TRAIN_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#define SAMPLER_FEISTEL_ROUNDS 6

typedef struct {
    uint64_t rows;         /* rows in the split, > 0 */
    uint64_t global_batch; /* rows per global batch, >= ranks */
    int ranks;             /* > 0 */
    int drop_last;         /* 1: drop the partial last batch; 0: pad by wrap-around */
    uint64_t seed;
    uint64_t steps; /* batches per epoch, from the above */
} sampler;

/* Fill s; fails (HPCML_EUSAGE) when the batch is smaller than the rank
 * count or, with drop_last, larger than the split. */
int sampler_init(sampler *s, uint64_t rows, uint64_t global_batch, int ranks, int drop_last,
                 uint64_t seed);

/* Positions per epoch: steps * global_batch (>= rows unless drop_last). */
static inline uint64_t sampler_positions(const sampler *s)
{
    return s->steps * s->global_batch;
}

/* The part of every global batch that rank computes: positions
 * [t * batch + *lo, t * batch + *hi). */
void sampler_rank_slice(const sampler *s, int rank, uint64_t *lo, uint64_t *hi);
/* The largest slice over ranks: ceil(batch / ranks). */
uint64_t sampler_max_slice(const sampler *s);

/* The bijection of [0, n) keyed by (seed, epoch), with its round keys
 * computed once so that applying it costs a few multiplications. */
typedef struct {
    uint64_t n;
    int half_bits; /* the Feistel network permutes 2 * half_bits bits */
    uint64_t key[SAMPLER_FEISTEL_ROUNDS];
} sampler_perm;

void sampler_perm_init(sampler_perm *p, uint64_t seed, uint64_t epoch, uint64_t n);
/* The same bijection family with round keys from rng_block(seed, stream,
 * counter, lane0 + 0..2): sampler_perm_init is (RNG_STREAM_SAMPLER, epoch, 0). */
#define SAMPLER_PERM_LANES 3
void sampler_perm_init_keyed(sampler_perm *p, uint64_t seed, uint32_t stream, uint64_t counter,
                             uint32_t lane0, uint64_t n);
uint64_t sampler_perm_apply(const sampler_perm *p, uint64_t i); /* 0 <= i < n */
/* x[k] = sampler_perm_apply(p, x[k]) for k < count, in place: eight values
 * at a time through the rounds, so their multiplies overlap. */
void sampler_perm_apply_many(const sampler_perm *p, uint64_t *x, size_t count);
/* One-shot form: perm(i) for (seed, epoch, n). */
uint64_t sampler_permute(uint64_t seed, uint64_t epoch, uint64_t n, uint64_t i);

/* The row at position p (any p; p >= rows wraps around) of the epoch whose
 * permutation is perm (sampler_epoch_perm). */
void sampler_epoch_perm(const sampler *s, uint64_t epoch, sampler_perm *perm);
uint64_t sampler_row_at(const sampler *s, const sampler_perm *perm, uint64_t position);
/* The same for count positions at once, in place (the bulk form the epoch's
 * row lists use). */
void sampler_rows_at(const sampler *s, const sampler_perm *perm, uint64_t *positions, size_t count);

/* Block partition of n rows into parts: part k owns [*lo, *hi) with lo =
 * floor(n k / parts); sizes differ by at most one. */
void sampler_shard_range(uint64_t n, int parts, int part, uint64_t *lo, uint64_t *hi);
/* The part that owns row (0 <= row < n). */
int sampler_shard_owner(uint64_t n, int parts, uint64_t row);

#endif
