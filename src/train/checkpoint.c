/* checkpoint.c — the trainer's checkpoint policy: contents, names,
 * rotation, the `latest` pointer and resume. See checkpoint.h. */
#include "train/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/status.h"
#include "io/checkpoint_file.h"

#define MAX_ITEMS (2 * (MLP_MAX_HIDDEN + 1) + 48)

/* Format versions (io/checkpoint_file.h HPCML_CHECKPOINT_VERSION), item by
 * item in file order:
 *   2  every item below, all required.
 *   1  the same without /sampler/stream_chunk_rows, /sampler/stream_window_batches
 *      (added with streaming: a file without them was written in memory mode,
 *      so they default to 0, 0) and without /state/dataset_id (added for the
 *      dataset check: without it the dataset is not checked). Version-1 files
 *      of later builds hold some of them; the reader takes what the file holds.
 * A new item bumps the version; its default for older files is stated here. */

/* Every scalar of a checkpoint, in one flat struct so it can be broadcast
 * as bytes (all ranks of a job share one architecture). */
typedef struct {
    int64_t widths[MLP_MAX_HIDDEN + 2];
    int64_t activation;
    double dropout;
    int64_t optim_kind, optim_step;
    train_progress prog;
    int64_t config_hash;
    int64_t seed, rows, global_batch, drop_last, steps_per_epoch, ranks;
    int64_t stream_chunk_rows, stream_window_batches; /* 0, 0: memory mode */
    int64_t dataset_id; /* h5_dataset_identity; the last item, absent in older files */
} ckpt_scalars;

/* Which of the items added after version 1 a file holds (all in version 2). */
typedef struct {
    int stream; /* /sampler/stream_chunk_rows, /sampler/stream_window_batches */
    int dataset_id;
} ckpt_since_v1;

/* The scalar items stored after the optimizer moments, in file order (the
 * order is part of the checksum): name, type, element count (0 = scalar)
 * and place in ckpt_scalars. */
static const struct {
    const char *name;
    ckpt_type type;
    int count;
    size_t off;
} scalar_items[] = {
#define PROG(field, type)                                                                          \
    {                                                                                              \
        "/state/" #field, type, 0, offsetof(ckpt_scalars, prog.field)                              \
    }
    PROG(epoch, CKPT_I64),
    PROG(step_in_epoch, CKPT_I64),
    PROG(global_step, CKPT_I64),
    PROG(part_loss_sum, CKPT_F64),
    PROG(part_weight_sum, CKPT_F64),
    PROG(best_metric, CKPT_F64),
    PROG(best_epoch, CKPT_I64),
    PROG(bad_epochs, CKPT_I64),
    PROG(stop_reason, CKPT_I64),
#undef PROG
    {"/state/config_hash", CKPT_I64, 0, offsetof(ckpt_scalars, config_hash)},
    {"/state/alert_run", CKPT_I64, TRAIN_MAX_ALERTS, offsetof(ckpt_scalars, prog.alert_run)},
#define SMP(field)                                                                                 \
    {                                                                                              \
        "/sampler/" #field, CKPT_I64, 0, offsetof(ckpt_scalars, field)                             \
    }
    SMP(seed),
    SMP(rows),
    SMP(global_batch),
    SMP(drop_last),
    SMP(steps_per_epoch),
    SMP(ranks),
#undef SMP
};

typedef struct {
    ckpt_item items[MAX_ITEMS];
    char names[MAX_ITEMS][64];
    int n;
    ckpt_scalars s;
    ckpt_since_v1 has;
    size_t n_params;
    float *params, *m, *v; /* host copies, n_params each (m, v may be NULL) */
} ckpt_list;

static void add(ckpt_list *l, const char *name, ckpt_type type, int rank, uint64_t d0, uint64_t d1,
                void *data)
{
    ckpt_item *it = &l->items[l->n];
    snprintf(l->names[l->n], sizeof l->names[l->n], "%s", name);
    it->name = l->names[l->n];
    it->type = type;
    it->rank = rank;
    it->dims[0] = d0;
    it->dims[1] = d1;
    it->data = data;
    l->n++;
}

static void list_free(ckpt_list *l)
{
    free(l->params);
    free(l->m);
    free(l->v);
    free(l);
}

/* The item list of a checkpoint of an MLP with widths[0..n_layers] and the
 * optimizer moments has_m, has_v, pointing into l's storage (parameters in
 * mlp.c's layout: layer by layer, weight then bias). */
static int list_build_layout(ckpt_list **out, const int64_t *widths, int n_layers, int has_m,
                             int has_v, ckpt_since_v1 has)
{
    *out = NULL;
    HPCML_CHECK(n_layers >= 1 && n_layers <= MLP_MAX_HIDDEN + 1, HPCML_EDATA,
                "%d layers (at most %d)", n_layers, MLP_MAX_HIDDEN + 1);
    size_t n = 0;
    for (int k = 0; k < n_layers; k++) {
        HPCML_CHECK(widths[k] > 0 && widths[k + 1] > 0 && widths[k] < (1 << 24) &&
                        widths[k + 1] < (1 << 24),
                    HPCML_EDATA, "layer %d has widths %lld -> %lld", k, (long long)widths[k],
                    (long long)widths[k + 1]);
        n += (size_t)widths[k + 1] * (size_t)widths[k] + (size_t)widths[k + 1];
    }
    ckpt_list *l = calloc(1, sizeof *l);
    HPCML_ALLOC_CHECK(l, sizeof *l);
    l->n_params = n;
    l->params = malloc(n * sizeof(float));
    if (has_m) l->m = malloc(n * sizeof(float));
    if (has_v) l->v = malloc(n * sizeof(float));
    if (!l->params || (has_m && !l->m) || (has_v && !l->v)) {
        list_free(l);
        return HPCML_FAIL(HPCML_EINTERNAL, "out of memory for a checkpoint of %zu parameters", n);
    }
    char name[64];
    ckpt_scalars *s = &l->s;
    for (int k = 0; k <= n_layers; k++)
        s->widths[k] = widths[k];
    add(l, "/model_info/widths", CKPT_I64, 1, (uint64_t)n_layers + 1, 0, s->widths);
    add(l, "/model_info/activation", CKPT_I64, 0, 0, 0, &s->activation);
    add(l, "/model_info/dropout", CKPT_F64, 0, 0, 0, &s->dropout);
    size_t off = 0;
    for (int k = 0; k < n_layers; k++) {
        snprintf(name, sizeof name, "/model/layer%d.weight", k);
        add(l, name, CKPT_F32, 2, (uint64_t)widths[k + 1], (uint64_t)widths[k], l->params + off);
        off += (size_t)widths[k + 1] * (size_t)widths[k];
        snprintf(name, sizeof name, "/model/layer%d.bias", k);
        add(l, name, CKPT_F32, 1, (uint64_t)widths[k + 1], 0, l->params + off);
        off += (size_t)widths[k + 1];
    }
    add(l, "/optimizer/kind", CKPT_I64, 0, 0, 0, &s->optim_kind);
    add(l, "/optimizer/step", CKPT_I64, 0, 0, 0, &s->optim_step);
    if (l->m) add(l, "/optimizer/m", CKPT_F32, 1, n, 0, l->m);
    if (l->v) add(l, "/optimizer/v", CKPT_F32, 1, n, 0, l->v);
    for (size_t i = 0; i < sizeof scalar_items / sizeof scalar_items[0]; i++)
        add(l, scalar_items[i].name, scalar_items[i].type, scalar_items[i].count > 0 ? 1 : 0,
            (uint64_t)scalar_items[i].count, 0, (char *)s + scalar_items[i].off);
    l->has = has;
    if (has.stream) {
        add(l, "/sampler/stream_chunk_rows", CKPT_I64, 0, 0, 0, &s->stream_chunk_rows);
        add(l, "/sampler/stream_window_batches", CKPT_I64, 0, 0, 0, &s->stream_window_batches);
    }
    if (has.dataset_id) add(l, "/state/dataset_id", CKPT_I64, 0, 0, 0, &s->dataset_id);
    *out = l;
    return HPCML_OK;
}

/* The item list for t's model and optimizer. */
static int list_build(ckpt_list **out, const checkpoint_ctx *t)
{
    const mlp *m = t->model;
    int64_t widths[MLP_MAX_HIDDEN + 2];
    for (int k = 0; k <= m->n_layers; k++)
        widths[k] = m->width[k];
    const ckpt_since_v1 all = {1, 1}; /* what this build writes: the current version */
    int rc = list_build_layout(out, widths, m->n_layers, t->opt->m != NULL, t->opt->v != NULL, all);
    if (rc == HPCML_EDATA) return HPCML_FAIL(HPCML_EINTERNAL, "%s", hpcml_error_message());
    return rc;
}

/* The item list of what the checkpoint at path holds, whatever this run's
 * configuration: its format version, widths and which optimizer moments it
 * has, read unverified; ckpt_file_read(path, l) then verifies all of it. A
 * file whose layout cannot even be read is corrupt (HPCML_EDATA) or
 * unreadable (HPCML_EIO); one of a format version this build does not read
 * is HPCML_EUSAGE. */
static int list_for_file(ckpt_list **out, const char *path)
{
    *out = NULL;
    int rank, version;
    uint64_t dims[2];
    HPCML_TRY(ckpt_file_version(path, &version));
    HPCML_TRY(ckpt_file_item_shape(path, "/model_info/widths", &rank, dims));
    HPCML_CHECK(rank == 1 && dims[0] >= 2 && dims[0] <= MLP_MAX_HIDDEN + 2, HPCML_EDATA,
                "%s: no valid /model_info/widths (not an hpcml checkpoint, or corrupt)", path);
    const int n_layers = (int)dims[0] - 1;
    int64_t widths[MLP_MAX_HIDDEN + 2];
    ckpt_item it = {"/model_info/widths", CKPT_I64, 1, {dims[0], 0}, widths};
    int rc = ckpt_file_peek(path, &it, 1);
    if (rc == HPCML_EUSAGE) rc = HPCML_EDATA; /* it was there a moment ago */
    HPCML_TRY(rc);
    int has_m, has_v;
    HPCML_TRY(ckpt_file_item_shape(path, "/optimizer/m", &has_m, dims));
    HPCML_TRY(ckpt_file_item_shape(path, "/optimizer/v", &has_v, dims));
    ckpt_since_v1 has = {1, 1}; /* required from version 2 on */
    if (version == 1) {
        int r;
        HPCML_TRY(ckpt_file_item_shape(path, "/sampler/stream_chunk_rows", &r, dims));
        has.stream = r >= 0;
        HPCML_TRY(ckpt_file_item_shape(path, "/state/dataset_id", &r, dims));
        has.dataset_id = r >= 0;
    }
    rc = list_build_layout(out, widths, n_layers, has_m >= 0, has_v >= 0, has);
    if (rc == HPCML_EDATA)
        return HPCML_FAIL(HPCML_EDATA, "%s: %s: corrupt", path, hpcml_error_message());
    return rc;
}

/* trainer -> list (rank 0, before writing) */
static int list_export(ckpt_list *l, const checkpoint_ctx *t)
{
    const mlp *m = t->model;
    const nn_backend *be = m->be;
    const size_t bytes = m->n_params * sizeof(float);
    HPCML_TRY(mlp_get_params(m, l->params));
    if (l->m) HPCML_TRY(be->copy_to_host(l->m, t->opt->m, bytes));
    if (l->v) HPCML_TRY(be->copy_to_host(l->v, t->opt->v, bytes));
    ckpt_scalars *s = &l->s;
    for (int k = 0; k <= m->n_layers; k++)
        s->widths[k] = m->width[k];
    s->activation = (int64_t)t->act;
    s->dropout = (double)t->dropout;
    s->optim_kind = (int64_t)t->opt->cfg.kind;
    s->optim_step = t->opt->step;
    s->prog = *t->prog;
    s->config_hash = (int64_t)t->config_hash;
    s->seed = (int64_t)t->smp->seed;
    s->rows = (int64_t)t->smp->rows;
    s->global_batch = (int64_t)t->smp->global_batch;
    s->drop_last = t->smp->drop_last;
    s->steps_per_epoch = (int64_t)t->smp->steps;
    s->ranks = t->size;
    s->stream_chunk_rows = t->order.stream_chunk_rows;
    s->stream_window_batches = t->order.stream_window_batches;
    s->dataset_id = (int64_t)t->dataset_id;
    return HPCML_OK;
}

/* step_name: dir/step-NNNNNNNNNN.h5; best_name: dir/best.h5 */
static void step_name(char *out, size_t n, const char *dir, int64_t step)
{
    snprintf(out, n, "%s/step-%010lld.h5", dir, (long long)step);
}

static void best_name(char *out, size_t n, const char *dir)
{
    snprintf(out, n, "%s/best.h5", dir);
}

/* step-*.h5 files of dir, as step numbers, ascending. */
static int list_steps(const char *dir, int64_t **steps, int *count)
{
    *steps = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return HPCML_OK; /* no directory: no checkpoints */
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long long v;
        char tail[8];
        if (sscanf(e->d_name, "step-%lld.h%2s", &v, tail) != 2 || strcmp(tail, "5") != 0) continue;
        if (strlen(e->d_name) != strlen("step-0000000000.h5") && v < 10000000000LL) continue;
        if (*count == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *grown = realloc(*steps, (size_t)cap * sizeof **steps);
            if (!grown) {
                closedir(d);
                return HPCML_FAIL(HPCML_EINTERNAL, "out of memory listing %s", dir);
            }
            *steps = grown;
        }
        (*steps)[(*count)++] = v;
    }
    closedir(d);
    for (int i = 1; i < *count; i++) /* insertion sort: few files */
        for (int j = i; j > 0 && (*steps)[j - 1] > (*steps)[j]; j--) {
            int64_t tmp = (*steps)[j];
            (*steps)[j] = (*steps)[j - 1];
            (*steps)[j - 1] = tmp;
        }
    return HPCML_OK;
}

static int prepare_rank0(const checkpoint_ctx *t, int fresh)
{
    HPCML_TRY(fs_mkdir_p(t->ckpt_dir));
    /* Temp files of a writer that died are never valid: those of dead
     * owners on this host go (the same rule as hpcml-etl and hpcml-gen). */
    HPCML_TRY(atomic_tmp_remove_stale(t->ckpt_dir, NULL, NULL));
    DIR *d = opendir(t->ckpt_dir);
    HPCML_CHECK(d != NULL, HPCML_EIO, "cannot open %s: %s", t->ckpt_dir, strerror(errno));
    struct dirent *e;
    char path[8400];
    int removed = 0;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        int ours = strncmp(name, "step-", 5) == 0 || strcmp(name, "best.h5") == 0 ||
                   strcmp(name, "latest") == 0;
        if (fresh && ours) {
            if (strcmp(name, "latest") != 0 && !strstr(name, ".tmp.")) removed++;
            snprintf(path, sizeof path, "%s/%s", t->ckpt_dir, name);
            if (unlink(path) != 0 && errno != ENOENT) {
                int err = errno;
                closedir(d);
                return HPCML_FAIL(HPCML_EIO, "cannot remove %s: %s", path, strerror(err));
            }
        }
    }
    closedir(d);
    if (removed > 0)
        log_warn("starting over: removed %d checkpoint file(s) of an earlier run from %s", removed,
                 t->ckpt_dir);
    return HPCML_OK;
}

int checkpoint_prepare_dir(const checkpoint_ctx *t, int fresh)
{
    int rc = t->rank == 0 ? prepare_rank0(t, fresh) : HPCML_OK;
    return hpcml_mpi_agree(t->comm, rc);
}

static int rotate(const checkpoint_ctx *t)
{
    int64_t *steps;
    int count;
    HPCML_TRY(list_steps(t->ckpt_dir, &steps, &count));
    char path[4400];
    for (int i = 0; i + t->keep < count; i++) {
        step_name(path, sizeof path, t->ckpt_dir, steps[i]);
        if (unlink(path) != 0 && errno != ENOENT)
            log_warn("cannot remove old checkpoint %s: %s", path, strerror(errno));
    }
    free(steps);
    return HPCML_OK;
}

static int save_rank0(const checkpoint_ctx *t, int best)
{
    HPCML_TRY(hpcml_fault_point("train.checkpoint", t->rank, HPCML_EIO));
    ckpt_list *l;
    HPCML_TRY(list_build(&l, t));
    int rc = list_export(l, t);
    char path[4400];
    if (best)
        best_name(path, sizeof path, t->ckpt_dir);
    else
        step_name(path, sizeof path, t->ckpt_dir, t->prog->global_step);
    /* Never a checkpoint of weights that are not numbers: a resume would
     * continue from them and best.h5 would be evaluated as a model. */
    for (size_t i = 0; rc == HPCML_OK && i < l->n_params; i++)
        if (!isfinite(l->params[i]) || (l->m && !isfinite(l->m[i])) || (l->v && !isfinite(l->v[i])))
            rc = HPCML_FAIL(HPCML_EINTERNAL,
                            "training diverged before epoch %lld ended: parameter %zu (or its "
                            "optimizer state) is not finite; %s not written (lower train.lr, set "
                            "train.grad_clip_norm, or check train.eps)",
                            (long long)t->prog->epoch, i, path);
    if (rc == HPCML_OK) rc = ckpt_file_write(path, l->items, l->n);
    list_free(l);
    HPCML_TRY(rc);
    if (!best) {
        char latest[4400];
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        char text[4416];
        snprintf(latest, sizeof latest, "%s/latest", t->ckpt_dir);
        snprintf(text, sizeof text, "%s\n", base);
        HPCML_TRY(atomic_write_text(latest, text));
        HPCML_TRY(rotate(t));
    }
    log_debug("checkpoint %s (epoch %lld, step %lld)", path, (long long)t->prog->epoch,
              (long long)t->prog->global_step);
    return HPCML_OK;
}

int checkpoint_save(const checkpoint_ctx *t, int best)
{
    int rc = t->rank == 0 ? save_rank0(t, best) : HPCML_OK;
    return hpcml_mpi_agree(t->comm, rc);
}

static const char *optim_name(int64_t kind)
{
    return kind == NN_OPT_SGD     ? "sgd"
           : kind == NN_OPT_ADAM  ? "adam"
           : kind == NN_OPT_ADAMW ? "adamw"
                                  : "?";
}

static void widths_text(char *out, size_t n, const int64_t *w, int layers)
{
    int off = 0;
    for (int k = 0; k <= layers && off < (int)n; k++)
        off += snprintf(out + off, n - (size_t)off, k ? " -> %lld" : "%lld", (long long)w[k]);
}

/* Whether the verified checkpoint f read from path holds this run's model
 * architecture (HPCML_EUSAGE naming both when not). */
static int check_architecture(const checkpoint_ctx *t, const char *path, const ckpt_list *f)
{
    const mlp *m = t->model;
    const int f_layers = f->items[0].rank == 1 ? (int)f->items[0].dims[0] - 1 : -1;
    int same = f_layers == m->n_layers;
    for (int k = 0; same && k <= m->n_layers; k++)
        same = f->s.widths[k] == m->width[k];
    if (!same) {
        int64_t mine[MLP_MAX_HIDDEN + 2];
        for (int k = 0; k <= m->n_layers; k++)
            mine[k] = m->width[k];
        char a[512], b[512];
        widths_text(a, sizeof a, f->s.widths, f_layers);
        widths_text(b, sizeof b, mine, m->n_layers);
        return HPCML_FAIL(HPCML_EUSAGE,
                          "%s holds a model %s; this run's model is %s (train.hidden, or the "
                          "dataset's features and classes changed)",
                          path, a, b);
    }
    return HPCML_OK;
}

/* Whether this run can continue from the verified checkpoint f read from
 * path: the same architecture and optimizer state. HPCML_EUSAGE naming
 * the checkpoint's setting and this run's when not. */
static int check_compatible(const checkpoint_ctx *t, const char *path, const ckpt_list *f)
{
    HPCML_TRY(check_architecture(t, path, f));
    HPCML_CHECK(f->s.activation == (int64_t)t->act, HPCML_EUSAGE,
                "%s was written with train.activation = \"%s\"; this run has \"%s\"", path,
                f->s.activation == NN_ACT_GELU ? "gelu" : "relu",
                t->act == NN_ACT_GELU ? "gelu" : "relu");
    const int64_t kind = (int64_t)t->opt->cfg.kind;
    HPCML_CHECK(f->s.optim_kind == kind, HPCML_EUSAGE,
                "%s was written with train.optimizer = \"%s\"; this run has train.optimizer = "
                "\"%s\"",
                path, optim_name(f->s.optim_kind), optim_name(kind));
    /* The data it was trained on (older checkpoints do not say). */
    HPCML_CHECK(!f->has.dataset_id || (uint64_t)f->s.dataset_id == t->dataset_id, HPCML_EUSAGE,
                "%s was written while training on another dataset (identity %016llx; %s now is "
                "%016llx: hpcml-etl ran again on other data or settings?); continuing would mix "
                "the two and keep the old best metric",
                path, (unsigned long long)f->s.dataset_id, t->dataset,
                (unsigned long long)t->dataset_id);
    const int f_m = f->m != NULL, f_v = f->v != NULL;
    const int my_m = t->opt->m != NULL, my_v = t->opt->v != NULL;
    if (kind == NN_OPT_SGD)
        HPCML_CHECK(f_m == my_m && f_v == my_v, HPCML_EUSAGE,
                    "%s was written with SGD %s momentum buffers (train.momentum %s 0); this run "
                    "has train.momentum = %g",
                    path, f_m ? "with" : "without", f_m ? ">" : "=", t->opt->cfg.momentum);
    HPCML_CHECK(f_m == my_m && f_v == my_v, HPCML_EUSAGE,
                "%s holds optimizer moments (m: %s, v: %s) that train.optimizer = \"%s\" does not "
                "use (m: %s, v: %s)",
                path, f_m ? "yes" : "no", f_v ? "yes" : "no", optim_name(kind), my_m ? "yes" : "no",
                my_v ? "yes" : "no");
    return HPCML_OK;
}

/* Rank 0, not collective: read the checkpoint at path as what it holds,
 * verify its checksum, and only then check that this run can continue from
 * it; on success its contents are copied into `into` (t's list).
 * HPCML_EDATA / HPCML_EIO: corrupt or unreadable (an older one may be
 * tried); HPCML_EUSAGE: intact but for another model or optimizer (never
 * deleted: the caller stops). */
static int read_compatible(const checkpoint_ctx *t, const char *path, ckpt_list *into)
{
    ckpt_list *f;
    HPCML_TRY(list_for_file(&f, path));
    int rc = ckpt_file_read(path, f->items, f->n);
    if (rc == HPCML_OK) rc = check_compatible(t, path, f);
    if (rc == HPCML_OK) {
        const size_t bytes = f->n_params * sizeof(float);
        into->s = f->s;
        memcpy(into->params, f->params, bytes);
        if (into->m) memcpy(into->m, f->m, bytes);
        if (into->v) memcpy(into->v, f->v, bytes);
    }
    list_free(f);
    return rc;
}

/* Rank 0: the newest step-*.h5 that reads back intact, into l. */
static int find_newest(const checkpoint_ctx *t, ckpt_list *l, int *found, char *chosen,
                       size_t chosen_n)
{
    *found = 0;
    int64_t *steps;
    int count;
    HPCML_TRY(list_steps(t->ckpt_dir, &steps, &count));
    int rc = HPCML_OK;
    for (int i = count - 1; i >= 0 && !*found; i--) {
        step_name(chosen, chosen_n, t->ckpt_dir, steps[i]);
        rc = read_compatible(t, chosen, l);
        if (rc == HPCML_OK) {
            *found = 1;
        } else if (rc == HPCML_EDATA || rc == HPCML_EIO) {
            log_warn("skipping checkpoint %s: %s", chosen, hpcml_error_message());
            hpcml_error_clear();
            rc = HPCML_OK;
        } else {
            break; /* another model or optimizer: falling back would not help */
        }
    }
    free(steps);
    if (rc == HPCML_EUSAGE)
        return hpcml_error_context(
            "the checkpoints are kept: resume with the checkpoint's settings, "
            "use another train.output_dir, or train.resume = \"never\" to "
            "delete them and start over");
    return rc;
}

static int bcast_floats(float *buf, size_t n, MPI_Comm comm)
{
    for (size_t off = 0; off < n; off += (size_t)1 << 30) {
        size_t c = n - off < ((size_t)1 << 30) ? n - off : ((size_t)1 << 30);
        HPCML_MPI_CHECK(MPI_Bcast(buf + off, (int)c, MPI_FLOAT, 0, comm));
    }
    return HPCML_OK;
}

/* All ranks: list -> trainer. */
static int list_import(const checkpoint_ctx *t, const ckpt_list *l)
{
    const ckpt_scalars *s = &l->s;
    mlp *m = t->model;
    /* architecture and optimizer: check_compatible on rank 0 */
    const int64_t chunk = t->order.stream_chunk_rows;
    const int64_t window = t->order.stream_window_batches;
    /* streaming mode's chunk and window sizes shape its order (docs/train.md) */
    HPCML_CHECK(s->prog.step_in_epoch == 0 ||
                    (s->stream_chunk_rows == chunk && s->stream_window_batches == window),
                HPCML_EUSAGE,
                "the checkpoint stopped in the middle of epoch %lld with streaming chunks of %lld "
                "rows and windows of %lld batches (0, 0: memory mode); this run has %lld and %lld, "
                "which would give the rest of the epoch other rows: resume with the checkpoint's "
                "train.streaming, stream_chunk_rows and stream_window_batches",
                (long long)s->prog.epoch + 1, (long long)s->stream_chunk_rows,
                (long long)s->stream_window_batches, (long long)chunk, (long long)window);
    const int same_sampler =
        s->rows == (int64_t)t->smp->rows && s->global_batch == (int64_t)t->smp->global_batch &&
        s->drop_last == t->smp->drop_last && s->seed == (int64_t)t->smp->seed &&
        s->stream_chunk_rows == chunk && s->stream_window_batches == window;
    HPCML_CHECK(same_sampler || s->prog.step_in_epoch == 0, HPCML_EUSAGE,
                "the checkpoint stopped in the middle of epoch %lld with another data order "
                "(rows %lld, batch %lld, seed %lld); it cannot continue with rows %llu, batch "
                "%llu, seed %llu",
                (long long)s->prog.epoch + 1, (long long)s->rows, (long long)s->global_batch,
                (long long)s->seed, (unsigned long long)t->smp->rows,
                (unsigned long long)t->smp->global_batch, (unsigned long long)t->smp->seed);
    if (!same_sampler)
        log_warn("resuming with another data order than the checkpoint's (rows, batch size, "
                 "drop_last, seed or streaming settings changed)");
    if ((uint64_t)s->config_hash != t->config_hash)
        log_warn("the configuration changed since the checkpoint (a setting other than "
                 "train.epochs, e.g. train.lr, train.seed or train.batch_size); continuing with "
                 "this run's settings");
    const size_t bytes = m->n_params * sizeof(float);
    HPCML_TRY(mlp_set_params(m, l->params));
    if (l->m) HPCML_TRY(m->be->copy_to_device(t->opt->m, l->m, bytes));
    if (l->v) HPCML_TRY(m->be->copy_to_device(t->opt->v, l->v, bytes));
    t->opt->step = (long)s->optim_step;
    *t->prog = s->prog;
    /* rank 0 carries the partial epoch's loss so the epoch's sum counts it once */
    if (t->rank != 0) t->prog->part_loss_sum = t->prog->part_weight_sum = 0.0;
    return HPCML_OK;
}

int checkpoint_resume(const checkpoint_ctx *t, int *resumed)
{
    *resumed = 0;
    ckpt_list *l = NULL;
    int rc = list_build(&l, t);
    int found = 0, best_found = 0;
    char chosen[4400] = "";
    if (rc == HPCML_OK && t->rank == 0) rc = find_newest(t, l, &found, chosen, sizeof chosen);
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc != HPCML_OK) goto done;

    /* From here every rank runs the same broadcasts: an MPI error ends the job. */
    HPCML_MPI_CHECK_ABORT(t->comm, MPI_Bcast(&found, 1, MPI_INT, 0, t->comm));
    if (!found) goto done;
    const size_t n = t->model->n_params;
    HPCML_MPI_CHECK_ABORT(t->comm, MPI_Bcast(&l->s, (int)sizeof l->s, MPI_BYTE, 0, t->comm));
    if (bcast_floats(l->params, n, t->comm) != HPCML_OK ||
        (l->m && bcast_floats(l->m, n, t->comm) != HPCML_OK) ||
        (l->v && bcast_floats(l->v, n, t->comm) != HPCML_OK))
        hpcml_mpi_abort(t->comm, HPCML_EINTERNAL);
    rc = hpcml_mpi_agree(t->comm, list_import(t, l));
    if (rc != HPCML_OK) goto done;
    log_info("resuming from %s: epoch %lld, step %lld of the epoch, global step %lld", chosen,
             (long long)t->prog->epoch, (long long)t->prog->step_in_epoch,
             (long long)t->prog->global_step);

    /* The best model so far, for the final evaluation. */
    if (t->rank == 0 && t->prog->best_epoch > 0) {
        char path[4400];
        best_name(path, sizeof path, t->ckpt_dir);
        int brc = read_compatible(t, path, l);
        if (brc == HPCML_OK) {
            best_found = 1;
            memcpy(t->best_params, l->params, n * sizeof(float));
        } else {
            log_warn("cannot use %s (%s): the final evaluation uses the last model", path,
                     hpcml_error_message());
            hpcml_error_clear();
        }
    }
    HPCML_MPI_CHECK_ABORT(t->comm, MPI_Bcast(&best_found, 1, MPI_INT, 0, t->comm));
    if (best_found && bcast_floats(t->best_params, n, t->comm) != HPCML_OK)
        hpcml_mpi_abort(t->comm, HPCML_EINTERNAL);
    *t->have_best = best_found;
    *resumed = 1;
done:
    if (l) list_free(l);
    return rc;
}

int checkpoint_read_params(const checkpoint_ctx *t, const char *path, float *params, int64_t *epoch)
{
    ckpt_list *l = NULL;
    HPCML_TRY(list_for_file(&l, path)); /* any readable format version */
    int rc = ckpt_file_read(path, l->items, l->n);
    if (rc == HPCML_OK) rc = check_architecture(t, path, l);
    if (rc == HPCML_OK) {
        memcpy(params, l->params, t->model->n_params * sizeof(float));
        *epoch = l->s.prog.epoch;
    }
    list_free(l);
    return rc;
}

int checkpoint_verify_dir(const checkpoint_ctx *t)
{
    int64_t *steps;
    int count;
    HPCML_TRY(list_steps(t->ckpt_dir, &steps, &count));
    char path[4400];
    int newest_ok = 0;
    for (int i = count; i >= 0; i--) { /* i == count: best.h5 */
        if (i == count)
            best_name(path, sizeof path, t->ckpt_dir);
        else
            step_name(path, sizeof path, t->ckpt_dir, steps[i]);
        if (i == count && access(path, F_OK) != 0) continue;
        /* valid = intact as written, whatever this run's configuration */
        ckpt_list *f = NULL;
        int frc = list_for_file(&f, path);
        if (frc == HPCML_OK) frc = ckpt_file_read(path, f->items, f->n);
        if (frc == HPCML_OK) {
            printf("ok       %s epoch %lld step %lld\n", path, (long long)f->s.prog.epoch,
                   (long long)f->s.prog.global_step);
            if (i == count - 1) newest_ok = 1;
            if (check_compatible(t, path, f) != HPCML_OK) {
                printf("         (this configuration cannot resume from it: %s)\n",
                       hpcml_error_message());
                hpcml_error_clear();
            }
        } else if (frc == HPCML_EUSAGE) { /* intact, but of a format this build cannot read */
            printf("unknown  %s: %s\n", path, hpcml_error_message());
            hpcml_error_clear();
        } else {
            printf("INVALID  %s: %s\n", path, hpcml_error_message());
            hpcml_error_clear();
        }
        if (f) list_free(f);
    }
    fflush(stdout);
    free(steps);
    HPCML_CHECK(count > 0, HPCML_EDATA, "no checkpoints in %s", t->ckpt_dir);
    HPCML_CHECK(newest_ok, HPCML_EDATA, "the newest checkpoint in %s is not valid", t->ckpt_dir);
    return HPCML_OK;
}
