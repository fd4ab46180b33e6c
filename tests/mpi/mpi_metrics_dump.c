/* mpi_metrics_dump.c — test helper (no MPI needed; it lives here because
 * tests/unit/ programs run as unit tests): reads "score label [weight]"
 * lines and prints hpcml's binary metrics as one JSON object, for
 * tests/scripts/test_metrics_sklearn.sh to compare with scikit-learn.
 *
 *   mpi_metrics_dump FILE THRESHOLD SHARDS
 *
 * The *_merged values come from SHARDS run lists built on contiguous
 * shards and merged, as the trainer does across ranks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "nn/metrics.h"

static void print_num(const char *key, double v, int last) {
    if (isnan(v)) printf("\"%s\": null%s", key, last ? "" : ", ");
    else printf("\"%s\": %.17g%s", key, v, last ? "" : ", ");
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s FILE THRESHOLD SHARDS\n", argv[0]);
        return HPCML_EUSAGE;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return HPCML_EIO;
    }
    const double threshold = atof(argv[2]);
    const int shards = atoi(argv[3]);
    size_t cap = 1024, n = 0;
    double *s = malloc(cap * sizeof *s), *w = malloc(cap * sizeof *w);
    int32_t *y = malloc(cap * sizeof *y);
    char line[256];
    while (s && w && y && fgets(line, sizeof line, f)) {
        double sc, wt = 1.0;
        int lab;
        int got = sscanf(line, "%lf %d %lf", &sc, &lab, &wt);
        if (got < 2) continue;
        if (n == cap) {
            cap *= 2;
            s = realloc(s, cap * sizeof *s);
            w = realloc(w, cap * sizeof *w);
            y = realloc(y, cap * sizeof *y);
            if (!s || !w || !y) break;
        }
        s[n] = sc, y[n] = lab, w[n] = wt;
        n++;
    }
    fclose(f);
    if (!s || !w || !y || shards < 1) {
        fprintf(stderr, "out of memory or bad shard count\n");
        return HPCML_EINTERNAL;
    }

    metrics_binary m = metrics_binary_at(s, y, w, n, threshold);
    const double auc = metrics_auc_roc(s, y, w, n), ap = metrics_average_precision(s, y, w, n);

    /* the distributed path: per-shard run lists merged in order */
    metrics_run *acc = malloc((n + 1) * sizeof *acc), *tmp = malloc((n + 1) * sizeof *tmp);
    metrics_run *part = malloc((n + 1) * sizeof *part);
    size_t nacc = 0;
    for (int k = 0; k < shards; k++) {
        size_t lo = n * (size_t)k / (size_t)shards, hi = n * (size_t)(k + 1) / (size_t)shards, np;
        if (metrics_runs_build(s + lo, y + lo, w + lo, hi - lo, part, &np) != HPCML_OK) {
            fprintf(stderr, "%s\n", hpcml_error_message());
            return HPCML_EDATA;
        }
        size_t nm = metrics_runs_merge(acc, nacc, part, np, tmp);
        metrics_run *t = acc;
        acc = tmp, tmp = t, nacc = nm;
    }

    printf("{\"n\": %zu, ", n);
    print_num("tp", m.tp, 0);
    print_num("fp", m.fp, 0);
    print_num("tn", m.tn, 0);
    print_num("fn", m.fn, 0);
    print_num("accuracy", m.accuracy, 0);
    print_num("precision", m.precision, 0);
    print_num("recall", m.recall, 0);
    print_num("f1", m.f1, 0);
    print_num("auc_roc", auc, 0);
    print_num("average_precision", ap, 0);
    print_num("auc_roc_merged", metrics_runs_auc_roc(acc, nacc), 0);
    print_num("average_precision_merged", metrics_runs_average_precision(acc, nacc), 1);
    printf("}\n");
    free(acc), free(tmp), free(part), free(s), free(w), free(y);
    return 0;
}
