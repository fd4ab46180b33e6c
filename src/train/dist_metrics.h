/* dist_metrics.h — classification metrics over the rows of all ranks,
 * computed exactly (not averaged per rank).
 *
 * Each rank scores its share of a split in evaluation mode; then
 *   - loss and weight sums and the confusion counts are summed with one
 *     MPI_Allreduce (counts are integers in doubles: exact in any order);
 *   - AUC-ROC and PR-AUC (average precision) come from the mergeable run
 *     lists of nn/metrics.h: every rank builds its list (one entry per
 *     distinct score), rank 0 gathers them (MPI_Gatherv) and merges them
 *     pairwise up a binary tree, computes both areas and broadcasts them.
 * Cost: the gather moves at most 24 bytes per row of the split to rank 0
 * (less with ties), and rank 0 merges in O(rows log ranks); for a /val of
 * 43k rows that is 1 MB once per epoch. The result is bit-identical for any
 * rank count (unit row weights).
 *
 * Binary problems use the score of class 1 and the threshold; the confusion
 * matrix is [[tn, fp], [fn, tp]] (rows: true class, columns: predicted), as
 * sklearn.metrics.confusion_matrix. With more classes the prediction is the
 * arg-max, precision/recall/F1 are macro averages and the areas are NaN. */
#ifndef HPCML_TRAIN_DIST_METRICS_H
#define HPCML_TRAIN_DIST_METRICS_H

#include <mpi.h>
#include <stdint.h>

#include "nn/mlp.h"

typedef struct {
    uint64_t rows; /* over all ranks */
    double loss;   /* weighted mean cross-entropy (class weights as in training) */
    double accuracy, precision, recall, f1, auc, pr_auc;
    int classes;
    double *confusion; /* classes * classes, owned (dist_metrics_free) */
} split_metrics;

/* Collective over comm. x/y: this rank's rows (rows may be 0). probs_out:
 * when not NULL, receives this rank's class probabilities [rows][classes].
 * The model's workspace is used in chunks of m->max_batch rows. x/y are host
 * memory (uploaded chunk by chunk for a device backend); class_weights is
 * backend memory, as mlp_loss_forward takes it. */
int dist_metrics_evaluate(mlp *m, const float *x, const int32_t *y, uint64_t rows,
                          const float *class_weights, double threshold, MPI_Comm comm,
                          split_metrics *out, float *probs_out);
void dist_metrics_free(split_metrics *sm);

/* The metrics as evaluation.json's "test" object (rows, loss, accuracy,
 * precision, recall, f1, auc, pr_auc, confusion); NaN becomes null. A new
 * jansson object (json_decref). */
struct json_t;
struct json_t *dist_metrics_json(const split_metrics *sm);

/* Local: class probabilities [rows][classes] of x in evaluation mode, in
 * chunks of m->max_batch rows, by the same forward pass (mlp_infer) and
 * softmax as dist_metrics_evaluate: on the CPU backend the same bits for any
 * chunking, row order or rank count (a row's result depends on it alone). */
int dist_metrics_predict(mlp *m, const float *x, uint64_t rows, float *probs_out);

#endif
