/* trainer.c — the data-parallel epoch loop of hpcml-train. See trainer.h.
 *
 * Phases alternate between local work and collective calls; every local
 * phase ends at an agreement point (hpcml_mpi_agree), so a rank that fails
 * never leaves the others waiting in a collective. Inside the step loop all
 * ranks run the same collectives in the same order; a failure there (only
 * possible from a bug or an MPI error) aborts the job. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "train/trainer.h"

#include <cblas.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/profile.h"
#include "core/status.h"
#include "io/atomic_file.h"
#include "io/dataset_layout.h"
#include "io/h5_dataset_read.h"
#include "io/model_file.h"
#include "io/predictions_file.h"
#include "nn/gpu.h"
#include "train/checkpoint.h"
#include "train/dist_metrics.h"
#include "train/monitor.h"
#include "train/signals.h"

enum { STOP_NONE = 0, STOP_DONE = 1, STOP_EARLY = 2, STOP_ALERT = 3, STOP_HOOK = 4 };
static const char *const stop_names[] = {"running", "completed", "early stopping", "alert",
                                         "stopped by caller"};

/* Rows per evaluation forward (the model's workspace is at least this). */
#define EVAL_CHUNK_ROWS 2048

/* ---- BLAS threads -------------------------------------------------------- */

int trainer_blas_threads(const hpcml_config *cfg, MPI_Comm comm)
{
    /* Collective (node-local communicator), so called by every rank. */
    MPI_Comm node;
    int local = 1;
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_size(node, &local);
        MPI_Comm_free(&node);
    }
    int64_t want = cfg_int(cfg, "train.blas_threads");
    if (want > 0) return (int)want;
    const char *slurm = getenv("SLURM_CPUS_PER_TASK");
    if (slurm && atoi(slurm) > 0) return atoi(slurm);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1) online = 1;
    cpu_set_t set;
    int allowed = (int)online;
    if (sched_getaffinity(0, sizeof set, &set) == 0) allowed = CPU_COUNT(&set);
    /* Bound by mpirun/srun to a subset: that subset is this rank's. */
    if (allowed < online) return allowed > 0 ? allowed : 1;
    int share = (int)(online / local);
    return share > 0 ? share : 1;
}

/* ---- setup: configuration into the trainer (local) ------------------------ */

static int parse_config(trainer *t)
{
    const hpcml_config *cfg = t->cfg;
    snprintf(t->output_dir, sizeof t->output_dir, "%s", cfg_str(cfg, "train.output_dir"));
    snprintf(t->ckpt_dir, sizeof t->ckpt_dir, "%s/checkpoints", t->output_dir);
    t->seed = (uint64_t)cfg_int(cfg, "train.seed");
    const int64_t *hidden;
    int nh = cfg_int_list(cfg, "train.hidden", &hidden);
    HPCML_CHECK(nh <= MLP_MAX_HIDDEN, HPCML_EUSAGE, "train.hidden: %d layers, at most %d", nh,
                MLP_MAX_HIDDEN);
    memset(&t->shape, 0, sizeof t->shape);
    t->shape.n_hidden = nh;
    for (int i = 0; i < nh; i++)
        t->shape.hidden[i] = (int)hidden[i];
    t->shape.act =
        strcmp(cfg_str(cfg, "train.activation"), "gelu") == 0 ? NN_ACT_GELU : NN_ACT_RELU;
    t->shape.dropout_p = (float)cfg_float(cfg, "train.dropout");

    const char *opt = cfg_str(cfg, "train.optimizer");
    nn_optim_kind kind = strcmp(opt, "sgd") == 0     ? NN_OPT_SGD
                         : strcmp(opt, "adamw") == 0 ? NN_OPT_ADAMW
                                                     : NN_OPT_ADAM;
    t->optim_cfg = nn_optim_defaults(kind);
    t->optim_cfg.weight_decay = cfg_float(cfg, "train.weight_decay");
    if (kind == NN_OPT_SGD) {
        t->optim_cfg.momentum = cfg_float(cfg, "train.momentum");
        t->optim_cfg.nesterov = cfg_bool(cfg, "train.nesterov");
    } else {
        t->optim_cfg.beta1 = cfg_float(cfg, "train.beta1");
        t->optim_cfg.beta2 = cfg_float(cfg, "train.beta2");
        t->optim_cfg.eps = cfg_float(cfg, "train.eps");
    }
    t->epochs = cfg_int(cfg, "train.epochs");
    t->threshold = cfg_float(cfg, "train.threshold");
    t->grad_clip = cfg_float(cfg, "train.grad_clip_norm");
    t->es_metric = monitor_metric_index(cfg_str(cfg, "train.early_stopping_metric"));
    HPCML_CHECK(t->es_metric >= 0, HPCML_EUSAGE, "train.early_stopping_metric: unknown metric");
    t->es_patience = (int)cfg_int(cfg, "train.early_stopping_patience");
    t->ckpt_every = (int)cfg_int(cfg, "train.checkpoint_every");
    t->ckpt_keep = (int)cfg_int(cfg, "train.keep_checkpoints");
    t->config_hash = hpcml_config_hash(cfg);

    nn_gpu_math math;
    HPCML_CHECK(nn_gpu_math_from_name(cfg_str(cfg, "train.cuda_math"), &math) == 0, HPCML_EUSAGE,
                "train.cuda_math: unknown mode '%s'", cfg_str(cfg, "train.cuda_math"));
    t->be = nn_backend_cpu; /* select_backend may change it */
    return HPCML_OK;
}

/* ---- the compute backend (collective) ---------------------------------------
 * train.device = "cpu" takes the CPU; "cuda" needs a usable CUDA device on
 * every rank (else exit 1 saying why); "auto" takes CUDA when every rank has
 * one and the CPU otherwise, with a warning. A rank's device comes from its
 * node-local rank (the launcher's variable, else MPI's shared-memory split)
 * modulo the devices it sees (CUDA_VISIBLE_DEVICES applies): see nn/gpu.h. */

/* Collective: do ranks of one node drive the same physical GPU (same PCI
 * bus id)? That works but is slow, and NCCL refuses it, so their gradients
 * then go through MPI (t->gpu_shared). */
static int gpus_shared(trainer *t, MPI_Comm node, const char *bus)
{
    int shared = 0;
    if (node != MPI_COMM_NULL) {
        int nl, ns;
        MPI_Comm_rank(node, &nl);
        MPI_Comm_size(node, &ns);
        char *all = malloc((size_t)ns * NN_GPU_BUS_ID_BYTES);
        if (!all) { /* the others are entering the gather: end the job, do not hang it */
            HPCML_FAIL(HPCML_EINTERNAL, "out of memory for %d bus ids", ns);
            hpcml_mpi_abort(t->comm, HPCML_EINTERNAL);
        }
        char mine[NN_GPU_BUS_ID_BYTES];
        memset(mine, 0, sizeof mine);
        snprintf(mine, sizeof mine, "%s", bus);
        const int rc = MPI_Allgather(mine, NN_GPU_BUS_ID_BYTES, MPI_CHAR, all, NN_GPU_BUS_ID_BYTES,
                                     MPI_CHAR, node);
        for (int i = 0; rc == MPI_SUCCESS && i < ns; i++)
            if (i != nl && strcmp(all + (size_t)i * NN_GPU_BUS_ID_BYTES, mine) == 0) shared = 1;
        free(all);
        HPCML_MPI_CHECK(rc);
    }
    HPCML_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &shared, 1, MPI_INT, MPI_MAX, t->comm));
    t->gpu_shared = shared;
    if (shared && t->rank == 0)
        log_warn("ranks of one node share a GPU: training will be slow, and gradients are summed "
                 "over MPI (NCCL needs a GPU per rank); run one rank per GPU "
                 "(--gpus-per-task=1 --gpu-bind=single:1, or --ntasks-per-node=<GPUs per node>)");
    return HPCML_OK;
}

static int select_backend(trainer *t)
{
    const char *device = cfg_str(t->cfg, "train.device");
    if (strcmp(device, "cpu") == 0) return HPCML_OK;
    char why[512] = "";
    const int n_dev = nn_gpu_device_count(why, sizeof why);
    int have = n_dev > 0, all = have;
    HPCML_MPI_CHECK(MPI_Allreduce(&have, &all, 1, MPI_INT, MPI_MIN, t->comm));
    if (!all) {
        int rc = HPCML_OK;
        if (strcmp(device, "cuda") == 0)
            rc = have ? HPCML_FAIL(HPCML_EUSAGE,
                                   "train.device = \"cuda\": another rank has no usable CUDA "
                                   "device")
                      : HPCML_FAIL(HPCML_EUSAGE,
                                   "train.device = \"cuda\" but no CUDA device is usable (%s); "
                                   "set train.device = \"cpu\", or \"auto\" to fall back to "
                                   "the CPU",
                                   why);
        else if (t->rank == 0)
            log_warn("train.device = \"auto\": no usable CUDA device on %s (%s): training on "
                     "the CPU",
                     have ? "some rank" : "rank 0", have ? "see that rank" : why);
        return hpcml_mpi_agree(t->comm, rc);
    }
    /* node-local rank: the launcher's variable, else MPI's (collective) */
    int local = nn_gpu_local_rank_from_env(NULL);
    MPI_Comm node = MPI_COMM_NULL;
    if (MPI_Comm_split_type(t->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) != MPI_SUCCESS)
        node = MPI_COMM_NULL;
    if (local < 0 && node != MPI_COMM_NULL) MPI_Comm_rank(node, &local);
    nn_gpu_math math = NN_GPU_MATH_FP32;
    nn_gpu_math_from_name(cfg_str(t->cfg, "train.cuda_math"), &math);
    const int dev = nn_gpu_pick_device(local, n_dev);
    int rc = nn_gpu_open(dev, math);
    if (rc == HPCML_OK) t->gpu_open = 1;
    const nn_backend *be = nn_backend_by_name("cuda");
    if (rc == HPCML_OK && !be)
        rc = HPCML_FAIL(HPCML_EINTERNAL, "a CUDA device is open but no \"cuda\" backend is built");
    char desc[256] = "", bus[NN_GPU_BUS_ID_BYTES] = "";
    if (rc == HPCML_OK) rc = nn_gpu_describe(desc, sizeof desc);
    if (rc == HPCML_OK) rc = nn_gpu_pci_bus_id(bus, sizeof bus);
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc == HPCML_OK) rc = gpus_shared(t, node, bus);
    if (node != MPI_COMM_NULL) MPI_Comm_free(&node);
    if (rc != HPCML_OK) return rc;
    t->be = *be;
    log_rank_info("rank %d (local rank %d): GPU %s, GEMM math %s", t->rank, local, desc,
                  cfg_str(t->cfg, "train.cuda_math"));
    return HPCML_OK;
}

/* Device backends: the batch buffers, the class weights and the gradient
 * allreduce (NCCL or host-staged MPI instead of grad_sync's host buffers). */
static int setup_device_buffers(trainer *t)
{
    const nn_backend *be = &t->be;
    t->dev_prefetched = -1;
    t->class_weights_be = t->class_weights;
    if (!be->device_memory) return HPCML_OK;
    const size_t rows = t->ed.slice ? t->ed.slice : 1;
    for (int i = 0; i < 2; i++) {
        HPCML_TRY(be->alloc((void **)&t->dev_x[i], rows * (size_t)t->n_features * sizeof(float)));
        HPCML_TRY(be->alloc((void **)&t->dev_y[i], rows * sizeof(int32_t)));
    }
    if (t->class_weights) {
        const size_t bytes = (size_t)t->n_classes * sizeof(float);
        HPCML_TRY(be->alloc((void **)&t->dev_class_weights, bytes));
        HPCML_TRY(be->copy_to_device(t->dev_class_weights, t->class_weights, bytes));
        t->class_weights_be = t->dev_class_weights;
    }
    return HPCML_OK;
}

/* Step `step`'s rows in backend memory. The upload of step + 1 is issued
 * before step's work, into the buffer step - 1 used, so it overlaps this
 * step's compute (backend.h upload_async). */
static int upload_batch(trainer *t, const float *x, const int32_t *y, int slot)
{
    const size_t rows = t->ed.slice, F = (size_t)t->n_features;
    HPCML_TRY(t->be.upload_async(t->dev_x[slot], x, rows * F * sizeof(float)));
    return t->be.upload_async(t->dev_y[slot], y, rows * sizeof(int32_t));
}

/* On entry *x, *y are the host rows of batch `step`; on return the device
 * copies. In memory mode the next batch is on the host already, so its upload
 * starts now and overlaps this step; a streamed batch exists on the host only
 * once its window is read, so it is uploaded when it is used. */
static int device_batch(trainer *t, uint64_t epoch, uint64_t step, const float **x,
                        const int32_t **y)
{
    const epoch_data *ed = &t->ed;
    const size_t rows = ed->slice, F = (size_t)t->n_features;
    const int64_t id = (int64_t)(epoch * t->smp.steps + step);
    if (t->dev_prefetched != id) HPCML_TRY(upload_batch(t, *x, *y, (int)(step % 2)));
    HPCML_TRY(t->be.upload_wait());
    t->dev_prefetched = -1;
    if (!t->streaming && step + 1 < t->smp.steps) {
        HPCML_TRY(upload_batch(t, ed->x + (step + 1) * rows * F, ed->y + (step + 1) * rows,
                               (int)((step + 1) % 2)));
        t->dev_prefetched = id + 1;
    }
    *x = t->dev_x[step % 2];
    *y = t->dev_y[step % 2];
    return HPCML_OK;
}

/* ---- loading: shards of /train, shares of /val and /test (collective) ---- */

static int alloc_split(uint64_t rows, int F, float **x, int32_t **y, int64_t **row_id)
{
    *x = malloc((rows ? rows : 1) * (uint64_t)F * sizeof **x);
    *y = malloc((rows ? rows : 1) * sizeof **y);
    HPCML_CHECK(*x && *y, HPCML_EINTERNAL, "out of memory for %llu rows of %d features",
                (unsigned long long)rows, F);
    if (row_id) {
        *row_id = malloc((rows ? rows : 1) * sizeof **row_id);
        HPCML_ALLOC_CHECK(*row_id, rows * sizeof **row_id);
    }
    return HPCML_OK;
}

/* Collective: /train must hold at least two classes (memory mode, where its
 * labels are loaded): with one, every metric is undefined and the model
 * learns a constant. */
static int check_classes(trainer *t, const char *path, uint64_t train_rows)
{
    int64_t seen[64] = {0};
    const int nc = t->n_classes < 64 ? t->n_classes : 64;
    for (uint64_t i = 0; i < t->ed.shard_hi - t->ed.shard_lo; i++)
        if (t->ed.shard_y[i] >= 0 && t->ed.shard_y[i] < nc) seen[t->ed.shard_y[i]] = 1;
    HPCML_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, seen, nc, MPI_INT64_T, MPI_MAX, t->comm));
    int present = 0, only = -1;
    for (int c = 0; c < nc; c++)
        if (seen[c]) present++, only = c;
    HPCML_CHECK(present >= 2 || train_rows == 0, HPCML_EDATA,
                "%s: every /train row has label %d: a classifier cannot be trained on one class "
                "(check etl.label, etl.positive_labels / negative_labels and etl.null_markers)",
                path, only);
    return HPCML_OK;
}

static int load_class_weights(trainer *t, h5_dataset *ds)
{
    const char *mode = cfg_str(t->cfg, "train.class_weights");
    const int C = t->n_classes;
    if (strcmp(mode, "none") == 0) return HPCML_OK;
    t->class_weights = malloc((size_t)C * sizeof *t->class_weights);
    t->class_weights_d = malloc((size_t)C * sizeof *t->class_weights_d);
    HPCML_CHECK(t->class_weights && t->class_weights_d, HPCML_EINTERNAL, "out of memory");
    if (strcmp(mode, "dataset") == 0) {
        int found = 0;
        HPCML_TRY(h5_dataset_class_weights(ds, t->class_weights_d, &found));
        HPCML_CHECK(found, HPCML_EDATA,
                    "train.class_weights = \"dataset\" but %s has no /meta/class_weights",
                    ds->path);
    } else {
        const double *v;
        int n = cfg_float_list(t->cfg, "train.class_weight_values", &v);
        HPCML_CHECK(n == C, HPCML_EUSAGE,
                    "train.class_weight_values has %d values, the dataset has %d classes", n, C);
        memcpy(t->class_weights_d, v, (size_t)C * sizeof *v);
    }
    for (int c = 0; c < C; c++) {
        HPCML_CHECK(t->class_weights_d[c] >= 0 && isfinite(t->class_weights_d[c]), HPCML_EDATA,
                    "class weight %d is %g", c, t->class_weights_d[c]);
        t->class_weights[c] = (float)t->class_weights_d[c];
    }
    return HPCML_OK;
}

static int load_data(trainer *t)
{
    h5_dataset ds;
    const char *path = cfg_str(t->cfg, "train.dataset");
    int rc = hpcml_mpi_agree(t->comm, h5_dataset_open(&ds, path, t->comm));
    if (rc != HPCML_OK) return rc;
    t->n_features = (int)ds.n_features;
    t->n_classes = (int)ds.n_classes;
    t->shape.n_inputs = t->n_features;
    t->shape.n_classes = t->n_classes;

    /* local: layout and buffers */
    rc = sampler_init(&t->smp, ds.rows[SPLIT_TRAIN], (uint64_t)cfg_int(t->cfg, "train.batch_size"),
                      t->size, cfg_bool(t->cfg, "train.drop_last"), t->seed);
    t->streaming = cfg_bool(t->cfg, "train.streaming");
    if (rc == HPCML_OK && t->streaming) {
        epoch_data_layout(&t->ed, &t->smp, t->rank, t->size, t->n_features);
        rc = stream_data_init(&t->sd, &t->smp, &ds, t->rank, t->size,
                              (uint64_t)cfg_int(t->cfg, "train.stream_chunk_rows"),
                              (uint64_t)cfg_int(t->cfg, "train.stream_window_batches"));
    } else if (rc == HPCML_OK) {
        /* small /train: every rank holds all of it and the epoch's exchange is a local gather */
        const double train_mb = (double)ds.rows[SPLIT_TRAIN] *
                                ((double)t->n_features * sizeof(float) + sizeof(int32_t)) / 1048576.0;
        const int replicated =
            t->size > 1 && train_mb <= (double)cfg_int(t->cfg, "train.replicate_max_mb");
        rc = epoch_data_init(&t->ed, &t->smp, t->rank, t->size, t->n_features, replicated);
        if (rc == HPCML_OK && t->rank == 0)
            log_info("/train (%.1f MB) %s", train_mb,
                     replicated ? "replicated on every rank: rows are gathered locally each epoch"
                                : "sharded across ranks: rows are exchanged each epoch");
    }
    uint64_t hi;
    sampler_shard_range(ds.rows[SPLIT_VAL], t->size, t->rank, &t->val_lo, &hi);
    t->val_rows = hi - t->val_lo;
    sampler_shard_range(ds.rows[SPLIT_TEST], t->size, t->rank, &t->test_lo, &hi);
    t->test_rows = hi - t->test_lo;
    if (rc == HPCML_OK) rc = alloc_split(t->val_rows, t->n_features, &t->val_x, &t->val_y, NULL);
    if (rc == HPCML_OK)
        rc = alloc_split(t->test_rows, t->n_features, &t->test_x, &t->test_y, &t->test_row_id);
    rc = hpcml_mpi_agree(t->comm, rc);

    /* collective: the reads (each rank its own hyperslab; /train only when not streamed) */
    if (rc == HPCML_OK && !t->streaming)
        rc = h5_dataset_read_rows(&ds, SPLIT_TRAIN, t->ed.shard_lo, t->ed.shard_hi, t->ed.shard_x,
                                  t->ed.shard_y, NULL);
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc == HPCML_OK)
        rc = h5_dataset_read_rows(&ds, SPLIT_VAL, t->val_lo, t->val_lo + t->val_rows, t->val_x,
                                  t->val_y, NULL);
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc == HPCML_OK)
        rc = h5_dataset_read_rows(&ds, SPLIT_TEST, t->test_lo, t->test_lo + t->test_rows, t->test_x,
                                  t->test_y, t->test_row_id);
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc == HPCML_OK) rc = hpcml_mpi_agree(t->comm, load_class_weights(t, &ds));
    if (rc == HPCML_OK) rc = hpcml_mpi_agree(t->comm, h5_dataset_identity(&ds, &t->dataset_id));
    if (rc == HPCML_OK && !t->streaming)
        rc = hpcml_mpi_agree(t->comm, check_classes(t, path, ds.rows[SPLIT_TRAIN]));
    h5_dataset_close(&ds);
    if (rc == HPCML_OK)
        log_info("dataset %s: %llu train, %llu val, %llu test rows, %d features, %d classes", path,
                 (unsigned long long)ds.rows[SPLIT_TRAIN], (unsigned long long)ds.rows[SPLIT_VAL],
                 (unsigned long long)ds.rows[SPLIT_TEST], t->n_features, t->n_classes);
    return rc;
}

/* ---- model, optimizer, schedule (local) ----------------------------------- */

static int build_model(trainer *t)
{
    t->be.allreduce_sum = grad_sync_allreduce;
    t->be.comm_ctx = &t->gs;
    int max_batch = (int)t->ed.slice > EVAL_CHUNK_ROWS ? (int)t->ed.slice : EVAL_CHUNK_ROWS;
    HPCML_TRY(mlp_create(&t->model, &t->be, &t->shape, max_batch));
    HPCML_TRY(mlp_init_params(&t->model, t->seed, NN_INIT_HE_NORMAL));
    HPCML_TRY(optim_create(&t->opt, &t->be, t->model.n_params, &t->optim_cfg));
    t->best_params = malloc(t->model.n_params * sizeof(float));
    HPCML_ALLOC_CHECK(t->best_params, t->model.n_params * sizeof(float));
    grad_sync_init(&t->gs, t->comm, t->model.n_params,
                   (size_t)cfg_int(t->cfg, "train.bucket_kb") * 1024);
    HPCML_TRY(setup_device_buffers(t));

    const hpcml_config *cfg = t->cfg;
    nn_lr_schedule *s = &t->lr_sched;
    memset(s, 0, sizeof *s);
    const char *kind = cfg_str(cfg, "train.lr_schedule");
    s->kind = strcmp(kind, "step") == 0     ? NN_LR_STEP
              : strcmp(kind, "cosine") == 0 ? NN_LR_COSINE
                                            : NN_LR_CONSTANT;
    s->base_lr = cfg_float(cfg, "train.lr");
    if (strcmp(cfg_str(cfg, "train.lr_scaling"), "linear") == 0)
        s->base_lr = lr_linear_scaling(s->base_lr, (long)t->smp.global_batch,
                                       (long)cfg_int(cfg, "train.lr_base_batch"));
    s->steps_per_epoch = (long)t->smp.steps;
    s->warmup_steps = lround(cfg_float(cfg, "train.warmup_epochs") * (double)t->smp.steps);
    s->step_epochs = (long)cfg_int(cfg, "train.lr_step_epochs");
    s->gamma = cfg_float(cfg, "train.lr_gamma");
    s->total_steps = (long)(t->epochs * (int64_t)t->smp.steps);
    s->min_lr = 0.0;

    t->prog.best_metric = NAN;
    return HPCML_OK;
}

/* ---- one training step ------------------------------------------------------ */

/* mlp_backward with the gradient allreduce of each finished layer started
 * at once (grad_sync bucketed mode). */
static int grad_ready(size_t lo, size_t hi, void *gs)
{
    return grad_sync_ready(gs, lo, hi);
}

static int backward_bucketed(mlp *m, const float *x, int rows, grad_sync *gs)
{
    grad_sync_begin(gs, m->grads);
    HPCML_TRY(mlp_backward_notify(m, x, rows, m->dlogits, 0, grad_ready, gs));
    return grad_sync_finish(gs);
}

/* One optimizer step on this rank's rows x, y of global batch `step`. */
static int train_step(trainer *t, uint64_t epoch, uint64_t step, const float *x, const int32_t *y,
                      double batch_weight, double *loss_sum, double *grad_norm)
{
    const epoch_data *ed = &t->ed;
    mlp *m = &t->model;
    const int rows = (int)ed->slice;
    const float *cw = t->class_weights_be;
    if (t->be.device_memory) HPCML_TRY(device_batch(t, epoch, step, &x, &y));
    /* Dropout keys: the sample's global position in the epoch, so masks do
     * not depend on which rank or batch slot computes it. */
    nn_dropout_rows keys = {
        .seed = t->seed,
        .row_keys = NULL,
        .row_key_base = nn_dropout_row_key(epoch, sampler_positions(&t->smp),
                                           step * t->smp.global_batch + ed->slice_lo),
    };
    double ls = 0.0, ws = 0.0;
    HPCML_TRY(mlp_forward(m, x, rows, &keys));
    HPCML_TRY(mlp_loss_forward(m, y, cw, rows, &ls, &ws));
    const float scale = batch_weight > 0 ? (float)(1.0 / batch_weight) : 0.0f;
    HPCML_TRY(mlp_loss_backward(m, y, cw, rows, scale));
    if (t->gs.bucketed) {
        HPCML_TRY(backward_bucketed(m, x, rows, &t->gs));
    } else {
        HPCML_TRY(mlp_backward(m, x, rows, m->dlogits, 0));
        HPCML_TRY(t->be.allreduce_sum(m->grads, m->n_params, t->be.comm_ctx));
    }
    /* The norm of the summed gradient, every step: the same on every rank
     * (after the allreduce), so all ranks see a divergence at the same step
     * and stop together; one pass over the parameters. */
    *grad_norm = NAN;
    int nrc = optim_clip_grad_norm(&t->be, m->grads, m->n_params, t->grad_clip, grad_norm);
    if (nrc != HPCML_OK && !isfinite(*grad_norm)) {
        hpcml_error_clear();
        return HPCML_OK; /* the caller stops: no step with a non-finite gradient */
    }
    HPCML_TRY(nrc);
    const double lr = lr_schedule_at(&t->lr_sched, t->opt.step);
    HPCML_TRY(optim_step(&t->opt, m->params, m->grads, lr));
    *loss_sum += ls;
    return HPCML_OK;
}

/* The sum of class weights of every global batch of the epoch (the loss
 * normalizer), from each rank's labels: one allreduce per epoch instead of
 * one per step. */
static int batch_weights(trainer *t, double *w)
{
    const epoch_data *ed = &t->ed;
    for (uint64_t s = 0; s < t->smp.steps; s++) {
        double sum = 0.0;
        for (uint64_t j = 0; j < ed->slice; j++) {
            int32_t y = ed->y[s * ed->slice + j];
            sum += t->class_weights ? (double)t->class_weights[y] : 1.0;
        }
        w[s] = sum;
    }
    if (t->size > 1)
        HPCML_MPI_CHECK(
            MPI_Allreduce(MPI_IN_PLACE, w, (int)t->smp.steps, MPI_DOUBLE, MPI_SUM, t->comm));
    return HPCML_OK;
}

/* ---- preemption ------------------------------------------------------------ */

typedef struct {
    int in, out;
    MPI_Request req;
    int active;
} preempt_vote;

static void vote_start(trainer *t, preempt_vote *v)
{
    v->in = signals_pending() != 0;
    v->out = v->in;
    v->active = 0;
    if (t->size > 1) {
        if (MPI_Iallreduce(&v->in, &v->out, 1, MPI_INT, MPI_MAX, t->comm, &v->req) != MPI_SUCCESS)
            hpcml_mpi_abort(t->comm, HPCML_EINTERNAL);
        v->active = 1;
    }
}

static int vote_finish(trainer *t, preempt_vote *v)
{
    if (v->active && MPI_Wait(&v->req, MPI_STATUS_IGNORE) != MPI_SUCCESS)
        hpcml_mpi_abort(t->comm, HPCML_EINTERNAL);
    v->active = 0;
    return v->out;
}

static int preempted_exit(trainer *t)
{
    int rc = checkpoint_save(t, 0);
    if (rc != HPCML_OK) return rc;
    return HPCML_FAIL(HPCML_EPREEMPTED,
                      "preempted by a signal: checkpoint written at epoch %lld, step %lld of the "
                      "epoch (global step %lld); run again to resume",
                      (long long)t->prog.epoch, (long long)t->prog.step_in_epoch,
                      (long long)t->prog.global_step);
}

/* ---- the epoch loop --------------------------------------------------------- */

/* Training produced a non-finite value that every rank sees alike (a
 * reduced loss or the summed gradient): stop on all ranks with exit 4,
 * writing no checkpoint of these weights. */
static int diverged(const trainer *t, const char *what, double value, uint64_t step)
{
    return HPCML_FAIL(HPCML_EINTERNAL,
                      "training diverged at epoch %lld, step %llu of the epoch: %s is %g; no "
                      "checkpoint of these weights was written (lower train.lr, set "
                      "train.grad_clip_norm, or check train.eps and the data)",
                      (long long)t->prog.epoch + 1, (unsigned long long)step, what, value);
}

/* Reduce the local loss sums (plus a resumed partial epoch on rank 0). */
static void reduce_epoch_loss(trainer *t, double local_loss, double local_weight, double *loss,
                              double *weight)
{
    double in[2] = {local_loss + t->prog.part_loss_sum, local_weight + t->prog.part_weight_sum};
    double out[2] = {in[0], in[1]};
    if (t->size > 1 && MPI_Allreduce(in, out, 2, MPI_DOUBLE, MPI_SUM, t->comm) != MPI_SUCCESS)
        hpcml_mpi_abort(t->comm, HPCML_EINTERNAL);
    *loss = out[0];
    *weight = out[1];
}

static void fill_val_metrics(train_epoch_metrics *em, const split_metrics *vm)
{
    em->val_loss = vm->loss;
    em->val_accuracy = vm->accuracy;
    em->val_precision = vm->precision;
    em->val_recall = vm->recall;
    em->val_f1 = vm->f1;
    em->val_auc = vm->auc;
    em->val_pr_auc = vm->pr_auc;
}

static int run_epochs(trainer *t, monitor *mo)
{
    const uint64_t S = t->smp.steps;
    double *bw = malloc(S * sizeof *bw);
    int rc = bw ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc != HPCML_OK) return rc;
    int64_t val_global = (int64_t)t->val_rows;
    MPI_Allreduce(MPI_IN_PLACE, &val_global, 1, MPI_INT64_T, MPI_SUM, t->comm);
    if (val_global == 0) log_warn("the dataset has no /val rows: no validation metrics");

    while (t->prog.epoch < t->epochs && t->prog.stop_reason == STOP_NONE) {
        const uint64_t epoch = (uint64_t)t->prog.epoch;
        profile_begin("epoch");
        const double t_epoch = hpcml_mono_s();
        grad_sync_reset_stats(&t->gs);

        profile_begin("exchange");
        if (t->streaming) {
            stream_data_epoch_begin(&t->sd, epoch, (uint64_t)t->prog.step_in_epoch);
        } else {
            rc = epoch_data_fill(&t->ed, &t->smp, epoch, t->comm);
            if (rc == HPCML_OK) rc = batch_weights(t, bw);
            if (rc != HPCML_OK) hpcml_mpi_abort(t->comm, rc);
        }
        profile_end();

        profile_begin("steps");
        double local_loss = 0.0, local_weight = 0.0;
        const uint64_t first = (uint64_t)t->prog.step_in_epoch;
        for (uint64_t s = first; s < S; s++) {
            const float *x;
            const int32_t *y;
            double w;
            if (!t->streaming) {
                x = t->ed.x + s * t->ed.slice * (uint64_t)t->n_features;
                y = t->ed.y + s * t->ed.slice;
                w = bw[s];
            } else {
                /* agreed read errors end the run cleanly; MPI errors abort */
                rc = stream_data_step(&t->sd, s, t->class_weights, t->comm, &x, &y, &w);
                if (rc != HPCML_OK) {
                    stream_data_epoch_end(&t->sd);
                    profile_end();
                    profile_end();
                    free(bw);
                    return rc;
                }
            }
            preempt_vote vote;
            vote_start(t, &vote);
            double gnorm = 0.0;
            rc = train_step(t, epoch, s, x, y, w, &local_loss, &gnorm);
            if (rc != HPCML_OK) hpcml_mpi_abort(t->comm, rc);
            if (!isfinite(gnorm)) { /* identical on every rank: all stop here */
                vote_finish(t, &vote);
                if (t->streaming) stream_data_epoch_end(&t->sd);
                profile_end();
                profile_end();
                free(bw);
                return diverged(t, "the gradient norm", gnorm, s + 1);
            }
            /* w is the global batch's weight already: counted on rank 0 only */
            if (t->rank == 0) local_weight += w;
            t->prog.step_in_epoch = (int64_t)s + 1;
            t->prog.global_step++;
            if (vote_finish(t, &vote) && s + 1 < S) {
                if (t->streaming) stream_data_epoch_end(&t->sd);
                profile_end();
                profile_end();
                double gl, gw;
                reduce_epoch_loss(t, local_loss, local_weight, &gl, &gw);
                t->prog.part_loss_sum = gl;
                t->prog.part_weight_sum = gw;
                free(bw);
                log_info("preemption requested: checkpoint at epoch %lld step %llu",
                         (long long)t->prog.epoch + 1, (unsigned long long)s + 1);
                return preempted_exit(t);
            }
        }
        if (t->streaming) {
            stream_data_epoch_end(&t->sd);
            log_debug("epoch %llu streamed %llu rows: %.3f s reading (reader thread), %.3f s "
                      "waiting for it",
                      (unsigned long long)epoch + 1, (unsigned long long)t->sd.read_rows,
                      t->sd.read_s, t->sd.wait_s);
        }
        const double train_s = hpcml_mono_s() - t_epoch;
        profile_end();

        train_epoch_metrics em;
        memset(&em, 0, sizeof em);
        em.epoch = t->prog.epoch + 1;
        double gl, gw;
        reduce_epoch_loss(t, local_loss, local_weight, &gl, &gw);
        em.train_loss = gw > 0 ? gl / gw : NAN;
        if (gw > 0 && !isfinite(em.train_loss)) { /* reduced: the same on every rank */
            profile_end();
            free(bw);
            return diverged(t, "the epoch's training loss", em.train_loss, S);
        }
        em.lr = lr_schedule_at(&t->lr_sched, t->opt.step > 0 ? t->opt.step - 1 : 0);
        t->prog.epoch++;
        t->prog.step_in_epoch = 0;
        t->prog.part_loss_sum = t->prog.part_weight_sum = 0.0;

        profile_begin("validate");
        split_metrics vm;
        memset(&vm, 0, sizeof vm);
        em.val_loss = em.val_accuracy = em.val_precision = em.val_recall = NAN;
        em.val_f1 = em.val_auc = em.val_pr_auc = NAN;
        if (val_global > 0) {
            rc = dist_metrics_evaluate(&t->model, t->val_x, t->val_y, t->val_rows,
                                       t->class_weights_be, t->threshold, t->comm, &vm, NULL);
            if (rc != HPCML_OK) {
                profile_end();
                profile_end();
                free(bw);
                return rc;
            }
            fill_val_metrics(&em, &vm);
        }
        profile_end();

        /* Times: the slowest rank's, so every rank sees the same numbers. */
        double times[4] = {hpcml_mono_s() - t_epoch, train_s, t->gs.wait_s, t->gs.window_s};
        if (t->size > 1) MPI_Allreduce(MPI_IN_PLACE, times, 4, MPI_DOUBLE, MPI_MAX, t->comm);
        em.epoch_s = times[0];
        em.train_s = times[1];
        em.samples_per_s = (double)((S - first) * t->smp.global_batch) / times[1];
        em.allreduce_s = times[2];
        em.allreduce_share = times[1] > 0 ? times[2] / times[1] : 0;
        em.overlap_window_s = times[3];

        /* Decisions: identical inputs on every rank, identical outcomes. */
        log_info("epoch %lld/%lld: train_loss %.5f val_loss %.5f val_auc %.5f val_pr_auc %.5f "
                 "val_f1 %.4f | %.2fs, %.0f samples/s, allreduce %.1f%%",
                 (long long)em.epoch, (long long)t->epochs, em.train_loss, em.val_loss, em.val_auc,
                 em.val_pr_auc, em.val_f1, em.epoch_s, em.samples_per_s,
                 100.0 * em.allreduce_share);
        int stop = 0;
        rc = monitor_write_epoch(mo, &em, t->prog.global_step, val_global ? vm.confusion : NULL,
                                 t->n_classes);
        if (rc == HPCML_OK) rc = monitor_check_alerts(mo, &em, t->prog.alert_run, &stop);
        dist_metrics_free(&vm);
        rc = hpcml_mpi_agree(t->comm, rc);
        if (rc != HPCML_OK) {
            profile_end();
            free(bw);
            return rc;
        }
        if (stop) t->prog.stop_reason = STOP_ALERT;

        double v = monitor_metric_value(&em, t->es_metric);
        int higher = monitor_metric_higher_is_better(t->es_metric);
        int improved = !isnan(v) && (isnan(t->prog.best_metric) ||
                                     (higher ? v > t->prog.best_metric : v < t->prog.best_metric));
        if (improved) {
            t->prog.best_metric = v;
            t->prog.best_epoch = em.epoch;
            t->prog.bad_epochs = 0;
        } else {
            t->prog.bad_epochs++;
        }
        if (t->es_patience > 0 && t->prog.bad_epochs >= t->es_patience &&
            t->prog.stop_reason == STOP_NONE) {
            log_info("early stopping: %s has not improved for %d epochs (best %.6g at epoch %lld)",
                     monitor_metric_name(t->es_metric), t->es_patience, t->prog.best_metric,
                     (long long)t->prog.best_epoch);
            t->prog.stop_reason = STOP_EARLY;
        }
        if (t->hooks.on_epoch) {
            int hook_stop = 0;
            rc = t->hooks.on_epoch(&em, t->hooks.user, &hook_stop);
            if (rc != HPCML_OK) {
                profile_end();
                free(bw);
                return rc;
            }
            if (hook_stop && t->prog.stop_reason == STOP_NONE) t->prog.stop_reason = STOP_HOOK;
        }

        profile_begin("checkpoint");
        if (improved) {
            rc = mlp_get_params(&t->model, t->best_params);
            t->have_best = 1;
            rc = hpcml_mpi_agree(t->comm, rc);
            if (rc == HPCML_OK) rc = checkpoint_save(t, 1);
        }
        const int last = t->prog.epoch >= t->epochs || t->prog.stop_reason != STOP_NONE;
        if (rc == HPCML_OK && (last || (t->ckpt_every > 0 && t->prog.epoch % t->ckpt_every == 0)))
            rc = checkpoint_save(t, 0);
        profile_end();
        profile_end(); /* epoch */
        if (rc != HPCML_OK) {
            free(bw);
            return rc;
        }

        /* A signal that arrived during validation or the checkpoint. */
        int flag = signals_pending() != 0;
        if (t->size > 1) MPI_Allreduce(MPI_IN_PLACE, &flag, 1, MPI_INT, MPI_MAX, t->comm);
        if (flag && !last) {
            free(bw);
            return t->ckpt_every > 0 && t->prog.epoch % t->ckpt_every == 0
                       ? HPCML_FAIL(HPCML_EPREEMPTED,
                                    "preempted by a signal after epoch %lld (checkpoint "
                                    "written); run again to resume",
                                    (long long)t->prog.epoch)
                       : preempted_exit(t);
        }
    }
    if (t->prog.stop_reason == STOP_NONE) t->prog.stop_reason = STOP_DONE;
    free(bw);
    return HPCML_OK;
}

/* ---- evaluation on /test ---------------------------------------------------- */


static int evaluate_test(trainer *t)
{
    int64_t test_global = (int64_t)t->test_rows;
    MPI_Allreduce(MPI_IN_PLACE, &test_global, 1, MPI_INT64_T, MPI_SUM, t->comm);
    if (test_global == 0) {
        log_warn("the dataset has no /test rows: no evaluation.json");
        return HPCML_OK;
    }
    const int C = t->n_classes;
    float *probs = malloc((t->test_rows ? t->test_rows : 1) * (uint64_t)C * sizeof *probs);
    int rc = probs ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    if (rc == HPCML_OK && t->have_best) rc = mlp_set_params(&t->model, t->best_params);
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc != HPCML_OK) {
        free(probs);
        return rc;
    }
    split_metrics tm;
    rc = dist_metrics_evaluate(&t->model, t->test_x, t->test_y, t->test_rows, t->class_weights_be,
                               t->threshold, t->comm, &tm, probs);
    if (rc != HPCML_OK) {
        free(probs);
        return rc;
    }
    char path[4300];
    snprintf(path, sizeof path, "%s/predictions.h5", t->output_dir);
    rc = predictions_write(path, t->comm, "test", tm.rows, t->test_lo, t->test_rows, C,
                           t->test_row_id, t->test_y, probs, t->threshold);
    free(probs);

    int lrc = HPCML_OK;
    if (rc == HPCML_OK && t->rank == 0) {
        json_t *root = json_object(), *test = dist_metrics_json(&tm);
        json_object_set_new(root, "test", test);
        json_object_set_new(root, "threshold", json_real(t->threshold));
        json_t *model = json_object();
        json_object_set_new(model, "weights", json_string(t->have_best ? "best" : "last"));
        json_object_set_new(model, "epoch",
                            json_integer(t->have_best ? t->prog.best_epoch : t->prog.epoch));
        json_object_set_new(model, "selection_metric",
                            json_string(monitor_metric_name(t->es_metric)));
        json_object_set_new(model, "epochs_trained", json_integer(t->prog.epoch));
        json_object_set_new(model, "stop_reason", json_string(stop_names[t->prog.stop_reason % 5]));
        json_object_set_new(root, "model", model);
        char jpath[4300];
        snprintf(jpath, sizeof jpath, "%s/evaluation.json", t->output_dir);
        lrc = atomic_write_json(jpath, root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        json_decref(root);
        if (lrc == HPCML_OK)
            log_info("test (%s model, epoch %lld): auc %.5f pr_auc %.5f f1 %.4f precision %.4f "
                     "recall %.4f accuracy %.5f -> %s",
                     t->have_best ? "best" : "last",
                     (long long)(t->have_best ? t->prog.best_epoch : t->prog.epoch), tm.auc,
                     tm.pr_auc, tm.f1, tm.precision, tm.recall, tm.accuracy, jpath);
    }
    dist_metrics_free(&tm);
    if (rc != HPCML_OK) return rc;
    return hpcml_mpi_agree(t->comm, lrc);
}

/* ---- the model package (io/model_layout.h) ----------------------------------------- */

/* Rank 0: params (the flat mlp layout) into a model.h5 at path. */
static int write_package(trainer *t, const char *path, const float *params, const char *weights,
                         int64_t epoch)
{
    char *text = hpcml_config_to_string(t->cfg);
    HPCML_CHECK(text != NULL, HPCML_EINTERNAL, "cannot print the configuration");
    model_write_args a = {
        .dataset = cfg_str(t->cfg, "train.dataset"),
        .shape = &t->shape,
        .params = params,
        .threshold = t->threshold,
        .class_weights = t->class_weights_d,
        .train_config = text,
        .weights = weights,
        .epoch = epoch,
    };
    int rc = model_file_write(path, &a);
    free(text);
    if (rc == HPCML_OK)
        log_info("model package (%s weights, epoch %lld) -> %s", weights, (long long)epoch, path);
    return rc;
}

/* Collective: model.h5 in output_dir from the weights evaluate_test used
 * (best when there is a best model, else the last). */
static int write_final_package(trainer *t)
{
    int rc = HPCML_OK;
    const char *ds = cfg_str(t->cfg, "train.dataset");
    if (t->rank == 0 && !model_file_dataset_has_meta(ds)) {
        log_warn("%s has no /meta/config and /meta/columns (not written by hpcml-etl): no "
                 "model.h5, as scoring needs the fitted transform",
                 ds);
        return hpcml_mpi_agree(t->comm, HPCML_OK);
    }
    if (t->rank == 0) {
        float *last = t->have_best ? NULL : malloc(t->model.n_params * sizeof(float) + 1);
        if (!t->have_best && !last) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
        if (rc == HPCML_OK && last) rc = mlp_get_params(&t->model, last);
        char path[4300];
        snprintf(path, sizeof path, "%s/model.h5", t->output_dir);
        if (rc == HPCML_OK)
            rc = write_package(t, path, t->have_best ? t->best_params : last,
                               t->have_best ? "best" : "last",
                               t->have_best ? t->prog.best_epoch : t->prog.epoch);
        free(last);
    }
    return hpcml_mpi_agree(t->comm, rc);
}

/* Collective: hpcml-train --package CHECKPOINT. */
static int package_checkpoint(trainer *t)
{
    int rc = HPCML_OK;
    if (t->rank == 0) {
        float *params = malloc(t->model.n_params * sizeof(float) + 1);
        int64_t epoch = 0;
        rc = params ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
        if (rc == HPCML_OK) rc = checkpoint_read_params(t, t->hooks.package_checkpoint, params, &epoch);
        char path[4300];
        if (t->hooks.package_output && t->hooks.package_output[0])
            snprintf(path, sizeof path, "%s", t->hooks.package_output);
        else
            snprintf(path, sizeof path, "%s/model.h5", t->output_dir);
        char dir[4300];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            if (rc == HPCML_OK) rc = fs_mkdir_p(dir);
        }
        if (rc == HPCML_OK) rc = write_package(t, path, params, "checkpoint", epoch);
        free(params);
    }
    return hpcml_mpi_agree(t->comm, rc);
}

/* ---- the whole run ------------------------------------------------------------ */

static void trainer_free(trainer *t)
{
    mlp_destroy(&t->model);
    optim_destroy(&t->opt);
    if (t->be.device_memory) {
        for (int i = 0; i < 2; i++) {
            t->be.free(t->dev_x[i]);
            t->be.free(t->dev_y[i]);
        }
        t->be.free(t->dev_class_weights);
    }
    gpu_comm_close(&t->gcomm);
    if (t->gpu_open) nn_gpu_close();
    epoch_data_free(&t->ed);
    stream_data_free(&t->sd);
    free(t->val_x);
    free(t->val_y);
    free(t->test_x);
    free(t->test_y);
    free(t->test_row_id);
    free(t->class_weights);
    free(t->class_weights_d);
    free(t->best_params);
    free(t);
}

static int write_effective_config(trainer *t)
{
    if (t->rank != 0) return HPCML_OK;
    HPCML_TRY(fs_mkdir_p(t->output_dir));
    char *text = hpcml_config_to_string(t->cfg);
    HPCML_CHECK(text != NULL, HPCML_EINTERNAL, "cannot print the configuration");
    char path[4300];
    snprintf(path, sizeof path, "%s/config.cfg", t->output_dir);
    int rc = atomic_write_text(path, text);
    free(text);
    return rc;
}

static int run_all(trainer *t, int verify_only)
{
    int rc = parse_config(t);
    const int threads = trainer_blas_threads(t->cfg, t->comm); /* collective */
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc != HPCML_OK) return rc;
    rc = select_backend(t);
    if (rc != HPCML_OK) return rc;
    openblas_set_num_threads(threads);

    profile_begin("load");
    rc = load_data(t);
    profile_end();
    if (rc != HPCML_OK) return rc;
    rc = hpcml_mpi_agree(t->comm, build_model(t));
    if (rc != HPCML_OK) return rc;
    if (t->be.device_memory) { /* device gradients: NCCL or host-staged MPI, not grad_sync's */
        rc = gpu_comm_open(&t->gcomm, t->comm, &t->be, t->model.n_params, !t->gpu_shared);
        if (rc != HPCML_OK) return rc;
        t->be.allreduce_sum = gpu_comm_allreduce;
        t->be.comm_ctx = &t->gcomm;
        t->gs.bucketed = 0;
        log_info("device gradients summed by %s", gpu_comm_kind(&t->gcomm));
    }
    if (verify_only) return hpcml_mpi_agree(t->comm, t->rank == 0 ? checkpoint_verify_dir(t) : 0);
    if (t->hooks.package_checkpoint) return package_checkpoint(t);

    {
        char arch[512];
        int off = snprintf(arch, sizeof arch, "%d", t->n_features);
        for (int i = 0; i < t->shape.n_hidden && off < (int)sizeof arch; i++)
            off += snprintf(arch + off, sizeof arch - (size_t)off, " -> %d", t->shape.hidden[i]);
        snprintf(arch + off, sizeof arch - (size_t)off, " -> %d", t->n_classes);
        log_info("model %s (%zu parameters), %s, batch %llu over %d ranks (%llu each), %llu "
                 "steps/epoch, %d BLAS threads per rank, gradients %s",
                 arch, t->model.n_params, cfg_str(t->cfg, "train.optimizer"),
                 (unsigned long long)t->smp.global_batch, t->size, (unsigned long long)t->ed.slice,
                 (unsigned long long)t->smp.steps, threads,
                 t->gs.bucketed ? "in buckets during backward" : "in one allreduce");
    }

    rc = hpcml_mpi_agree(t->comm, write_effective_config(t));
    if (rc != HPCML_OK) return rc;
    const int want_resume = strcmp(cfg_str(t->cfg, "train.resume"), "auto") == 0;
    int resumed = 0;
    if (want_resume) {
        rc = checkpoint_prepare_dir(t, 0);
        if (rc == HPCML_OK) rc = checkpoint_resume(t, &resumed);
        if (rc != HPCML_OK) return rc;
    }
    if (!resumed) {
        rc = checkpoint_prepare_dir(t, 1);
        if (rc != HPCML_OK) return rc;
    }
    monitor mo;
    rc = monitor_init(&mo, t->cfg, t->rank);
    if (rc == HPCML_OK)
        rc = monitor_open_file(&mo, t->output_dir, resumed ? (long long)t->prog.epoch : 0);
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc != HPCML_OK) {
        monitor_close(&mo);
        return rc;
    }
    if (resumed && t->prog.stop_reason == STOP_HOOK && t->hooks.on_epoch) {
        /* The caller stopped this run and now runs it again (hpcml-sweep's
         * promotions): continue from the checkpoint; on_epoch decides again. */
        log_info("the checkpoint's run was stopped by the caller at epoch %lld: continuing",
                 (long long)t->prog.epoch);
        t->prog.stop_reason = STOP_NONE;
    } else if (resumed && t->prog.stop_reason != STOP_NONE && t->prog.stop_reason != STOP_DONE)
        log_info("the checkpoint's run had stopped (%s): evaluating only",
                 stop_names[t->prog.stop_reason % 5]);
    else if (resumed)
        t->prog.stop_reason = STOP_NONE; /* more epochs may have been asked for */

    rc = signals_install(cfg_str(t->cfg, "train.preempt_signal"));
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc == HPCML_OK) {
        profile_begin("train");
        rc = run_epochs(t, &mo);
        profile_end();
    }
    signals_uninstall();
    monitor_close(&mo);
    if (rc != HPCML_OK) return rc;
    log_info("training ended after %lld epochs (%s)", (long long)t->prog.epoch,
             stop_names[t->prog.stop_reason % 5]);

    if (!t->hooks.no_outputs && cfg_bool(t->cfg, "train.evaluate") &&
        t->prog.stop_reason != STOP_HOOK) {
        profile_begin("evaluate");
        rc = evaluate_test(t);
        profile_end();
        if (rc != HPCML_OK) return rc;
    }
    if (!t->hooks.no_outputs && t->prog.stop_reason != STOP_HOOK) {
        profile_begin("package");
        rc = write_final_package(t);
        profile_end();
    }
    return rc;
}

int trainer_run(MPI_Comm comm, const hpcml_config *cfg, const trainer_hooks *hooks)
{
    trainer *t = calloc(1, sizeof *t);
    int rc = t ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    rc = hpcml_mpi_agree(comm, rc);
    if (rc != HPCML_OK) return rc;
    t->comm = comm;
    MPI_Comm_rank(comm, &t->rank);
    MPI_Comm_size(comm, &t->size);
    t->cfg = cfg;
    if (hooks) t->hooks = *hooks;
    const int verify_only = t->hooks.verify_checkpoints || t->hooks.package_checkpoint;
    rc = run_all(t, t->hooks.verify_checkpoints);
    /* profile.json even for a preempted run: it shows where the time went. */
    if ((rc == HPCML_OK || rc == HPCML_EPREEMPTED) && !t->hooks.no_outputs && !verify_only &&
        cfg_bool(cfg, "monitoring.profile")) {
        int prc = profile_write(comm, t->output_dir);
        if (rc == HPCML_OK) rc = prc;
    }
    trainer_free(t);
    return rc;
}
