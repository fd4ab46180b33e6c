/* predict.c — hpcml-predict's stages in order. See predict.h. */
#include "predict/predict.h"

#include <cblas.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/preempt.h"
#include "core/profile.h"
#include "core/status.h"
#include "etl/etl_drift.h"
#include "etl/etl_extract.h"
#include "etl/etl_schema.h"
#include "etl/etl_transform.h"
#include "etl/etl_validate.h"
#include "io/drift_file.h"
#include "io/model_file.h"
#include "io/path_guard.h"
#include "io/predictions_file.h"
#include "monitor/drift_report.h"
#include "nn/backend.h"
#include "nn/mlp.h"
#include "train/dist_metrics.h"
#include "train/monitor.h"

#define FORWARD_CHUNK_ROWS 2048 /* rows per mlp_infer call (any size gives the same bits); the metrics' chunks */

typedef struct {
    char *buf;
    size_t len, cap;
} text_buf;

/* A rank's part of a CSV output (predictions, rejects): appended batch by
 * batch to a file of its own beside the output, then copied collectively
 * into the staged output at the offset of an exclusive scan. */
typedef struct {
    FILE *f;
    char path[4400];
    long long bytes;
} spill;

/* An output file of the run: written to tmp, renamed to path at the commit. */
typedef struct {
    char path[4300], tmp[4400];
    int staged; /* tmp is complete */
    int remove; /* no new file: remove path at the commit (DRIFT without drift) */
} staged_file;

enum {
    ST_REJECTS,
    ST_DRIFT_SVG,
    ST_DRIFT_JSON,
    ST_DRIFT_MARK,
    ST_QUALITY,
    ST_OUTPUT,
    ST_MANIFEST, /* written last, from the staged files' sizes; renamed last */
    ST_N
};

typedef struct {
    MPI_Comm comm;
    int rank, size;
    const hpcml_config *cfg;
    const char *model_path, *output;
    const char *const *ids;
    int n_ids;
    double threshold;
    int skip_bad, unseen_error, want_metrics, h5_out;
    int64_t batch_rows;
    long token;
    char outdir[4096];
    const char *outbase; /* predict.output's file name */

    model_file m;
    hpcml_config *model_cfg;
    etl_options o;
    etl_inputs in;
    etl_schema s;
    etl_table t;
    etl_validation v;
    etl_fit fit;
    mlp net;
    int *id_col; /* [n_ids] schema column of each id column */

    /* per batch */
    int64_t *rows; /* batch rows scored, in input order */
    int64_t n_rows;
    float *x, *probs; /* [batch][F], [batch][C] */
    int32_t *y;
    int64_t *rid;
    char **idtxt; /* h5: [n_ids][batch * width] */

    /* the read, local until reduced */
    int64_t n_scored;     /* this rank's scored rows */
    int64_t first_record; /* global number of this rank's first record */
    int local_label;      /* every scored row here has a label */
    int64_t *id_width;    /* [n_ids] longest id text (bytes) */
    int64_t *drift_words; /* the drift summary of the scored rows, packed */
    int64_t n_drift_words;
    int has_reference;
    spill rejects, preds;
    spill encoded;       /* the scored rows' features, labels, record numbers, id texts */
    int64_t rec_next;    /* local number of the batch's first record */
    /* the scoring, batch by batch from `encoded` */
    int64_t g_first; /* global scored-row number of this rank's first scored row */
    int64_t g_next;
    text_buf idb;       /* the batch's id texts */
    size_t *id_off;     /* [batch][n_ids] offset in idb; */
    uint32_t *id_len;   /* [batch][n_ids] */
    predictions_stream h5;
    int h5_open;
    float *xall; /* metrics: the encoded scored rows, kept (labelled input only) */
    int32_t *yall;
    int64_t n_all, cap_all;

    int has_label; /* every scored row has a label (global) */
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
    staged_file st[ST_N];
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

/* Test-only (HPCML_PREDICT_TEST_SWAP_MODEL=PATH): rank 0 renames PATH over
 * predict.model right after reading it, as a retraining's rename at the
 * worst moment; the run must still score with the model it read. */
static void test_swap_model(const predict_job *j)
{
    const char *other = getenv("HPCML_PREDICT_TEST_SWAP_MODEL");
    if (other && *other && rename(other, j->model_path) != 0)
        log_warn("HPCML_PREDICT_TEST_SWAP_MODEL: cannot rename %s to %s: %s", other,
                 j->model_path, strerror(errno));
}

/* Collective: rank 0 reads model.h5 once and broadcasts its bytes; every
 * rank opens that image. A model replaced (renamed over) while the ranks
 * start cannot give two ranks two models. */
static int load_model(predict_job *j)
{
    unsigned char *image = NULL;
    uint64_t len = 0;
    int rc = HPCML_OK;
    if (j->rank == 0) {
        size_t n = 0;
        rc = model_file_read_bytes(j->model_path, &image, &n);
        len = (uint64_t)n;
        if (rc == HPCML_OK) test_swap_model(j);
    }
    HPCML_TRY(hpcml_mpi_agree(j->comm, rc));
    HPCML_MPI_CHECK(MPI_Bcast(&len, 1, MPI_UINT64_T, 0, j->comm));
    if (j->rank != 0) image = malloc((size_t)len + 1);
    HPCML_ALLOC_ABORT(j->comm, image, "for the model file's bytes");
    const uint64_t piece = 1ULL << 30; /* MPI counts are int */
    for (uint64_t off = 0; off < len; off += piece) {
        int n = (int)(len - off < piece ? len - off : piece);
        HPCML_MPI_CHECK_ABORT(j->comm, MPI_Bcast(image + off, n, MPI_BYTE, 0, j->comm));
    }
    rc = model_file_open_image(j->model_path, image, (size_t)len, &j->m);
    free(image);
    rc = hpcml_mpi_agree(j->comm, rc);
    HPCML_TRY(rc);
    if (j->rank == 0 && j->m.format_version < 2)
        log_warn("%s: model format_version %d: its checksum covers the weights and config texts "
                 "but not the fitted transform (/meta); write it again with hpcml-train "
                 "--package CHECKPOINT for a checksum over everything",
                 j->model_path, j->m.format_version);
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
    /* Never write over what this run reads: the output and every side file
     * against the model and each input (by device and inode), on rank 0. */
    for (int k = 0; j->rank == 0 && k < ST_N && rc == HPCML_OK; k++) {
        const char *what = k == ST_OUTPUT ? "predict.output" : j->st[k].path;
        rc = fs_refuse_overwrite(j->st[k].path, what, j->model_path, "predict.model");
        for (int f = 0; f < j->in.n_files && rc == HPCML_OK; f++)
            rc = fs_refuse_overwrite(j->st[k].path, what, j->in.files[f].path,
                                     "an input of predict.input");
    }
    HPCML_TRY(hpcml_mpi_agree(j->comm, rc));
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

/* Local, one batch: the scored rows into j->rows, the counts per column,
 * and the errors for bad rows and unseen categories when the config says
 * so. */
static int select_rows(predict_job *j, const etl_table *t)
{
    const etl_schema *s = &j->s;
    int nc = s->n_cols;
    j->n_rows = 0;
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
        j->rows[j->n_rows++] = i;
    }
    return HPCML_OK;
}

/* The text of id column k of row i ("" for a null). */
static const char *id_text(const predict_job *j, const etl_table *t, int k, int64_t i, size_t *len)
{
    int c = j->id_col[k];
    int32_t id = t->cat[c][i];
    *len = 0;
    return id >= 0 ? etl_strtab_str(&t->strtab[c], id, len) : "";
}

/* ---- forward ------------------------------------------------------------------------- */

/* Local. A row's probabilities depend on that row alone (mlp_infer, whose
 * CPU path is nn/infer_cpu.c: no GEMM blocking that depends on the row's
 * place), so the batch is scored as it is, in pieces of the network's
 * workspace: the same bits as the trainer's evaluation for any rank count,
 * batch size and chunking, with no padding and no communication. */
static int forward_batch(predict_job *j, const float *x, int64_t n, float *probs)
{
    return dist_metrics_predict(&j->net, x, (uint64_t)n, probs);
}

/* Collective: metrics of labelled input (predict.metrics). The encoded
 * rows kept while scoring are scored again in chunks aligned on the global
 * scored-row number, chunk k going whole to the rank holding its first row
 * (one MPI_Alltoallv), through dist_metrics_evaluate: the same loss and
 * metrics as the trainer's evaluation of the same rows. */
static int metrics_aligned(predict_job *j, const float *cw)
{
    const int F = j->fit.n_features, P = j->size;
    const int64_t CH = FORWARD_CHUNK_ROWS;
    int64_t n = j->n_all;
    int64_t *first = calloc((size_t)P + 1, sizeof *first);
    int *sc = calloc((size_t)P, sizeof *sc), *sd = calloc((size_t)P, sizeof *sd);
    int *rcnt = calloc((size_t)P, sizeof *rcnt), *rd = calloc((size_t)P, sizeof *rd);
    int rc =
        first && sc && sd && rcnt && rd ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    HPCML_TRY_GOTO(rc, hpcml_mpi_agree(j->comm, rc), out);
    HPCML_MPI_CHECK_ABORT(j->comm,
                          MPI_Allgather(&n, 1, MPI_INT64_T, first + 1, 1, MPI_INT64_T, j->comm));
    for (int r = 0; r < P; r++)
        first[r + 1] += first[r];
    int64_t g0 = first[j->rank];
    for (int64_t k = 0; k < n;) {
        int64_t c0 = (g0 + k) / CH * CH;
        int o = 0; /* the rank holding the chunk's first row */
        while (o + 1 < P && first[o + 1] <= c0)
            o++;
        int64_t end = c0 + CH - g0;
        if (end > n) end = n;
        sc[o] += (int)(end - k);
        k = end;
    }
    HPCML_MPI_CHECK_ABORT(j->comm, MPI_Alltoall(sc, 1, MPI_INT, rcnt, 1, MPI_INT, j->comm));
    int64_t nr = 0;
    for (int r = 0, acc = 0; r < P; r++) {
        sd[r] = acc;
        acc += sc[r];
        rd[r] = (int)nr;
        nr += rcnt[r];
    }
    float *xr = malloc(((size_t)nr * (size_t)F + 1) * sizeof *xr);
    float *pr = malloc(((size_t)nr * (size_t)j->m.n_classes + 1) * sizeof *pr);
    int32_t *yr = malloc(((size_t)nr + 1) * sizeof *yr);
    HPCML_ALLOC_ABORT(j->comm, xr && pr && yr, "for the metrics' rows");
    MPI_Datatype row_x;
    HPCML_MPI_CHECK_ABORT(j->comm, MPI_Type_contiguous(F, MPI_FLOAT, &row_x));
    HPCML_MPI_CHECK_ABORT(j->comm, MPI_Type_commit(&row_x));
    HPCML_MPI_CHECK_ABORT(j->comm,
                          MPI_Alltoallv(j->xall, sc, sd, row_x, xr, rcnt, rd, row_x, j->comm));
    HPCML_MPI_CHECK_ABORT(
        j->comm, MPI_Alltoallv(j->yall, sc, sd, MPI_INT32_T, yr, rcnt, rd, MPI_INT32_T, j->comm));
    HPCML_MPI_CHECK_ABORT(j->comm, MPI_Type_free(&row_x));
    rc = dist_metrics_evaluate(&j->net, xr, yr, (uint64_t)nr, cw, j->threshold, j->comm,
                               &j->metrics, pr);
    j->have_metrics = rc == HPCML_OK;
    free(xr);
    free(pr);
    free(yr);
out:
    free(first);
    free(sc);
    free(sd);
    free(rcnt);
    free(rd);
    return rc;
}

/* ---- output -------------------------------------------------------------------------- */

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

static int format_header(predict_job *j, text_buf *b)
{
    for (int k = 0; k < j->n_ids; k++) {
        HPCML_TRY(tb_field(b, j->ids[k], strlen(j->ids[k]), ','));
        HPCML_TRY(tb_put(b, ",", 1));
    }
    for (int c = 0; c < j->m.n_classes; c++) {
        char name[600];
        int n = snprintf(name, sizeof name, "prob_%s", j->m.class_names[c]);
        HPCML_TRY(tb_field(b, name, (size_t)n, ','));
        HPCML_TRY(tb_put(b, ",", 1));
    }
    return tb_put(b, "predicted\n", 10);
}

/* The text of id column k of the scored batch's row r (read back from the spill). */
static const char *batch_id_text(const predict_job *j, int64_t r, int k, size_t *len)
{
    size_t at = (size_t)r * (size_t)j->n_ids + (size_t)k;
    *len = j->id_len[at];
    return j->idb.buf + j->id_off[at];
}

/* The scored batch's rows as CSV lines. */
static int format_predictions(predict_job *j, text_buf *b)
{
    const int C = j->m.n_classes;
    char num[64];
    for (int64_t r = 0; r < j->n_rows; r++) {
        for (int k = 0; k < j->n_ids; k++) {
            size_t len;
            const char *txt = batch_id_text(j, r, k, &len);
            HPCML_TRY(tb_field(b, txt, len, ','));
            HPCML_TRY(tb_put(b, ",", 1));
        }
        const float *p = j->probs + (size_t)r * (size_t)C;
        for (int c = 0; c < C; c++) {
            /* %.9g: a float32 reads back to the same bits */
            int n = snprintf(num, sizeof num, "%.9g,", (double)p[c]);
            HPCML_TRY(tb_put(b, num, (size_t)n));
        }
        const char *label = j->m.class_names[predicted_class(p, C, j->threshold)];
        HPCML_TRY(tb_field(b, label, strlen(label), ','));
        HPCML_TRY(tb_put(b, "\n", 1));
    }
    return HPCML_OK;
}

static int format_rejects(predict_job *j, const etl_table *t, text_buf *b)
{
    for (int64_t i = 0; i < t->n; i++) {
        if (scored_drop(t->drop[i])) continue;
        const char *path = j->in.files[t->file[i]].path;
        HPCML_TRY(tb_field(b, path, strlen(path), ','));
        char line[64];
        int n = snprintf(line, sizeof line, ",%lld,", (long long)t->line[i]);
        HPCML_TRY(tb_put(b, line, (size_t)n));
        const char *why = reject_reason(t->drop[i]);
        HPCML_TRY(tb_field(b, why, strlen(why), ','));
        HPCML_TRY(tb_put(b, "\n", 1));
    }
    return HPCML_OK;
}

/* ---- spills and staged files ------------------------------------------------------------ */

/* "<outdir>/.<output's name>.<what>.r<rank>.tmp.<host>.<pid>": this rank's
 * own temp name (atomic_tmp_name), so a later run on this host removes it
 * when this process is gone (remove_stale_temps); a signal removes it now. */
static int spill_open(predict_job *j, spill *sp, const char *what)
{
    char base[4300];
    snprintf(base, sizeof base, "%s/.%s.%s.r%d", j->outdir, j->outbase, what, j->rank);
    atomic_tmp_name(sp->path, sizeof sp->path, base, (long)getpid());
    atomic_tmp_track(sp->path);
    sp->f = fopen(sp->path, "w+x");
    if (!sp->f) atomic_tmp_untrack(sp->path);
    HPCML_CHECK(sp->f, HPCML_EIO, "cannot create %s: %s", sp->path, strerror(errno));
    setvbuf(sp->f, NULL, _IOFBF, 1 << 20);
    sp->bytes = 0;
    return HPCML_OK;
}

static int spill_write(spill *sp, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, sp->f) != n)
        return HPCML_FAIL(HPCML_EIO, "cannot write %s: %s", sp->path, strerror(errno));
    sp->bytes += (long long)n;
    return HPCML_OK;
}

/* Reads exactly n bytes; 0 bytes at the end of the file is *eof = 1. */
static int spill_read(spill *sp, void *p, size_t n, int *eof)
{
    size_t got = n ? fread(p, 1, n, sp->f) : 0;
    if (eof && got == 0 && feof(sp->f)) {
        *eof = 1;
        return HPCML_OK;
    }
    HPCML_CHECK(got == n, HPCML_EIO, "cannot read back %s: %s", sp->path,
                ferror(sp->f) ? strerror(errno) : "shorter than written");
    return HPCML_OK;
}

static int spill_rewind(spill *sp)
{
    HPCML_CHECK(fflush(sp->f) == 0 && fseek(sp->f, 0, SEEK_SET) == 0, HPCML_EIO,
                "cannot read back %s: %s", sp->path, strerror(errno));
    return HPCML_OK;
}

/* Appends b to the spill and empties b. */
static int spill_put(spill *sp, text_buf *b)
{
    HPCML_TRY(spill_write(sp, b->buf, b->len));
    b->len = 0;
    return HPCML_OK;
}

static void spill_remove(spill *sp)
{
    if (sp->f) {
        fclose(sp->f);
        unlink(sp->path);
        atomic_tmp_untrack(sp->path);
    }
    sp->f = NULL;
}

/* Collective: each rank's spill at its exclusive-scan offset of tmp, then
 * fsync; the spills are removed. Nothing is renamed here (the commit does). */
static int spill_commit(predict_job *j, spill *sp, const char *tmp)
{
    long long mine = sp->bytes, before = 0;
    int rc = spill_rewind(sp);
    HPCML_TRY(hpcml_mpi_agree(j->comm, rc));
    HPCML_MPI_CHECK(MPI_Exscan(&mine, &before, 1, MPI_LONG_LONG, MPI_SUM, j->comm));
    if (j->rank == 0) before = 0;
    if (j->rank == 0) unlink(tmp);
    HPCML_MPI_CHECK(MPI_Barrier(j->comm));
    MPI_File fh;
    rc = MPI_File_open(j->comm, tmp, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh) ==
                 MPI_SUCCESS
             ? HPCML_OK
             : HPCML_FAIL(HPCML_EIO, "cannot create %s", tmp);
    HPCML_TRY(hpcml_mpi_agree(j->comm, rc));
    hpcml_pause_point("predict.write"); /* test hook: the output's temp exists */
    /* Pieces of at most 8 MiB, the same number of collective calls on every rank. */
    const long long piece = 8LL << 20;
    char *buf = malloc((size_t)piece);
    HPCML_ALLOC_ABORT(j->comm, buf, "for the output copy");
    long long n_pieces = (mine + piece - 1) / piece, max_pieces = 0;
    HPCML_MPI_CHECK_ABORT(
        j->comm, MPI_Allreduce(&n_pieces, &max_pieces, 1, MPI_LONG_LONG, MPI_MAX, j->comm));
    for (long long k = 0; k < max_pieces; k++) {
        long long lo = k * piece, n = mine - lo;
        n = n < 0 ? 0 : n > piece ? piece : n;
        if (n > 0 && fread(buf, 1, (size_t)n, sp->f) != (size_t)n && rc == HPCML_OK)
            rc = HPCML_FAIL(HPCML_EIO, "cannot read back %s", sp->path);
        MPI_Status st;
        int written = 0;
        /* A full file system can make the write "succeed" short (ROMIO on
         * ENOSPC): the count decides, not the return code alone. */
        if (MPI_File_write_at_all(fh, (MPI_Offset)(before + lo), buf, (int)n, MPI_CHAR, &st) !=
                MPI_SUCCESS ||
            MPI_Get_count(&st, MPI_CHAR, &written) != MPI_SUCCESS || written != (int)n) {
            if (rc == HPCML_OK)
                rc = HPCML_FAIL(HPCML_EIO,
                                "cannot write %s: wrote %d of %lld bytes (file system full?)", tmp,
                                written, n);
        }
    }
    free(buf);
    if (MPI_File_sync(fh) != MPI_SUCCESS && rc == HPCML_OK)
        rc = HPCML_FAIL(HPCML_EIO, "cannot sync %s", tmp);
    if (MPI_File_close(&fh) != MPI_SUCCESS && rc == HPCML_OK)
        rc = HPCML_FAIL(HPCML_EIO, "cannot close %s", tmp);
    spill_remove(sp);
    /* The file's size is the last word: every rank's bytes must be there. */
    long long total = 0;
    HPCML_MPI_CHECK_ABORT(j->comm,
                          MPI_Allreduce(&mine, &total, 1, MPI_LONG_LONG, MPI_SUM, j->comm));
    struct stat sb;
    if (j->rank == 0 && rc == HPCML_OK) {
        long long held = stat(tmp, &sb) == 0 ? (long long)sb.st_size : -1LL;
        if (held != total)
            rc = HPCML_FAIL(HPCML_EIO,
                            "cannot write %s: it holds %lld of %lld bytes (file system full?)", tmp,
                            held, total);
    }
    return hpcml_mpi_agree(j->comm, rc);
}

#define MANIFEST "predict_manifest.json"

/* Collective: the final and temp names of every file of the commit; the
 * temp names are rank 0's (its host and pid), the same on every rank. Rank
 * 0 tracks them all for the signal cleanup; the others the predictions'
 * temp, which they write too. */
static int stage_init(predict_job *j)
{
    static const char *const side[ST_N] = {"rejects.csv", "drift.svg", "drift.json", "DRIFT",
                                           "predict_quality.json", NULL, MANIFEST};
    for (int k = 0; k < ST_N; k++) {
        staged_file *f = &j->st[k];
        if (k == ST_OUTPUT) /* predict.output as given; the side files beside it */
            snprintf(f->path, sizeof f->path, "%s", j->output);
        else
            snprintf(f->path, sizeof f->path, "%s/%s", j->outdir, side[k]);
        HPCML_TRY(hpcml_mpi_tmp_name(j->comm, f->path, f->tmp, sizeof f->tmp));
        if (j->rank == 0 || k == ST_OUTPUT) atomic_tmp_track(f->tmp);
    }
    return HPCML_OK;
}

/* Rank 0, after every file of the run is complete under its temp name:
 * predict_manifest.json is staged too, naming the set and the size of each
 * file. Everything that writes data (and can fail on a full disk) is done
 * before the previous run's files are touched. */
static int stage_manifest(predict_job *j)
{
    json_t *files = json_object(), *m = json_object();
    int rc = HPCML_OK;
    for (int k = 0; k < ST_N && rc == HPCML_OK; k++) {
        staged_file *f = &j->st[k];
        struct stat sb;
        if (!f->staged) continue;
        if (stat(f->tmp, &sb) != 0) {
            rc = HPCML_FAIL(HPCML_EIO, "cannot stat %s: %s", f->tmp, strerror(errno));
            break;
        }
        char copy[4300];
        snprintf(copy, sizeof copy, "%s", f->path);
        json_t *o = json_object();
        json_object_set_new(o, "bytes", json_integer((json_int_t)sb.st_size));
        json_object_set_new(files, basename(copy), o);
    }
    json_object_set_new(m, "format", json_string("hpcml-predict-manifest"));
    json_object_set_new(m, "version", json_integer(1));
    char run[128];
    snprintf(run, sizeof run, "%ld", j->token);
    json_object_set_new(m, "run", json_string(run));
    json_object_set_new(m, "files", files);
    if (rc == HPCML_OK) rc = atomic_write_json(j->st[ST_MANIFEST].tmp, m, JSON_INDENT(2) | JSON_SORT_KEYS);
    j->st[ST_MANIFEST].staged = rc == HPCML_OK;
    json_decref(m);
    return rc;
}

/* Rank 0, after every file is staged: the manifest of the previous run
 * goes first, then each file is renamed into place (the predictions, then
 * the new manifest, last). Only renames and removals are left here, no
 * writes. A crash in between leaves no manifest: the directory holds a
 * mixed or incomplete set, and says so. */
static int commit_files(predict_job *j)
{
    const char *mpath = j->st[ST_MANIFEST].path;
    if (unlink(mpath) != 0 && errno != ENOENT)
        return HPCML_FAIL(HPCML_EIO, "cannot remove the previous %s: %s", mpath, strerror(errno));
    int rc = HPCML_OK;
    for (int k = 0; k < ST_N && rc == HPCML_OK; k++) {
        staged_file *f = &j->st[k];
        if (k == ST_OUTPUT && hpcml_fault_point("predict.kill_before_output", j->rank, HPCML_EIO))
            raise(SIGKILL); /* test-only: a crash between the renames */
        if (f->staged) {
            rc = atomic_rename_durable(f->tmp, f->path);
            f->staged = 0;
        } else if (f->remove) {
            if (unlink(f->path) != 0 && errno != ENOENT)
                rc = HPCML_FAIL(HPCML_EIO, "cannot remove the previous %s: %s", f->path,
                                strerror(errno));
        }
    }
    return rc;
}

/* Removes what this run staged and did not commit (rank 0: every temp
 * name; the others: none, rank 0 owns them), and stops tracking them. */
static void discard_staged(predict_job *j)
{
    for (int k = 0; k < ST_N; k++) {
        if (!j->st[k].tmp[0]) continue;
        if (j->rank == 0) unlink(j->st[k].tmp);
        atomic_tmp_untrack(j->st[k].tmp);
    }
}

/* Collective, before this run makes any temp file: the temps of earlier
 * runs for this output that were killed (SIGKILL leaves them), on each
 * host by one of its ranks: this output's staged names
 * ("<name>.tmp.<host>.<pid>") and the ranks' spills
 * (".<output's name>.<what>.r<rank>.tmp.<host>.<pid>"). A temp is removed
 * only when its host is this one and its process is gone
 * (atomic_tmp_remove_stale); nothing else in the directory is touched. */
static int remove_stale_temps(predict_job *j)
{
    MPI_Comm node;
    int node_rank = 0, rc = HPCML_OK;
    HPCML_MPI_CHECK(MPI_Comm_split_type(j->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
    HPCML_MPI_CHECK(MPI_Comm_rank(node, &node_rank));
    MPI_Comm_free(&node);
    if (node_rank == 0) {
        char prefix[4400];
        snprintf(prefix, sizeof prefix, ".%s.", j->outbase);
        rc = atomic_tmp_remove_stale(j->outdir, prefix, NULL);
        for (int k = 0; k < ST_N && rc == HPCML_OK; k++) {
            const char *name = strrchr(j->st[k].path, '/');
            snprintf(prefix, sizeof prefix, "%s.tmp.", name ? name + 1 : j->st[k].path);
            rc = atomic_tmp_remove_stale(j->outdir, prefix, NULL);
        }
    }
    return hpcml_mpi_agree(j->comm, rc);
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
    if (!j->has_reference) {
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
    /* The batches' summaries were added up in the read; an empty summary of
     * the same columns takes them, then the ranks' sums are merged. */
    rc = etl_drift_summary(MPI_COMM_SELF, &j->s, &j->t, &j->fit, NULL, 0, &cur);
    if (rc == HPCML_OK && j->drift_words) {
        if (drift_set_n_words(&cur) != j->n_drift_words)
            rc = HPCML_FAIL(HPCML_EINTERNAL, "drift summary: %lld words, expected %lld",
                            (long long)j->n_drift_words, (long long)drift_set_n_words(&cur));
        else
            drift_set_unpack(&cur, j->drift_words);
    }
    rc = hpcml_mpi_agree(j->comm, rc);
    if (rc == HPCML_OK) rc = drift_set_allreduce(j->comm, &cur);
    drift_options dopt;
    drift_result res;
    memset(&res, 0, sizeof res);
    if (rc == HPCML_OK) rc = drift_options_load(j->cfg, &dopt);
    const char *bad = NULL;
    if (rc == HPCML_OK && drift_compare(&ref, &cur, &dopt, &res, &bad) != 0)
        rc = HPCML_FAIL(HPCML_EDATA,
                        "%s: the drift reference's column '%s' does not match the "
                        "model's transform",
                        j->model_path, bad ? bad : "?");
    rc = hpcml_mpi_agree(j->comm, rc);
    if (rc == HPCML_OK && j->rank == 0) {
        rc = drift_write_json(j->st[ST_DRIFT_JSON].tmp, j->model_path, &res);
        j->st[ST_DRIFT_JSON].staged = rc == HPCML_OK;
        if (rc == HPCML_OK) rc = drift_write_svg(j->st[ST_DRIFT_SVG].tmp, &res);
        j->st[ST_DRIFT_SVG].staged = rc == HPCML_OK;
        if (rc == HPCML_OK && res.dataset_drift) {
            char text[512];
            snprintf(text, sizeof text,
                     "dataset drift: %d of %d columns drifted (share %.3f >= "
                     "%.3f); see drift.json\n",
                     res.drifted_columns, res.n_cols,
                     res.n_cols ? (double)res.drifted_columns / res.n_cols : 0.0, res.drift_share);
            rc = atomic_write_text(j->st[ST_DRIFT_MARK].tmp, text);
            j->st[ST_DRIFT_MARK].staged = rc == HPCML_OK;
        } else if (rc == HPCML_OK) {
            j->st[ST_DRIFT_MARK].remove = 1;
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
    json_object_set_new(q, "batch_rows", json_integer(j->batch_rows));
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
    json_object_set_new(q, "metrics",
                        j->have_metrics ? dist_metrics_json(&j->metrics) : json_null());
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

/* ---- the batches ----------------------------------------------------------------------- */

/* Local, one batch of the read: what is counted, summarized and rejected. */
static int count_batch(predict_job *j, const etl_table *t)
{
    j->n_scored += j->n_rows;
    for (int64_t r = 0; r < j->n_rows && j->local_label; r++)
        if (t->label[j->rows[r]] < 0) j->local_label = 0;
    for (int k = 0; k < j->n_ids; k++)
        for (int64_t r = 0; r < j->n_rows; r++) {
            size_t len;
            id_text(j, t, k, j->rows[r], &len);
            if ((int64_t)len > j->id_width[k]) j->id_width[k] = (int64_t)len;
        }
    if (j->skip_bad) {
        text_buf b = {0};
        int rc = format_rejects(j, t, &b);
        if (rc == HPCML_OK) rc = spill_put(&j->rejects, &b);
        free(b.buf);
        HPCML_TRY(rc);
    }
    if (!j->has_reference) return HPCML_OK;
    drift_set d;
    int rc = etl_drift_summary(MPI_COMM_SELF, &j->s, t, &j->fit, j->rows, j->n_rows, &d);
    int64_t nw = rc == HPCML_OK ? drift_set_n_words(&d) : 0;
    int64_t *w = rc == HPCML_OK ? malloc(((size_t)nw + 1) * sizeof *w) : NULL;
    if (rc == HPCML_OK && !j->drift_words) {
        j->drift_words = calloc((size_t)nw + 1, sizeof *j->drift_words);
        j->n_drift_words = nw;
    }
    if (rc == HPCML_OK && (!w || !j->drift_words))
        rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory (drift summary)");
    if (rc == HPCML_OK) {
        drift_set_pack(&d, w);
        for (int64_t k = 0; k < nw; k++)
            j->drift_words[k] += w[k];
    }
    free(w);
    drift_set_free(&d);
    return rc;
}

/* Local, one batch of the read: the scored rows encoded (the ETL's
 * transform) and appended to this rank's spill with what the output needs
 * of them: the header {rows, id bytes}, then the features [n][F], the
 * labels [n], the local record numbers [n] and the id texts (per row and id
 * column: a uint32 length and the bytes). The scoring reads them back once
 * the global row numbers are known (score_spilled). */
static int encode_batch(predict_job *j, const etl_table *t)
{
    const int F = j->fit.n_features;
    int64_t n = j->n_rows;
    profile_begin("transform");
    etl_encode_rows(&j->s, &j->fit, t, j->rows, n, j->x);
    profile_end();
    j->idb.len = 0;
    int rc = HPCML_OK;
    for (int64_t r = 0; r < n && rc == HPCML_OK; r++) {
        j->y[r] = t->label[j->rows[r]];
        j->rid[r] = j->rec_next + j->rows[r];
        for (int k = 0; k < j->n_ids && rc == HPCML_OK; k++) {
            size_t len;
            const char *txt = id_text(j, t, k, j->rows[r], &len);
            uint32_t l32 = (uint32_t)len;
            rc = tb_put(&j->idb, (const char *)&l32, sizeof l32);
            if (rc == HPCML_OK) rc = tb_put(&j->idb, txt, len);
        }
    }
    int64_t head[2] = {n, (int64_t)j->idb.len};
    profile_begin("spill");
    if (rc == HPCML_OK) rc = spill_write(&j->encoded, head, sizeof head);
    if (rc == HPCML_OK) rc = spill_write(&j->encoded, j->x, (size_t)n * (size_t)F * sizeof *j->x);
    if (rc == HPCML_OK) rc = spill_write(&j->encoded, j->y, (size_t)n * sizeof *j->y);
    if (rc == HPCML_OK) rc = spill_write(&j->encoded, j->rid, (size_t)n * sizeof *j->rid);
    if (rc == HPCML_OK) rc = spill_write(&j->encoded, j->idb.buf, j->idb.len);
    profile_end();
    hpcml_pause_point("predict.spill"); /* test hook: a batch is in the spill */
    return rc;
}

/* Local: the next batch of the spill into x, y, rid and the id texts;
 * *n = 0 at its end. */
static int read_spilled(predict_job *j, int64_t *n)
{
    const int F = j->fit.n_features;
    int64_t head[2];
    int eof = 0;
    *n = 0;
    HPCML_TRY(spill_read(&j->encoded, head, sizeof head, &eof));
    if (eof) return HPCML_OK;
    HPCML_CHECK(head[0] >= 0 && head[0] <= j->batch_rows && head[1] >= 0, HPCML_EINTERNAL,
                "%s: a batch header out of range", j->encoded.path);
    HPCML_TRY(spill_read(&j->encoded, j->x, (size_t)head[0] * (size_t)F * sizeof *j->x, NULL));
    HPCML_TRY(spill_read(&j->encoded, j->y, (size_t)head[0] * sizeof *j->y, NULL));
    HPCML_TRY(spill_read(&j->encoded, j->rid, (size_t)head[0] * sizeof *j->rid, NULL));
    j->idb.len = 0;
    HPCML_TRY(tb_reserve(&j->idb, (size_t)head[1]));
    HPCML_TRY(spill_read(&j->encoded, j->idb.buf, (size_t)head[1], NULL));
    size_t at = 0;
    for (int64_t r = 0; r < head[0]; r++)
        for (int k = 0; k < j->n_ids; k++) {
            size_t e = (size_t)r * (size_t)j->n_ids + (size_t)k;
            uint32_t l32;
            HPCML_CHECK(at + sizeof l32 <= (size_t)head[1], HPCML_EINTERNAL,
                        "%s: id texts out of range", j->encoded.path);
            memcpy(&l32, j->idb.buf + at, sizeof l32);
            at += sizeof l32;
            HPCML_CHECK(at + l32 <= (size_t)head[1], HPCML_EINTERNAL,
                        "%s: id texts out of range", j->encoded.path);
            j->id_off[e] = at;
            j->id_len[e] = l32;
            at += l32;
        }
    *n = head[0];
    j->n_rows = head[0];
    return HPCML_OK;
}

/* Local, one spilled batch: forward, output (and the rows kept for the
 * metrics). */
static int score_batch(predict_job *j, int64_t n)
{
    const int F = j->fit.n_features;
    profile_begin("forward");
    int rc = forward_batch(j, j->x, n, j->probs);
    profile_end();
    if (rc == HPCML_OK && j->has_label && j->want_metrics) {
        if (j->n_all + n > j->cap_all) {
            int64_t cap = j->cap_all ? j->cap_all * 2 : 4 * j->batch_rows;
            while (cap < j->n_all + n)
                cap *= 2;
            float *nx = realloc(j->xall, (size_t)cap * (size_t)F * sizeof *nx);
            if (nx) j->xall = nx;
            int32_t *ny = realloc(j->yall, (size_t)cap * sizeof *ny);
            if (ny) j->yall = ny;
            if (!nx || !ny)
                rc = HPCML_FAIL(HPCML_EINTERNAL,
                                "out of memory keeping %lld rows for the "
                                "metrics (predict.metrics = false scores in constant memory)",
                                (long long)cap);
            else
                j->cap_all = cap;
        }
        if (rc == HPCML_OK) {
            memcpy(j->xall + (size_t)j->n_all * (size_t)F, j->x,
                   (size_t)n * (size_t)F * sizeof *j->x);
            memcpy(j->yall + j->n_all, j->y, (size_t)n * sizeof *j->y);
            j->n_all += n;
        }
    }
    profile_begin("write");
    if (rc == HPCML_OK && j->h5_out) {
        for (int64_t r = 0; r < n; r++)
            j->rid[r] += j->first_record;
        for (int k = 0; k < j->n_ids; k++) {
            size_t wd = j->id_width[k] > 0 ? (size_t)j->id_width[k] : 1;
            memset(j->idtxt[k], 0, (size_t)n * wd);
            for (int64_t r = 0; r < n; r++) {
                size_t len;
                const char *txt = batch_id_text(j, r, k, &len);
                memcpy(j->idtxt[k] + (size_t)r * wd, txt, len);
            }
        }
        rc = predictions_stream_write(&j->h5, (uint64_t)j->g_next, (uint64_t)n, j->rid, j->y,
                                      j->probs, j->idtxt);
    } else if (rc == HPCML_OK) {
        text_buf b = {0};
        rc = format_predictions(j, &b);
        if (rc == HPCML_OK) rc = spill_put(&j->preds, &b);
        free(b.buf);
    }
    profile_end();
    j->g_next += n;
    return rc;
}

/* Local: every spilled batch of this rank, in order, from global scored
 * row g_first on. */
static int score_spilled(predict_job *j)
{
    j->g_next = j->g_first;
    HPCML_TRY(spill_rewind(&j->encoded));
    for (;;) {
        int64_t n;
        HPCML_TRY(read_spilled(j, &n));
        if (n == 0) break;
        HPCML_TRY(score_batch(j, n));
    }
    spill_remove(&j->encoded); /* read: its space is free for the output */
    return HPCML_OK;
}

static int on_batch(void *ctx, etl_table *t)
{
    predict_job *j = ctx;
    int rc = etl_validate_rows(&j->o, &j->s, &j->in, t, &j->v);
    if (rc == HPCML_OK) rc = etl_fit_bind(&j->fit, &j->s, t);
    if (rc == HPCML_OK) rc = select_rows(j, t);
    if (rc == HPCML_OK) rc = count_batch(j, t);
    if (rc == HPCML_OK) rc = encode_batch(j, t);
    j->rec_next += t->n;
    return rc;
}

/* Collective: the read's counts over all ranks, and where each rank's
 * scored rows start. */
static int reduce_counts(predict_job *j)
{
    int nc = j->s.n_cols;
    int64_t head[3] = {j->t.total_rows, j->n_scored, 0};
    HPCML_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, head + 1, 1, MPI_INT64_T, MPI_SUM, j->comm));
    j->rows_read = head[0];
    j->rows_scored = head[1];
    j->rows_rejected = head[0] - head[1];
    HPCML_MPI_CHECK(
        MPI_Allreduce(MPI_IN_PLACE, j->reject_reasons, ETL_DROP_N, MPI_INT64_T, MPI_SUM, j->comm));
    for (int c = 0; c < nc; c++)
        j->col_counts[4 * c] = j->t.nulls[c];
    HPCML_MPI_CHECK(
        MPI_Allreduce(MPI_IN_PLACE, j->col_counts, 4 * nc, MPI_INT64_T, MPI_SUM, j->comm));
    /* Metrics need every scored row's label. */
    int local = j->s.label_col >= 0 && j->local_label;
    HPCML_MPI_CHECK(MPI_Allreduce(&local, &j->has_label, 1, MPI_INT, MPI_MIN, j->comm));
    if (j->n_ids > 0)
        HPCML_MPI_CHECK(
            MPI_Allreduce(MPI_IN_PLACE, j->id_width, j->n_ids, MPI_INT64_T, MPI_MAX, j->comm));
    int64_t before = 0;
    HPCML_MPI_CHECK(MPI_Exscan(&j->n_scored, &before, 1, MPI_INT64_T, MPI_SUM, j->comm));
    j->g_first = j->rank == 0 ? 0 : before;
    j->first_record = j->t.first_row;
    return HPCML_OK;
}

/* Local: the batch buffers, the network, the id columns, the spills. */
static int setup(predict_job *j)
{
    const int F = j->fit.n_features, C = j->m.n_classes;
    const size_t B = (size_t)j->batch_rows;
    /* One BLAS thread per rank: the ranks are the parallelism (mlp_infer
     * itself calls no BLAS; the metrics' evaluation may). */
    openblas_set_num_threads(1);
    HPCML_TRY(mlp_create(&j->net, &nn_backend_cpu, &j->m.shape, FORWARD_CHUNK_ROWS));
    HPCML_TRY(mlp_set_params(&j->net, j->m.params));
    HPCML_ALLOC_ARRAY(j->rows, B);
    HPCML_ALLOC_ARRAY(j->x, B * (size_t)F);
    HPCML_ALLOC_ARRAY(j->probs, B * (size_t)C);
    HPCML_ALLOC_ARRAY(j->y, B);
    HPCML_ALLOC_ARRAY(j->rid, B);
    HPCML_ALLOC_ARRAY(j->id_off, B * (size_t)j->n_ids + 1);
    HPCML_ALLOC_ARRAY(j->id_len, B * (size_t)j->n_ids + 1);
    j->reject_reasons = calloc(ETL_DROP_N, sizeof *j->reject_reasons);
    j->col_counts = calloc(4 * (size_t)j->s.n_cols + 1, sizeof *j->col_counts);
    j->id_col = calloc((size_t)j->n_ids + 1, sizeof *j->id_col);
    j->id_width = calloc((size_t)j->n_ids + 1, sizeof *j->id_width);
    j->idtxt = calloc((size_t)j->n_ids + 1, sizeof *j->idtxt);
    HPCML_CHECK(j->reject_reasons && j->col_counts && j->id_col && j->id_width && j->idtxt,
                HPCML_EINTERNAL, "out of memory");
    for (int k = 0; k < j->n_ids; k++)
        for (int c = 0; c < j->s.n_cols; c++)
            if (!strcmp(j->s.cols[c].name, j->ids[k])) j->id_col[k] = c;
    j->local_label = 1;
    j->has_reference = H5Lexists(j->m.file, "/meta/drift", H5P_DEFAULT) > 0;
    HPCML_TRY(spill_open(j, &j->encoded, "rows"));
    if (j->skip_bad) HPCML_TRY(spill_open(j, &j->rejects, "rejects"));
    if (!j->h5_out) {
        HPCML_TRY(spill_open(j, &j->preds, "predictions"));
        if (j->rank == 0) {
            text_buf b = {0};
            int rc = format_header(j, &b);
            if (rc == HPCML_OK) rc = spill_put(&j->preds, &b);
            free(b.buf);
            HPCML_TRY(rc);
        }
    }
    if (j->skip_bad && j->rank == 0) {
        text_buf b = {0};
        int rc = tb_put(&b, "file,line,reason\n", 17);
        if (rc == HPCML_OK) rc = spill_put(&j->rejects, &b);
        free(b.buf);
        HPCML_TRY(rc);
    }
    return HPCML_OK;
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
    j->want_metrics = cfg_bool(cfg, "predict.metrics");
    j->batch_rows = cfg_int(cfg, "predict.batch_rows");
    HPCML_CHECK(ends_with(j->output, ".csv") || ends_with(j->output, ".h5"), HPCML_EUSAGE,
                "predict.output: '%s' must end in .csv or .h5", j->output);
    j->h5_out = ends_with(j->output, ".h5");
    dir_of(j->output, j->outdir, sizeof j->outdir);
    const char *slash = strrchr(j->output, '/');
    j->outbase = slash ? slash + 1 : j->output;
    int rc = j->rank == 0 ? fs_mkdir_p(j->outdir) : HPCML_OK;
    HPCML_TRY(hpcml_mpi_agree(j->comm, rc));
    j->token = (long)getpid();
    HPCML_MPI_CHECK(MPI_Bcast(&j->token, 1, MPI_LONG, 0, j->comm));
    HPCML_TRY(stage_init(j));
    double t0 = MPI_Wtime();

    profile_begin("model");
    rc = load_model(j);
    profile_end();
    HPCML_TRY(rc);
    profile_begin("plan");
    rc = plan_inputs(j);
    profile_end();
    HPCML_TRY(rc);
    HPCML_TRY(remove_stale_temps(j));
    rc = hpcml_mpi_agree(j->comm, setup(j));
    HPCML_TRY(rc);

    /* The read, once: parse and check every record, count, summarize for
     * drift, reject, encode the scored rows into this rank's spill. A bad
     * record (on_bad_row = "error") ends the run here, before any output
     * exists. Scoring waits for the global row numbers (forward_batch). */
    profile_begin("read");
    rc = etl_validation_init(&j->v, j->s.n_cols);
    rc = hpcml_mpi_agree(j->comm, rc);
    if (rc == HPCML_OK)
        rc = etl_extract_batches(j->comm, &j->o, &j->s, &j->in, j->batch_rows, on_batch, j, &j->t);
    if (rc == HPCML_OK) rc = reduce_counts(j);
    profile_end();
    HPCML_TRY(rc);
    profile_begin("drift");
    rc = check_drift(j);
    profile_end();
    HPCML_TRY(rc);
    if (j->skip_bad) {
        rc = spill_commit(j, &j->rejects, j->st[ST_REJECTS].tmp);
        if (j->rank == 0) j->st[ST_REJECTS].staged = rc == HPCML_OK;
        HPCML_TRY(rc);
    }
    if (j->h5_out) {
        for (int k = 0; k < j->n_ids; k++) {
            size_t wd = j->id_width[k] > 0 ? (size_t)j->id_width[k] : 1;
            j->idtxt[k] = malloc((size_t)j->batch_rows * wd);
            if (!j->idtxt[k]) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory for the id texts");
        }
        HPCML_TRY(hpcml_mpi_agree(j->comm, rc));
        rc = predictions_stream_create(&j->h5, j->st[ST_OUTPUT].tmp, j->comm, "predict",
                                       (uint64_t)j->rows_scored, j->m.n_classes, j->threshold,
                                       j->n_ids, j->ids, j->id_width);
        HPCML_TRY(rc);
        j->h5_open = 1;
    }

    /* The scoring: the spilled rows, forward, write; the rows of this rank
     * start at global scored row g_first. */
    profile_begin("score");
    rc = hpcml_mpi_agree(j->comm, score_spilled(j));
    profile_end();
    if (rc == HPCML_OK && j->has_label && j->want_metrics) {
        float *cw = malloc(((size_t)j->m.n_classes + 1) * sizeof *cw);
        for (int c = 0; cw && c < j->m.n_classes; c++)
            cw[c] = (float)j->m.class_weights[c];
        rc = hpcml_mpi_agree(j->comm, cw ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory"));
        profile_begin("metrics");
        if (rc == HPCML_OK) rc = metrics_aligned(j, cw);
        profile_end();
        free(cw);
    }
    profile_begin("commit");
    if (j->h5_out) {
        int rc2 = predictions_stream_close(&j->h5, j->comm);
        j->h5_open = 0;
        if (rc == HPCML_OK) rc = rc2;
    } else if (rc == HPCML_OK) {
        rc = spill_commit(j, &j->preds, j->st[ST_OUTPUT].tmp);
    }
    if (rc == HPCML_OK && j->rank == 0) {
        j->st[ST_OUTPUT].staged = 1;
        rc = write_quality(j, j->st[ST_QUALITY].tmp);
        j->st[ST_QUALITY].staged = rc == HPCML_OK;
        if (rc == HPCML_OK) rc = stage_manifest(j);
    }
    rc = hpcml_mpi_agree(j->comm, rc);
    /* test-only: a failure after every file is staged, before the commit */
    if (rc == HPCML_OK)
        rc = hpcml_mpi_agree(j->comm, hpcml_fault_point("predict.commit", j->rank, HPCML_EIO));
    /* The commit: every file is complete under its temp name; rank 0 renames them. */
    if (rc == HPCML_OK) rc = hpcml_mpi_agree(j->comm, j->rank == 0 ? commit_files(j) : HPCML_OK);
    profile_end();
    HPCML_TRY(rc);
    double t1 = MPI_Wtime();
    if (j->rank == 0) {
        log_info("scored %lld of %lld records (%lld rejected) from %d file%s on %d rank%s in "
                 "%.2f s -> %s",
                 (long long)j->rows_scored, (long long)j->rows_read, (long long)j->rows_rejected,
                 j->in.n_files, j->in.n_files == 1 ? "" : "s", j->size, j->size == 1 ? "" : "s",
                 t1 - t0, j->output);
        if (j->dataset_drift >= 0)
            log_info("drift: %s (%d of %d columns drifted) -> %s/drift.json",
                     j->dataset_drift ? "DATASET DRIFT" : "no dataset drift", j->drifted_columns,
                     j->drift_columns, j->outdir);
        if (j->have_metrics)
            log_info("labels present: auc %.5f pr_auc %.5f f1 %.4f accuracy %.5f", j->metrics.auc,
                     j->metrics.pr_auc, j->metrics.f1, j->metrics.accuracy);
    }
    rc = profile_write(j->comm, j->outdir); /* as monitoring.profile / .trace say */
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
    for (int k = 0; k < 5; k++)
        j->h5.ds[k] = -1;
    j->h5.file = -1;
    rc = run_stages(j);
    if (j->h5_open) predictions_stream_close(&j->h5, comm);
    spill_remove(&j->encoded);
    spill_remove(&j->rejects);
    spill_remove(&j->preds);
    discard_staged(j); /* after a commit: only the untracking is left */
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
    free(j->x);
    free(j->probs);
    free(j->y);
    free(j->rid);
    free(j->id_off);
    free(j->id_len);
    free(j->idb.buf);
    for (int k = 0; j->idtxt && k < j->n_ids; k++)
        free(j->idtxt[k]);
    free(j->idtxt);
    free(j->id_col);
    free(j->id_width);
    free(j->drift_words);
    free(j->xall);
    free(j->yall);
    free(j->reject_reasons);
    free(j->col_counts);
    free(j);
    return rc;
}
