/* dist_metrics.c — exact metrics over all ranks. See dist_metrics.h. */
#include "train/dist_metrics.h"

#include <jansson.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "nn/metrics.h"

void dist_metrics_free(split_metrics *sm)
{
    free(sm->confusion);
    sm->confusion = NULL;
}

/* Local phase: scores, loss sums, confusion counts and the run list of
 * this rank's rows. No communication. */
typedef struct {
    double *score;
    metrics_run *runs;
    size_t n_runs;
    double *sums; /* [loss_sum, weight_sum, rows, confusion...] */
} local_part;

static int score_local(mlp *m, const float *x, const int32_t *y, uint64_t rows,
                       const float *class_weights, double threshold, local_part *lp,
                       float *probs_out)
{
    const int C = m->shape.n_classes, F = m->shape.n_inputs;
    const nn_backend *be = m->be;
    double *cm = lp->sums + 3;
    lp->score = malloc((rows ? rows : 1) * sizeof *lp->score);
    lp->runs = malloc((rows ? rows : 1) * sizeof *lp->runs);
    float *prob = malloc((size_t)m->max_batch * (size_t)C * sizeof *prob);
    int32_t *pred = malloc((size_t)m->max_batch * sizeof *pred);
    /* A device backend reads rows from its own memory: one chunk at a time. */
    float *x_be = NULL;
    int32_t *y_be = NULL;
    int rc = HPCML_OK;
    if (!lp->score || !lp->runs || !prob || !pred) {
        rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory scoring %llu rows",
                        (unsigned long long)rows);
        goto done;
    }
    if (be->device_memory && rows > 0) {
        HPCML_TRY_GOTO(
            rc, be->alloc((void **)&x_be, (size_t)m->max_batch * (size_t)F * sizeof *x_be), done);
        HPCML_TRY_GOTO(rc, be->alloc((void **)&y_be, (size_t)m->max_batch * sizeof *y_be), done);
    }
    for (uint64_t r0 = 0; r0 < rows; r0 += (uint64_t)m->max_batch) {
        int n = (int)(rows - r0 < (uint64_t)m->max_batch ? rows - r0 : (uint64_t)m->max_batch);
        double ls = 0.0, ws = 0.0;
        const float *xc = x + r0 * (uint64_t)F;
        const int32_t *yc = y + r0;
        if (x_be) {
            HPCML_TRY_GOTO(rc, be->upload_async(x_be, xc, (size_t)n * (size_t)F * sizeof *xc),
                           done);
            HPCML_TRY_GOTO(rc, be->upload_async(y_be, yc, (size_t)n * sizeof *yc), done);
            HPCML_TRY_GOTO(rc, be->upload_wait(), done);
            xc = x_be;
            yc = y_be;
        }
        HPCML_TRY_GOTO(rc, mlp_infer(m, xc, n), done);
        HPCML_TRY_GOTO(rc, mlp_loss_forward(m, yc, class_weights, n, &ls, &ws), done);
        HPCML_TRY_GOTO(rc, be->copy_to_host(prob, m->prob, (size_t)n * (size_t)C * sizeof *prob),
                       done);
        lp->sums[0] += ls;
        lp->sums[1] += ws;
        if (probs_out)
            memcpy(probs_out + r0 * (uint64_t)C, prob, (size_t)n * (size_t)C * sizeof *prob);
        if (C == 2) {
            for (int i = 0; i < n; i++) {
                double s = (double)prob[(size_t)i * 2 + 1];
                lp->score[r0 + (uint64_t)i] = s;
                int t = y[r0 + (uint64_t)i] != 0, p = s >= threshold;
                cm[t * 2 + p] += 1.0;
            }
        } else {
            metrics_argmax_rows(prob, (size_t)n, C, pred);
            HPCML_TRY_GOTO(rc, metrics_confusion_add(pred, y + r0, NULL, (size_t)n, C, cm), done);
        }
    }
    lp->sums[2] = (double)rows;
    if (C == 2)
        HPCML_TRY_GOTO(rc, metrics_runs_build(lp->score, y, NULL, rows, lp->runs, &lp->n_runs),
                       done);
done:
    if (be->device_memory) {
        be->free(x_be);
        be->free(y_be);
    }
    free(prob);
    free(pred);
    return rc;
}

/* Merge the gathered run lists (concatenated, counts[p] each) pairwise. */
static int merge_tree(metrics_run *all, const int *counts, int P, size_t total, metrics_run **out,
                      size_t *n_out)
{
    metrics_run *buf = malloc((total ? total : 1) * sizeof *buf);
    size_t *len = malloc((size_t)P * sizeof *len), *off = malloc((size_t)P * sizeof *off);
    HPCML_CHECK(buf && len && off, HPCML_EINTERNAL, "out of memory merging %zu runs", total);
    size_t acc = 0;
    for (int p = 0; p < P; p++) {
        off[p] = acc;
        len[p] = (size_t)counts[p];
        acc += len[p];
    }
    metrics_run *src = all, *dst = buf;
    int lists = P;
    while (lists > 1) {
        int next = 0;
        size_t w = 0;
        for (int i = 0; i < lists; i += 2) {
            size_t start = w;
            if (i + 1 < lists) {
                w +=
                    metrics_runs_merge(src + off[i], len[i], src + off[i + 1], len[i + 1], dst + w);
            } else {
                memcpy(dst + w, src + off[i], len[i] * sizeof *dst);
                w += len[i];
            }
            off[next] = start;
            len[next] = w - start;
            next++;
        }
        lists = next;
        metrics_run *t = src;
        src = dst;
        dst = t;
    }
    *n_out = len[0];
    if (src == all) {
        free(buf);
        *out = all;
    } else {
        free(all);
        *out = buf;
    }
    memmove(*out, *out + off[0], len[0] * sizeof **out);
    free(len);
    free(off);
    return HPCML_OK;
}

static void finish_ratios(split_metrics *out, const double *cm, int C)
{
    if (C == 2) {
        metrics_binary b = {.tn = cm[0], .fp = cm[1], .fn = cm[2], .tp = cm[3]};
        metrics_binary_finish(&b);
        out->accuracy = b.accuracy;
        out->precision = b.precision;
        out->recall = b.recall;
        out->f1 = b.f1;
        return;
    }
    out->accuracy = metrics_confusion_accuracy(cm, C);
    double p = 0, r = 0, f = 0;
    for (int c = 0; c < C; c++) {
        double tp = cm[c * C + c], pred = 0, truth = 0;
        for (int k = 0; k < C; k++) {
            pred += cm[k * C + c];
            truth += cm[c * C + k];
        }
        double pc = pred > 0 ? tp / pred : 0, rc = truth > 0 ? tp / truth : 0;
        p += pc;
        r += rc;
        f += pc + rc > 0 ? 2 * pc * rc / (pc + rc) : 0;
    }
    out->precision = p / C;
    out->recall = r / C;
    out->f1 = f / C;
}

int dist_metrics_evaluate(mlp *m, const float *x, const int32_t *y, uint64_t rows,
                          const float *class_weights, double threshold, MPI_Comm comm,
                          split_metrics *out, float *probs_out)
{
    const int C = m->shape.n_classes;
    const size_t n_sums = 3 + (size_t)C * (size_t)C;
    memset(out, 0, sizeof *out);
    out->classes = C;
    local_part lp = {0};
    lp.sums = calloc(n_sums, sizeof *lp.sums);
    out->confusion = calloc((size_t)C * (size_t)C, sizeof *out->confusion);
    int rc = lp.sums && out->confusion
                 ? score_local(m, x, y, rows, class_weights, threshold, &lp, probs_out)
                 : HPCML_FAIL(HPCML_EINTERNAL, "out of memory for %d classes", C);
    rc = hpcml_mpi_agree(comm, rc);
    if (rc != HPCML_OK) goto done;

    /* Collective phase: a failure here leaves peers inside a collective. */
    double *total = calloc(n_sums, sizeof *total);
    if (!total ||
        MPI_Allreduce(lp.sums, total, (int)n_sums, MPI_DOUBLE, MPI_SUM, comm) != MPI_SUCCESS) {
        HPCML_FAIL(HPCML_EINTERNAL, "metrics: allreduce failed");
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    }
    out->rows = (uint64_t)total[2];
    out->loss = total[1] > 0 ? total[0] / total[1] : NAN;
    memcpy(out->confusion, total + 3, (size_t)C * (size_t)C * sizeof(double));
    finish_ratios(out, out->confusion, C);
    free(total);

    out->auc = out->pr_auc = NAN;
    if (C == 2) {
        int P = 0, me = 0;
        HPCML_MPI_CHECK_ABORT(comm, MPI_Comm_size(comm, &P));
        HPCML_MPI_CHECK_ABORT(comm, MPI_Comm_rank(comm, &me));
        int mine = (int)lp.n_runs;
        int *counts = me == 0 ? calloc((size_t)P, sizeof *counts) : NULL;
        int *displs = me == 0 ? calloc((size_t)P, sizeof *displs) : NULL;
        if (me == 0) HPCML_ALLOC_ABORT(comm, counts && displs, "for the AUC run counts");
        MPI_Datatype run_type;
        HPCML_MPI_CHECK_ABORT(comm, MPI_Type_contiguous(3, MPI_DOUBLE, &run_type));
        HPCML_MPI_CHECK_ABORT(comm, MPI_Type_commit(&run_type));
        HPCML_MPI_CHECK_ABORT(comm, MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, comm));
        size_t total_runs = 0;
        metrics_run *all = NULL;
        if (me == 0) {
            for (int p = 0; p < P; p++) {
                displs[p] = (int)total_runs;
                total_runs += (size_t)counts[p];
            }
            all = malloc((total_runs ? total_runs : 1) * sizeof *all);
            HPCML_ALLOC_ABORT(comm, all, "for the AUC runs");
        }
        HPCML_MPI_CHECK_ABORT(
            comm, MPI_Gatherv(lp.runs, mine, run_type, all, counts, displs, run_type, 0, comm));
        HPCML_MPI_CHECK_ABORT(comm, MPI_Type_free(&run_type));
        double areas[2] = {NAN, NAN};
        if (me == 0) {
            metrics_run *merged = NULL;
            size_t n_merged = 0;
            if (merge_tree(all, counts, P, total_runs, &merged, &n_merged) != HPCML_OK)
                hpcml_mpi_abort(comm, HPCML_EINTERNAL);
            areas[0] = metrics_runs_auc_roc(merged, n_merged);
            areas[1] = metrics_runs_average_precision(merged, n_merged);
            free(merged);
        }
        free(counts);
        free(displs);
        if (MPI_Bcast(areas, 2, MPI_DOUBLE, 0, comm) != MPI_SUCCESS)
            hpcml_mpi_abort(comm, HPCML_EINTERNAL);
        out->auc = areas[0];
        out->pr_auc = areas[1];
    }
done:
    free(lp.score);
    free(lp.runs);
    free(lp.sums);
    if (rc != HPCML_OK) dist_metrics_free(out);
    return rc;
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *dist_metrics_json(const split_metrics *tm)
{
    const int C = tm->classes;
    json_t *test = json_object(), *cm = json_array();
    json_object_set_new(test, "rows", json_integer((json_int_t)tm->rows));
    json_object_set_new(test, "loss", jnum(tm->loss));
    json_object_set_new(test, "accuracy", jnum(tm->accuracy));
    json_object_set_new(test, "precision", jnum(tm->precision));
    json_object_set_new(test, "recall", jnum(tm->recall));
    json_object_set_new(test, "f1", jnum(tm->f1));
    json_object_set_new(test, "auc", jnum(tm->auc));
    json_object_set_new(test, "pr_auc", jnum(tm->pr_auc));
    for (int r = 0; r < C; r++) {
        json_t *row = json_array();
        for (int c = 0; c < C; c++)
            json_array_append_new(row, json_integer((json_int_t)tm->confusion[r * C + c]));
        json_array_append_new(cm, row);
    }
    json_object_set_new(test, "confusion", cm);
    return test;
}

int dist_metrics_predict(mlp *m, const float *x, uint64_t rows, float *probs_out)
{
    const int C = m->shape.n_classes, F = m->shape.n_inputs;
    const nn_backend *be = m->be;
    float *x_be = NULL;
    int rc = HPCML_OK;
    if (be->device_memory && rows > 0)
        HPCML_TRY(be->alloc((void **)&x_be, (size_t)m->max_batch * (size_t)F * sizeof *x_be));
    for (uint64_t r0 = 0; r0 < rows; r0 += (uint64_t)m->max_batch) {
        int n = (int)(rows - r0 < (uint64_t)m->max_batch ? rows - r0 : (uint64_t)m->max_batch);
        const float *xc = x + r0 * (uint64_t)F;
        if (x_be) {
            HPCML_TRY_GOTO(rc, be->upload_async(x_be, xc, (size_t)n * (size_t)F * sizeof *xc),
                           done);
            HPCML_TRY_GOTO(rc, be->upload_wait(), done);
            xc = x_be;
        }
        HPCML_TRY_GOTO(rc, mlp_infer(m, xc, n), done);
        HPCML_TRY_GOTO(rc, mlp_loss_forward(m, NULL, NULL, n, NULL, NULL), done);
        HPCML_TRY_GOTO(rc,
                       be->copy_to_host(probs_out + r0 * (uint64_t)C, m->prob,
                                        (size_t)n * (size_t)C * sizeof *probs_out),
                       done);
    }
done:
    if (x_be) be->free(x_be);
    return rc;
}
