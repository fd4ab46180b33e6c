/* metrics.h — classification metrics as pure functions of (score, label,
 * weight) arrays, with the same definitions as scikit-learn.
 *
 * Binary inputs: score[i] is the model's score of the positive class (the
 * softmax probability of class 1), label[i] != 0 means positive, weight
 * NULL means all 1. A row is predicted positive when score >= threshold.
 * Undefined ratios (precision with no predicted positives, ...) are 0, like
 * sklearn's zero_division=0; AUC-ROC with one class present and average
 * precision with no positives are NaN.
 *
 * Exact distributed AUC: a "run" list holds, for each distinct score in
 * descending order, the total weight of positives and negatives that carry
 * it. Run lists of disjoint row sets merge exactly (a sorted merge that adds
 * equal scores), and AUC-ROC and average precision are functions of the
 * merged list alone, so no histogram or approximation is needed:
 *   1. every rank: metrics_runs_build over its own rows;
 *   2. gather the lists to rank 0 (MPI_Gatherv of metrics_run as 3 doubles),
 *      or merge them pairwise up a binary tree (log2 P rounds), with
 *      metrics_runs_merge;
 *   3. metrics_runs_auc_roc / metrics_runs_average_precision on the result.
 * The list never exceeds the number of rows and shrinks with ties (scores
 * rounded to float32 tie often). With integer weights the result is
 * bit-identical for any rank count. Confusion counts merge by addition. */
#ifndef HPCML_NN_METRICS_H
#define HPCML_NN_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Weighted confusion counts of a binary classifier and the ratios. */
typedef struct {
    double tp, fp, tn, fn;
    double accuracy, precision, recall, f1;
} metrics_binary;

/* Counts at threshold (score >= threshold is positive), then ratios. */
metrics_binary metrics_binary_at(const double *score, const int32_t *label, const double *weight,
                                 size_t n, double threshold);
/* Fill the ratios of m from its counts (after merging counts across ranks). */
void metrics_binary_finish(metrics_binary *m);

/* One distinct score and the weight of the rows that carry it. */
typedef struct {
    double score;
    double pos; /* total weight of positive rows with this score */
    double neg; /* ... of negative rows */
} metrics_run;

/* Runs of n rows, descending by score, into out (room for n runs);
 * *n_runs gets their count. Fails (HPCML_EDATA) on a NaN score. */
int metrics_runs_build(const double *score, const int32_t *label, const double *weight, size_t n,
                       metrics_run *out, size_t *n_runs);
/* Merge two descending run lists into out (room for na + nb); returns the
 * merged count. out must not overlap a or b. */
size_t metrics_runs_merge(const metrics_run *a, size_t na, const metrics_run *b, size_t nb,
                          metrics_run *out);
/* Area under the ROC curve by the trapezoid rule over the distinct-score
 * thresholds: ties count one half, as sklearn.metrics.roc_auc_score. */
double metrics_runs_auc_roc(const metrics_run *runs, size_t n);
/* sklearn.metrics.average_precision_score: sum over distinct thresholds
 * (descending) of (R_k - R_{k-1}) * P_k, R_0 = 0 (no interpolation). */
double metrics_runs_average_precision(const metrics_run *runs, size_t n);

/* The curve behind both areas: tp[k], fp[k] are the total positive and
 * negative weight of the rows with score >= runs[k].score (cumulative over
 * runs 0..k), so ROC point k is (fp[k]/N, tp[k]/P) and PR point k is
 * (tp[k]/P, tp[k]/(tp[k]+fp[k])). */
void metrics_runs_cumulative(const metrics_run *runs, size_t n, double *tp, double *fp);

/* The same from raw arrays (build + compute); NaN on failure. */
double metrics_auc_roc(const double *score, const int32_t *label, const double *weight, size_t n);
double metrics_average_precision(const double *score, const int32_t *label, const double *weight,
                                 size_t n);

/* ---- multi-class ------------------------------------------------------- */
/* pred[r] = argmax_c prob[r][c] (first maximum wins, as numpy/torch). */
void metrics_argmax_rows(const float *prob, size_t rows, int classes, int32_t *pred);
/* cm[t * classes + p] += weight of rows with true class t predicted p
 * (accumulates: zero cm first). Rows with a label or prediction outside
 * [0, classes) fail with HPCML_EDATA. */
int metrics_confusion_add(const int32_t *pred, const int32_t *label, const double *weight,
                          size_t n, int classes, double *cm);
/* Weighted accuracy from a confusion matrix: trace / total (NaN if empty). */
double metrics_confusion_accuracy(const double *cm, int classes);

#endif
