/* epoch_data.h — the rows a rank trains on in one epoch, fetched from the
 * ranks that own them: the buffers and order of the memory data sources
 * (data_source.h).
 *
 * Each rank reads one contiguous shard of /train (sampler_shard_range) and
 * keeps it in memory. At the start of every epoch, each rank lists the rows
 * of its slice of every global batch (sampler.h), asks their owners for them
 * and receives them (row_exchange.h). Afterwards x/y hold, in epoch order,
 * steps * slice rows: step t's local batch is rows [t * slice, (t + 1) *
 * slice).
 *
 * Cost per epoch and rank: (rows_per_epoch / ranks) sampler evaluations and
 * about (ranks - 1) / ranks of the rank's shard sent and received (row
 * features + 4 bytes of label + 8 bytes of request). Memory: the shard, the
 * epoch's rows and one staging copy of each.
 *
 * Replicated (small /train, train.replicate_max_mb): every rank reads all of
 * /train once and the per-epoch exchange becomes a local gather of the same
 * rows in the same order, so the batches, and the weights, are bit-identical
 * to the sharded exchange. Cost per epoch and rank: the sampler evaluations
 * and one copy of the rank's rows, no communication. Memory: all of /train
 * and the epoch's rows, per rank. */
#ifndef HPCML_TRAIN_EPOCH_DATA_H
#define HPCML_TRAIN_EPOCH_DATA_H

#include <mpi.h>
#include <stdint.h>

#include "train/row_exchange.h"
#include "train/sampler.h"

typedef struct {
    int n_features;
    int rank, size;
    /* the shard this rank owns: rows [shard_lo, shard_hi) of /train */
    uint64_t shard_lo, shard_hi;
    float *shard_x;
    int32_t *shard_y;
    /* this rank's slice of each global batch and the epoch's rows */
    uint64_t slice_lo, slice_hi, slice; /* slice = slice_hi - slice_lo */
    uint64_t local_rows;                /* steps * slice */
    float *x;
    int32_t *y;
    uint64_t *req_rows; /* requested rows in epoch order */
    int replicated;     /* the shard is all of /train on every rank */
    row_exchange ex;
} epoch_data;

/* Allocate for the sampler's layout (local, not collective). shard_x/y are
 * allocated for the shard (all of /train when replicated) and filled by the
 * caller (the dataset read). */
int epoch_data_init(epoch_data *ed, const sampler *s, int rank, int size, int n_features,
                    int replicated);
/* Only the layout fields (shard and slice ranges), no buffers: streaming
 * mode (stream_data.h) uses them without holding a shard. */
void epoch_data_layout(epoch_data *ed, const sampler *s, int rank, int size, int n_features);
void epoch_data_free(epoch_data *ed);

/* Local: req_rows = the /train rows of this rank's slices of every batch
 * of epoch, in step order; the data source then fetches them into x/y
 * (data_memory_sharded.c: exchange, data_memory_replicated.c: gather). */
void epoch_data_order(epoch_data *ed, const sampler *s, uint64_t epoch);

#endif
