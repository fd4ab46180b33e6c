/* device_batches.c — batches in backend memory. See device_batches.h. */
#include "train/device_batches.h"

#include <string.h>

#include "core/status.h"

int device_batches_open(device_batches *d, const nn_backend *be, uint64_t rows, int n_features,
                        const float *class_weights, int n_classes,
                        const float **class_weights_be)
{
    memset(d, 0, sizeof *d);
    d->prefetched = -1;
    *class_weights_be = class_weights;
    if (!be->device_memory) return HPCML_OK;
    d->be = be;
    d->rows = rows;
    d->n_features = n_features;
    const size_t r = rows ? rows : 1;
    for (int i = 0; i < 2; i++) {
        HPCML_TRY(be->alloc((void **)&d->x[i], r * (size_t)n_features * sizeof(float)));
        HPCML_TRY(be->alloc((void **)&d->y[i], r * sizeof(int32_t)));
    }
    if (class_weights) {
        const size_t bytes = (size_t)n_classes * sizeof(float);
        HPCML_TRY(be->alloc((void **)&d->class_weights, bytes));
        HPCML_TRY(be->copy_to_device(d->class_weights, class_weights, bytes));
        *class_weights_be = d->class_weights;
    }
    return HPCML_OK;
}

static int upload(device_batches *d, const float *x, const int32_t *y, int slot)
{
    const size_t F = (size_t)d->n_features;
    HPCML_TRY(d->be->upload_async(d->x[slot], x, d->rows * F * sizeof(float)));
    return d->be->upload_async(d->y[slot], y, d->rows * sizeof(int32_t));
}

int device_batches_get(device_batches *d, const data_source *src, uint64_t steps, uint64_t epoch,
                       uint64_t step, const float **x, const int32_t **y)
{
    if (!d->be) return HPCML_OK;
    const int64_t id = (int64_t)(epoch * steps + step);
    if (d->prefetched != id) HPCML_TRY(upload(d, *x, *y, (int)(step % 2)));
    HPCML_TRY(d->be->upload_wait());
    d->prefetched = -1;
    const float *nx;
    const int32_t *ny;
    if (step + 1 < steps && src->ops->peek(src, step + 1, &nx, &ny)) {
        HPCML_TRY(upload(d, nx, ny, (int)((step + 1) % 2)));
        d->prefetched = id + 1;
    }
    *x = d->x[step % 2];
    *y = d->y[step % 2];
    return HPCML_OK;
}

void device_batches_close(device_batches *d)
{
    if (d->be) {
        for (int i = 0; i < 2; i++) {
            d->be->free(d->x[i]);
            d->be->free(d->y[i]);
        }
        d->be->free(d->class_weights);
    }
    memset(d, 0, sizeof *d);
}
