/* row_exchange.c — see row_exchange.h. */
#include "train/row_exchange.h"

#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"

int row_exchange_init(row_exchange *ex, int rank, int size, int n_features, uint64_t cap_req,
                      uint64_t cap_in)
{
    memset(ex, 0, sizeof *ex);
    ex->rank = rank;
    ex->size = size;
    ex->n_features = n_features;
    ex->cap_req = cap_req;
    ex->cap_in = cap_in;
    HPCML_CHECK(cap_req < (1ull << 31) && cap_in < (1ull << 31), HPCML_EUSAGE,
                "%llu rows per rank in one exchange: too many (use more ranks or smaller windows)",
                (unsigned long long)(cap_req > cap_in ? cap_req : cap_in));
    if (size == 1) return HPCML_OK;
    const uint64_t F = (uint64_t)n_features;
    HPCML_ALLOC_ARRAY(ex->req_grouped, cap_req);
    HPCML_ALLOC_ARRAY(ex->pos, cap_req);
    HPCML_ALLOC_ARRAY(ex->send_counts, size);
    HPCML_ALLOC_ARRAY(ex->send_displs, size);
    HPCML_ALLOC_ARRAY(ex->recv_counts, size);
    HPCML_ALLOC_ARRAY(ex->recv_displs, size);
    HPCML_ALLOC_ARRAY(ex->fill, size);
    HPCML_ALLOC_ARRAY(ex->in_ids, cap_in);
    HPCML_ALLOC_ARRAY(ex->stage_x, cap_in * F);
    HPCML_ALLOC_ARRAY(ex->stage_y, cap_in);
    HPCML_ALLOC_ARRAY(ex->recv_x, cap_req * F);
    HPCML_ALLOC_ARRAY(ex->recv_y, cap_req);
    return HPCML_OK;
}

void row_exchange_free(row_exchange *ex)
{
    free(ex->req_grouped);
    free(ex->pos);
    free(ex->send_counts);
    free(ex->send_displs);
    free(ex->recv_counts);
    free(ex->recv_displs);
    free(ex->fill);
    free(ex->in_ids);
    free(ex->stage_x);
    free(ex->stage_y);
    free(ex->recv_x);
    free(ex->recv_y);
    memset(ex, 0, sizeof *ex);
}

/* Copy row id of this rank's store to x/y. */
static int serve(const row_source *src, int rank, uint64_t id, size_t F, float *x, int32_t *y)
{
    const uint64_t i = src->local(id, src->ctx);
    HPCML_CHECK(i < src->store_rows, HPCML_EINTERNAL,
                "row exchange: rank %d asked for row %llu that it does not hold", rank,
                (unsigned long long)id);
    memcpy(x, src->store_x + i * F, F * sizeof(float));
    *y = src->store_y[i];
    return HPCML_OK;
}

int row_exchange_run(row_exchange *ex, const uint64_t *req, uint64_t n_req, const row_source *src,
                     float *out_x, int32_t *out_y, MPI_Comm comm)
{
    const size_t F = (size_t)ex->n_features;
    if (n_req > ex->cap_req) { /* a bug: the other ranks are entering the exchange */
        HPCML_FAIL(HPCML_EINTERNAL, "row exchange: %llu requests, room for %llu",
                   (unsigned long long)n_req, (unsigned long long)ex->cap_req);
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    }
    if (ex->size == 1) { /* every row is local: a gather */
        for (uint64_t k = 0; k < n_req; k++)
            HPCML_TRY(serve(src, 0, req[k], F, out_x + k * F, out_y + k));
        return HPCML_OK;
    }

    const int P = ex->size;
    /* 1. group the requests by owner, keeping the requested order inside */
    memset(ex->send_counts, 0, (size_t)P * sizeof(int));
    for (uint64_t k = 0; k < n_req; k++)
        ex->send_counts[src->owner(req[k], src->ctx)]++;
    int acc = 0;
    for (int p = 0; p < P; p++) {
        ex->send_displs[p] = acc;
        ex->fill[p] = acc;
        acc += ex->send_counts[p];
    }
    for (uint64_t k = 0; k < n_req; k++) {
        ex->pos[k] = (uint64_t)ex->fill[src->owner(req[k], src->ctx)]++;
        ex->req_grouped[ex->pos[k]] = req[k];
    }

    /* 2. counts, then the requested ids */
    HPCML_MPI_CHECK_ABORT(comm, MPI_Alltoall(ex->send_counts, 1, MPI_INT, ex->recv_counts, 1, MPI_INT, comm));
    acc = 0;
    for (int p = 0; p < P; p++) {
        ex->recv_displs[p] = acc;
        acc += ex->recv_counts[p];
    }
    const uint64_t n_in = (uint64_t)acc;
    /* Between collectives from here on: a failure on one rank ends the job
     * (a return would leave the others waiting in the next Alltoallv). */
    if (n_in > ex->cap_in) {
        HPCML_FAIL(HPCML_EINTERNAL, "row exchange: %llu rows requested from rank %d, room for %llu",
                   (unsigned long long)n_in, ex->rank, (unsigned long long)ex->cap_in);
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    }
    HPCML_MPI_CHECK_ABORT(comm, MPI_Alltoallv(ex->req_grouped, ex->send_counts, ex->send_displs, MPI_UINT64_T,
                                  ex->in_ids, ex->recv_counts, ex->recv_displs, MPI_UINT64_T,
                                  comm));

    /* 3. serve them from the store */
    for (uint64_t i = 0; i < n_in; i++)
        if (serve(src, ex->rank, ex->in_ids[i], F, ex->stage_x + i * F, ex->stage_y + i) !=
            HPCML_OK)
            hpcml_mpi_abort(comm, HPCML_EINTERNAL);

    /* 4. send the rows back: one MPI datatype per feature row keeps counts in rows */
    MPI_Datatype row_type;
    HPCML_MPI_CHECK_ABORT(comm, MPI_Type_contiguous((int)F, MPI_FLOAT, &row_type));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Type_commit(&row_type));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Alltoallv(ex->stage_x, ex->recv_counts, ex->recv_displs,
                                              row_type, ex->recv_x, ex->send_counts,
                                              ex->send_displs, row_type, comm));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Type_free(&row_type));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Alltoallv(ex->stage_y, ex->recv_counts, ex->recv_displs, MPI_INT32_T,
                                  ex->recv_y, ex->send_counts, ex->send_displs, MPI_INT32_T, comm));

    /* 5. back into the requested order */
    for (uint64_t k = 0; k < n_req; k++) {
        memcpy(out_x + k * F, ex->recv_x + ex->pos[k] * F, F * sizeof(float));
        out_y[k] = ex->recv_y[ex->pos[k]];
    }
    return HPCML_OK;
}
