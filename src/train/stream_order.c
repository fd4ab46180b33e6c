/* stream_order.c — see stream_order.h. */
#include "train/stream_order.h"

#include "core/rng.h"
#include "core/status.h"

int stream_order_init(stream_order *o, const sampler *s, uint64_t chunk_rows,
                      uint64_t window_batches)
{
    HPCML_CHECK(chunk_rows > 0 && window_batches > 0, HPCML_EUSAGE,
                "streaming: chunk rows %llu and window batches %llu must be positive",
                (unsigned long long)chunk_rows, (unsigned long long)window_batches);
    o->rows = s->rows;
    o->chunk_rows = chunk_rows;
    o->n_chunks = (s->rows + chunk_rows - 1) / chunk_rows;
    o->global_batch = s->global_batch;
    o->window_batches = window_batches;
    o->window_rows = window_batches * s->global_batch;
    o->n_windows = (s->rows + o->window_rows - 1) / o->window_rows;
    o->steps = s->steps;
    o->seed = s->seed;
    return HPCML_OK;
}

void stream_epoch_init(const stream_order *o, uint64_t epoch, stream_epoch *e)
{
    e->epoch = epoch;
    sampler_perm_init_keyed(&e->chunks, o->seed, RNG_STREAM_STREAM_ORDER, epoch, 0, o->n_chunks);
    e->last_len = o->rows - (o->n_chunks - 1) * o->chunk_rows;
    e->partial_slot = o->n_chunks; /* every chunk full */
    if (e->last_len < o->chunk_rows)
        for (uint64_t j = 0; j < o->n_chunks; j++) /* a few dozen chunks: a scan is fine */
            if (sampler_perm_apply(&e->chunks, j) == o->n_chunks - 1) {
                e->partial_slot = j;
                break;
            }
}

void stream_window(const stream_order *o, uint64_t k, uint64_t *r_lo, uint64_t *size,
                   uint64_t *step_lo, uint64_t *step_hi)
{
    *r_lo = k * o->window_rows;
    *size = o->rows - *r_lo < o->window_rows ? o->rows - *r_lo : o->window_rows;
    *step_lo = k * o->window_batches;
    *step_hi = (k + 1) * o->window_batches;
    if (*step_hi > o->steps) *step_hi = o->steps;
}

uint64_t stream_windows_used(const stream_order *o)
{
    uint64_t w = (o->steps + o->window_batches - 1) / o->window_batches;
    return w < o->n_windows ? w : o->n_windows;
}

void stream_window_perm(const stream_order *o, const stream_epoch *e, uint64_t k, sampler_perm *p)
{
    uint64_t lo, size, s0, s1;
    stream_window(o, k, &lo, &size, &s0, &s1);
    sampler_perm_init_keyed(p, o->seed, RNG_STREAM_STREAM_ORDER, e->epoch,
                            (uint32_t)(SAMPLER_PERM_LANES * (k + 1)), size);
}

uint64_t stream_r_in_window(const stream_order *o, const sampler_perm *window_perm, uint64_t k,
                            uint64_t position)
{
    const uint64_t lo = k * o->window_rows;
    return lo + sampler_perm_apply(window_perm, (position - lo) % window_perm->n);
}

uint64_t stream_r_at(const stream_order *o, const stream_epoch *e, uint64_t position)
{
    uint64_t k = position / o->window_rows;
    if (k >= o->n_windows) k = o->n_windows - 1; /* cannot happen: padding < a batch */
    sampler_perm p;
    stream_window_perm(o, e, k, &p);
    return stream_r_in_window(o, &p, k, position);
}

uint64_t stream_row_of(const stream_order *o, const stream_epoch *e, uint64_t i, uint64_t *run)
{
    const uint64_t C = o->chunk_rows, ps = e->partial_slot;
    uint64_t slot, off;
    if (i < ps * C) {
        slot = i / C;
        off = i % C;
    } else if (i < ps * C + e->last_len) {
        slot = ps;
        off = i - ps * C;
    } else {
        const uint64_t j = i - ps * C - e->last_len;
        slot = ps + 1 + j / C;
        off = j % C;
    }
    const uint64_t chunk = sampler_perm_apply(&e->chunks, slot);
    const uint64_t len = chunk == o->n_chunks - 1 ? e->last_len : C;
    if (run) *run = len - off;
    return chunk * C + off;
}
