/* data_streaming.c — the "streaming" data source (train.streaming = true):
 * no /train rows are loaded; windows of rows are read by a reader thread
 * while the model trains (stream_data.h, order from stream_order.h). See
 * data_source.h and docs/train.md (Streaming). */
#include <stdlib.h>

#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/status.h"
#include "train/data_source.h"
#include "train/stream_data.h"

typedef struct {
    stream_data sd;
    MPI_Comm comm;
    const float *class_weights;
} streaming_source;

static int streaming_open(data_source *src, const data_source_args *a)
{
    streaming_source *s = calloc(1, sizeof *s);
    int rc = s ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    if (s) {
        src->impl = s;
        s->comm = a->comm;
        s->class_weights = a->class_weights;
        rc = stream_data_init(&s->sd, a->smp, a->ds, a->rank, a->size, a->stream_chunk_rows,
                              a->stream_window_batches);
        src->slice_lo = s->sd.slice_lo;
        src->slice = s->sd.slice;
    }
    return hpcml_mpi_agree(a->comm, rc);
}

static int streaming_epoch_begin(data_source *src, uint64_t epoch, uint64_t first_step)
{
    streaming_source *s = src->impl;
    stream_data_epoch_begin(&s->sd, epoch, first_step);
    return HPCML_OK;
}

/* Read errors are agreed over ranks at the window's first step; MPI errors
 * abort (stream_data_step). */
static int streaming_batch(data_source *src, uint64_t step, const float **x, const int32_t **y,
                           double *w)
{
    streaming_source *s = src->impl;
    return stream_data_step(&s->sd, step, s->class_weights, s->comm, x, y, w);
}

static int streaming_peek(const data_source *src, uint64_t step, const float **x,
                          const int32_t **y)
{
    (void)src, (void)step, (void)x, (void)y;
    return 0; /* a batch is on the host only once its window is read */
}

static void streaming_epoch_end(data_source *src)
{
    streaming_source *s = src->impl;
    stream_data_epoch_end(&s->sd);
}

static void streaming_epoch_report(const data_source *src, uint64_t epoch)
{
    const streaming_source *s = src->impl;
    log_debug("epoch %llu streamed %llu rows: %.3f s reading (reader thread), %.3f s "
              "waiting for it",
              (unsigned long long)epoch + 1, (unsigned long long)s->sd.read_rows, s->sd.read_s,
              s->sd.wait_s);
}

static data_order streaming_order(const data_source *src)
{
    const streaming_source *s = src->impl;
    const data_order o = {(int64_t)s->sd.o.chunk_rows, (int64_t)s->sd.o.window_batches};
    return o;
}

static void streaming_close(data_source *src)
{
    streaming_source *s = src->impl;
    if (!s) return;
    stream_data_free(&s->sd);
    free(s);
    src->impl = NULL;
}

const data_source_ops data_streaming = {
    .name = "streaming",
    .open = streaming_open,
    .epoch_begin = streaming_epoch_begin,
    .batch = streaming_batch,
    .peek = streaming_peek,
    .epoch_end = streaming_epoch_end,
    .epoch_report = streaming_epoch_report,
    .order = streaming_order,
    .close = streaming_close,
};
