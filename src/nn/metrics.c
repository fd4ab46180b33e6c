/* metrics.c — binary and multi-class classification metrics, and the exact
 * mergeable run lists behind distributed AUC-ROC and average precision. */
#include "nn/metrics.h"

#include <math.h>
#include <stdlib.h>

#include "core/status.h"

static double ratio_or_zero(double num, double den) { return den > 0.0 ? num / den : 0.0; }

void metrics_binary_finish(metrics_binary *m) {
    const double total = m->tp + m->fp + m->tn + m->fn;
    m->accuracy = total > 0.0 ? (m->tp + m->tn) / total : NAN;
    m->precision = ratio_or_zero(m->tp, m->tp + m->fp);
    m->recall = ratio_or_zero(m->tp, m->tp + m->fn);
    m->f1 = ratio_or_zero(2.0 * m->tp, 2.0 * m->tp + m->fp + m->fn);
}

metrics_binary metrics_binary_at(const double *score, const int32_t *label, const double *weight,
                                 size_t n, double threshold) {
    metrics_binary m = {0};
    for (size_t i = 0; i < n; i++) {
        const double w = weight ? weight[i] : 1.0;
        const int pos = label[i] != 0, pred = score[i] >= threshold;
        if (pos && pred) m.tp += w;
        else if (pos) m.fn += w;
        else if (pred) m.fp += w;
        else m.tn += w;
    }
    metrics_binary_finish(&m);
    return m;
}

static int run_desc(const void *pa, const void *pb) {
    const double a = ((const metrics_run *)pa)->score, b = ((const metrics_run *)pb)->score;
    return (a < b) - (a > b);
}

int metrics_runs_build(const double *score, const int32_t *label, const double *weight, size_t n,
                       metrics_run *out, size_t *n_runs) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        HPCML_CHECK(!isnan(score[i]), HPCML_EDATA, "metrics: score of row %zu is NaN", i);
        const double w = weight ? weight[i] : 1.0;
        if (w == 0.0) continue; /* as sklearn: zero-weight rows add no threshold */
        out[k].score = score[i];
        out[k].pos = label[i] != 0 ? w : 0.0;
        out[k].neg = label[i] != 0 ? 0.0 : w;
        k++;
    }
    qsort(out, k, sizeof *out, run_desc);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m > 0 && out[m - 1].score == out[i].score) {
            out[m - 1].pos += out[i].pos;
            out[m - 1].neg += out[i].neg;
        } else {
            out[m++] = out[i];
        }
    }
    *n_runs = m;
    return HPCML_OK;
}

size_t metrics_runs_merge(const metrics_run *a, size_t na, const metrics_run *b, size_t nb,
                          metrics_run *out) {
    size_t i = 0, j = 0, k = 0;
    while (i < na || j < nb) {
        metrics_run r;
        if (j >= nb || (i < na && a[i].score > b[j].score)) {
            r = a[i++];
        } else if (i >= na || b[j].score > a[i].score) {
            r = b[j++];
        } else { /* equal scores: one run */
            r = a[i++];
            r.pos += b[j].pos;
            r.neg += b[j].neg;
            j++;
        }
        out[k++] = r;
    }
    return k;
}

double metrics_runs_auc_roc(const metrics_run *runs, size_t n) {
    double tp = 0.0, fp = 0.0, area = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double tp_next = tp + runs[i].pos;
        /* trapezoid between consecutive ROC points, in unnormalized units */
        area += runs[i].neg * (tp + tp_next) * 0.5;
        tp = tp_next;
        fp += runs[i].neg;
    }
    if (tp <= 0.0 || fp <= 0.0) return NAN;
    return area / (tp * fp);
}

void metrics_runs_cumulative(const metrics_run *runs, size_t n, double *tp, double *fp) {
    double t = 0.0, f = 0.0;
    for (size_t i = 0; i < n; i++) {
        t += runs[i].pos;
        f += runs[i].neg;
        tp[i] = t;
        fp[i] = f;
    }
}

double metrics_runs_average_precision(const metrics_run *runs, size_t n) {
    double total_pos = 0.0;
    for (size_t i = 0; i < n; i++) total_pos += runs[i].pos;
    if (total_pos <= 0.0) return NAN;
    double tp = 0.0, fp = 0.0, ap = 0.0;
    for (size_t i = 0; i < n; i++) {
        tp += runs[i].pos;
        fp += runs[i].neg;
        /* recall rises by pos / total_pos at precision tp / (tp + fp) */
        if (runs[i].pos > 0.0) ap += (runs[i].pos / total_pos) * (tp / (tp + fp));
    }
    return ap;
}

static double from_runs(const double *score, const int32_t *label, const double *weight,
                        size_t n, double (*fn)(const metrics_run *, size_t)) {
    metrics_run *runs = malloc((n ? n : 1) * sizeof *runs);
    if (!runs) return NAN;
    size_t nr = 0;
    double v = NAN;
    if (metrics_runs_build(score, label, weight, n, runs, &nr) == HPCML_OK) v = fn(runs, nr);
    free(runs);
    return v;
}

double metrics_auc_roc(const double *score, const int32_t *label, const double *weight, size_t n) {
    return from_runs(score, label, weight, n, metrics_runs_auc_roc);
}

double metrics_average_precision(const double *score, const int32_t *label, const double *weight,
                                 size_t n) {
    return from_runs(score, label, weight, n, metrics_runs_average_precision);
}

void metrics_argmax_rows(const float *prob, size_t rows, int classes, int32_t *pred) {
    for (size_t r = 0; r < rows; r++) {
        const float *p = prob + r * (size_t)classes;
        int best = 0;
        for (int c = 1; c < classes; c++)
            if (p[c] > p[best]) best = c;
        pred[r] = best;
    }
}

int metrics_confusion_add(const int32_t *pred, const int32_t *label, const double *weight,
                          size_t n, int classes, double *cm) {
    for (size_t i = 0; i < n; i++) {
        HPCML_CHECK(label[i] >= 0 && label[i] < classes && pred[i] >= 0 && pred[i] < classes,
                    HPCML_EDATA, "metrics: row %zu has label %d / prediction %d outside [0, %d)",
                    i, label[i], pred[i], classes);
        cm[(size_t)label[i] * classes + pred[i]] += weight ? weight[i] : 1.0;
    }
    return HPCML_OK;
}

double metrics_confusion_accuracy(const double *cm, int classes) {
    double diag = 0.0, total = 0.0;
    for (int t = 0; t < classes; t++)
        for (int p = 0; p < classes; p++) {
            total += cm[(size_t)t * classes + p];
            if (t == p) diag += cm[(size_t)t * classes + p];
        }
    return total > 0.0 ? diag / total : NAN;
}
