/* epoch_data.h — the rows a rank trains on in one epoch, fetched from the
 * ranks that own them.
 *
 * Each rank reads one contiguous shard of /train (sampler_shard_range) and
 * keeps it in memory. At the start of every epoch, each rank lists the rows
 * of its slice of every global batch (sampler.h), asks their owners for them
 * and receives them, in one MPI_Alltoall of counts and three
 * MPI_Alltoallv (row ids, features, labels). Afterwards x/y hold, in epoch
 * order, steps * slice rows: step t's local batch is rows [t * slice,
 * (t + 1) * slice).
 *
 * Cost per epoch and rank: (rows_per_epoch / ranks) sampler evaluations and
 * about (ranks - 1) / ranks of the rank's shard sent and received (row
 * features + 4 bytes of label + 8 bytes of request). Memory: the shard, the
 * epoch's rows and one staging copy of each. */
#ifndef HPCML_TRAIN_EPOCH_DATA_H
#define HPCML_TRAIN_EPOCH_DATA_H

#include <mpi.h>
#include <stdint.h>

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
    /* exchange scratch */
    uint64_t *req_rows;    /* requested rows in epoch order */
    uint64_t *req_grouped; /* the same grouped by owner */
    uint64_t *pos;         /* epoch index k -> place in the grouped order */
    int *send_counts, *send_displs, *recv_counts, *recv_displs, *fill;
    uint64_t *in_rows; /* rows others request from this rank */
    float *stage_x;    /* served rows, then received rows */
    int32_t *stage_y;
    float *recv_x;
    int32_t *recv_y;
    uint64_t cap_in; /* capacity of in_rows / served staging */
} epoch_data;

/* Allocate for the sampler's layout (local, not collective). shard_x/y are
 * allocated for the shard and filled by the caller (the dataset read). */
int epoch_data_init(epoch_data *ed, const sampler *s, int rank, int size, int n_features);
void epoch_data_free(epoch_data *ed);

/* Collective over comm: fill x/y with this rank's rows of epoch. */
int epoch_data_fill(epoch_data *ed, const sampler *s, uint64_t epoch, MPI_Comm comm);

#endif
