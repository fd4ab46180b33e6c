/* predict.c — hpcml-predict's stages in order. See predict.h. */
#include "predict/predict.h"

#include <cblas.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/profile.h"
#include "core/status.h"
#include "etl/etl_drift.h"
#include "etl/etl_extract.h"
#include "etl/etl_schema.h"
#include "etl/etl_transform.h"
#include "etl/etl_validate.h"
#include "io/atomic_file.h"
#include "io/drift_file.h"
#include "io/model_file.h"
#include "io/predictions_file.h"
#include "nn/backend.h"
#include "monitor/drift_report.h"
#include "nn/mlp.h"
#include "train/dist_metrics.h"
#include "train/monitor.h"

#define FORWARD_CHUNK_ROWS 2048 /* the trainer's evaluation chunk (trainer.c) */

typedef struct {
    MPI_Comm comm;
    int rank, size;
    const hpcml_config *cfg;
    const char *model_path, *output;
    const char *const *ids;
    int n_ids;
    double threshold;
    int skip_bad, unseen_error;
    char outdir[4096];

    model_file m;
    hpcml_config *model_cfg;
    etl_options o;
    etl_inputs in;
    etl_schema s;
    etl_table t;
    etl_validation v;
    etl_fit fit;
    mlp net;

    int64_t n_scored; /* local */
    int64_t *rows;    /* local table rows scored, in input order */
    float *probs;     /* [n_scored][classes] */
    int has_label;    /* every scored row has a label (global) */
    split_metrics metrics;
    int have_metrics;
    /* global counts */
    int64_t rows_read, rows_scored, rows_rejected;
    int64_t *reject_reasons; /* [ETL_DROP_N] */
    int64_t *col_counts;     /* [col][4]: nulls, unseen, below training min, above training max */
    /* drift (monitor/drift.h): -1 when the model has no reference */
    int dataset_drift, drifted_columns, drift_columns;
    double drift_share;
    json_t *alerts; /* ALERT records of the drift rules (monitoring.alerts) */
} predict_job;

static void dir_of(const char *path, char *out, size_t n)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(out, n, "%s", dirname(copy));
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- model and schema ------------------------------------------------------------- */

static int load_model(predict_job *j)
{
    int rc = model_file_open(j->model_path, &j->m);
    rc = hpcml_mpi_agree(j->comm, rc);
    HPCML_TRY(rc);
    rc = hpcml_config_load_string(&j->model_cfg, j->m.etl_config, j->model_path, NULL, 0);
    if (rc != HPCML_OK)
        rc = HPCML_FAIL(HPCML_EDATA, "%s: the ETL config stored in the model does not load: %s",
                        j->model_path, hpcml_error_message());
    if (rc == HPCML_OK) rc = etl_options_load(j->model_cfg, &j->o);
    if (rc == HPCML_OK) {
        const char *const *inputs;
        j->o.n_inputs = cfg_str_list(j->cfg, "predict.input", &inputs);
        j->o.inputs = inputs;
        j->o.n_keys = 0;
        j->o.split_key = "";
        j->o.check_manifest = ETL_MANIFEST_OFF;
        j->o.drop_bad_values = j->skip_bad;
        if (j->skip_bad && j->o.on_null == ETL_NULL_ERROR) j->o.on_null = ETL_NULL_DROP;
        if (!j->skip_bad && j->o.on_null == ETL_NULL_DROP) j->o.on_null = ETL_NULL_ERROR;
        if (j->threshold < 0) j->threshold = j->m.threshold;
    }
    return hpcml_mpi_agree(j->comm, rc);
}

static int plan_inputs(predict_job *j)
{
    int rc = etl_inputs_plan(j->comm, &j->o, &j->in);
    HPCML_TRY(rc);
    const char *where = j->o.header ? j->in.files[0].path : "etl.column_names (from the model)";
    rc = etl_schema_resolve_scoring(&j->o, j->in.names, j->in.n_names, where, j->m.col_names,
                                    j->m.col_types, j->m.n_cols, j->ids, j->n_ids, &j->s);
    if (rc == HPCML_OK) rc = model_file_load_fit(&j->m, &j->s, &j->fit);
    if (rc == HPCML_OK && j->fit.n_features != j->m.shape.n_inputs)
        rc = HPCML_FAIL(HPCML_EDATA, "%s: the transform gives %d features, the network takes %d",
                        j->model_path, j->fit.n_features, j->m.shape.n_inputs);
    return hpcml_mpi_agree(j->comm, rc);
}

/* ---- rows: which are scored, what is counted --------------------------------------- */

static int scored_drop(uint8_t d)
{
    return d == ETL_KEEP || d == ETL_DROP_NULL_LABEL;
}

static const char *reject_reason(uint8_t d)
{
    switch (d) {
    case ETL_DROP_MALFORMED: return "malformed CSV (unterminated or stray quote)";
    case ETL_DROP_RAGGED: return "wrong number of fields";
    case ETL_DROP_BAD_VALUE: return "a field that does not parse as its column's type";
    case ETL_DROP_BAD_LABEL: return "a label text the model does not know";
    case ETL_DROP_NULL_VIOLATION: return "null in a column with nullable = false";
    case ETL_DROP_IMPUTE: return "null in a column with impute = \"drop\"";
    case ETL_DROP_RANGE: return "value outside the column's [min, max]";
    default: return etl_drop_names[d];
    }
}

/* Local: counts per column and the scored rows; errors for bad rows and
 * unseen categories when the config says so. */
static int select_rows(predict_job *j)
{
    etl_table *t = &j->t;
    const etl_schema *s = &j->s;
    int nc = s->n_cols;
    j->rows = malloc(((size_t)t->n + 1) * sizeof *j->rows);
    j->reject_reasons = calloc(ETL_DROP_N, sizeof *j->reject_reasons);
    j->col_counts = calloc(4 * (size_t)nc + 1, sizeof *j->col_counts);
    HPCML_CHECK(j->rows && j->reject_reasons && j->col_counts, HPCML_EINTERNAL, "out of memory");
    for (int c = 0; c < nc; c++)
        j->col_counts[4 * c] = t->nulls[c];
    for (int64_t i = 0; i < t->n; i++) {
        if (!scored_drop(t->drop[i])) {
            j->reject_reasons[t->drop[i]]++;
            if (!j->skip_bad) {
                char where[4200];
                etl_row_where(&j->in, t, i, where, sizeof where);
                return HPCML_FAIL(HPCML_EDATA, "%s: %s (predict.on_bad_row = \"error\")", where,
                                  reject_reason(t->drop[i]));
            }
            continue;
        }
        for (int c = 0; c < nc; c++) {
            const etl_col_fit *f = &j->fit.cols[c];
            if (f->n_features == 0) continue;
            if (s->cols[c].type == ETL_COL_CATEGORY) {
                int32_t id = t->cat[c][i];
                if (id < 0 || f->local_to_index[id] != 0) continue;
                j->col_counts[4 * c + 1]++;
                if (j->unseen_error) {
                    char where[4200];
                    size_t len;
                    const char *txt = etl_strtab_str(&t->strtab[c], id, &len);
                    etl_row_where(&j->in, t, i, where, sizeof where);
                    return HPCML_FAIL(HPCML_EDATA,
                                      "%s: column '%s': category '%.*s' was not seen in training "
                                      "(predict.unseen = \"error\")",
                                      where, s->cols[c].name, (int)(len > 200 ? 200 : len), txt);
                }
            } else {
                double x = t->num[c][i];
                if (isnan(x)) continue;
                if (x < f->min) j->col_counts[4 * c + 2]++;
                if (x > f->max) j->col_counts[4 * c + 3]++;
            }
        }
        j->rows[j->n_scored++] = i;
    }
    return HPCML_OK;
}

static int reduce_counts(predict_job *j)
{
    int nc = j->s.n_cols;
    int64_t head[3] = {j->t.n, j->n_scored, j->t.n - j->n_scored};
    HPCML_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, head, 3, MPI_INT64_T, MPI_SUM, j->comm));
    j->rows_read = head[0];
    j->rows_scored = head[1];
    j->rows_rejected = head[2];
    HPCML_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, j->reject_reasons, ETL_DROP_N, MPI_INT64_T,
                                  MPI_SUM, j->comm));
    HPCML_MPI_CHECK(
        MPI_Allreduce(MPI_IN_PLACE, j->col_counts, 4 * nc, MPI_INT64_T, MPI_SUM, j->comm));
    /* Metrics need every scored row's label. */
    int local = j->s.label_col >= 0;
    for (int64_t k = 0; local && k < j->n_scored; k++)
        if (j->t.label[j->rows[k]] < 0) local = 0;
    HPCML_MPI_CHECK(MPI_Allreduce(&local, &j->has_label, 1, MPI_INT, MPI_MIN, j->comm));
    return HPCML_OK;
}

/* ---- transform and forward ---------------------------------------------------------- */

/* Collective. OpenBLAS's result for a row depends on where the row sits in
 * the matrix it is multiplied in, so rows are scored in chunks of
 * FORWARD_CHUNK_ROWS aligned on the global scored-row number, as the
 * trainer's evaluation does for /test on one rank: chunk k goes whole to
 * the rank holding its first row (one MPI_Alltoallv of the encoded rows,
 * one back of the probabilities). The probabilities are then the same bits
 * for any rank count. Volume: at most one chunk per rank boundary. */
static int forward_aligned(predict_job *j, const float *x, const int32_t *y, const float *cw)
{
    const int F = j->fit.n_features, C = j->m.n_classes, P = j->size;
    const int64_t CH = FORWARD_CHUNK_ROWS;
    int64_t n = j->n_scored;
    int64_t *first = calloc((size_t)P + 1, sizeof *first);
    int *sc = calloc((size_t)P, sizeof *sc), *sd = calloc((size_t)P, sizeof *sd);
    int *rcnt = calloc((size_t)P, sizeof *rcnt), *rd = calloc((size_t)P, sizeof *rd);
    HPCML_CHECK(first && sc && sd && rcnt && rd, HPCML_EINTERNAL, "out of memory");
    HPCML_MPI_CHECK(MPI_Allgather(&n, 1, MPI_INT64_T, first + 1, 1, MPI_INT64_T, j->comm));
    for (int r = 0; r < P; r++)
        first[r + 1] += first[r];
    /* owner of global row g: the rank holding the first row of g's chunk */
#define OWNER(g, out)                                                                                  do {                                                                                                   int64_t c0_ = (g) / CH * CH;                                                                       int o_ = 0;                                                                                        while (o_ + 1 < P && first[o_ + 1] <= c0_)                                                             o_++;                                                                                          (out) = o_;                                                                                    } while (0)
    int64_t g0 = first[j->rank];
    for (int64_t k = 0; k < n;) {
        int o;
        OWNER(g0 + k, o);
        int64_t end = ((g0 + k) / CH + 1) * CH - g0; /* the chunk's end, local */
        if (end > n) end = n;
        sc[o] += (int)(end - k);
        k = end;
    }
    HPCML_MPI_CHECK(MPI_Alltoall(sc, 1, MPI_INT, rcnt, 1, MPI_INT, j->comm));
    int64_t nr = 0;
    for (int r = 0, acc = 0; r < P; r++) {
        sd[r] = acc;
        acc += sc[r];
        rd[r] = (int)nr;
        nr += rcnt[r];
    }
    float *xr = malloc(((size_t)nr * (size_t)F + 1) * sizeof *xr);
    float *pr = malloc(((size_t)nr * (size_t)C + 1) * sizeof *pr);
    int32_t *yr = malloc(((size_t)nr + 1) * sizeof *yr);
    if (!xr || !pr || !yr) {
        HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
        hpcml_mpi_abort(j->comm, HPCML_EINTERNAL);
    }
    MPI_Datatype row_x, row_p;
    MPI_Type_contiguous(F, MPI_FLOAT, &row_x);
    MPI_Type_contiguous(C, MPI_FLOAT, &row_p);
    MPI_Type_commit(&row_x);
    MPI_Type_commit(&row_p);
    int rc = HPCML_OK;
    if (MPI_Alltoallv(x, sc, sd, row_x, xr, rcnt, rd, row_x, j->comm) != MPI_SUCCESS ||
        MPI_Alltoallv(y, sc, sd, MPI_INT32_T, yr, rcnt, rd, MPI_INT32_T, j->comm) != MPI_SUCCESS)
        hpcml_mpi_abort(j->comm, HPCML_EINTERNAL);
    if (j->has_label) {
        rc = dist_metrics_evaluate(&j->net, xr, yr, (uint64_t)nr, cw, j->threshold, j->comm,
                                   &j->metrics, pr);
        j->have_metrics = rc == HPCML_OK;
    } else {
        rc = hpcml_mpi_agree(j->comm, dist_metrics_predict(&j->net, xr, (uint64_t)nr, pr));
    }
    if (rc == HPCML_OK &&
        MPI_Alltoallv(pr, rcnt, rd, row_p, j->probs, sc, sd, row_p, j->comm) != MPI_SUCCESS)
        hpcml_mpi_abort(j->comm, HPCML_EINTERNAL);
#undef OWNER
    MPI_Type_free(&row_x);
    MPI_Type_free(&row_p);
    free(xr);
    free(pr);
    free(yr);
    free(first);
    free(sc);
    free(sd);
    free(rcnt);
    free(rd);
    return rc;
}

static int score(predict_job *j)
{
    const int F = j->fit.n_features, C = j->m.n_classes;
    /* One BLAS thread per rank: OpenBLAS splits a product differently for
     * another thread count, and the bits of a row's result would then
     * depend on how many ranks share a node. */
    openblas_set_num_threads(1);
    int rc = mlp_create(&j->net, &nn_backend_cpu, &j->m.shape, FORWARD_CHUNK_ROWS);
    if (rc == HPCML_OK) rc = mlp_set_params(&j->net, j->m.params);
    int64_t n = j->n_scored;
    float *x = rc == HPCML_OK ? malloc(((size_t)n * (size_t)F + 1) * sizeof *x) : NULL;
    j->probs = malloc(((size_t)n * (size_t)C + 1) * sizeof *j->probs);
    int32_t *y = malloc(((size_t)n + 1) * sizeof *y);
    float *cw = malloc(((size_t)C + 1) * sizeof *cw);
    if (rc == HPCML_OK && (!x || !j->probs || !y || !cw))
        rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory: %lld rows x %d features", (long long)n, F);
    if (rc == HPCML_OK) {
        profile_begin("transform");
        etl_encode_rows(&j->s, &j->fit, &j->t, j->rows, n, x);
        profile_end();
        for (int64_t k = 0; k < n; k++)
            y[k] = j->t.label[j->rows[k]];
        for (int c = 0; c < C; c++)
            cw[c] = (float)j->m.class_weights[c];
    }
    rc = hpcml_mpi_agree(j->comm, rc);
    profile_begin("forward");
    if (rc == HPCML_OK) rc = forward_aligned(j, x, y, cw);
    profile_end();
    free(x);
    free(y);
    free(cw);
    return rc;
}

/* ---- output -------------------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
} text_buf;

static int tb_reserve(text_buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap) return HPCML_OK;
    size_t nc = b->cap ? b->cap : 1 << 16;
    while (nc < b->len + more + 1)
        nc *= 2;
    char *nb = realloc(b->buf, nc);
    HPCML_CHECK(nb, HPCML_EINTERNAL, "out of memory formatting output");
    b->buf = nb;
    b->cap = nc;
    return HPCML_OK;
}

static int tb_put(text_buf *b, const char *s, size_t n)
{
    HPCML_TRY(tb_reserve(b, n));
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return HPCML_OK;
}

/* A CSV field: quoted (RFC 4180) when it holds the delimiter, a quote or a line break. */
static int tb_field(text_buf *b, const char *s, size_t n, char delim)
{
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == delim || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) return tb_put(b, s, n);
    HPCML_TRY(tb_put(b, "\"", 1));
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') HPCML_TRY(tb_put(b, "\"", 1));
        HPCML_TRY(tb_put(b, s + i, 1));
    }
    return tb_put(b, "\"", 1);
}

static int predicted_class(const float *p, int C, double threshold)
{
    if (C == 2) return (double)p[1] >= threshold;
    int best = 0;
    for (int c = 1; c < C; c++)
        if (p[c] > p[best]) best = c;
    return best;
}

static int format_predictions(predict_job *j, text_buf *b)
{
    const int C = j->m.n_classes;
    char num[64];
    if (j->rank == 0) {
        for (int k = 0; k < j->n_ids; k++) {
            HPCML_TRY(tb_field(b, j->ids[k], strlen(j->ids[k]), ','));
            HPCML_TRY(tb_put(b, ",", 1));
        }
        for (int c = 0; c < C; c++) {
            char name[600];
            int n = snprintf(name, sizeof name, "prob_%s", j->m.class_names[c]);
            HPCML_TRY(tb_field(b, name, (size_t)n, ','));
            HPCML_TRY(tb_put(b, ",", 1));
        }
        HPCML_TRY(tb_put(b, "predicted\n", 10));
    }
    int *id_col = calloc((size_t)j->n_ids + 1, sizeof *id_col);
    HPCML_CHECK(id_col, HPCML_EINTERNAL, "out of memory");
    for (int k = 0; k < j->n_ids; k++)
        for (int c = 0; c < j->s.n_cols; c++)
            if (!strcmp(j->s.cols[c].name, j->ids[k])) id_col[k] = c;
    int rc = HPCML_OK;
    for (int64_t r = 0; r < j->n_scored && rc == HPCML_OK; r++) {
        int64_t i = j->rows[r];
        for (int k = 0; k < j->n_ids && rc == HPCML_OK; k++) {
            int c = id_col[k];
            int32_t id = j->t.cat[c][i];
            size_t len = 0;
            const char *txt = id >= 0 ? etl_strtab_str(&j->t.strtab[c], id, &len) : "";
            rc = tb_field(b, txt, len, ',');
            if (rc == HPCML_OK) rc = tb_put(b, ",", 1);
        }
        const float *p = j->probs + (size_t)r * (size_t)C;
        for (int c = 0; c < C && rc == HPCML_OK; c++) {
            /* %.9g: a float32 reads back to the same bits */
            int n = snprintf(num, sizeof num, "%.9g,", (double)p[c]);
            rc = tb_put(b, num, (size_t)n);
        }
        const char *label = j->m.class_names[predicted_class(p, C, j->threshold)];
        if (rc == HPCML_OK) rc = tb_field(b, label, strlen(label), ',');
        if (rc == HPCML_OK) rc = tb_put(b, "\n", 1);
    }
    free(id_col);
    return rc;
}

static int format_rejects(predict_job *j, text_buf *b)
{
    if (j->rank == 0) HPCML_TRY(tb_put(b, "file,line,reason\n", 17));
    for (int64_t i = 0; i < j->t.n; i++) {
        if (scored_drop(j->t.drop[i])) continue;
        const char *path = j->in.files[j->t.file[i]].path;
        HPCML_TRY(tb_field(b, path, strlen(path), ','));
        char line[64];
        int n = snprintf(line, sizeof line, ",%lld,", (long long)j->t.line[i]);
        HPCML_TRY(tb_put(b, line, (size_t)n));
        const char *why = reject_reason(j->t.drop[i]);
        HPCML_TRY(tb_field(b, why, strlen(why), ','));
        HPCML_TRY(tb_put(b, "\n", 1));
    }
    return HPCML_OK;
}

/* Collective: each rank's bytes at its exclusive-scan offset of path's temp
 * name, then fsync and rename by rank 0. Nothing is left on failure. */
static int write_collective(predict_job *j, const char *path, const text_buf *b)
{
    long long mine = (long long)b->len, before = 0;
    HPCML_MPI_CHECK(MPI_Exscan(&mine, &before, 1, MPI_LONG_LONG, MPI_SUM, j->comm));
    if (j->rank == 0) before = 0;
    long token = (long)getpid();
    HPCML_MPI_CHECK(MPI_Bcast(&token, 1, MPI_LONG, 0, j->comm));
    char tmp[4300];
    atomic_tmp_name(tmp, sizeof tmp, path, token);
    if (j->rank == 0) unlink(tmp);
    MPI_Barrier(j->comm);
    MPI_File fh;
    int rc = MPI_File_open(j->comm, tmp, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh) ==
                     MPI_SUCCESS
                 ? HPCML_OK
                 : HPCML_FAIL(HPCML_EIO, "cannot create %s", tmp);
    rc = hpcml_mpi_agree(j->comm, rc);
    HPCML_TRY(rc);
    /* MPI-IO counts are int: write in pieces of at most 1 GiB, the same
     * number of collective calls on every rank. */
    const long long piece = 1LL << 30;
    long long n_pieces = (mine + piece - 1) / piece, max_pieces = 0;
    MPI_Allreduce(&n_pieces, &max_pieces, 1, MPI_LONG_LONG, MPI_MAX, j->comm);
    for (long long k = 0; k < max_pieces; k++) {
        long long lo = k * piece, n = mine - lo;
        n = n < 0 ? 0 : n > piece ? piece : n;
        MPI_Status st;
        if (MPI_File_write_at_all(fh, (MPI_Offset)(before + lo), b->buf ? b->buf + lo : "",
                                  (int)n, MPI_CHAR, &st) != MPI_SUCCESS &&
            rc == HPCML_OK)
            rc = HPCML_FAIL(HPCML_EIO, "cannot write %s", tmp);
    }
    if (MPI_File_sync(fh) != MPI_SUCCESS && rc == HPCML_OK)
        rc = HPCML_FAIL(HPCML_EIO, "cannot sync %s", tmp);
    MPI_File_close(&fh);
    rc = hpcml_mpi_agree(j->comm, rc);
    if (rc == HPCML_OK && j->rank == 0) rc = atomic_rename_durable(tmp, path);
    if (rc != HPCML_OK && j->rank == 0) unlink(tmp);
    return hpcml_mpi_agree(j->comm, rc);
}

/* Collective: the output as io/predictions_file.h's layout (split
 * "predict"): /row_id = the record's number in the input (0-based, over
 * all files, as the ETL's row ids), /label = the true class or -1. */
static int write_h5(predict_job *j)
{
    int64_t n = j->n_scored, off = 0;
    HPCML_MPI_CHECK(MPI_Exscan(&n, &off, 1, MPI_INT64_T, MPI_SUM, j->comm));
    if (j->rank == 0) off = 0;
    int64_t *rid = malloc(((size_t)n + 1) * sizeof *rid);
    int32_t *lab = malloc(((size_t)n + 1) * sizeof *lab);
    int rc = rid && lab ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    for (int64_t k = 0; rc == HPCML_OK && k < n; k++) {
        rid[k] = j->t.first_row + j->rows[k];
        lab[k] = j->t.label[j->rows[k]];
    }
    rc = hpcml_mpi_agree(j->comm, rc);
    if (rc == HPCML_OK)
        rc = predictions_write(j->output, j->comm, "predict", (uint64_t)j->rows_scored,
                               (uint64_t)off, (uint64_t)n, j->m.n_classes, rid, lab, j->probs,
                               j->threshold);
    free(rid);
    free(lab);
    return rc;
}

/* ---- drift ------------------------------------------------------------------------------ */

/* Collective. The scored rows' raw values summarized as the ETL summarized
 * the train split (etl_drift_summary), compared with the model's
 * /meta/drift reference; drift.json, drift.svg and, when the dataset
 * drifted, a DRIFT marker beside the output (a DRIFT left by an earlier
 * run into the same directory is removed when this one has no drift). */
static int check_drift(predict_job *j)
{
    j->dataset_drift = -1;
    int has = H5Lexists(j->m.file, "/meta/drift", H5P_DEFAULT) > 0;
    HPCML_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &has, 1, MPI_INT, MPI_MIN, j->comm));
    if (!has) {
        if (j->rank == 0)
            log_warn("%s has no drift reference (/meta/drift; a dataset from an older hpcml-etl): "
                     "no drift.json",
                     j->model_path);
        return HPCML_OK;
    }
    drift_set ref, cur;
    drift_set_init(&cur);
    int64_t ref_rows = 0;
    int rc = drift_reference_read(j->m.file, "/meta/drift", j->model_path, &ref, &ref_rows);
    rc = hpcml_mpi_agree(j->comm, rc);
    if (rc != HPCML_OK) return rc;
    rc = etl_drift_summary(j->comm, &j->s, &j->t, &j->fit, j->rows, j->n_scored, &cur);
    drift_options dopt;
    drift_result res;
    memset(&res, 0, sizeof res);
    if (rc == HPCML_OK) rc = drift_options_load(j->cfg, &dopt);
    const char *bad = NULL;
    if (rc == HPCML_OK && drift_compare(&ref, &cur, &dopt, &res, &bad) != 0)
        rc = HPCML_FAIL(HPCML_EDATA, "%s: the drift reference's column '%s' does not match the "
                        "model's transform",
                        j->model_path, bad ? bad : "?");
    rc = hpcml_mpi_agree(j->comm, rc);
    if (rc == HPCML_OK && j->rank == 0) {
        char path[4300];
        snprintf(path, sizeof path, "%s/drift.json", j->outdir);
        rc = drift_write_json(path, j->model_path, &res);
        snprintf(path, sizeof path, "%s/drift.svg", j->outdir);
        if (rc == HPCML_OK) rc = drift_write_svg(path, &res);
        snprintf(path, sizeof path, "%s/DRIFT", j->outdir);
        if (rc == HPCML_OK && res.dataset_drift) {
            char text[512];
            snprintf(text, sizeof text, "dataset drift: %d of %d columns drifted (share %.3f >= "
                     "%.3f); see drift.json\n",
                     res.drifted_columns, res.n_cols,
                     res.n_cols ? (double)res.drifted_columns / res.n_cols : 0.0, res.drift_share);
            rc = atomic_write_text(path, text);
        } else if (rc == HPCML_OK) {
            unlink(path);
        }
    }
    j->dataset_drift = res.dataset_drift;
    j->drifted_columns = res.drifted_columns;
    j->drift_columns = res.n_cols;
    j->drift_share = res.n_cols ? (double)res.drifted_columns / res.n_cols : 0.0;
    if (rc == HPCML_OK) {
        monitor mo;
        memset(&mo, 0, sizeof mo);
        rc = monitor_init(&mo, j->cfg, j->rank);
        double values[MONITOR_DRIFT_METRICS] = {j->drift_share, (double)j->drifted_columns,
                                                (double)j->dataset_drift};
        j->alerts = json_array();
        if (rc == HPCML_OK) monitor_drift_alerts(&mo, values, j->alerts);
        monitor_close(&mo);
    }
    drift_result_free(&res);
    drift_set_free(&ref);
    drift_set_free(&cur);
    return hpcml_mpi_agree(j->comm, rc);
}

/* ---- predict_quality.json ------------------------------------------------------------ */

static int write_quality(predict_job *j, const char *path)
{
    json_t *q = json_object();
    json_object_set_new(q, "format", json_string("hpcml-predict-quality"));
    json_object_set_new(q, "version", json_integer(1));
    json_object_set_new(q, "model", json_string(j->model_path));
    json_object_set_new(q, "output", json_string(j->output));
    json_object_set_new(q, "threshold", json_real(j->threshold));
    json_object_set_new(q, "rows_read", json_integer(j->rows_read));
    json_object_set_new(q, "rows_scored", json_integer(j->rows_scored));
    json_object_set_new(q, "rows_rejected", json_integer(j->rows_rejected));
    json_t *why = json_object();
    for (int r = 1; r < ETL_DROP_N; r++)
        if (!scored_drop((uint8_t)r) && r != ETL_DROP_DUPLICATE && r != ETL_DROP_RESAMPLED)
            json_object_set_new(why, etl_drop_names[r], json_integer(j->reject_reasons[r]));
    json_object_set_new(q, "rejected", why);
    json_t *files = json_array();
    for (int f = 0; f < j->in.n_files; f++)
        json_array_append_new(files, json_string(j->in.files[f].path));
    json_object_set_new(q, "inputs", files);
    json_t *cols = json_object();
    int64_t unseen_total = 0, oor_total = 0;
    for (int c = 0; c < j->s.n_cols; c++) {
        const etl_column_spec *col = &j->s.cols[c];
        if (j->fit.cols[c].n_features == 0 && col->type != ETL_COL_LABEL) continue;
        const int64_t *cc = j->col_counts + 4 * c;
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(etl_col_type_names[col->type]));
        json_object_set_new(o, "nulls", json_integer(cc[0]));
        if (col->type == ETL_COL_CATEGORY) {
            json_object_set_new(o, "unseen_categories", json_integer(cc[1]));
            unseen_total += cc[1];
        } else if (col->type != ETL_COL_LABEL) {
            json_object_set_new(o, "below_training_min", json_integer(cc[2]));
            json_object_set_new(o, "above_training_max", json_integer(cc[3]));
            json_object_set_new(o, "training_min", json_real(j->fit.cols[c].min));
            json_object_set_new(o, "training_max", json_real(j->fit.cols[c].max));
            oor_total += cc[2] + cc[3];
        }
        json_object_set_new(cols, col->name, o);
    }
    json_object_set_new(q, "columns", cols);
    json_object_set_new(q, "unseen_categories", json_integer(unseen_total));
    json_object_set_new(q, "out_of_training_range", json_integer(oor_total));
    json_object_set_new(q, "label_column", json_string(j->m.label_column));
    json_object_set_new(q, "metrics", j->have_metrics ? dist_metrics_json(&j->metrics) : json_null());
    if (j->dataset_drift >= 0) {
        json_t *d = json_object();
        json_object_set_new(d, "dataset_drift", json_boolean(j->dataset_drift));
        json_object_set_new(d, "drifted_columns", json_integer(j->drifted_columns));
        json_object_set_new(d, "columns_total", json_integer(j->drift_columns));
        json_object_set_new(d, "drift_share", json_real(j->drift_share));
        json_object_set_new(d, "report", json_string("drift.json"));
        json_object_set_new(d, "alerts", j->alerts ? json_incref(j->alerts) : json_array());
        json_object_set_new(q, "drift", d);
    } else {
        json_object_set_new(q, "drift", json_null());
    }
    int rc = atomic_write_json(path, q, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(q);
    return rc;
}

/* ---- the run ------------------------------------------------------------------------- */

static int run_stages(predict_job *j)
{
    const hpcml_config *cfg = j->cfg;
    j->model_path = cfg_str(cfg, "predict.model");
    j->output = cfg_str(cfg, "predict.output");
    j->n_ids = cfg_str_list(cfg, "predict.id_columns", &j->ids);
    j->threshold = cfg_float(cfg, "predict.threshold");
    j->skip_bad = !strcmp(cfg_str(cfg, "predict.on_bad_row"), "skip");
    j->unseen_error = !strcmp(cfg_str(cfg, "predict.unseen"), "error");
    HPCML_CHECK(ends_with(j->output, ".csv") || ends_with(j->output, ".h5"), HPCML_EUSAGE,
                "predict.output: '%s' must end in .csv or .h5", j->output);
    dir_of(j->output, j->outdir, sizeof j->outdir);
    int rc = j->rank == 0 ? fs_mkdir_p(j->outdir) : HPCML_OK;
    HPCML_TRY(hpcml_mpi_agree(j->comm, rc));
    double t0 = MPI_Wtime();

    profile_begin("model");
    rc = load_model(j);
    profile_end();
    HPCML_TRY(rc);
    profile_begin("plan");
    rc = plan_inputs(j);
    profile_end();
    HPCML_TRY(rc);
    profile_begin("extract");
    rc = etl_extract(j->comm, &j->o, &j->s, &j->in, &j->t);
    profile_end();
    HPCML_TRY(rc);
    profile_begin("validate");
    rc = etl_validation_init(&j->v, j->s.n_cols);
    if (rc == HPCML_OK) rc = etl_validate_rows(&j->o, &j->s, &j->in, &j->t, &j->v);
    if (rc == HPCML_OK) rc = etl_fit_bind(&j->fit, &j->s, &j->t);
    if (rc == HPCML_OK) rc = select_rows(j);
    rc = hpcml_mpi_agree(j->comm, rc);
    if (rc == HPCML_OK) rc = reduce_counts(j);
    profile_end();
    HPCML_TRY(rc);

    HPCML_TRY(score(j));

    /* The side files first, the predictions last (as hpcml-etl commits quality.json before
     * the dataset): new predictions never stand beside an earlier run's drift.json or
     * predict_quality.json; a failure before the last rename leaves the old predictions. */
    char path[4300];
    if (rc == HPCML_OK && j->skip_bad) {
        text_buf r = {0};
        snprintf(path, sizeof path, "%s/rejects.csv", j->outdir);
        rc = hpcml_mpi_agree(j->comm, format_rejects(j, &r));
        if (rc == HPCML_OK) rc = write_collective(j, path, &r);
        free(r.buf);
    }
    if (rc == HPCML_OK) {
        profile_begin("drift");
        rc = check_drift(j);
        profile_end();
    }
    if (rc == HPCML_OK) {
        snprintf(path, sizeof path, "%s/predict_quality.json", j->outdir);
        rc = hpcml_mpi_agree(j->comm, j->rank == 0 ? write_quality(j, path) : HPCML_OK);
    }
    if (rc == HPCML_OK) {
        profile_begin("write");
        if (ends_with(j->output, ".h5")) {
            rc = write_h5(j);
        } else {
            text_buf b = {0};
            rc = hpcml_mpi_agree(j->comm, format_predictions(j, &b));
            if (rc == HPCML_OK) rc = write_collective(j, j->output, &b);
            free(b.buf);
        }
        profile_end();
    }
    HPCML_TRY(rc);
    double t1 = MPI_Wtime();
    if (j->rank == 0) {
        log_info("scored %lld of %lld records (%lld rejected) from %d file%s on %d rank%s in "
                 "%.2f s -> %s",
                 (long long)j->rows_scored, (long long)j->rows_read, (long long)j->rows_rejected,
                 j->in.n_files, j->in.n_files == 1 ? "" : "s", j->size, j->size == 1 ? "" : "s",
                 t1 - t0, j->output);
        if (j->dataset_drift >= 0)
            log_info("drift: %s (%d of %d columns drifted) -> %s/drift.json", j->dataset_drift ? "DATASET DRIFT" : "no dataset drift",
                     j->drifted_columns, j->drift_columns, j->outdir);
        if (j->have_metrics)
            log_info("labels present: auc %.5f pr_auc %.5f f1 %.4f accuracy %.5f",
                     j->metrics.auc, j->metrics.pr_auc, j->metrics.f1, j->metrics.accuracy);
    }
    if (cfg_bool(cfg, "monitoring.profile")) rc = profile_write(j->comm, j->outdir);
    return rc;
}

int predict_run(MPI_Comm comm, const hpcml_config *cfg)
{
    predict_job *j = calloc(1, sizeof *j);
    int rc = hpcml_mpi_agree(comm, j ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory"));
    if (rc != HPCML_OK) return rc;
    j->comm = comm;
    j->cfg = cfg;
    j->rank = hpcml_mpi_rank(comm);
    j->size = hpcml_mpi_size(comm);
    j->m.file = -1;
    rc = run_stages(j);
    mlp_destroy(&j->net);
    if (j->have_metrics) dist_metrics_free(&j->metrics);
    if (j->alerts) json_decref(j->alerts);
    etl_fit_free(&j->fit);
    etl_validation_free(&j->v);
    etl_table_free(&j->t);
    etl_schema_free(&j->s);
    etl_inputs_free(&j->in);
    etl_options_free(&j->o);
    if (j->model_cfg) hpcml_config_free(j->model_cfg);
    model_file_close(&j->m);
    free(j->rows);
    free(j->probs);
    free(j->reject_reasons);
    free(j->col_counts);
    free(j);
    return rc;
}
