/* data_source.h — where the trainer's batches come from: one table of
 * operations per data path, chosen by name (the pattern of nn/backend.h).
 *
 *   "memory-sharded"     each rank loads its shard of /train; every epoch one
 *                        all-to-all fetches the rows of its batch slices
 *                        (data_memory_sharded.c)
 *   "memory-replicated"  every rank loads all of /train; the epoch's rows are
 *                        a local gather, bit-identical to the sharded path
 *                        (data_memory_replicated.c)
 *   "streaming"          nothing loaded; windows of rows read while training
 *                        (data_streaming.c over stream_data.h)
 *
 * The batches are the sampler's (sampler.h) or, streaming, stream_order.h's;
 * the trainer sees only: epoch_begin, batch(step) -> this rank's rows x, y
 * and the global batch's class-weight sum w, epoch_end, and the data-order
 * parameters a checkpoint records. Collective calls agree on their status
 * (hpcml_mpi_agree) or abort the job; no rank returns early between two
 * collectives. */
#ifndef HPCML_TRAIN_DATA_SOURCE_H
#define HPCML_TRAIN_DATA_SOURCE_H

#include <mpi.h>
#include <stdint.h>

#include "io/h5_dataset_read.h"
#include "train/sampler.h"

typedef struct data_source data_source;

/* What opening a source needs. */
typedef struct {
    MPI_Comm comm;
    int rank, size, n_features;
    const sampler *smp;
    h5_dataset *ds;              /* train.dataset, opened collectively */
    const float *class_weights;  /* host, n_classes; NULL: every row weighs 1 */
    uint64_t stream_chunk_rows;  /* streaming: train.stream_chunk_rows */
    uint64_t stream_window_batches; /* streaming: train.stream_window_batches */
} data_source_args;

/* The data-order parameters beyond the sampler's that a checkpoint records
 * (/sampler/stream_chunk_rows, /sampler/stream_window_batches, since
 * checkpoint format 1; 0, 0 for the memory sources): a checkpoint taken in
 * the middle of an epoch continues only with the same ones. */
typedef struct {
    int64_t stream_chunk_rows, stream_window_batches;
} data_order;

typedef struct {
    const char *name;
    /* Collective: allocate and load what the source holds (memory: the
     * /train rows); agreed status. */
    int (*open)(data_source *src, const data_source_args *a);
    /* Collective: epoch `epoch` begins at step first_step (0, or a resumed
     * checkpoint's step); agreed status. */
    int (*epoch_begin)(data_source *src, uint64_t epoch, uint64_t first_step);
    /* Collective on every rank with the same step (steps in increasing
     * order): this rank's slice rows of global batch `step` (host memory,
     * valid until the next call) and the global batch's weight sum; agreed
     * status. */
    int (*batch)(data_source *src, uint64_t step, const float **x, const int32_t **y, double *w);
    /* Local: step's host rows when they are in memory already (without
     * communication), else 0 — for uploads ahead of use (device_batches.h). */
    int (*peek)(const data_source *src, uint64_t step, const float **x, const int32_t **y);
    /* Local: the epoch is over or interrupted (a reader goes idle). */
    void (*epoch_end)(data_source *src);
    /* Local: after epoch_end, a line of what the epoch cost (log_debug), may be NULL. */
    void (*epoch_report)(const data_source *src, uint64_t epoch);
    data_order (*order)(const data_source *src);
    void (*close)(data_source *src); /* safe after a failed open */
} data_source_ops;

struct data_source {
    const data_source_ops *ops;
    uint64_t slice_lo, slice; /* this rank's rows of every global batch */
    /* /train labels this rank holds (memory sources; NULL, 0 streaming):
     * the trainer's one-class check */
    const int32_t *held_y;
    uint64_t held_rows;
    void *impl;
};

/* The source registered under name, or NULL. */
const data_source_ops *data_source_by_name(const char *name);

/* The name the trainer uses: streaming when asked, else replicated when
 * there is more than one rank and /train's features and labels
 * (train_bytes) fit in replicate_max_mb, else sharded. Pure. */
const char *data_source_choose(int streaming, int ranks, double train_bytes,
                               int64_t replicate_max_mb);

/* Collective: src->ops = data_source_by_name(name), then open. */
int data_source_open(data_source *src, const char *name, const data_source_args *a);
void data_source_close(data_source *src); /* safe on a zeroed one */

#endif
