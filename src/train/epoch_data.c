/* epoch_data.c — the memory data sources' layout, buffers and epoch order.
 * See epoch_data.h. */
#include "train/epoch_data.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"

void epoch_data_layout(epoch_data *ed, const sampler *s, int rank, int size, int n_features)
{
    memset(ed, 0, sizeof *ed);
    ed->n_features = n_features;
    ed->rank = rank;
    ed->size = size;
    sampler_shard_range(s->rows, size, rank, &ed->shard_lo, &ed->shard_hi);
    sampler_rank_slice(s, rank, &ed->slice_lo, &ed->slice_hi);
    ed->slice = ed->slice_hi - ed->slice_lo;
    ed->local_rows = s->steps * ed->slice;
}

int epoch_data_init(epoch_data *ed, const sampler *s, int rank, int size, int n_features,
                    int replicated)
{
    epoch_data_layout(ed, s, rank, size, n_features);
    ed->replicated = replicated != 0;
    if (ed->replicated) { /* every rank holds all of /train: its "shard" is everything */
        ed->shard_lo = 0;
        ed->shard_hi = s->rows;
    }
    const uint64_t shard = ed->shard_hi - ed->shard_lo, F = (uint64_t)n_features;
    HPCML_CHECK(ed->local_rows < (1ull << 31) && shard + s->global_batch < (1ull << 31),
                HPCML_EUSAGE,
                "%llu rows per rank and epoch: too many for one exchange (use more ranks)",
                (unsigned long long)ed->local_rows);
    HPCML_ALLOC_ARRAY(ed->shard_x, shard * F);
    HPCML_ALLOC_ARRAY(ed->shard_y, shard);
    HPCML_ALLOC_ARRAY(ed->x, ed->local_rows * F);
    HPCML_ALLOC_ARRAY(ed->y, ed->local_rows);
    HPCML_ALLOC_ARRAY(ed->req_rows, ed->local_rows);
    /* padding repeats fewer than a batch of rows, so a shard serves at most shard + batch.
     * Replicated, no exchange: data_memory_replicated.c gathers locally. */
    if (!ed->replicated)
        HPCML_TRY(row_exchange_init(&ed->ex, rank, size, n_features, ed->local_rows,
                                    shard + s->global_batch));
    return HPCML_OK;
}

void epoch_data_free(epoch_data *ed)
{
    free(ed->shard_x);
    free(ed->shard_y);
    free(ed->x);
    free(ed->y);
    free(ed->req_rows);
    row_exchange_free(&ed->ex);
    memset(ed, 0, sizeof *ed);
}

/* The global position of epoch index k of this rank. */
static uint64_t position_of(const epoch_data *ed, const sampler *s, uint64_t k)
{
    const uint64_t t = k / ed->slice, j = k % ed->slice;
    return t * s->global_batch + ed->slice_lo + j;
}

void epoch_data_order(epoch_data *ed, const sampler *s, uint64_t epoch)
{
    sampler_perm perm;
    sampler_epoch_perm(s, epoch, &perm);
    for (uint64_t k = 0; k < ed->local_rows; k++)
        ed->req_rows[k] = position_of(ed, s, k);
    sampler_rows_at(s, &perm, ed->req_rows, ed->local_rows);
}
