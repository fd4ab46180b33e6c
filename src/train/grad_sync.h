/* grad_sync.h — summing the gradients of the global batch over ranks.
 *
 * Two ways, the same sums:
 *   - blocking: after the whole backward pass, one MPI_Allreduce over the
 *     flat gradient buffer. grad_sync_allreduce is the nn_allreduce_fn the
 *     trainer installs in its copy of the backend table (backend.h).
 *   - bucketed: the backward pass reports each layer's gradients as they
 *     become final (last layer first); once at least bucket_bytes are
 *     waiting, an MPI_Iallreduce is started on them while the earlier
 *     layers are still being differentiated, and grad_sync_finish waits for
 *     all. The buckets are contiguous ranges of the flat buffer (layers are
 *     stored in forward order, so the pending range grows downwards).
 * The trainer uses buckets when the gradient is larger than one bucket
 * (train.bucket_kb) and more than one rank runs.
 *
 * With two ranks both ways give bit-identical sums (a + b is commutative);
 * with more, MPI may pick a different reduction order for other message
 * sizes, so runs are reproducible for a fixed rank count and bucket size.
 *
 * Overlap is measured: wait_s is the time spent blocked (exposed
 * communication), window_s the time between the first bucket's start and
 * the end of the backward pass (the compute the communication could hide
 * behind). */
#ifndef HPCML_TRAIN_GRAD_SYNC_H
#define HPCML_TRAIN_GRAD_SYNC_H

#include <mpi.h>
#include <stddef.h>

#define GRAD_SYNC_MAX_BUCKETS 256

typedef struct {
    MPI_Comm comm;
    int size;
    size_t n;             /* floats in the gradient buffer */
    size_t bucket_floats; /* start a bucket once this many are pending */
    int bucketed;         /* 1: buckets during backward; 0: one blocking allreduce */
    /* the step in progress */
    float *buf;
    size_t open_lo, open_hi; /* pending range not yet started */
    int n_started;
    MPI_Request req[GRAD_SYNC_MAX_BUCKETS];
    double first_start_s;
    /* totals since grad_sync_reset_stats */
    double wait_s, window_s;
    long long buckets, steps;
} grad_sync;

/* bucket_bytes: train.bucket_kb * 1024. Not collective. */
void grad_sync_init(grad_sync *g, MPI_Comm comm, size_t n, size_t bucket_bytes);
void grad_sync_reset_stats(grad_sync *g);

/* nn_allreduce_fn: blocking in-place sum of buf[0..n) over g->comm (ctx = g). */
int grad_sync_allreduce(float *buf, size_t n, void *ctx);

/* Bucketed mode, in this order each step: begin, then ready for each layer
 * from the last to the first with its range [lo, hi) (hi must equal the
 * previous lo), then finish. */
void grad_sync_begin(grad_sync *g, float *grads);
int grad_sync_ready(grad_sync *g, size_t lo, size_t hi);
int grad_sync_finish(grad_sync *g);

#endif
