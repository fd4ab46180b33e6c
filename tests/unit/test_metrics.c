/* test_metrics.c — classification metrics on small cases worked by hand
 * (ties included), weights as repetition, and the exactness of merged run
 * lists (the distributed AUC path). The same definitions are checked
 * against scikit-learn on random data by tests/scripts/test_metrics_sklearn.sh. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "core/rng.h"
#include "nn/metrics.h"

static void test_binary_counts(void) {
    double s[6] = {0.9, 0.5, 0.49, 0.2, 0.7, 0.5};
    int32_t y[6] = {1, 1, 1, 0, 0, 0};
    /* >= 0.5 is positive: tp = rows 0,1; fn = row 2; fp = rows 4,5; tn = row 3 */
    metrics_binary m = metrics_binary_at(s, y, NULL, 6, 0.5);
    CHECK(m.tp == 2 && m.fn == 1 && m.fp == 2 && m.tn == 1);
    CHECK_NEAR(m.accuracy, 3.0 / 6, 1e-15);
    CHECK_NEAR(m.precision, 0.5, 1e-15);
    CHECK_NEAR(m.recall, 2.0 / 3, 1e-15);
    CHECK_NEAR(m.f1, 2 * 0.5 * (2.0 / 3) / (0.5 + 2.0 / 3), 1e-15);
    double w[6] = {1, 1, 1, 1, 3, 0};
    m = metrics_binary_at(s, y, w, 6, 0.5);
    CHECK(m.tp == 2 && m.fn == 1 && m.fp == 3 && m.tn == 1);
    CHECK_NEAR(m.precision, 0.4, 1e-15);
    /* nothing predicted positive: precision and F1 are 0, not NaN */
    m = metrics_binary_at(s, y, NULL, 6, 2.0);
    CHECK(m.precision == 0.0 && m.f1 == 0.0 && m.recall == 0.0);
    /* counts merge by addition: finish recomputes the ratios */
    metrics_binary a = metrics_binary_at(s, y, NULL, 3, 0.5);
    metrics_binary b = metrics_binary_at(s + 3, y + 3, NULL, 3, 0.5);
    a.tp += b.tp, a.fp += b.fp, a.tn += b.tn, a.fn += b.fn;
    metrics_binary_finish(&a);
    m = metrics_binary_at(s, y, NULL, 6, 0.5);
    CHECK(a.f1 == m.f1 && a.accuracy == m.accuracy);
}

static void test_auc_ap_small(void) {
    /* sklearn's documentation example */
    double s1[4] = {0.1, 0.4, 0.35, 0.8};
    int32_t y1[4] = {0, 0, 1, 1};
    CHECK_NEAR(metrics_auc_roc(s1, y1, NULL, 4), 0.75, 1e-15);
    CHECK_NEAR(metrics_average_precision(s1, y1, NULL, 4), 0.8333333333333333, 1e-15);

    /* all tied: AUC 1/2, AP = precision at the one threshold */
    double s2[4] = {0.5, 0.5, 0.5, 0.5};
    int32_t y2[4] = {0, 1, 0, 1};
    CHECK_NEAR(metrics_auc_roc(s2, y2, NULL, 4), 0.5, 1e-15);
    CHECK_NEAR(metrics_average_precision(s2, y2, NULL, 4), 0.5, 1e-15);

    /* partial ties. Pairs (pos, neg): (.9,.9) 1/2, (.9,.5) 1, (.5,.9) 0,
     * (.5,.5) 1/2, (.1,.9) 0, (.1,.5) 0 -> 2/6. AP: thresholds .9 (P 1/2,
     * R 1/3), .5 (P 2/4, R 2/3), .1 (P 3/5, R 1) -> (1/2 + 1/2 + 3/5) / 3. */
    double s3[5] = {0.9, 0.9, 0.5, 0.5, 0.1};
    int32_t y3[5] = {1, 0, 1, 0, 1};
    CHECK_NEAR(metrics_auc_roc(s3, y3, NULL, 5), 2.0 / 6, 1e-15);
    CHECK_NEAR(metrics_average_precision(s3, y3, NULL, 5), 1.6 / 3, 1e-15);

    /* perfect and reversed rankings */
    double s4[4] = {0.1, 0.2, 0.3, 0.4};
    int32_t y4[4] = {0, 0, 1, 1}, y5[4] = {1, 1, 0, 0};
    CHECK_NEAR(metrics_auc_roc(s4, y4, NULL, 4), 1.0, 1e-15);
    CHECK_NEAR(metrics_auc_roc(s4, y5, NULL, 4), 0.0, 1e-15);
    CHECK_NEAR(metrics_average_precision(s4, y4, NULL, 4), 1.0, 1e-15);
    /* reversed: positives found last, precision 1/3 then 2/4 */
    CHECK_NEAR(metrics_average_precision(s4, y5, NULL, 4), (1.0 / 3 + 0.5) / 2, 1e-15);

    /* undefined cases */
    int32_t ones[4] = {1, 1, 1, 1}, zeros[4] = {0, 0, 0, 0};
    CHECK(isnan(metrics_auc_roc(s4, ones, NULL, 4)));
    CHECK(isnan(metrics_auc_roc(s4, zeros, NULL, 4)));
    CHECK(isnan(metrics_average_precision(s4, zeros, NULL, 4)));
    CHECK_NEAR(metrics_average_precision(s4, ones, NULL, 4), 1.0, 1e-15);
    double nan_s[2] = {0.5, NAN};
    metrics_run runs[2];
    size_t nr;
    CHECK(metrics_runs_build(nan_s, y4, NULL, 2, runs, &nr) == 2);
}

/* Random data with many ties: weights equal repetition, and run lists built
 * on shards and merged give exactly the same AUC and AP. */
static void test_weights_and_merge(void) {
    enum { N = 500 };
    double s[N], w[N];
    int32_t y[N];
    double sd[3 * N];
    int32_t yd[3 * N];
    size_t nd = 0;
    for (int i = 0; i < N; i++) {
        s[i] = floor(rng_uniform(5, 1, i, 0) * 20) / 20; /* 20 distinct values */
        y[i] = rng_uniform(5, 1, i, 1) < 0.3 + 0.5 * s[i];
        w[i] = (double)(1 + rng_below(5, 1, i, 2, 3)); /* 1, 2 or 3 */
        for (int k = 0; k < (int)w[i]; k++) sd[nd] = s[i], yd[nd++] = y[i];
    }
    double auc_w = metrics_auc_roc(s, y, w, N), auc_d = metrics_auc_roc(sd, yd, NULL, nd);
    CHECK_NEAR(auc_w, auc_d, 1e-13);
    CHECK_NEAR(metrics_average_precision(s, y, w, N), metrics_average_precision(sd, yd, NULL, nd),
               1e-13);
    CHECK(auc_w > 0.6 && auc_w < 0.95);

    /* the AUC as the Mann-Whitney statistic over all weighted pairs */
    double num = 0, pw = 0, nw = 0;
    for (int i = 0; i < N; i++) {
        if (y[i]) pw += w[i];
        else nw += w[i];
        if (!y[i]) continue;
        for (int j = 0; j < N; j++)
            if (!y[j]) num += w[i] * w[j] * (s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0);
    }
    CHECK_NEAR(auc_w, num / (pw * nw), 1e-13);

    /* four uneven shards, merged left to right and as a tree: identical */
    size_t cuts[5] = {0, 7, 200, 201, N};
    metrics_run *part[4];
    metrics_run *acc = malloc(sizeof(metrics_run) * N), *tmp = malloc(sizeof(metrics_run) * N);
    size_t np[4], nacc = 0;
    for (int k = 0; k < 4; k++) {
        size_t n = cuts[k + 1] - cuts[k];
        part[k] = malloc(sizeof(metrics_run) * n);
        CHECK(metrics_runs_build(s + cuts[k], y + cuts[k], w + cuts[k], n, part[k], &np[k]) == 0);
    }
    for (int k = 0; k < 4; k++) {
        size_t n = metrics_runs_merge(acc, nacc, part[k], np[k], tmp);
        metrics_run *t = acc;
        acc = tmp, tmp = t, nacc = n;
    }
    CHECK_EQ_INT(nacc, 20);
    for (size_t i = 1; i < nacc; i++) CHECK(acc[i - 1].score > acc[i].score);
    /* integer weights: the merged result is bit-identical */
    CHECK(metrics_runs_auc_roc(acc, nacc) == auc_w);
    CHECK(metrics_runs_average_precision(acc, nacc) == metrics_average_precision(s, y, w, N));
    metrics_run *l = malloc(sizeof(metrics_run) * N), *r = malloc(sizeof(metrics_run) * N);
    size_t nl = metrics_runs_merge(part[0], np[0], part[1], np[1], l);
    size_t nr = metrics_runs_merge(part[2], np[2], part[3], np[3], r);
    size_t nt = metrics_runs_merge(l, nl, r, nr, tmp);
    CHECK(metrics_runs_auc_roc(tmp, nt) == auc_w);
    /* merging with an empty list is the identity */
    CHECK_EQ_INT(metrics_runs_merge(part[1], np[1], NULL, 0, l), np[1]);
    for (int k = 0; k < 4; k++) free(part[k]);
    free(acc), free(tmp), free(l), free(r);
}

/* The cumulative curve: its last point is (P, N), the trapezoid area under its
 * ROC points is metrics_runs_auc_roc, and the confusion counts at a run's score
 * are metrics_binary_at's at that threshold. */
static void test_cumulative_curve(void) {
    const double s[] = {0.9, 0.8, 0.8, 0.7, 0.4, 0.4, 0.35, 0.2, 0.1, 0.1};
    const int32_t y[] = {1, 1, 0, 1, 0, 1, 0, 0, 1, 0};
    metrics_run runs[10];
    size_t n = 0;
    CHECK(metrics_runs_build(s, y, NULL, 10, runs, &n) == 0);
    double tp[10], fp[10];
    metrics_runs_cumulative(runs, n, tp, fp);
    CHECK_NEAR(tp[n - 1], 5, 0);
    CHECK_NEAR(fp[n - 1], 5, 0);
    double area = 0, px = 0, py = 0;
    for (size_t k = 0; k < n; k++) {
        area += (fp[k] / 5 - px) * (tp[k] / 5 + py) / 2;
        px = fp[k] / 5, py = tp[k] / 5;
    }
    CHECK_NEAR(area, metrics_runs_auc_roc(runs, n), 1e-15);
    for (size_t k = 0; k < n; k++) {
        metrics_binary m = metrics_binary_at(s, y, NULL, 10, runs[k].score);
        CHECK_NEAR(m.tp, tp[k], 0);
        CHECK_NEAR(m.fp, fp[k], 0);
    }
}

static void test_multiclass(void) {
    float prob[5 * 3] = {0.1f, 0.7f, 0.2f, 0.5f, 0.5f, 0.0f, 0.2f, 0.2f, 0.6f,
                         0.3f, 0.3f, 0.4f, 0.9f, 0.05f, 0.05f};
    int32_t pred[5], y[5] = {1, 1, 2, 0, 0};
    metrics_argmax_rows(prob, 5, 3, pred);
    CHECK(pred[0] == 1 && pred[1] == 0 /* tie: first maximum */ && pred[2] == 2 && pred[3] == 2 &&
          pred[4] == 0);
    double cm[9] = {0};
    CHECK(metrics_confusion_add(pred, y, NULL, 5, 3, cm) == 0);
    /* true 0: predicted 2 and 0; true 1: 1 and 0; true 2: 2 */
    double expect[9] = {1, 0, 1, 1, 1, 0, 0, 0, 1};
    for (int i = 0; i < 9; i++) CHECK(cm[i] == expect[i]);
    CHECK_NEAR(metrics_confusion_accuracy(cm, 3), 3.0 / 5, 1e-15);
    double w[5] = {2, 1, 1, 1, 1};
    double cmw[9] = {0};
    CHECK(metrics_confusion_add(pred, y, w, 5, 3, cmw) == 0);
    CHECK_NEAR(metrics_confusion_accuracy(cmw, 3), 4.0 / 6, 1e-15);
    int32_t bad[1] = {3};
    CHECK(metrics_confusion_add(pred, bad, NULL, 1, 3, cm) == 2);
}

int main(void) {
    test_cumulative_curve();
    test_binary_counts();
    test_auc_ap_small();
    test_weights_and_merge();
    test_multiclass();
    CHECK_DONE();
}
