/* row_exchange.h — fetch training rows from the ranks that hold them.
 *
 * Every rank lists the ids of the rows it wants, in the order it wants
 * them; a row_source says which rank holds an id and where in that rank's
 * store it is. One MPI_Alltoall of counts and three MPI_Alltoallv (ids,
 * features, labels) move them; afterwards out_x/out_y hold the rows in the
 * requested order. With one rank it is a local gather. Used for the whole
 * epoch in memory mode (epoch_data.h: ids are file rows, owners the shards)
 * and per window in streaming mode (stream_data.h). */
#ifndef HPCML_TRAIN_ROW_EXCHANGE_H
#define HPCML_TRAIN_ROW_EXCHANGE_H

#include <mpi.h>
#include <stdint.h>

typedef struct {
    int (*owner)(uint64_t id, const void *ctx);    /* rank that holds id */
    uint64_t (*local)(uint64_t id, const void *ctx); /* its index in that rank's store */
    const void *ctx;
    const float *store_x; /* [store_rows][n_features] of this rank */
    const int32_t *store_y;
    uint64_t store_rows;
} row_source;

typedef struct {
    int rank, size, n_features;
    uint64_t cap_req, cap_in; /* requests per call, rows served per call */
    uint64_t *req_grouped, *pos, *in_ids;
    int *send_counts, *send_displs, *recv_counts, *recv_displs, *fill;
    float *stage_x, *recv_x;
    int32_t *stage_y, *recv_y;
} row_exchange;

/* Scratch for up to cap_req requested and cap_in served rows per call
 * (local, not collective). */
int row_exchange_init(row_exchange *ex, int rank, int size, int n_features, uint64_t cap_req,
                      uint64_t cap_in);
void row_exchange_free(row_exchange *ex);

/* Collective over comm: out_x[i], out_y[i] = row req[i], i < n_req. */
int row_exchange_run(row_exchange *ex, const uint64_t *req, uint64_t n_req, const row_source *src,
                     float *out_x, int32_t *out_y, MPI_Comm comm);

#endif
