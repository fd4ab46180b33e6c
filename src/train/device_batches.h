/* device_batches.h — batches in device memory for a backend whose buffers
 * live off the host (nn_backend.device_memory, train.device = "cuda"):
 * two batch buffers (double buffering: the upload of step + 1 overlaps
 * step's compute when the data source has step + 1's rows in memory
 * already) and the class weights. For a host backend nothing is allocated
 * and the host pointers are used as they are. Local, not collective. */
#ifndef HPCML_TRAIN_DEVICE_BATCHES_H
#define HPCML_TRAIN_DEVICE_BATCHES_H

#include <stdint.h>

#include "nn/backend.h"
#include "train/data_source.h"

typedef struct {
    const nn_backend *be; /* NULL: host backend, nothing to do */
    uint64_t rows;        /* the rank's slice of a batch */
    int n_features;
    float *x[2];
    int32_t *y[2];
    float *class_weights;
    int64_t prefetched; /* epoch * steps + step uploaded ahead; -1: none */
} device_batches;

/* Buffers for batches of rows x n_features on be, and the class weights
 * (host, n_classes, may be NULL): *class_weights_be is where the backend
 * reads them (the host array itself for a host backend). */
int device_batches_open(device_batches *d, const nn_backend *be, uint64_t rows, int n_features,
                        const float *class_weights, int n_classes,
                        const float **class_weights_be);

/* On entry *x, *y are the host rows of batch `step` of `epoch` (steps per
 * epoch: steps); on return the backend's copies (unchanged for a host
 * backend). Starts the upload of step + 1 when src has it in memory. */
int device_batches_get(device_batches *d, const data_source *src, uint64_t steps, uint64_t epoch,
                       uint64_t step, const float **x, const int32_t **y);

void device_batches_close(device_batches *d); /* safe on a zeroed one */

#endif
