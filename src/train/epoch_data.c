/* epoch_data.c — per-epoch fetch of a rank's training rows from their
 * owners. See epoch_data.h. */
#include "train/epoch_data.h"

#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"

#define ALLOC_OR_FAIL(ptr, count)                                                                  \
    do {                                                                                           \
        size_t bytes_ = (size_t)(count) * sizeof *(ptr);                                           \
        (ptr) = malloc(bytes_ ? bytes_ : 1);                                                       \
        HPCML_ALLOC_CHECK((ptr), bytes_);                                                          \
    } while (0)

int epoch_data_init(epoch_data *ed, const sampler *s, int rank, int size, int n_features)
{
    memset(ed, 0, sizeof *ed);
    ed->n_features = n_features;
    ed->rank = rank;
    ed->size = size;
    sampler_shard_range(s->rows, size, rank, &ed->shard_lo, &ed->shard_hi);
    sampler_rank_slice(s, rank, &ed->slice_lo, &ed->slice_hi);
    ed->slice = ed->slice_hi - ed->slice_lo;
    ed->local_rows = s->steps * ed->slice;
    const uint64_t shard = ed->shard_hi - ed->shard_lo, F = (uint64_t)n_features;
    HPCML_CHECK(ed->local_rows < (1ull << 31) && shard + s->global_batch < (1ull << 31),
                HPCML_EUSAGE,
                "%llu rows per rank and epoch: too many for one exchange (use more ranks)",
                (unsigned long long)ed->local_rows);
    ALLOC_OR_FAIL(ed->shard_x, shard * F);
    ALLOC_OR_FAIL(ed->shard_y, shard);
    ALLOC_OR_FAIL(ed->x, ed->local_rows * F);
    ALLOC_OR_FAIL(ed->y, ed->local_rows);
    if (size > 1) {
        ed->cap_in = shard + s->global_batch; /* padding repeats fewer than a batch of rows */
        ALLOC_OR_FAIL(ed->req_rows, ed->local_rows);
        ALLOC_OR_FAIL(ed->req_grouped, ed->local_rows);
        ALLOC_OR_FAIL(ed->pos, ed->local_rows);
        ALLOC_OR_FAIL(ed->send_counts, size);
        ALLOC_OR_FAIL(ed->send_displs, size);
        ALLOC_OR_FAIL(ed->recv_counts, size);
        ALLOC_OR_FAIL(ed->recv_displs, size);
        ALLOC_OR_FAIL(ed->fill, size);
        ALLOC_OR_FAIL(ed->in_rows, ed->cap_in);
        ALLOC_OR_FAIL(ed->stage_x, ed->cap_in * F);
        ALLOC_OR_FAIL(ed->stage_y, ed->cap_in);
        ALLOC_OR_FAIL(ed->recv_x, ed->local_rows * F);
        ALLOC_OR_FAIL(ed->recv_y, ed->local_rows);
    }
    return HPCML_OK;
}

void epoch_data_free(epoch_data *ed)
{
    free(ed->shard_x);
    free(ed->shard_y);
    free(ed->x);
    free(ed->y);
    free(ed->req_rows);
    free(ed->req_grouped);
    free(ed->pos);
    free(ed->send_counts);
    free(ed->send_displs);
    free(ed->recv_counts);
    free(ed->recv_displs);
    free(ed->fill);
    free(ed->in_rows);
    free(ed->stage_x);
    free(ed->stage_y);
    free(ed->recv_x);
    free(ed->recv_y);
    memset(ed, 0, sizeof *ed);
}

/* The global position of epoch index k of this rank. */
static uint64_t position_of(const epoch_data *ed, const sampler *s, uint64_t k)
{
    const uint64_t t = k / ed->slice, j = k % ed->slice;
    return t * s->global_batch + ed->slice_lo + j;
}

int epoch_data_fill(epoch_data *ed, const sampler *s, uint64_t epoch, MPI_Comm comm)
{
    const size_t F = (size_t)ed->n_features;
    sampler_perm perm;
    sampler_epoch_perm(s, epoch, &perm);

    if (ed->size == 1) { /* every row is local: a gather */
        for (uint64_t k = 0; k < ed->local_rows; k++) {
            uint64_t row = sampler_row_at(s, &perm, position_of(ed, s, k));
            memcpy(ed->x + k * F, ed->shard_x + row * F, F * sizeof(float));
            ed->y[k] = ed->shard_y[row];
        }
        return HPCML_OK;
    }

    const int P = ed->size;
    /* 1. which rows, from whom: group the requests by owner, keeping epoch order inside */
    memset(ed->send_counts, 0, (size_t)P * sizeof(int));
    for (uint64_t k = 0; k < ed->local_rows; k++) {
        uint64_t row = sampler_row_at(s, &perm, position_of(ed, s, k));
        ed->req_rows[k] = row; /* epoch order */
        ed->send_counts[sampler_shard_owner(s->rows, P, row)]++;
    }
    int acc = 0;
    for (int p = 0; p < P; p++) {
        ed->send_displs[p] = acc;
        ed->fill[p] = acc;
        acc += ed->send_counts[p];
    }
    for (uint64_t k = 0; k < ed->local_rows; k++)
        ed->pos[k] = (uint64_t)ed->fill[sampler_shard_owner(s->rows, P, ed->req_rows[k])]++;
    for (uint64_t k = 0; k < ed->local_rows; k++)
        ed->req_grouped[ed->pos[k]] = ed->req_rows[k];

    /* 2. counts, then the requested row ids */
    HPCML_MPI_CHECK(MPI_Alltoall(ed->send_counts, 1, MPI_INT, ed->recv_counts, 1, MPI_INT, comm));
    acc = 0;
    for (int p = 0; p < P; p++) {
        ed->recv_displs[p] = acc;
        acc += ed->recv_counts[p];
    }
    const uint64_t n_in = (uint64_t)acc;
    HPCML_CHECK(n_in <= ed->cap_in, HPCML_EINTERNAL,
                "epoch exchange: %llu rows requested from rank %d, room for %llu",
                (unsigned long long)n_in, ed->rank, (unsigned long long)ed->cap_in);
    HPCML_MPI_CHECK(MPI_Alltoallv(ed->req_grouped, ed->send_counts, ed->send_displs, MPI_UINT64_T,
                                  ed->in_rows, ed->recv_counts, ed->recv_displs, MPI_UINT64_T,
                                  comm));

    /* 3. serve them from the shard */
    for (uint64_t i = 0; i < n_in; i++) {
        uint64_t row = ed->in_rows[i];
        HPCML_CHECK(row >= ed->shard_lo && row < ed->shard_hi, HPCML_EINTERNAL,
                    "epoch exchange: rank %d asked for row %llu outside its shard", ed->rank,
                    (unsigned long long)row);
        memcpy(ed->stage_x + i * F, ed->shard_x + (row - ed->shard_lo) * F, F * sizeof(float));
        ed->stage_y[i] = ed->shard_y[row - ed->shard_lo];
    }

    /* 4. send the rows back: one MPI datatype per feature row keeps counts in rows */
    MPI_Datatype row_type;
    HPCML_MPI_CHECK(MPI_Type_contiguous((int)F, MPI_FLOAT, &row_type));
    HPCML_MPI_CHECK(MPI_Type_commit(&row_type));
    int rc = MPI_Alltoallv(ed->stage_x, ed->recv_counts, ed->recv_displs, row_type, ed->recv_x,
                           ed->send_counts, ed->send_displs, row_type, comm);
    MPI_Type_free(&row_type);
    HPCML_CHECK(rc == MPI_SUCCESS, HPCML_EINTERNAL, "epoch exchange: MPI_Alltoallv failed");
    HPCML_MPI_CHECK(MPI_Alltoallv(ed->stage_y, ed->recv_counts, ed->recv_displs, MPI_INT32_T,
                                  ed->recv_y, ed->send_counts, ed->send_displs, MPI_INT32_T, comm));

    /* 5. back into epoch order */
    for (uint64_t k = 0; k < ed->local_rows; k++) {
        memcpy(ed->x + k * F, ed->recv_x + ed->pos[k] * F, F * sizeof(float));
        ed->y[k] = ed->recv_y[ed->pos[k]];
    }
    return HPCML_OK;
}
