/* hpcml-gen — write the synthetic fraud-like table as CSV shards.
 *
 *   hpcml-gen -c CONFIG [-s gen.key=value]...
 *
 * Shard s of gen.shards holds rows [s*rows/shards, (s+1)*rows/shards) and is
 * written by rank s % size, so the files are byte-identical whatever the
 * rank count (row i is a pure function of (seed, i): src/gen/gen_row.h).
 * Each shard goes to a temp name and is renamed when complete; after every
 * rank reports success, rank 0 writes manifest.json (shards, rows, seed,
 * columns, counts), then profile.json/trace.json are written. A stale
 * manifest and shards beyond gen.shards from an earlier run are removed
 * first, so a glob over the directory never mixes two runs. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/app.h"
#include "core/atomic_file.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/profile.h"
#include "core/sha256.h"
#include "core/status.h"
#include "core/version.h"
#include "etl/etl_manifest.h"
#include "gen/gen_row.h"

#define WRITE_BUFFER_BYTES (8u << 20)
#define MANIFEST_FORMAT    "hpcml-gen-manifest"
#define MANIFEST_VERSION   1

typedef struct {
    gen_params params;
    const char *output_dir;
    int64_t shards;
    int header;
} gen_job;

/* What one shard holds; summed or gathered for the manifest. */
typedef struct {
    uint64_t bytes, positives, malformed_rows, missing_cells;
    uint32_t sha256[8]; /* of the file's bytes, for hpcml-etl's check (docs/etl.md) */
} shard_counts;
#define SHARD_COUNTS_WORDS 8 /* the four counts, then the digest in four words */

static uint64_t shard_first_row(const gen_job *job, int64_t s)
{
    return (uint64_t)((unsigned __int128)job->params.rows * (uint64_t)s / (uint64_t)job->shards);
}

static void shard_name(char *out, size_t n, int64_t s)
{
    snprintf(out, n, "part-%05lld.csv", (long long)s);
}

static int job_from_config(const hpcml_config *cfg, gen_job *job)
{
    memset(job, 0, sizeof *job);
    gen_params_default(&job->params);
    gen_params *p = &job->params;
    job->output_dir = cfg_str(cfg, "gen.output_dir");
    int64_t rows = cfg_int(cfg, "gen.rows");
    int64_t seed = cfg_int(cfg, "gen.seed");
    job->shards = cfg_int(cfg, "gen.shards");
    int64_t cats = cfg_int(cfg, "gen.categorical_columns");
    int64_t levels = cfg_int(cfg, "gen.category_levels");
    HPCML_CHECK(rows >= 1, HPCML_EUSAGE, "gen.rows must be >= 1 (got %lld)", (long long)rows);
    HPCML_CHECK(seed >= 0, HPCML_EUSAGE, "gen.seed must be >= 0 (got %lld)", (long long)seed);
    HPCML_CHECK(job->shards >= 1 && job->shards <= 99999999, HPCML_EUSAGE,
                "gen.shards must be in [1, 99999999] (got %lld)", (long long)job->shards);
    HPCML_CHECK(cats >= 0 && cats <= GEN_MAX_CATEGORICAL, HPCML_EUSAGE,
                "gen.categorical_columns must be in [0, %d] (got %lld)", GEN_MAX_CATEGORICAL,
                (long long)cats);
    HPCML_CHECK(levels >= 2 && levels <= 100000, HPCML_EUSAGE,
                "gen.category_levels must be in [2, 100000] (got %lld)", (long long)levels);
    HPCML_CHECK(*job->output_dir, HPCML_EUSAGE, "gen.output_dir is empty");
    p->rows = (uint64_t)rows;
    p->seed = (uint64_t)seed;
    p->categorical_columns = (int)cats;
    p->category_levels = (int)levels;
    p->positive_fraction = cfg_float(cfg, "gen.positive_fraction");
    p->missing_fraction = cfg_float(cfg, "gen.missing_fraction");
    p->malformed_fraction = cfg_float(cfg, "gen.malformed_fraction");
    job->header = cfg_bool(cfg, "gen.header");
    const char *const *drift = NULL;
    int n_drift = cfg_str_list(cfg, "gen.drift_columns", &drift);
    for (int k = 0; k < n_drift; k++) {
        int bit = gen_drift_bit(drift[k]);
        HPCML_CHECK(bit >= 0, HPCML_EUSAGE,
                    "gen.drift_columns: \"%s\" is not a column that can drift (expected V1..V%d "
                    "or Amount)",
                    drift[k], GEN_V_COLUMNS);
        p->drift_mask |= 1u << bit;
    }
    p->drift_shift = cfg_float(cfg, "gen.drift_shift");
    p->drift_scale = cfg_float(cfg, "gen.drift_scale");
    p->new_category_fraction = cfg_float(cfg, "gen.new_category_fraction");
    return HPCML_OK;
}

static int write_all(FILE *fp, const char *buf, size_t n, const char *path)
{
    HPCML_CHECK(fwrite(buf, 1, n, fp) == n, HPCML_EIO, "cannot write %s: %s", path,
                strerror(errno));
    return HPCML_OK;
}

/* Stream one shard through buf (constant memory) to a temp file, rename it. */
static int write_shard(const gen_job *job, int64_t s, char *buf, shard_counts *c)
{
    char name[64], path[4096];
    shard_name(name, sizeof name, s);
    HPCML_CHECK((size_t)snprintf(path, sizeof path, "%s/%s", job->output_dir, name) < sizeof path,
                HPCML_EUSAGE, "gen.output_dir is too long");
    memset(c, 0, sizeof *c);
    uint64_t first = shard_first_row(job, s), end = shard_first_row(job, s + 1);

    atomic_file af;
    HPCML_TRY(atomic_file_open(&af, path));
    sha256 sha;
    sha256_init(&sha);
    int rc = HPCML_OK;
    size_t used = 0;
    if (job->header) used = gen_header_format(&job->params, buf, WRITE_BUFFER_BYTES);
    for (uint64_t i = first; i < end; i++) {
        if (WRITE_BUFFER_BYTES - used <= GEN_ROW_MAX_BYTES) {
            sha256_update(&sha, buf, used);
            HPCML_TRY_GOTO(rc, write_all(af.fp, buf, used, path), fail);
            c->bytes += used;
            used = 0;
        }
        gen_row_info info;
        used += gen_row_format_info(&job->params, i, buf + used, WRITE_BUFFER_BYTES - used, &info);
        c->positives += (uint64_t)info.label;
        c->malformed_rows += info.defect != GEN_ROW_OK;
        c->missing_cells += (uint64_t)info.missing_cells;
    }
    sha256_update(&sha, buf, used);
    HPCML_TRY_GOTO(rc, write_all(af.fp, buf, used, path), fail);
    c->bytes += used;
    sha256_final_words(&sha, c->sha256);
    return atomic_file_commit(&af);
fail:
    atomic_file_abort(&af);
    return rc;
}

/* Rank 0, before anything is written: an old manifest would vouch for files
 * of another run, and part files beyond gen.shards would join an ETL glob. */
static int remove_stale_outputs(const gen_job *job)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", job->output_dir);
    HPCML_CHECK(unlink(path) == 0 || errno == ENOENT, HPCML_EIO, "cannot remove stale %s: %s", path,
                strerror(errno));
    /* temps of earlier runs killed on this host (SIGKILL leaves them) */
    HPCML_TRY(atomic_tmp_remove_stale(job->output_dir, NULL, NULL));
    /* The in-progress mark, until manifest.json is in place: a folder with
     * the mark and no manifest holds a failed run's shards (the ETL refuses
     * it, src/etl/etl_manifest.h). */
    snprintf(path, sizeof path, "%s/%s", job->output_dir, ETL_GEN_RUNNING_MARK);
    HPCML_TRY(atomic_write_text(path, "hpcml-gen is writing shards here\n"));
    DIR *d = opendir(job->output_dir);
    HPCML_CHECK(d != NULL, HPCML_EIO, "cannot list %s: %s", job->output_dir, strerror(errno));
    int rc = HPCML_OK;
    struct dirent *e;
    while (rc == HPCML_OK && (e = readdir(d)) != NULL) {
        long long s;
        int n = 0;
        if (sscanf(e->d_name, "part-%lld.csv%n", &s, &n) != 1 || e->d_name[n] != '\0' ||
            s < job->shards)
            continue;
        snprintf(path, sizeof path, "%s/%s", job->output_dir, e->d_name);
        if (unlink(path) != 0 && errno != ENOENT)
            rc = HPCML_FAIL(HPCML_EIO, "cannot remove stale shard %s: %s", path, strerror(errno));
        else
            log_info("removed stale shard %s (gen.shards = %lld)", path, (long long)job->shards);
    }
    closedir(d);
    return rc;
}

static int json_put(json_t *obj, const char *key, json_t *value)
{
    HPCML_CHECK(value && json_object_set_new(obj, key, value) == 0, HPCML_EINTERNAL,
                "out of memory building manifest.json");
    return HPCML_OK;
}

static int build_manifest(const gen_job *job, const uint64_t *per_shard, const shard_counts *total,
                          json_t *root)
{
    const gen_params *p = &job->params;
    HPCML_TRY(json_put(root, "format", json_string(MANIFEST_FORMAT)));
    HPCML_TRY(json_put(root, "version", json_integer(MANIFEST_VERSION)));
    char generator[160];
    snprintf(generator, sizeof generator, "hpcml-gen %s", hpcml_version_string());
    HPCML_TRY(json_put(root, "generator", json_string(generator)));
    HPCML_TRY(json_put(root, "rows", json_integer((json_int_t)p->rows)));
    HPCML_TRY(json_put(root, "seed", json_integer((json_int_t)p->seed)));
    HPCML_TRY(json_put(root, "header", json_boolean(job->header)));
    HPCML_TRY(json_put(root, "positive_fraction", json_real(p->positive_fraction)));
    HPCML_TRY(json_put(root, "categorical_columns", json_integer(p->categorical_columns)));
    HPCML_TRY(json_put(root, "category_levels", json_integer(p->category_levels)));
    HPCML_TRY(json_put(root, "missing_fraction", json_real(p->missing_fraction)));
    HPCML_TRY(json_put(root, "malformed_fraction", json_real(p->malformed_fraction)));
    HPCML_TRY(json_put(root, "positives", json_integer((json_int_t)total->positives)));
    HPCML_TRY(json_put(root, "malformed_rows", json_integer((json_int_t)total->malformed_rows)));
    HPCML_TRY(json_put(root, "missing_cells", json_integer((json_int_t)total->missing_cells)));
    HPCML_TRY(json_put(root, "bytes", json_integer((json_int_t)total->bytes)));
    HPCML_TRY(json_put(root, "label_column", json_string("Class")));
    if (p->drift_mask || p->new_category_fraction > 0) { /* only for drifted data */
        json_t *d = json_object();
        HPCML_TRY(json_put(root, "drift", d));
        json_t *dc = json_array();
        HPCML_TRY(json_put(d, "columns", dc));
        for (int b = 0; b <= GEN_V_COLUMNS; b++) {
            if (!(p->drift_mask >> b & 1)) continue;
            char name[32];
            HPCML_CHECK(json_array_append_new(
                            dc, json_string(gen_column_name(p, b + 1, name, sizeof name))) == 0,
                        HPCML_EINTERNAL, "out of memory building manifest.json");
        }
        HPCML_TRY(json_put(d, "shift", json_real(p->drift_shift)));
        HPCML_TRY(json_put(d, "scale", json_real(p->drift_scale)));
        HPCML_TRY(json_put(d, "new_category_fraction", json_real(p->new_category_fraction)));
    }

    json_t *cols = json_array();
    HPCML_TRY(json_put(root, "columns", cols));
    for (int c = 0; c < gen_column_count(p); c++) {
        char name[32];
        HPCML_CHECK(
            json_array_append_new(cols, json_string(gen_column_name(p, c, name, sizeof name))) == 0,
            HPCML_EINTERNAL, "out of memory building manifest.json");
    }
    json_t *shards = json_array();
    HPCML_TRY(json_put(root, "shards", shards));
    for (int64_t s = 0; s < job->shards; s++) {
        char name[64];
        shard_name(name, sizeof name, s);
        const uint64_t *c = per_shard + (size_t)s * SHARD_COUNTS_WORDS;
        json_t *o = json_object();
        HPCML_CHECK(o && json_array_append_new(shards, o) == 0, HPCML_EINTERNAL,
                    "out of memory building manifest.json");
        uint64_t first = shard_first_row(job, s);
        HPCML_TRY(json_put(o, "file", json_string(name)));
        HPCML_TRY(json_put(o, "first_row", json_integer((json_int_t)first)));
        HPCML_TRY(
            json_put(o, "rows", json_integer((json_int_t)(shard_first_row(job, s + 1) - first))));
        HPCML_TRY(json_put(o, "bytes", json_integer((json_int_t)c[0])));
        HPCML_TRY(json_put(o, "positives", json_integer((json_int_t)c[1])));
        uint32_t words[8];
        char hex[65];
        for (int w = 0; w < 4; w++) {
            words[2 * w] = (uint32_t)(c[4 + w] >> 32);
            words[2 * w + 1] = (uint32_t)c[4 + w];
        }
        sha256_words_hex(words, hex);
        HPCML_TRY(json_put(o, "sha256", json_string(hex)));
    }
    return HPCML_OK;
}

/* Rank 0: manifest.json, written atomically (temp name, fsync, rename). */
static int write_manifest(const gen_job *job, const uint64_t *per_shard, const shard_counts *total)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", job->output_dir);
    json_t *root = json_object();
    HPCML_CHECK(root, HPCML_EINTERNAL, "out of memory building manifest.json");
    int rc = build_manifest(job, per_shard, total, root);
    if (rc == HPCML_OK) rc = atomic_write_json(path, root, JSON_SORT_KEYS | JSON_INDENT(2));
    json_decref(root);
    if (rc == HPCML_OK) { /* the manifest vouches for the shards now */
        snprintf(path, sizeof path, "%s/%s", job->output_dir, ETL_GEN_RUNNING_MARK);
        if (unlink(path) != 0 && errno != ENOENT)
            rc = HPCML_FAIL(HPCML_EIO, "cannot remove %s: %s", path, strerror(errno));
    }
    return rc;
}

/* Collective: every rank's per-shard counts land in rank 0's table (shard s
 * at row s), the totals in *total on rank 0. Only called when every rank
 * succeeded, so an MPI failure here is a job failure (abort). */
static uint64_t *gather_counts(app_ctx *ctx, const gen_job *job, const uint64_t *mine, int n_mine,
                               shard_counts *total)
{
    int words = n_mine * SHARD_COUNTS_WORDS;
    int *recv_words = NULL, *displs = NULL;
    uint64_t *gathered = NULL, *table = NULL;
    if (ctx->rank == 0) {
        recv_words = malloc((size_t)ctx->size * sizeof *recv_words);
        displs = malloc((size_t)ctx->size * sizeof *displs);
        gathered = malloc((size_t)job->shards * SHARD_COUNTS_WORDS * sizeof *gathered);
        table = malloc((size_t)job->shards * SHARD_COUNTS_WORDS * sizeof *table);
        HPCML_ALLOC_ABORT(ctx->comm, recv_words && displs && gathered && table,
                          "gathering shard counts");
        int at = 0;
        for (int r = 0; r < ctx->size; r++) {
            int64_t n = job->shards > r ? (job->shards - r + ctx->size - 1) / ctx->size : 0;
            recv_words[r] = (int)n * SHARD_COUNTS_WORDS;
            displs[r] = at;
            at += recv_words[r];
        }
    }
    HPCML_MPI_CHECK_ABORT(ctx->comm, MPI_Gatherv(mine, words, MPI_UINT64_T, gathered, recv_words,
                                                 displs, MPI_UINT64_T, 0, ctx->comm));
    if (ctx->rank == 0) {
        memset(total, 0, sizeof *total);
        for (int r = 0; r < ctx->size; r++) {
            const uint64_t *src = gathered + displs[r];
            for (int k = 0; k < recv_words[r] / SHARD_COUNTS_WORDS; k++) {
                int64_t s = r + (int64_t)k * ctx->size;
                memcpy(table + s * SHARD_COUNTS_WORDS, src + k * SHARD_COUNTS_WORDS,
                       SHARD_COUNTS_WORDS * sizeof *src);
                total->bytes += src[k * SHARD_COUNTS_WORDS + 0];
                total->positives += src[k * SHARD_COUNTS_WORDS + 1];
                total->malformed_rows += src[k * SHARD_COUNTS_WORDS + 2];
                total->missing_cells += src[k * SHARD_COUNTS_WORDS + 3];
            }
        }
    }
    free(recv_words);
    free(displs);
    free(gathered);
    return table;
}

/* This rank's shards: r, r + size, ... Counts go to mine[k] (k-th own shard). */
static int generate_local(app_ctx *ctx, const gen_job *job, uint64_t *mine, shard_counts *sum)
{
    char *buf = malloc(WRITE_BUFFER_BYTES);
    HPCML_ALLOC_CHECK(buf, WRITE_BUFFER_BYTES);
    int rc = HPCML_OK;
    memset(sum, 0, sizeof *sum);
    int k = 0;
    for (int64_t s = ctx->rank; s < job->shards; s += ctx->size, k++) {
        HPCML_TRY_GOTO(rc, hpcml_fault_point("gen.write", ctx->rank, HPCML_EIO), out);
        shard_counts c;
        HPCML_TRY_GOTO(rc, write_shard(job, s, buf, &c), out);
        uint64_t *m = mine + (size_t)k * SHARD_COUNTS_WORDS;
        m[0] = c.bytes;
        m[1] = c.positives;
        m[2] = c.malformed_rows;
        m[3] = c.missing_cells;
        for (int w = 0; w < 4; w++)
            m[4 + w] = (uint64_t)c.sha256[2 * w] << 32 | c.sha256[2 * w + 1];
        sum->bytes += c.bytes;
        sum->positives += c.positives;
    }
out:
    free(buf);
    return rc;
}

static int run(app_ctx *ctx)
{
    gen_job job;
    HPCML_TRY(job_from_config(ctx->cfg, &job));
    const gen_params *p = &job.params;

    /* A preemption signal removes this rank's shard temp, tracked while it is
     * written (exit 75; app_main's handler, core/preempt.h). */
    int rc = fs_mkdir_p(job.output_dir);
    if (rc == HPCML_OK && ctx->rank == 0) rc = remove_stale_outputs(&job);
    HPCML_TRY(hpcml_mpi_agree(ctx->comm, rc));
    log_info("generating %llu rows (seed %llu, %.4f%% positives, %d categorical, %.2f%% "
             "missing, %.2f%% malformed) into %lld shards in %s on %d ranks",
             (unsigned long long)p->rows, (unsigned long long)p->seed, 100.0 * p->positive_fraction,
             p->categorical_columns, 100.0 * p->missing_fraction, 100.0 * p->malformed_fraction,
             (long long)job.shards, job.output_dir, ctx->size);

    int64_t n_mine =
        job.shards > ctx->rank ? (job.shards - ctx->rank + ctx->size - 1) / ctx->size : 0;
    uint64_t *mine = calloc((size_t)(n_mine > 0 ? n_mine : 1), SHARD_COUNTS_WORDS * sizeof *mine);

    /* No early return until the next agreement: every rank must reach it. */
    profile_begin("generate");
    double t0 = hpcml_mono_s();
    shard_counts local = {0};
    if (!mine)
        rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory for %lld shard counts", (long long)n_mine);
    else
        rc = generate_local(ctx, &job, mine, &local);
    double dt = hpcml_mono_s() - t0;
    if (rc == HPCML_OK) {
        double mb = (double)local.bytes / 1e6;
        log_rank_info("wrote %lld shards, %.1f MB in %.2f s: %.1f MB/s", (long long)n_mine, mb, dt,
                      dt > 0 ? mb / dt : 0.0);
    }
    rc = hpcml_mpi_agree(ctx->comm, rc);
    profile_end();
    if (rc != HPCML_OK) {
        free(mine);
        return rc;
    }

    profile_begin("manifest");
    shard_counts total;
    uint64_t *table = gather_counts(ctx, &job, mine, (int)n_mine, &total);
    free(mine);
    double slowest = dt;
    HPCML_MPI_CHECK_ABORT(ctx->comm,
                          MPI_Reduce(&dt, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, ctx->comm));
    if (ctx->rank == 0) {
        rc = write_manifest(&job, table, &total);
        if (rc == HPCML_OK)
            log_info("done: %llu rows, %llu positives, %llu malformed rows, %.1f MB in %.2f s "
                     "(%.1f MB/s overall, %.1f MB/s per rank)",
                     (unsigned long long)p->rows, (unsigned long long)total.positives,
                     (unsigned long long)total.malformed_rows, (double)total.bytes / 1e6, slowest,
                     slowest > 0 ? (double)total.bytes / 1e6 / slowest : 0.0,
                     slowest > 0 ? (double)total.bytes / 1e6 / slowest / ctx->size : 0.0);
    }
    free(table);
    rc = hpcml_mpi_agree(ctx->comm, rc);
    profile_end();
    HPCML_TRY(rc);
    return profile_write(ctx->comm, job.output_dir);
}

int main(int argc, char **argv)
{
    static const app_def def = {
        .name = "hpcml-gen",
        .summary = "Write a synthetic fraud-like table (Time, V1..V28, Amount, Class) as CSV "
                   "shards, identical for any rank count.",
        .options = NULL,
        .run = run,
    };
    return app_main(&def, argc, argv);
}
