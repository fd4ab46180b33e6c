/* stream_data.c — streaming mode's windows, reader thread and exchange.
 * See stream_data.h. */
#include "train/stream_data.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "io/dataset_layout.h"

/* This rank's share of window k: R indices [*lo, *hi). */
static void window_share(const stream_data *sd, uint64_t k, uint64_t *lo, uint64_t *hi)
{
    uint64_t r_lo, size, s0, s1;
    stream_window(&sd->o, k, &r_lo, &size, &s0, &s1);
    sampler_shard_range(size, sd->size, sd->rank, lo, hi);
    *lo += r_lo;
    *hi += r_lo;
}

/* Reader thread: read the share of window k into buffer b, as the
 * contiguous file pieces of the chunks it spans. */
static int read_share(stream_data *sd, int b, uint64_t k, uint64_t *rows)
{
    HPCML_TRY(hpcml_fault_point("train.stream_read", sd->rank, HPCML_EIO));
    if (sd->rf.file < 0) HPCML_TRY(h5_rows_open(&sd->rf, &sd->meta, SPLIT_TRAIN));
    uint64_t lo, hi;
    window_share(sd, k, &lo, &hi);
    const size_t F = (size_t)sd->n_features;
    for (uint64_t i = lo; i < hi;) {
        uint64_t run;
        const uint64_t row = stream_row_of(&sd->o, &sd->e, i, &run);
        const uint64_t n = run < hi - i ? run : hi - i;
        HPCML_TRY(h5_rows_read(&sd->rf, row, row + n, sd->share_x[b] + (i - lo) * F,
                               sd->share_y[b] + (i - lo)));
        i += n;
    }
    *rows = hi - lo;
    return HPCML_OK;
}

static void *reader_main(void *arg)
{
    stream_data *sd = arg;
    pthread_mutex_lock(&sd->mu);
    for (;;) {
        int b = sd->job_state[0] == 1 ? 0 : sd->job_state[1] == 1 ? 1 : -1;
        if (b < 0) {
            if (sd->quit) break;
            pthread_cond_wait(&sd->cv, &sd->mu);
            continue;
        }
        const uint64_t k = sd->job_window[b];
        pthread_mutex_unlock(&sd->mu);
        /* The buffers and the epoch's order are not touched by the main
         * thread while a job on them is requested. */
        const double t0 = hpcml_mono_s();
        uint64_t rows = 0;
        hpcml_error_clear();
        int rc = read_share(sd, b, k, &rows);
        const double dt = hpcml_mono_s() - t0;
        pthread_mutex_lock(&sd->mu);
        sd->job_rc[b] = rc;
        snprintf(sd->job_err[b], sizeof sd->job_err[b], "%s", rc ? hpcml_error_message() : "");
        sd->job_state[b] = 2;
        sd->read_s += dt;
        sd->read_rows += rows;
        pthread_cond_broadcast(&sd->cv);
    }
    pthread_mutex_unlock(&sd->mu);
    h5_rows_close(&sd->rf);
    return NULL;
}

int stream_data_init(stream_data *sd, const sampler *s, const h5_dataset *meta, int rank, int size,
                     uint64_t chunk_rows, uint64_t window_batches)
{
    memset(sd, 0, sizeof *sd);
    sd->rf.file = sd->rf.x = sd->rf.y = -1;
    HPCML_TRY(stream_order_init(&sd->o, s, chunk_rows, window_batches));
    sd->meta = *meta;
    sd->meta.file = -1; /* only its metadata is used */
    sd->rank = rank;
    sd->size = size;
    sd->n_features = (int)meta->n_features;
    uint64_t hi;
    sampler_rank_slice(s, rank, &sd->slice_lo, &hi);
    sd->slice = hi - sd->slice_lo;
    const uint64_t W = sd->o.window_rows < s->rows ? sd->o.window_rows : s->rows;
    sd->share_cap = (W + (uint64_t)size - 1) / (uint64_t)size;
    sd->local_cap = window_batches * sd->slice;
    const uint64_t F = (uint64_t)sd->n_features;
    for (int b = 0; b < 2; b++) {
        HPCML_ALLOC_ARRAY(sd->share_x[b], sd->share_cap * F);
        HPCML_ALLOC_ARRAY(sd->share_y[b], sd->share_cap);
    }
    HPCML_ALLOC_ARRAY(sd->x, sd->local_cap * F);
    HPCML_ALLOC_ARRAY(sd->y, sd->local_cap);
    HPCML_ALLOC_ARRAY(sd->req, sd->local_cap);
    HPCML_ALLOC_ARRAY(sd->bw, window_batches);
    /* a window's positions map one to one onto its rows, except the last
     * window's padding (fewer than a batch): a share serves at most share +
     * batch requests */
    HPCML_TRY(row_exchange_init(&sd->ex, rank, size, sd->n_features, sd->local_cap,
                                sd->share_cap + s->global_batch));
    pthread_mutex_init(&sd->mu, NULL);
    pthread_cond_init(&sd->cv, NULL);
    HPCML_CHECK(pthread_create(&sd->thread, NULL, reader_main, sd) == 0, HPCML_EINTERNAL,
                "streaming: cannot start the reader thread");
    sd->thread_started = 1;
    return HPCML_OK;
}

void stream_data_free(stream_data *sd)
{
    if (sd->thread_started) {
        pthread_mutex_lock(&sd->mu);
        sd->quit = 1;
        pthread_cond_broadcast(&sd->cv);
        pthread_mutex_unlock(&sd->mu);
        pthread_join(sd->thread, NULL);
        pthread_mutex_destroy(&sd->mu);
        pthread_cond_destroy(&sd->cv);
    }
    for (int b = 0; b < 2; b++) {
        free(sd->share_x[b]);
        free(sd->share_y[b]);
    }
    free(sd->x);
    free(sd->y);
    free(sd->req);
    free(sd->bw);
    row_exchange_free(&sd->ex);
    memset(sd, 0, sizeof *sd);
}

/* Ask the reader for window k (its buffer must be idle). */
static void request(stream_data *sd, uint64_t k)
{
    const int b = (int)(k % 2);
    pthread_mutex_lock(&sd->mu);
    sd->job_window[b] = k;
    sd->job_state[b] = 1;
    pthread_cond_broadcast(&sd->cv);
    pthread_mutex_unlock(&sd->mu);
}

void stream_data_epoch_begin(stream_data *sd, uint64_t epoch, uint64_t first_step)
{
    stream_data_epoch_end(sd); /* idle before the order changes */
    stream_epoch_init(&sd->o, epoch, &sd->e);
    sd->have_cur = 0;
    sd->read_s = sd->wait_s = 0.0;
    sd->read_rows = 0;
    const uint64_t k0 = first_step / sd->o.window_batches;
    if (k0 < stream_windows_used(&sd->o)) request(sd, k0);
}

void stream_data_epoch_end(stream_data *sd)
{
    if (!sd->thread_started) return;
    pthread_mutex_lock(&sd->mu);
    while (sd->job_state[0] == 1 || sd->job_state[1] == 1)
        pthread_cond_wait(&sd->cv, &sd->mu);
    sd->job_state[0] = sd->job_state[1] = 0;
    pthread_mutex_unlock(&sd->mu);
}

typedef struct {
    uint64_t r_lo, size, share_lo;
    int ranks;
} window_owners;

static int window_owner(uint64_t id, const void *ctx)
{
    const window_owners *w = ctx;
    return sampler_shard_owner(w->size, w->ranks, id - w->r_lo);
}

static uint64_t window_local(uint64_t id, const void *ctx)
{
    const window_owners *w = ctx;
    return id - w->share_lo; /* below the share: wraps to a huge value, rejected */
}

/* Make window k current: wait for its share, start the next read, agree on
 * errors, exchange, batch weights. Collective. */
static int load_window(stream_data *sd, uint64_t k, const float *class_weights, MPI_Comm comm)
{
    const int b = (int)(k % 2);
    const double t0 = hpcml_mono_s();
    pthread_mutex_lock(&sd->mu);
    while (sd->job_state[b] != 2 || sd->job_window[b] != k)
        pthread_cond_wait(&sd->cv, &sd->mu);
    int rc = sd->job_rc[b];
    char err[512];
    snprintf(err, sizeof err, "%s", sd->job_err[b]);
    sd->job_state[b] = 0;
    pthread_mutex_unlock(&sd->mu);
    sd->wait_s += hpcml_mono_s() - t0;
    if (rc != HPCML_OK) hpcml_error_adopt(rc, err, "streaming reader", NULL);
    /* read-ahead: the other buffer held window k - 1, already exchanged */
    if (rc == HPCML_OK && k + 1 < stream_windows_used(&sd->o)) request(sd, k + 1);
    HPCML_TRY(hpcml_mpi_agree(comm, rc));

    uint64_t r_lo, size, s0, s1;
    stream_window(&sd->o, k, &r_lo, &size, &s0, &s1);
    sampler_perm perm;
    stream_window_perm(&sd->o, &sd->e, k, &perm);
    const uint64_t B = sd->o.global_batch, n_req = (s1 - s0) * sd->slice;
    for (uint64_t t = s0; t < s1; t++)
        for (uint64_t j = 0; j < sd->slice; j++)
            sd->req[(t - s0) * sd->slice + j] =
                stream_r_in_window(&sd->o, &perm, k, t * B + sd->slice_lo + j);
    uint64_t share_lo, share_hi;
    window_share(sd, k, &share_lo, &share_hi);
    const window_owners owners = {r_lo, size, share_lo, sd->size};
    const row_source src = {window_owner,   window_local,   &owners,
                            sd->share_x[b], sd->share_y[b], share_hi - share_lo};
    /* past the agreement every rank is in the exchange: a failure here (a bug
     * or an MPI error) cannot be agreed on without a hang, so it aborts */
    rc = row_exchange_run(&sd->ex, sd->req, n_req, &src, sd->x, sd->y, comm);
    if (rc != HPCML_OK) hpcml_mpi_abort(comm, rc);

    for (uint64_t t = 0; t < s1 - s0; t++) {
        double sum = 0.0;
        for (uint64_t j = 0; j < sd->slice; j++)
            sum += class_weights ? (double)class_weights[sd->y[t * sd->slice + j]] : 1.0;
        sd->bw[t] = sum;
    }
    if (sd->size > 1 && MPI_Allreduce(MPI_IN_PLACE, sd->bw, (int)(s1 - s0), MPI_DOUBLE, MPI_SUM,
                                      comm) != MPI_SUCCESS)
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    sd->cur = k;
    sd->have_cur = 1;
    return HPCML_OK;
}

int stream_data_step(stream_data *sd, uint64_t step, const float *class_weights, MPI_Comm comm,
                     const float **x, const int32_t **y, double *bw)
{
    const uint64_t k = step / sd->o.window_batches;
    if (!sd->have_cur || sd->cur != k) HPCML_TRY(load_window(sd, k, class_weights, comm));
    const uint64_t t = step - k * sd->o.window_batches;
    *x = sd->x + t * sd->slice * (uint64_t)sd->n_features;
    *y = sd->y + t * sd->slice;
    *bw = sd->bw[t];
    return HPCML_OK;
}
