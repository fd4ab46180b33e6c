/* grad_sync.c — blocking and bucketed gradient allreduce. See grad_sync.h. */
#include "train/grad_sync.h"

#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/hpcml_mpi.h"
#include "core/status.h"

void grad_sync_init(grad_sync *g, MPI_Comm comm, size_t n, size_t bucket_bytes)
{
    memset(g, 0, sizeof *g);
    g->comm = comm;
    HPCML_MPI_CHECK_ABORT(comm, MPI_Comm_size(comm, &g->size));
    g->n = n;
    g->bucket_floats = bucket_bytes / sizeof(float);
    if (g->bucket_floats == 0) g->bucket_floats = 1;
    g->bucketed = g->size > 1 && n > g->bucket_floats;
}

void grad_sync_reset_stats(grad_sync *g)
{
    g->wait_s = g->window_s = 0.0;
    g->buckets = g->steps = 0;
}

int grad_sync_allreduce(float *buf, size_t n, void *ctx)
{
    grad_sync *g = ctx;
    g->steps++;
    if (g->size == 1 || n == 0) return HPCML_OK;
    HPCML_CHECK(n <= (size_t)0x7fffffff, HPCML_EINTERNAL, "allreduce of %zu floats", n);
    double t0 = hpcml_mono_s();
    HPCML_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, g->comm));
    g->wait_s += hpcml_mono_s() - t0;
    g->buckets++;
    return HPCML_OK;
}

void grad_sync_begin(grad_sync *g, float *grads)
{
    g->buf = grads;
    g->open_lo = g->open_hi = g->n;
    g->n_started = 0;
    g->first_start_s = 0.0;
}

static int start_bucket(grad_sync *g)
{
    const size_t lo = g->open_lo, count = g->open_hi - g->open_lo;
    if (count == 0) return HPCML_OK;
    HPCML_CHECK(g->n_started < GRAD_SYNC_MAX_BUCKETS && count <= (size_t)0x7fffffff,
                HPCML_EINTERNAL, "grad_sync: bucket %d of %zu floats", g->n_started, count);
    if (g->n_started == 0) g->first_start_s = hpcml_mono_s();
    HPCML_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, g->buf + lo, (int)count, MPI_FLOAT, MPI_SUM,
                                   g->comm, &g->req[g->n_started]));
    g->n_started++;
    g->buckets++;
    g->open_hi = lo;
    return HPCML_OK;
}

int grad_sync_ready(grad_sync *g, size_t lo, size_t hi)
{
    HPCML_CHECK(hi == g->open_lo && lo <= hi, HPCML_EINTERNAL,
                "grad_sync_ready: range [%zu, %zu) does not end at %zu", lo, hi, g->open_lo);
    g->open_lo = lo;
    if (g->open_hi - g->open_lo >= g->bucket_floats) HPCML_TRY(start_bucket(g));
    /* Give MPI a chance to progress the buckets already in flight. */
    if (g->n_started > 0) {
        int done = 0;
        HPCML_MPI_CHECK(MPI_Testall(g->n_started, g->req, &done, MPI_STATUSES_IGNORE));
    }
    return HPCML_OK;
}

int grad_sync_finish(grad_sync *g)
{
    HPCML_TRY(start_bucket(g));
    double t0 = hpcml_mono_s();
    if (g->n_started > 0) g->window_s += t0 - g->first_start_s;
    HPCML_MPI_CHECK(MPI_Waitall(g->n_started, g->req, MPI_STATUSES_IGNORE));
    g->wait_s += hpcml_mono_s() - t0;
    g->steps++;
    return HPCML_OK;
}
