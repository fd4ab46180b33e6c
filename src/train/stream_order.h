/* stream_order.h — the sample order of streaming mode (train.streaming):
 * chunk-level shuffling plus a shuffle inside a window, so that an epoch
 * reads the file in large contiguous pieces instead of one row at a time.
 *
 * Pure functions of (seed, epoch, rows, chunk rows, window, batch); no MPI,
 * no I/O.
 *
 * The training rows are cut into chunks of chunk_rows consecutive rows of
 * the file (the last may be shorter). Epoch e:
 *   1. the chunk order is a keyed bijection of the chunk indices
 *      (sampler_perm_init_keyed on (seed, RNG_STREAM_STREAM_ORDER, e, lanes
 *      0..2)); the chunks concatenated in that order, each in file order,
 *      form the epoch's row sequence R[0 .. rows);
 *   2. R is cut into windows of window_rows = window_batches * global batch
 *      rows (the last may be shorter); window k is R[k W, k W + size_k);
 *   3. the rows of each window are shuffled by a keyed bijection of
 *      [0, size_k) (lanes 3 (k + 1) .. 3 (k + 1) + 2): position p of the
 *      epoch, in window k = p / W, holds R[k W + perm_k((p - k W) mod
 *      size_k)].
 * Batches, rank slices and dropout keys are defined on positions as in
 * sampler.h, so the order does not depend on the rank count. Padding (no
 * drop_last): the last batch's positions beyond rows wrap around inside the
 * last window (not to the start of the epoch as in memory mode), so a
 * window never needs rows of another window.
 *
 * A window is a whole number of global batches: window k covers steps
 * [k window_batches, (k + 1) window_batches). */
#ifndef HPCML_TRAIN_STREAM_ORDER_H
#define HPCML_TRAIN_STREAM_ORDER_H

#include <stdint.h>

#include "train/sampler.h"

typedef struct {
    uint64_t rows, chunk_rows, n_chunks;
    uint64_t global_batch, window_batches, window_rows, n_windows;
    uint64_t steps; /* of the sampler (drop_last decided there) */
    uint64_t seed;
} stream_order;

/* Fill o for sampler s (rows, batch, steps, seed). */
int stream_order_init(stream_order *o, const sampler *s, uint64_t chunk_rows,
                      uint64_t window_batches);

/* One epoch's chunk order, computed once per epoch. */
typedef struct {
    uint64_t epoch;
    sampler_perm chunks;   /* slot -> chunk index */
    uint64_t partial_slot; /* the slot of the short last chunk (n_chunks when none) */
    uint64_t last_len;     /* rows of the last chunk */
} stream_epoch;

void stream_epoch_init(const stream_order *o, uint64_t epoch, stream_epoch *e);

/* Window k: R range [*r_lo, *r_lo + *size) and steps [*step_lo, *step_hi). */
void stream_window(const stream_order *o, uint64_t k, uint64_t *r_lo, uint64_t *size,
                   uint64_t *step_lo, uint64_t *step_hi);
/* Windows that hold steps of the epoch (those of steps [0, o->steps)). */
uint64_t stream_windows_used(const stream_order *o);

/* Window k's shuffle, and the R index at position p of window k (p inside
 * the window's steps). stream_r_at does both for any position. */
void stream_window_perm(const stream_order *o, const stream_epoch *e, uint64_t k, sampler_perm *p);
uint64_t stream_r_in_window(const stream_order *o, const sampler_perm *window_perm, uint64_t k,
                            uint64_t position);
uint64_t stream_r_at(const stream_order *o, const stream_epoch *e, uint64_t position);

/* The file row of R index i, and how many rows from there on are
 * consecutive in both R and the file (to the end of its chunk). */
uint64_t stream_row_of(const stream_order *o, const stream_epoch *e, uint64_t i, uint64_t *run);

#endif
