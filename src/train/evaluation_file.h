/* evaluation_file.h — evaluation.json: the test metrics of the model
 * hpcml-train evaluated, and which model that was. Written atomically
 * (core/atomic_file.h atomic_write_json), by one rank. */
#ifndef HPCML_TRAIN_EVALUATION_FILE_H
#define HPCML_TRAIN_EVALUATION_FILE_H

#include <stdint.h>

#include "train/dist_metrics.h"

typedef struct {
    double threshold;
    const char *weights;          /* "best" or "last" */
    int64_t epoch;                /* the epoch those weights are from */
    const char *selection_metric; /* train.early_stopping_metric */
    int64_t epochs_trained;
    const char *stop_reason;
} evaluation_model;

/* {"test": {metrics}, "threshold": t, "model": {weights, epoch,
 * selection_metric, epochs_trained, stop_reason}} into path. */
int evaluation_file_write(const char *path, const split_metrics *test, const evaluation_model *m);

#endif
