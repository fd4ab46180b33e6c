/* stream_data.h — streaming mode (train.streaming = true): the training
 * rows are read from the file window by window while the model trains,
 * instead of loading each rank's shard first.
 *
 * The order is stream_order.h's (chunk shuffle + window shuffle). For window
 * k every rank reads its share of the window — the contiguous part
 * [size_k * r / N, size_k * (r + 1) / N) of the window's row sequence,
 * which is a few contiguous row ranges of the file (pieces of chunks) — with
 * its own serial HDF5 handle; then one row exchange (row_exchange.h) gives
 * every rank the rows of its slices of the window's batches. A reader
 * thread reads window k + 1 into the second share buffer while the steps of
 * window k run (read-ahead, double buffering); the main thread only waits
 * when the read is slower than the window's compute.
 *
 * Memory per rank, independent of the dataset size: two shares and one
 * exchange staging of about window_rows / N rows each, plus the window's
 * local rows, request ids and exchange receive buffer (window_batches *
 * slice rows each), at (n_features + 1) * 4 bytes per row (+ 16 bytes for
 * the ids).
 *
 * Threads: the reader thread makes HDF5 calls only between
 * stream_data_epoch_begin and stream_data_epoch_end (and at
 * stream_data_free); the caller must not call HDF5 in that interval (the
 * trainer's steps do not: checkpoints and evaluation come after
 * stream_data_epoch_end). It makes no MPI calls. */
#ifndef HPCML_TRAIN_STREAM_DATA_H
#define HPCML_TRAIN_STREAM_DATA_H

#include <mpi.h>
#include <pthread.h>
#include <stdint.h>

#include "io/h5_dataset_read.h"
#include "train/row_exchange.h"
#include "train/sampler.h"
#include "train/stream_order.h"

typedef struct {
    stream_order o;
    stream_epoch e;
    int rank, size, n_features;
    uint64_t slice_lo, slice; /* this rank's slice of every global batch */
    uint64_t share_cap, local_cap;
    float *share_x[2];
    int32_t *share_y[2];
    float *x; /* the current window's rows of this rank, step by step */
    int32_t *y;
    uint64_t *req;
    double *bw; /* the global class-weight sum of each of the window's batches */
    row_exchange ex;
    uint64_t cur; /* the current window (valid when have_cur) */
    int have_cur;

    /* reader thread and its jobs (one per share buffer), under mu */
    h5_dataset meta; /* the dataset's metadata (the file itself is closed) */
    h5_rows_file rf;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int job_state[2]; /* 0 idle, 1 requested, 2 done */
    uint64_t job_window[2];
    int job_rc[2];
    char job_err[2][512];
    int quit;
    double read_s;    /* reader: seconds in HDF5 reads (this epoch) */
    double wait_s;    /* main: seconds waiting for the reader (this epoch) */
    uint64_t read_rows; /* rows read (this epoch) */
} stream_data;

/* Layout and buffers for sampler s on (rank, size); meta is the opened (or
 * closed) dataset whose /train is streamed. Starts the reader thread.
 * Local, not collective. */
int stream_data_init(stream_data *sd, const sampler *s, const h5_dataset *meta, int rank,
                     int size, uint64_t chunk_rows, uint64_t window_batches);
void stream_data_free(stream_data *sd); /* stops the thread; safe on a zeroed one */

/* Start epoch `epoch` at step first_step: the read of its window begins. */
void stream_data_epoch_begin(stream_data *sd, uint64_t epoch, uint64_t first_step);

/* Collective: the rows of step `step` (steps in increasing order): *x, *y
 * (slice rows) and the batch's global class-weight sum *bw. At the first
 * step of a window this waits for its read, starts the next window's,
 * agrees on read errors (hpcml_mpi_agree: the same status on every rank)
 * and exchanges the rows (a failure there aborts the job). */
int stream_data_step(stream_data *sd, uint64_t step, const float *class_weights, MPI_Comm comm,
                     const float **x, const int32_t **y, double *bw);

/* Wait until the reader is idle (end of epoch, preemption). Local. */
void stream_data_epoch_end(stream_data *sd);

#endif
