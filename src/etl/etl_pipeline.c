/* etl_pipeline.c — the ETL's stages in order. See etl_pipeline.h. */
#define _GNU_SOURCE /* fallocate */
#include "etl/etl_pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/clock.h"
#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/preempt.h"
#include "core/profile.h"
#include "core/sha256.h"
#include "core/status.h"
#include "core/version.h"
#include "etl/etl_drift.h"
#include "etl/etl_extract.h"
#include "etl/etl_schema.h"
#include "etl/etl_split.h"
#include "etl/etl_stats.h"
#include "etl/etl_table.h"
#include "etl/etl_transform.h"
#include "etl/etl_validate.h"
#include "etl/parse_number.h"
#include "io/dataset_layout.h"
#include "io/drift_file.h"
#include "io/h5_dataset_write.h"
#include "io/h5_util.h"

#define N_CLASSES 2

static void dir_of(const char *path, char *out, size_t n)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(out, n, "%s", dirname(copy));
}

/* ---- the run's state ---------------------------------------------------------- */

typedef struct {
    MPI_Comm comm;
    int rank, size;
    const hpcml_config *cfg;
    hpcml_config *own_cfg; /* cfg with the detected etl.delimiter (or NULL) */
    etl_options o;
    etl_inputs in;
    etl_schema s;
    etl_table t;
    etl_validation v;
    etl_fit fit;
    drift_set drift; /* the train split's drift reference (/meta/drift) */
    int64_t drift_rows;
    etl_resample_plan resample;
    char **sha256; /* [file] hex */
    char *sha_buf;

    /* global counts (after reduction) */
    int64_t class_valid[N_CLASSES];
    int64_t split_class[3][N_CLASSES];   /* before resampling */
    int64_t written_class[3][N_CLASSES]; /* rows written per split and class */
    int64_t undersampled, oversampled_copies;
    int64_t rows[3];
    double class_weights[N_CLASSES];
    int64_t *g_dropped; /* [ETL_DROP_N] */
    int64_t g_blank, g_skipped, g_bytes;
    int64_t *g_nulls, *g_bad, *g_below, *g_above, *g_nullviol, *g_imputedrop, g_dups;
    int64_t *g_file_rows;
    char tmp_path[4300];
} etl_job;

static int sum_i64(MPI_Comm comm, int64_t *v, int n)
{
    if (n <= 0) return HPCML_OK;
    HPCML_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_INT64_T, MPI_SUM, comm));
    return HPCML_OK;
}

/* ---- split ------------------------------------------------------------------------ */

static uint64_t row_key(const etl_job *j, int64_t i)
{
    return j->s.split_key_col >= 0 ? j->t.split_key[i] : (uint64_t)(j->t.first_row + i);
}

/* Collective. Fills t.split for kept rows and the class counts. */
static int assign_splits(etl_job *j)
{
    etl_table *t = &j->t;
    const etl_options *o = &j->o;
    t->split = etl_big_realloc(NULL, 0, (size_t)t->n + 1);
    /* Collectives follow (the selection, the class counts): a rank that
     * returned here would leave its peers waiting in them. */
    HPCML_ALLOC_ABORT(j->comm, t->split, "assigning splits");
    memset(t->split, -1, (size_t)t->n + 1);
    int64_t n_train[N_CLASSES], n_tv[N_CLASSES];
    uint64_t cut1[N_CLASSES] = {0}, cut2[N_CLASSES] = {0};
    if (o->stratify) {
        etl_select_query qs[2 * N_CLASSES];
        int q_train[N_CLASSES], q_tv[N_CLASSES], nq = 0;
        for (int c = 0; c < N_CLASSES; c++) {
            etl_split_targets(j->class_valid[c], o->train_fraction, o->val_fraction, &n_train[c],
                              &n_tv[c]);
            q_train[c] = q_tv[c] = -1;
            for (int which = 0; which < 2; which++) {
                int64_t k = which == 0 ? n_train[c] : n_tv[c];
                if (k >= j->class_valid[c]) continue;
                uint64_t *u = etl_big_realloc(NULL, 0, ((size_t)t->n + 1) * sizeof *u);
                HPCML_ALLOC_ABORT(j->comm, u, "assigning splits");
                size_t m = 0;
                for (int64_t i = 0; i < t->n; i++)
                    if (t->drop[i] == ETL_KEEP && t->label[i] == c)
                        u[m++] = etl_split_hash(o->split_seed, row_key(j, i));
                if (which == 0)
                    q_train[c] = nq;
                else
                    q_tv[c] = nq;
                etl_select_init(&qs[nq++], u, m, (uint64_t)k);
            }
        }
        int rc = etl_select_run(j->comm, qs, nq);
        for (int c = 0; c < N_CLASSES; c++) {
            if (q_train[c] >= 0) cut1[c] = qs[q_train[c]].result;
            if (q_tv[c] >= 0) cut2[c] = qs[q_tv[c]].result;
        }
        for (int q = 0; q < nq; q++)
            etl_select_free(&qs[q]);
        HPCML_TRY(rc);
    }
    int64_t local[3][N_CLASSES] = {{0}};
    for (int64_t i = 0; i < t->n; i++) {
        if (t->drop[i] != ETL_KEEP) continue;
        int c = t->label[i];
        uint64_t u = etl_split_hash(o->split_seed, row_key(j, i));
        int sp = o->stratify ? etl_split_stratified(u, j->class_valid[c], n_train[c], cut1[c],
                                                    n_tv[c], cut2[c])
                             : etl_split_unstratified(u, o->train_fraction, o->val_fraction);
        t->split[i] = (int8_t)sp;
        local[sp][c]++;
    }
    memcpy(j->split_class, local, sizeof local);
    return sum_i64(j->comm, &j->split_class[0][0], 3 * N_CLASSES);
}

static int64_t copies_of(const etl_job *j, int64_t i)
{
    if (j->t.split[i] != 0) return 1;
    return etl_resample_copies(&j->resample, j->o.split_seed, (uint64_t)(j->t.first_row + i),
                               j->t.label[i]);
}

/* ---- checksums of the inputs ---------------------------------------------------- */

static int hash_file(const csv_input_file *f, char *buf, size_t cap, char hex[65], int64_t *bytes)
{
    csv_reader r;
    HPCML_TRY(csv_reader_open(&r, f->path, 0, 0));
    int rc = HPCML_OK;
    sha256 sha;
    sha256_init(&sha);
    while (rc == HPCML_OK) {
        size_t got = 0;
        rc = csv_reader_read(&r, buf, cap, &got);
        if (rc != HPCML_OK || got == 0) break;
        *bytes += (int64_t)got;
        sha256_update(&sha, buf, got);
    }
    sha256_final_hex(&sha, hex);
    csv_reader_close(&r);
    return rc;
}

/* Collective: file f is hashed by rank f mod P; OR-reduction shares the text. */
static int checksum_inputs(etl_job *j)
{
    int nf = j->in.n_files;
    j->sha_buf = calloc((size_t)nf * 65 + 1, 1);
    j->sha256 = calloc((size_t)nf + 1, sizeof *j->sha256);
    int rc = j->sha_buf && j->sha256 ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    int64_t bytes = 0;
    const size_t cap = (size_t)4 << 20; /* one buffer for all files, on huge pages */
    char *buf = rc == HPCML_OK && j->rank < nf ? etl_big_realloc(NULL, 0, cap) : NULL;
    if (rc == HPCML_OK && j->rank < nf && !buf) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    for (int f = j->rank; f < nf && rc == HPCML_OK; f += j->size)
        rc = hash_file(&j->in.files[f], buf, cap, j->sha_buf + 65 * (size_t)f, &bytes);
    free(buf);
    rc = hpcml_mpi_agree(j->comm, rc);
    HPCML_TRY(rc);
    HPCML_MPI_CHECK(
        MPI_Allreduce(MPI_IN_PLACE, j->sha_buf, nf * 65, MPI_UNSIGNED_CHAR, MPI_BOR, j->comm));
    for (int f = 0; f < nf; f++)
        j->sha256[f] = j->sha_buf + 65 * (size_t)f;
    if (j->rank == 0)
        rc = etl_manifest_check_sha256(&j->in.manifest, j->in.files, nf, j->sha256);
    return hpcml_mpi_agree(j->comm, rc);
}

/* ---- counters ------------------------------------------------------------------- */

static int reduce_counters(etl_job *j)
{
    int nc = j->s.n_cols, nf = j->in.n_files;
    size_t n = ETL_DROP_N + 4 + 6 * (size_t)nc + (size_t)nf;
    int64_t *v = calloc(n, sizeof *v);
    HPCML_ALLOC_ABORT(j->comm, v, "summing the ETL's counters"); /* sum_i64 is collective */
    for (int64_t i = 0; i < j->t.n; i++)
        v[j->t.drop[i]]++;
    size_t p = ETL_DROP_N;
    v[p++] = j->t.blank_lines;
    v[p++] = j->t.skipped_lines;
    v[p++] = j->t.bytes_read;
    v[p++] = j->v.duplicates;
    for (int c = 0; c < nc; c++) {
        v[p + c] = j->t.nulls[c];
        v[p + nc + c] = j->t.bad_values[c];
        v[p + 2 * nc + c] = j->v.below_min[c];
        v[p + 3 * nc + c] = j->v.above_max[c];
        v[p + 4 * nc + c] = j->v.null_violations[c];
        v[p + 5 * nc + c] = j->v.impute_drops[c];
    }
    for (int f = 0; f < nf; f++)
        v[p + 6 * nc + f] = j->t.file_rows[f];
    int rc = sum_i64(j->comm, v, (int)n);
    if (rc != HPCML_OK) {
        free(v);
        return rc;
    }
    j->g_dropped = v;
    j->g_blank = v[ETL_DROP_N];
    j->g_skipped = v[ETL_DROP_N + 1];
    j->g_bytes = v[ETL_DROP_N + 2];
    j->g_dups = v[ETL_DROP_N + 3];
    j->g_nulls = v + p;
    j->g_bad = v + p + nc;
    j->g_below = v + p + 2 * nc;
    j->g_above = v + p + 3 * nc;
    j->g_nullviol = v + p + 4 * nc;
    j->g_imputedrop = v + p + 5 * nc;
    j->g_file_rows = v + p + 6 * nc;
    return HPCML_OK;
}

static void drop_summary(const etl_job *j, char *out, size_t n)
{
    size_t w = 0;
    out[0] = '\0';
    for (int r = 1; r < ETL_DROP_N; r++) {
        if (!j->g_dropped[r]) continue;
        w += (size_t)snprintf(out + w, n > w ? n - w : 0, "%s%s %lld", w ? ", " : "",
                              etl_drop_names[r], (long long)j->g_dropped[r]);
        if (w >= n) break;
    }
    if (!out[0]) snprintf(out, n, "none");
}

/* ---- writing the dataset ---------------------------------------------------------- */

static int write_meta(etl_job *j, const char *path)
{
    hid_t f;
    HPCML_TRY(h5_meta_open(path, &f));
    int rc = HPCML_OK;
#define META(call)                                                                                 \
    do {                                                                                           \
        if (rc == HPCML_OK) rc = (call);                                                           \
    } while (0)
    META(h5_meta_attr_str(f, "/", "hpcml_format", HPCML_DATASET_MAGIC));
    META(h5_meta_attr_i32(f, "/", "format_version", HPCML_DATASET_VERSION));
    META(h5_meta_group(f, "/meta"));
    META(h5_meta_attr_str(f, "/meta", "hpcml_version", hpcml_version_string()));
    META(h5_meta_strings(f, "/meta/feature_names", (const char *const *)j->fit.feature_names,
                         j->fit.n_features));
    const char *class_names[N_CLASSES] = {j->o.negative_labels[0], j->o.positive_labels[0]};
    META(h5_meta_strings(f, "/meta/class_names", class_names, N_CLASSES));
    int64_t counts[N_CLASSES] = {j->written_class[0][0], j->written_class[0][1]};
    META(h5_meta_i64(f, "/meta/class_counts", counts, N_CLASSES));
    META(h5_meta_f64(f, "/meta/class_weights", j->class_weights, N_CLASSES));
    META(h5_meta_f64(f, "/meta/scale_offset", j->fit.scale_offset, j->fit.n_features));
    META(h5_meta_f64(f, "/meta/scale_mul", j->fit.scale_mul, j->fit.n_features));
    const char **sources = calloc((size_t)j->in.n_files + 1, sizeof *sources);
    if (!sources) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    for (int i = 0; sources && i < j->in.n_files; i++)
        sources[i] = j->in.files[i].path;
    META(h5_meta_strings(f, "/meta/sources", sources, j->in.n_files));
    free(sources);
    META(h5_meta_strings(f, "/meta/source_sha256", (const char *const *)j->sha256, j->in.n_files));
    char *cfg_text = hpcml_config_to_string(j->cfg);
    META(h5_meta_string(f, "/meta/config", cfg_text ? cfg_text : ""));
    free(cfg_text);
    META(h5_meta_attr_i64(f, "/meta", "n_features", j->fit.n_features));
    META(h5_meta_attr_i64(f, "/meta", "n_classes", N_CLASSES));
    META(h5_meta_attr_i64(f, "/meta", "rows_train", j->rows[0]));
    META(h5_meta_attr_i64(f, "/meta", "rows_val", j->rows[1]));
    META(h5_meta_attr_i64(f, "/meta", "rows_test", j->rows[2]));
    META(h5_meta_group(f, "/meta/columns"));
    int64_t train_rows = j->split_class[0][0] + j->split_class[0][1];
    for (int c = 0; c < j->s.n_cols && rc == HPCML_OK; c++) {
        const etl_column_spec *col = &j->s.cols[c];
        const etl_col_fit *cf = &j->fit.cols[c];
        if (col->type == ETL_COL_IGNORE) continue;
        char name[600], g[700];
        h5_group_name(col->name, name, sizeof name);
        snprintf(g, sizeof g, "/meta/columns/%s", name);
        META(h5_meta_group(f, g));
        META(h5_meta_attr_str(f, g, "name", col->name));
        META(h5_meta_attr_str(f, g, "type", etl_col_type_names[col->type]));
        META(h5_meta_attr_str(f, g, "impute", etl_impute_names[col->impute]));
        META(h5_meta_attr_f64(f, g, "impute_value", cf->impute_value));
        int numeric = col->type == ETL_COL_FLOAT || col->type == ETL_COL_INT;
        META(h5_meta_attr_str(f, g, "scale", numeric ? etl_scale_names[col->scale] : "none"));
        META(h5_meta_attr_f64(f, g, "mean", cf->mean));
        META(h5_meta_attr_f64(f, g, "std", cf->std));
        META(h5_meta_attr_f64(f, g, "min", cf->min));
        META(h5_meta_attr_f64(f, g, "max", cf->max));
        META(h5_meta_attr_i64(f, g, "first_feature", cf->n_features ? cf->first_feature : -1));
        META(h5_meta_attr_i64(f, g, "n_features", cf->n_features));
        if (numeric && col->scale == ETL_SCALE_QUANTILE) {
            char p[800];
            snprintf(p, sizeof p, "%s/quantiles", g);
            META(h5_meta_f64(f, p, cf->quantiles, cf->n_quantiles));
        }
        if (col->type != ETL_COL_CATEGORY) continue;
        META(h5_meta_attr_str(f, g, "encoding", col->onehot ? "onehot" : "index"));
        const char **vocab = calloc((size_t)cf->vocab.n + 1, sizeof *vocab);
        int64_t *vc = calloc((size_t)cf->vocab.n + 1, sizeof *vc);
        if (!vocab || !vc) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
        if (rc == HPCML_OK) {
            vocab[0] = "<unknown>";
            int64_t known = 0;
            for (int32_t k = 0; k < cf->vocab.n; k++) {
                vocab[k + 1] = cf->vocab.entries[k].bytes;
                vc[k + 1] = cf->vocab.entries[k].count;
                known += vc[k + 1];
            }
            vc[0] = train_rows - known; /* nulls and values outside the vocabulary */
            char p[800];
            snprintf(p, sizeof p, "%s/vocabulary", g);
            META(h5_meta_strings(f, p, vocab, cf->vocab.n + 1));
            snprintf(p, sizeof p, "%s/vocabulary_counts", g);
            META(h5_meta_i64(f, p, vc, cf->vocab.n + 1));
        }
        free(vocab);
        free(vc);
    }
    META(drift_reference_write(f, "/meta/drift", &j->drift, j->drift_rows));
#undef META
    int crc = h5_meta_close(f);
    return rc != HPCML_OK ? rc : crc;
}

/* A failed write inside parallel HDF5 can leave ranks waiting in different
 * collective calls (HDF5 1.10 skips the MPI_File_sync of a failed flush on
 * the failing rank only). So before the collective phase, rank 0 reserves
 * the file's size under the temp name with fallocate(2): a full file system,
 * a quota or a file-size limit fails here, locally, and ends every rank
 * cleanly with exit code 3. H5Fcreate then truncates the file and writes it.
 * File systems without fallocate skip the check. */
static int reserve_space(const etl_job *j, int nf)
{
    int64_t bytes = 2 << 20; /* superblock, object headers, /meta */
    for (int sp = 0; sp < 3; sp++) {
        int64_t rows = j->rows[sp], x = rows * nf * 4;
        int64_t chunk_rows = rows < j->o.chunk_rows ? rows : j->o.chunk_rows;
        int64_t chunks = chunk_rows ? (rows + chunk_rows - 1) / chunk_rows : 0;
        int aligned = chunk_rows * nf * 4 >= 512 * 1024;       /* see h5_dataset_write.h */
        bytes += x + rows * 12 + (aligned ? chunks << 20 : 0); /* X, y, row_id, alignment */
    }
    int fd = open(j->tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    HPCML_CHECK(fd >= 0, HPCML_EIO, "cannot create %s: %s", j->tmp_path, strerror(errno));
    int rc = HPCML_OK;
    if (fallocate(fd, 0, 0, (off_t)bytes) != 0 && errno != EOPNOTSUPP && errno != ENOSYS) {
        int e = errno;
        rc = HPCML_FAIL(HPCML_EIO, "cannot write %s: %.1f MB needed: %s", j->tmp_path,
                        (double)bytes / 1e6, strerror(e));
        unlink(j->tmp_path);
    }
    close(fd);
    return rc;
}

/* Collective. Builds each split's rows and writes the file to a temp name,
 * then /meta, then renames it. */
static int commit_outputs(etl_job *j);
static int write_quality(etl_job *j, int64_t dataset_bytes, const char *path);

static int write_dataset(etl_job *j)
{
    etl_table *t = &j->t;
    int nf = j->fit.n_features;
    int64_t local[3] = {0}, first[3] = {0};
    int64_t local_class[3][N_CLASSES] = {{0}};
    int64_t under = 0, over = 0;
    for (int64_t i = 0; i < t->n; i++) {
        if (t->drop[i] != ETL_KEEP) continue;
        int64_t k = copies_of(j, i);
        local[t->split[i]] += k;
        local_class[t->split[i]][t->label[i]] += k;
        if (k == 0) under++;
        if (k > 1) over += k - 1;
    }
    HPCML_MPI_CHECK(MPI_Exscan(local, first, 3, MPI_INT64_T, MPI_SUM, j->comm));
    if (j->rank == 0) memset(first, 0, sizeof first);
    memcpy(j->rows, local, sizeof local);
    HPCML_TRY(sum_i64(j->comm, j->rows, 3));
    memcpy(j->written_class, local_class, sizeof local_class);
    HPCML_TRY(sum_i64(j->comm, &j->written_class[0][0], 3 * N_CLASSES));
    int64_t ou[2] = {under, over};
    HPCML_TRY(sum_i64(j->comm, ou, 2));
    j->undersampled = ou[0];
    j->oversampled_copies = ou[1];
    int64_t train_counts[N_CLASSES] = {j->written_class[0][0], j->written_class[0][1]};
    etl_class_weights(train_counts, N_CLASSES, j->o.balanced_weights, j->class_weights);

    /* The rows of each split, in global row order: labels, row numbers and
     * which table row each comes from (resampling repeats rows). X is encoded
     * later, a block at a time, into one buffer that stays in cache: a whole
     * X (rows x features x 4 bytes) would cost its page faults and memory
     * traffic for nothing. */
    int32_t *y[3] = {0};
    int64_t *rid[3] = {0}, *src[3] = {0};
    int rc = HPCML_OK;
    for (int sp = 0; sp < 3 && rc == HPCML_OK; sp++) { /* (huge pages: etl_big_realloc) */
        y[sp] = etl_big_realloc(NULL, 0, ((size_t)local[sp] + 1) * sizeof(int32_t));
        rid[sp] = etl_big_realloc(NULL, 0, ((size_t)local[sp] + 1) * sizeof(int64_t));
        src[sp] = etl_big_realloc(NULL, 0, ((size_t)local[sp] + 1) * sizeof(int64_t));
        if (!y[sp] || !rid[sp] || !src[sp])
            rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory: %lld rows", (long long)local[sp]);
    }
    /* Blocks of whole chunks, at least ~2 MB: few collective calls. */
    int64_t chunk = j->o.chunk_rows > 0 ? j->o.chunk_rows : 1;
    int64_t per_2mb = ((int64_t)2 << 20) / ((int64_t)nf * 4) + 1;
    int64_t block_rows = (per_2mb + chunk - 1) / chunk * chunk, blocks[3] = {0};
    float *xbuf = NULL;
    if (rc == HPCML_OK) {
        int64_t fill[3] = {0};
        for (int64_t i = 0; i < t->n; i++) {
            if (t->drop[i] != ETL_KEEP) continue;
            int sp = t->split[i];
            int64_t k = copies_of(j, i);
            for (int64_t r = 0; r < k; r++) {
                int64_t at = fill[sp]++;
                src[sp][at] = i;
                y[sp][at] = t->label[i];
                rid[sp][at] = t->first_row + i;
            }
        }
        xbuf = etl_big_realloc(NULL, 0, (size_t)block_rows * (size_t)nf * sizeof(float));
        if (!xbuf) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory: X block buffer");
        for (int sp = 0; sp < 3; sp++)
            blocks[sp] = (local[sp] + block_rows - 1) / block_rows;
    }
    /* Every rank makes as many collective X writes as the busiest one. */
    HPCML_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, blocks, 3, MPI_INT64_T, MPI_MAX, j->comm));
    rc = hpcml_mpi_agree(j->comm, rc);

    if (rc == HPCML_OK) {
        /* Rank 0's name on every rank: ranks on other nodes open the same file. */
        rc = hpcml_mpi_tmp_name(j->comm, j->o.output, j->tmp_path, sizeof j->tmp_path);
        if (rc == HPCML_OK) {
            atomic_tmp_track(j->tmp_path); /* a signal removes it (core/preempt.h) */
            rc = hpcml_fault_point("etl.write", j->rank, HPCML_EIO);
        }
        if (rc == HPCML_OK && j->rank == 0) rc = reserve_space(j, nf);
        rc = hpcml_mpi_agree(j->comm, rc);
    }
    if (rc == HPCML_OK) {
        h5_dataset_writer *hf = NULL;
        profile_begin("h5_create");
        rc = h5_dataset_write_create(j->comm, j->tmp_path, j->rows, nf, j->o.chunk_rows, &hf);
        profile_end();
        /* H5Fcreate and H5Dcreate are collective: they fail on all ranks alike. */
        rc = hpcml_mpi_agree(j->comm, rc);
        if (rc == HPCML_OK) hpcml_pause_point("etl.write"); /* test hook: the temp exists */
        profile_begin("encode_write");
        if (rc == HPCML_OK) {
            for (int sp = 0; sp < 3; sp++) {
                for (int64_t b = 0; b < blocks[sp]; b++) {
                    int64_t lo = b * block_rows, n = local[sp] - lo;
                    n = n < 0 ? 0 : n > block_rows ? block_rows : n;
                    etl_encode_rows(&j->s, &j->fit, t, src[sp] + lo, n, xbuf);
                    int wrc = h5_dataset_write_x(hf, sp, first[sp] + lo, n, xbuf);
                    if (rc == HPCML_OK) rc = wrc;
                }
                int wrc = h5_dataset_write_labels(hf, sp, first[sp], local[sp], y[sp], rid[sp]);
                if (rc == HPCML_OK) rc = wrc;
            }
        }
        profile_end();
        int poisoned = 0;
        profile_begin("h5_close");
        int crc = h5_dataset_write_close(hf, &poisoned);
        profile_end();
        if (rc == HPCML_OK) rc = crc;
        int any_poisoned = poisoned;
        HPCML_MPI_CHECK_ABORT(
            j->comm, MPI_Allreduce(&poisoned, &any_poisoned, 1, MPI_INT, MPI_MAX, j->comm));
        if (any_poisoned) {
            /* HDF5 cannot be shut down cleanly: remove the temp file and end
             * the job with MPI_Abort and the I/O exit code. */
            if (j->rank == 0) unlink(j->tmp_path);
            HPCML_MPI_CHECK_ABORT(j->comm, MPI_Barrier(j->comm));
            if (hpcml_error_code() == HPCML_OK)
                HPCML_FAIL(HPCML_EIO, "writing %s failed on another rank", j->tmp_path);
            hpcml_mpi_abort(j->comm, HPCML_EIO);
        }
        rc = hpcml_mpi_agree(j->comm, rc);
    }
    free(xbuf);
    for (int sp = 0; sp < 3; sp++) {
        free(src[sp]);
        free(y[sp]);
        free(rid[sp]);
    }
    if (rc == HPCML_OK) {
        profile_begin("meta");
        if (j->rank == 0) rc = write_meta(j, j->tmp_path);
        profile_end();
        rc = hpcml_mpi_agree(j->comm, rc);
    }
    if (rc == HPCML_OK) {
        profile_begin("rename");
        if (j->rank == 0) rc = commit_outputs(j);
        profile_end();
        rc = hpcml_mpi_agree(j->comm, rc);
    }
    if (rc != HPCML_OK && j->rank == 0 && j->tmp_path[0]) unlink(j->tmp_path);
    if (j->tmp_path[0]) atomic_tmp_untrack(j->tmp_path);
    return rc;
}

/* Rank 0: the commit of the dataset and the quality.json that describes
 * it. Both are complete and durable under temp names of this run first
 * (the dataset's after H5Fclose and /meta; quality.json records the
 * dataset's size in bytes, "dataset_bytes"); then quality.json is renamed
 * into place, then the dataset. So a dataset is never visible without its
 * quality.json. A crash between the two renames leaves the new quality.json
 * beside the previous dataset (or none) and this run's dataset temp (removed
 * by the next run, etl_tmp_cleanup): the size in quality.json then differs
 * from the dataset's. If the dataset's rename fails, the new quality.json is
 * removed again (exit 3, nothing of this run left). */
static int commit_outputs(etl_job *j) /* rank 0 */
{
    char qpath[4300], qtmp[4400];
    etl_side_path(j->o.output, "quality.json", qpath, sizeof qpath);
    atomic_tmp_name(qtmp, sizeof qtmp, qpath, (long)getpid());
    atomic_tmp_track(qtmp);
    struct stat st;
    HPCML_CHECK(stat(j->tmp_path, &st) == 0, HPCML_EIO, "cannot stat %s: %s", j->tmp_path,
                strerror(errno));
    int rc = write_quality(j, (int64_t)st.st_size, qtmp);
    if (rc == HPCML_OK) rc = atomic_rename_durable(qtmp, qpath);
    atomic_tmp_untrack(qtmp);
    if (rc != HPCML_OK) {
        unlink(qtmp);
        return rc;
    }
    rc = atomic_rename_durable(j->tmp_path, j->o.output);
    if (rc != HPCML_OK) unlink(qpath);
    return rc;
}

/* ---- quality.json --------------------------------------------------------------- */

static json_t *class_array(const int64_t *v)
{
    json_t *a = json_array();
    for (int c = 0; c < N_CLASSES; c++)
        json_array_append_new(a, json_integer(v[c]));
    return a;
}

static json_t *real_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static int write_quality(etl_job *j, int64_t dataset_bytes, const char *path)
{
    json_t *q = json_object();
    json_object_set_new(q, "format", json_string("hpcml-etl-quality"));
    json_object_set_new(q, "version", json_integer(1));
    json_object_set_new(q, "output", json_string(j->o.output));
    json_object_set_new(q, "dataset_bytes", json_integer((json_int_t)dataset_bytes));

    json_t *files = json_array();
    int64_t total_bytes = 0;
    for (int f = 0; f < j->in.n_files; f++) {
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(j->in.files[f].path));
        json_object_set_new(o, "bytes", json_integer(j->in.files[f].size_bytes));
        json_object_set_new(o, "records", json_integer(j->g_file_rows[f]));
        json_object_set_new(o, "sha256", json_string(j->sha256[f]));
        json_object_set_new(o, "gzip", json_boolean(j->in.files[f].gz));
        json_array_append_new(files, o);
        total_bytes += j->in.files[f].size_bytes;
    }
    json_t *input = json_object();
    json_object_set_new(input, "files", files);
    json_object_set_new(input, "bytes", json_integer(total_bytes));
    json_object_set_new(input, "blank_lines", json_integer(j->g_blank));
    json_object_set_new(input, "skipped_lines", json_integer(j->g_skipped));
    json_t *manifests = json_array();
    for (int m = 0; m < j->in.manifest.n_manifests; m++)
        json_array_append_new(manifests, json_string(j->in.manifest.manifests[m]));
    json_object_set_new(input, "manifests", manifests);
    json_object_set_new(q, "input", input);

    json_object_set_new(q, "rows_read", json_integer(j->t.total_rows));
    json_object_set_new(q, "rows_valid", json_integer(j->g_dropped[ETL_KEEP]));
    json_t *dropped = json_object();
    int64_t total_dropped = 0;
    for (int r = 1; r < ETL_DROP_N; r++) {
        if (r == ETL_DROP_RESAMPLED) continue;
        json_object_set_new(dropped, etl_drop_names[r], json_integer(j->g_dropped[r]));
        total_dropped += j->g_dropped[r];
    }
    json_object_set_new(dropped, "total", json_integer(total_dropped));
    json_object_set_new(q, "rows_dropped", dropped);
    json_object_set_new(q, "duplicates", json_integer(j->g_dups));

    json_t *cols = json_object();
    for (int c = 0; c < j->s.n_cols; c++) {
        const etl_column_spec *col = &j->s.cols[c];
        const etl_col_fit *cf = &j->fit.cols[c];
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(etl_col_type_names[col->type]));
        json_object_set_new(o, "nulls", json_integer(j->g_nulls[c]));
        json_object_set_new(o, "bad_values", json_integer(j->g_bad[c]));
        json_object_set_new(o, "null_violations", json_integer(j->g_nullviol[c]));
        json_object_set_new(o, "filtered_below_min", json_integer(j->g_below[c]));
        json_object_set_new(o, "filtered_above_max", json_integer(j->g_above[c]));
        json_object_set_new(o, "impute_drops", json_integer(j->g_imputedrop[c]));
        if (col->type == ETL_COL_FLOAT || col->type == ETL_COL_INT) {
            json_object_set_new(o, "impute", json_string(etl_impute_names[col->impute]));
            json_object_set_new(o, "impute_value", real_or_null(cf->impute_value));
            json_object_set_new(o, "train_nulls", json_integer(cf->train_nulls));
            json_object_set_new(o, "mean", real_or_null(cf->mean));
            json_object_set_new(o, "std", real_or_null(cf->std));
            json_object_set_new(o, "min", real_or_null(cf->min));
            json_object_set_new(o, "max", real_or_null(cf->max));
        } else if (col->type == ETL_COL_CATEGORY) {
            json_object_set_new(o, "vocabulary_size", json_integer(cf->vocab.n));
            json_object_set_new(o, "train_nulls", json_integer(cf->train_nulls));
        }
        json_object_set_new(cols, col->name, o);
    }
    json_object_set_new(q, "columns", cols);

    json_t *splits = json_object();
    for (int sp = 0; sp < 3; sp++) {
        json_t *o = json_object();
        json_object_set_new(o, "rows", json_integer(j->rows[sp]));
        json_object_set_new(o, "class_counts", class_array(j->written_class[sp]));
        if (sp == 0) {
            json_object_set_new(o, "class_counts_before_resampling",
                                class_array(j->split_class[0]));
            json_object_set_new(o, "undersampled_rows", json_integer(j->undersampled));
            json_object_set_new(o, "oversampled_copies", json_integer(j->oversampled_copies));
        }
        json_object_set_new(splits, hpcml_split_names[sp], o);
    }
    json_object_set_new(q, "splits", splits);
    json_t *w = json_array();
    for (int c = 0; c < N_CLASSES; c++)
        json_array_append_new(w, json_real(j->class_weights[c]));
    json_object_set_new(q, "class_weights", w);
    json_object_set_new(q, "n_features", json_integer(j->fit.n_features));

    char *text = json_dumps(q, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(q);
    HPCML_CHECK(text, HPCML_EINTERNAL, "cannot format quality.json");
    size_t n = strlen(text);
    char *withnl = malloc(n + 2);
    int rc = HPCML_OK;
    if (!withnl)
        rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    else {
        memcpy(withnl, text, n);
        withnl[n] = '\n';
        withnl[n + 1] = '\0';
        FILE *fp = fopen(path, "wx");
        if (!fp)
            rc = HPCML_FAIL(HPCML_EIO, "cannot create %s: %s", path, strerror(errno));
        else {
            int bad = fwrite(withnl, 1, n + 1, fp) != n + 1;
            if (fclose(fp) != 0) bad = 1;
            if (bad) {
                rc = HPCML_FAIL(HPCML_EIO, "cannot write %s: %s", path, strerror(errno));
                unlink(path);
            }
        }
    }
    free(withnl);
    free(text);
    return rc;
}

/* ---- the run -------------------------------------------------------------------------- */

static void job_free(etl_job *j)
{
    etl_fit_free(&j->fit);
    drift_set_free(&j->drift);
    etl_validation_free(&j->v);
    etl_table_free(&j->t);
    etl_schema_free(&j->s);
    etl_inputs_free(&j->in);
    etl_options_free(&j->o);
    if (j->own_cfg) hpcml_config_free(j->own_cfg);
    free(j->g_dropped);
    free(j->sha256);
    free(j->sha_buf);
}

/* The delimiter detected by etl_inputs_plan goes into the effective config
 * (/meta/config), so that scoring and a re-run read the files the same way. */
static int store_delimiter(etl_job *j)
{
    char text[2 * CSV_DELIMITER_MAX + 3];
    size_t w = 0;
    text[w++] = '"';
    for (const char *p = j->o.dialect.delimiter; *p; p++) {
        if (*p == '\t') {
            text[w++] = '\\', text[w++] = 't';
            continue;
        }
        if (*p == '"' || *p == '\\') text[w++] = '\\';
        text[w++] = *p;
    }
    text[w++] = '"';
    text[w] = '\0';
    HPCML_TRY(hpcml_config_clone(j->cfg, &j->own_cfg));
    HPCML_TRY(hpcml_config_set(j->own_cfg, "etl.delimiter", text));
    j->cfg = j->own_cfg;
    return HPCML_OK;
}

static int run_stages(etl_job *j)
{
    MPI_Comm comm = j->comm;
    char outdir[4096];
    int rc = etl_options_load(j->cfg, &j->o);
    HPCML_TRY(hpcml_mpi_agree(comm, rc));
    dir_of(j->o.output, outdir, sizeof outdir);
    if (j->rank == 0) rc = fs_mkdir_p(outdir);
    HPCML_TRY(hpcml_mpi_agree(comm, rc));
    double t0 = hpcml_mono_s();

    profile_begin("plan");
    rc = etl_inputs_plan(comm, &j->o, &j->in);
    if (rc == HPCML_OK && j->o.delimiter_detected) rc = hpcml_mpi_agree(comm, store_delimiter(j));
    if (rc == HPCML_OK) {
        const char *where = j->o.header ? j->in.files[0].path : "etl.column_names";
        rc = etl_schema_resolve(&j->o, j->in.names, j->in.n_names, where, &j->s);
        rc = hpcml_mpi_agree(comm, rc);
    }
    profile_end();
    HPCML_TRY(rc);
    /* Temps of earlier runs for this output that were killed on this host
     * (SIGKILL leaves them): dataset-sized files nobody would remove. */
    if (j->rank == 0) {
        char pdir[4096], prefix[1024];
        etl_side_prefix(j->o.output, pdir, sizeof pdir, prefix, sizeof prefix);
        rc = atomic_tmp_remove_stale(pdir, prefix, NULL);
        if (rc == HPCML_OK) {
            const char *base = strrchr(j->o.output, '/') ? strrchr(j->o.output, '/') + 1 : j->o.output;
            if (strncmp(base, prefix, strlen(prefix)) != 0)
                rc = atomic_tmp_remove_stale(pdir, base, NULL);
        }
    }
    HPCML_TRY(hpcml_mpi_agree(comm, rc));

    profile_begin("extract");
    rc = etl_extract(comm, &j->o, &j->s, &j->in, &j->t);
    profile_end();
    HPCML_TRY(rc);
    double t_extract = hpcml_mono_s();

    profile_begin("validate");
    rc = etl_validation_init(&j->v, j->s.n_cols);
    if (rc == HPCML_OK) rc = etl_validate_rows(&j->o, &j->s, &j->in, &j->t, &j->v);
    rc = hpcml_mpi_agree(comm, rc);
    if (rc == HPCML_OK) rc = etl_dedup(comm, &j->s, &j->t, &j->v);
    if (rc == HPCML_OK) rc = reduce_counters(j);
    profile_end();
    HPCML_TRY(hpcml_mpi_agree(comm, rc));

    int64_t valid = j->g_dropped[ETL_KEEP];
    if (valid < j->o.min_records) {
        char why[600];
        drop_summary(j, why, sizeof why);
        return HPCML_FAIL(HPCML_EDATA,
                          "only %lld valid records (etl.min_records = %lld): %lld records read "
                          "from %d file%s; dropped: %s",
                          (long long)valid, (long long)j->o.min_records, (long long)j->t.total_rows,
                          j->in.n_files, j->in.n_files == 1 ? "" : "s", why);
    }
    if (j->rank == 0) {
        char why[600];
        drop_summary(j, why, sizeof why);
        log_info("read %lld records (%.1f MB) from %d file%s on %d rank%s in %.2f s; %lld valid; "
                 "dropped: %s",
                 (long long)j->t.total_rows, (double)j->g_bytes / 1e6, j->in.n_files,
                 j->in.n_files == 1 ? "" : "s", j->size, j->size == 1 ? "" : "s", t_extract - t0,
                 (long long)valid, why);
    }

    profile_begin("split");
    int64_t lc[N_CLASSES] = {0};
    for (int64_t i = 0; i < j->t.n; i++)
        if (j->t.drop[i] == ETL_KEEP) lc[j->t.label[i]]++;
    memcpy(j->class_valid, lc, sizeof lc);
    rc = sum_i64(comm, j->class_valid, N_CLASSES);
    if (rc == HPCML_OK) rc = assign_splits(j);
    profile_end();
    HPCML_TRY(hpcml_mpi_agree(comm, rc));
    if (j->rank == 0)
        for (int c = 0; c < N_CLASSES; c++)
            if (j->class_valid[c] == 0)
                log_warn("WARNING: no valid row has class %d (%s): all %lld rows are class %d; "
                         "hpcml-train refuses a /train of one class (check etl.label, "
                         "etl.positive_labels / negative_labels and etl.null_markers)",
                         c, c ? "etl.positive_labels" : "etl.negative_labels",
                         (long long)j->class_valid[1 - c], 1 - c);
    j->resample =
        etl_resample_plan_make((etl_resample)j->o.resample, j->o.resample_ratio, j->split_class[0]);

    profile_begin("fit");
    rc = etl_fit_columns(comm, &j->o, &j->s, &j->t, &j->fit);
    rc = hpcml_mpi_agree(comm, rc);
    if (rc == HPCML_OK)
        rc = etl_drift_reference(comm, &j->s, &j->t, &j->fit, &j->drift, &j->drift_rows);
    profile_end();
    HPCML_TRY(hpcml_mpi_agree(comm, rc));

    profile_begin("checksum");
    rc = checksum_inputs(j);
    profile_end();
    HPCML_TRY(rc);

    profile_begin("write");
    rc = write_dataset(j);
    profile_end();
    HPCML_TRY(rc);
    double t_end = hpcml_mono_s();

    if (j->rank == 0) {
        int64_t in_bytes = 0;
        for (int f = 0; f < j->in.n_files; f++)
            in_bytes += j->in.files[f].size_bytes;
        log_info("wrote %s: train %lld, val %lld, test %lld rows x %d features in %.2f s "
                 "(%.1f MB/s of input)",
                 j->o.output, (long long)j->rows[0], (long long)j->rows[1], (long long)j->rows[2],
                 j->fit.n_features, t_end - t0, (double)in_bytes / 1e6 / (t_end - t0));
    }
    /* profile.json and trace.json describe the run, not the dataset: the
     * dataset is committed, so failing to write them is a warning. */
    char pdir[4096], prefix[1024];
    etl_side_prefix(j->o.output, pdir, sizeof pdir, prefix, sizeof prefix);
    rc = profile_write_as(comm, pdir, prefix);
    if (rc != HPCML_OK) {
        if (j->rank == 0)
            log_warn("%s is complete, but its profile could not be written: %s", j->o.output,
                     hpcml_error_message());
        hpcml_error_clear();
    }
    return HPCML_OK;
}

int etl_run(MPI_Comm comm, const hpcml_config *cfg)
{
    etl_job j;
    memset(&j, 0, sizeof j);
    j.comm = comm;
    j.cfg = cfg;
    j.rank = hpcml_mpi_rank(comm);
    j.size = hpcml_mpi_size(comm);
    int rc = run_stages(&j);
    job_free(&j);
    return rc;
}
