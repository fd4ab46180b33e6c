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
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/clock.h"
#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/preempt.h"
#include "core/profile.h"
#include "core/status.h"
#include "io/dataset_layout.h"
#include "io/h5_dataset_read.h"
#include "io/model_file.h"
#include "io/predictions_file.h"
#include "nn/backend.h"
#include "nn/gpu.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "train/checkpoint.h"
#include "train/data_source.h"
#include "train/device_batches.h"
#include "train/dist_metrics.h"
#include "train/evaluation_file.h"
#include "train/gpu_comm.h"
#include "train/grad_sync.h"
#include "train/monitor.h"
#include "train/sampler.h"

/* The trainer: configuration, data, model and progress of one run. */
typedef struct trainer {
    MPI_Comm comm;
    int rank, size;
    const hpcml_config *cfg;
    trainer_hooks hooks;

    char output_dir[4096], ckpt_dir[4200];
    uint64_t seed;
    int n_features, n_classes;
    mlp_shape shape;
    nn_optim_config optim_cfg;
    nn_lr_schedule lr_sched;
    int64_t epochs;
    double threshold;
    double grad_clip;
    int es_metric; /* index into the metric table of monitor.c */
    int es_patience;
    int ckpt_every, ckpt_keep;

    /* data */
    sampler smp;
    data_source src;                               /* data_source.h: the batches of every epoch */
    uint64_t val_lo, val_rows, test_lo, test_rows; /* this rank's share */
    float *val_x, *test_x;
    int32_t *val_y, *test_y;
    int64_t *test_row_id;
    float *class_weights; /* n_classes, NULL: none */
    double *class_weights_d;

    /* model */
    nn_backend be; /* the chosen table with the ranks' allreduce installed */
    grad_sync gs;
    /* device backends (train.device = "cuda"): the GPU, the gradient sums,
     * double-buffered batches and the class weights in backend memory */
    int gpu_open;
    int gpu_shared; /* ranks of a node share a GPU: no NCCL */
    gpu_comm gcomm;
    device_batches dev;
    const float *class_weights_be; /* class_weights in backend memory (NULL: none) */
    mlp model;
    nn_optim opt;
    float *best_params; /* host copy of the best model (n_params) */
    int have_best;

    train_progress prog;
    uint64_t config_hash;
    uint64_t dataset_id; /* h5_dataset_identity of train.dataset: checkpoints record it */
    checkpoint_ctx ckpt; /* the checkpoints' view of the above (set once the model exists) */
} trainer;

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
        if (MPI_Comm_size(node, &local) != MPI_SUCCESS) local = 1; /* a guess either way */
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

/* A config enum's value (validated by the schema) as its code: every value
 * the schema allows has a row, so a missing one is a bug, not a default. */
typedef struct {
    const char *name;
    int code;
} enum_row;

static int map_enum(const hpcml_config *cfg, const char *key, const enum_row *rows, int n,
                    int *code)
{
    const char *v = cfg_str(cfg, key);
    for (int i = 0; i < n; i++)
        if (strcmp(v, rows[i].name) == 0) {
            *code = rows[i].code;
            return HPCML_OK;
        }
    return HPCML_FAIL(HPCML_EINTERNAL, "%s = \"%s\": allowed by the schema but not mapped", key, v);
}
#define MAP_ENUM(cfg, key, rows, code)                                                             \
    map_enum(cfg, key, rows, (int)(sizeof rows / sizeof rows[0]), code)

static const enum_row activations[] = {{"relu", NN_ACT_RELU}, {"gelu", NN_ACT_GELU}};
static const enum_row optimizers[] = {
    {"sgd", NN_OPT_SGD}, {"adam", NN_OPT_ADAM}, {"adamw", NN_OPT_ADAMW}};
static const enum_row lr_schedules[] = {
    {"constant", NN_LR_CONSTANT}, {"step", NN_LR_STEP}, {"cosine", NN_LR_COSINE}};
enum { LR_SCALING_NONE, LR_SCALING_LINEAR };
static const enum_row lr_scalings[] = {{"none", LR_SCALING_NONE}, {"linear", LR_SCALING_LINEAR}};
enum { DEVICE_CPU, DEVICE_CUDA, DEVICE_AUTO };
static const enum_row devices[] = {
    {"cpu", DEVICE_CPU}, {"cuda", DEVICE_CUDA}, {"auto", DEVICE_AUTO}};
enum { CW_NONE, CW_DATASET, CW_CONFIG };
static const enum_row class_weight_modes[] = {
    {"none", CW_NONE}, {"dataset", CW_DATASET}, {"config", CW_CONFIG}};

/* The configuration's identity as a resume compares it (checkpoint.c warns when
 * it changed): the whole config but train.epochs, since more epochs is the
 * normal way to train longer and not worth a warning. */
static int resume_config_hash(const hpcml_config *cfg, uint64_t *hash)
{
    hpcml_config *c = NULL;
    HPCML_TRY(hpcml_config_clone(cfg, &c));
    int rc = hpcml_config_set(c, "train.epochs", "1");
    if (rc == HPCML_OK) *hash = hpcml_config_hash(c);
    hpcml_config_free(c);
    return rc;
}

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
    int act = NN_ACT_RELU, opt = NN_OPT_ADAM; /* set by MAP_ENUM (or it fails) */
    HPCML_TRY(MAP_ENUM(cfg, "train.activation", activations, &act));
    t->shape.act = (nn_activation)act;
    t->shape.dropout_p = (float)cfg_float(cfg, "train.dropout");

    HPCML_TRY(MAP_ENUM(cfg, "train.optimizer", optimizers, &opt));
    const nn_optim_kind kind = (nn_optim_kind)opt;
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
    HPCML_TRY(resume_config_hash(cfg, &t->config_hash));

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
        HPCML_MPI_CHECK_ABORT(t->comm, MPI_Comm_rank(node, &nl));
        HPCML_MPI_CHECK_ABORT(t->comm, MPI_Comm_size(node, &ns));
        char *all = malloc((size_t)ns * NN_GPU_BUS_ID_BYTES);
        /* the others are entering the gather: end the job, do not hang it */
        HPCML_ALLOC_ABORT(t->comm, all, "for the ranks' GPU bus ids");
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
    int device = DEVICE_CPU; /* set by MAP_ENUM; the same on every rank (one configuration) */
    HPCML_TRY(MAP_ENUM(t->cfg, "train.device", devices, &device));
    if (device == DEVICE_CPU) return HPCML_OK;
    char why[512] = "";
    const int n_dev = nn_gpu_device_count(why, sizeof why);
    int have = n_dev > 0, all = have;
    HPCML_MPI_CHECK(MPI_Allreduce(&have, &all, 1, MPI_INT, MPI_MIN, t->comm));
    if (!all) {
        int rc = HPCML_OK;
        if (device == DEVICE_CUDA)
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
    if (local < 0 && node != MPI_COMM_NULL)
        HPCML_MPI_CHECK_ABORT(t->comm, MPI_Comm_rank(node, &local));
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
    const int32_t *y = t->src.held_y;
    for (uint64_t i = 0; i < t->src.held_rows; i++)
        if (y[i] >= 0 && y[i] < nc) seen[y[i]] = 1;
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
    int mode = CW_NONE; /* set by MAP_ENUM */
    HPCML_TRY(MAP_ENUM(t->cfg, "train.class_weights", class_weight_modes, &mode));
    const int C = t->n_classes;
    if (mode == CW_NONE) return HPCML_OK;
    t->class_weights = malloc((size_t)C * sizeof *t->class_weights);
    t->class_weights_d = malloc((size_t)C * sizeof *t->class_weights_d);
    HPCML_CHECK(t->class_weights && t->class_weights_d, HPCML_EINTERNAL, "out of memory");
    if (mode == CW_DATASET) {
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

    /* local: layout and buffers of /val and /test */
    rc = sampler_init(&t->smp, ds.rows[SPLIT_TRAIN], (uint64_t)cfg_int(t->cfg, "train.batch_size"),
                      t->size, cfg_bool(t->cfg, "train.drop_last"), t->seed);
    uint64_t hi;
    sampler_shard_range(ds.rows[SPLIT_VAL], t->size, t->rank, &t->val_lo, &hi);
    t->val_rows = hi - t->val_lo;
    sampler_shard_range(ds.rows[SPLIT_TEST], t->size, t->rank, &t->test_lo, &hi);
    t->test_rows = hi - t->test_lo;
    if (rc == HPCML_OK) rc = alloc_split(t->val_rows, t->n_features, &t->val_x, &t->val_y, NULL);
    if (rc == HPCML_OK)
        rc = alloc_split(t->test_rows, t->n_features, &t->test_x, &t->test_y, &t->test_row_id);
    rc = hpcml_mpi_agree(t->comm, rc);
    /* collective: the class weights (the data source's batch weights use them) */
    if (rc == HPCML_OK) rc = hpcml_mpi_agree(t->comm, load_class_weights(t, &ds));

    /* collective: the data source (memory sources read /train here) */
    const double train_bytes =
        (double)ds.rows[SPLIT_TRAIN] * ((double)t->n_features * sizeof(float) + sizeof(int32_t));
    const char *source = data_source_choose(cfg_bool(t->cfg, "train.streaming"), t->size,
                                            train_bytes, cfg_int(t->cfg, "train.replicate_max_mb"));
    const data_source_args args = {
        .comm = t->comm,
        .rank = t->rank,
        .size = t->size,
        .n_features = t->n_features,
        .smp = &t->smp,
        .ds = &ds,
        .class_weights = t->class_weights,
        .stream_chunk_rows = (uint64_t)cfg_int(t->cfg, "train.stream_chunk_rows"),
        .stream_window_batches = (uint64_t)cfg_int(t->cfg, "train.stream_window_batches"),
    };
    if (rc == HPCML_OK) rc = data_source_open(&t->src, source, &args);
    if (rc == HPCML_OK && t->rank == 0 && strcmp(source, "streaming") != 0)
        log_info("/train (%.1f MB) %s", train_bytes / 1048576.0,
                 strcmp(source, "memory-replicated") == 0
                     ? "replicated on every rank: rows are gathered locally each epoch"
                     : "sharded across ranks: rows are exchanged each epoch");

    /* collective: each rank its own hyperslab of /val and /test */
    if (rc == HPCML_OK)
        rc = h5_dataset_read_rows(&ds, SPLIT_VAL, t->val_lo, t->val_lo + t->val_rows, t->val_x,
                                  t->val_y, NULL);
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc == HPCML_OK)
        rc = h5_dataset_read_rows(&ds, SPLIT_TEST, t->test_lo, t->test_lo + t->test_rows, t->test_x,
                                  t->test_y, t->test_row_id);
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc == HPCML_OK) rc = hpcml_mpi_agree(t->comm, h5_dataset_identity(&ds, &t->dataset_id));
    if (rc == HPCML_OK && t->src.held_y) /* the memory sources hold /train's labels */
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
    int max_batch = (int)t->src.slice > EVAL_CHUNK_ROWS ? (int)t->src.slice : EVAL_CHUNK_ROWS;
    HPCML_TRY(mlp_create(&t->model, &t->be, &t->shape, max_batch));
    HPCML_TRY(mlp_init_params(&t->model, t->seed, NN_INIT_HE_NORMAL));
    HPCML_TRY(optim_create(&t->opt, &t->be, t->model.n_params, &t->optim_cfg));
    t->best_params = malloc(t->model.n_params * sizeof(float));
    HPCML_ALLOC_CHECK(t->best_params, t->model.n_params * sizeof(float));
    grad_sync_init(&t->gs, t->comm, t->model.n_params,
                   (size_t)cfg_int(t->cfg, "train.bucket_kb") * 1024);
    HPCML_TRY(device_batches_open(&t->dev, &t->be, t->src.slice, t->n_features, t->class_weights,
                                  t->n_classes, &t->class_weights_be));

    const hpcml_config *cfg = t->cfg;
    nn_lr_schedule *s = &t->lr_sched;
    memset(s, 0, sizeof *s);
    int kind = NN_LR_CONSTANT, scaling = LR_SCALING_NONE; /* set by MAP_ENUM */
    HPCML_TRY(MAP_ENUM(cfg, "train.lr_schedule", lr_schedules, &kind));
    HPCML_TRY(MAP_ENUM(cfg, "train.lr_scaling", lr_scalings, &scaling));
    s->kind = (nn_lr_kind)kind;
    s->base_lr = cfg_float(cfg, "train.lr");
    if (scaling == LR_SCALING_LINEAR)
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
    mlp *m = &t->model;
    const int rows = (int)t->src.slice;
    const float *cw = t->class_weights_be;
    HPCML_TRY(device_batches_get(&t->dev, &t->src, t->smp.steps, epoch, step, &x, &y));
    /* Dropout keys: the sample's global position in the epoch, so masks do
     * not depend on which rank or batch slot computes it. */
    nn_dropout_rows keys = {
        .seed = t->seed,
        .row_keys = NULL,
        .row_key_base = nn_dropout_row_key(epoch, sampler_positions(&t->smp),
                                           step * t->smp.global_batch + t->src.slice_lo),
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

/* ---- preemption ------------------------------------------------------------ */

typedef struct {
    int in, out;
    MPI_Request req;
    int active;
} preempt_vote;

static void vote_start(trainer *t, preempt_vote *v)
{
    v->in = preempt_pending() != 0;
    v->out = v->in;
    v->active = 0;
    if (t->size > 1) {
        HPCML_MPI_CHECK_ABORT(
            t->comm, MPI_Iallreduce(&v->in, &v->out, 1, MPI_INT, MPI_MAX, t->comm, &v->req));
        v->active = 1;
    }
}

static int vote_finish(trainer *t, preempt_vote *v)
{
    if (v->active) HPCML_MPI_CHECK_ABORT(t->comm, MPI_Wait(&v->req, MPI_STATUS_IGNORE));
    v->active = 0;
    return v->out;
}

static int preempted_exit(trainer *t)
{
    int rc = checkpoint_save(&t->ckpt, 0);
    if (rc != HPCML_OK) return rc;
    return HPCML_FAIL(HPCML_EPREEMPTED,
                      "preempted by a signal: checkpoint written at epoch %lld, step %lld of the "
                      "epoch (global step %lld); run again to resume",
                      (long long)t->prog.epoch, (long long)t->prog.step_in_epoch,
                      (long long)t->prog.global_step);
}

/* Collective: a preemption signal that came before the first step (during
 * MPI_Init, the load or the resume; app_main installs the handler first
 * thing): exit 75 at once, nothing to checkpoint that is not on disk. */
static int preempted_before_training(trainer *t)
{
    int sig = preempt_agree(t->comm);
    if (!sig) return HPCML_OK;
    return HPCML_FAIL(HPCML_EPREEMPTED,
                      "preempted by a signal before training started (%s, at epoch %lld, step "
                      "%lld of the epoch): nothing new to checkpoint; run again to continue",
                      preempt_signal_name(sig), (long long)t->prog.epoch,
                      (long long)t->prog.step_in_epoch);
}

/* Collective: a signal after the last epoch (during its validation or
 * checkpoint, or the evaluation): the final checkpoint is on disk, so a run
 * again writes what is missing (evaluation.json, predictions.h5, model.h5). */
static int preempted_after_training(trainer *t, const char *missing)
{
    int sig = preempt_agree(t->comm);
    if (!sig) return HPCML_OK;
    return HPCML_FAIL(HPCML_EPREEMPTED,
                      "preempted by a signal (%s) after training ended at epoch %lld (the final "
                      "checkpoint is written): run again to write %s",
                      preempt_signal_name(sig), (long long)t->prog.epoch, missing);
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
    if (t->size > 1)
        HPCML_MPI_CHECK_ABORT(t->comm, MPI_Allreduce(in, out, 2, MPI_DOUBLE, MPI_SUM, t->comm));
    *loss = out[0];
    *weight = out[1];
}

/* The epoch just finished was the run's last: the epoch limit, or a stop. */
static int last_epoch(const trainer *t)
{
    return t->prog.epoch >= t->epochs || t->prog.stop_reason != STOP_NONE;
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

/* The steps of epoch `epoch` from `first` on: the data source's batches,
 * one optimizer step each, the preemption vote at every step boundary.
 * *preempted: the ranks agreed to stop after step_in_epoch (< steps). Every
 * rank leaves with the same status (a failure inside a step aborts). */
static int run_steps(trainer *t, uint64_t epoch, uint64_t first, double *local_loss,
                     double *local_weight, int *preempted)
{
    const uint64_t S = t->smp.steps;
    data_source *src = &t->src;
    *preempted = 0;
    profile_begin("exchange");
    int rc = src->ops->epoch_begin(src, epoch, first);
    profile_end();
    profile_begin("steps");
    for (uint64_t s = first; rc == HPCML_OK && s < S; s++) {
        const float *x;
        const int32_t *y;
        double w;
        rc = src->ops->batch(src, s, &x, &y, &w); /* agreed */
        if (rc != HPCML_OK) break;
        hpcml_pause_point("train.step");
        preempt_vote vote;
        vote_start(t, &vote);
        double gnorm = 0.0;
        const int step_rc = train_step(t, epoch, s, x, y, w, local_loss, &gnorm);
        if (step_rc != HPCML_OK) hpcml_mpi_abort(t->comm, step_rc);
        if (!isfinite(gnorm)) { /* identical on every rank: all stop here */
            vote_finish(t, &vote);
            rc = diverged(t, "the gradient norm", gnorm, s + 1);
            break;
        }
        /* w is the global batch's weight already: counted on rank 0 only */
        if (t->rank == 0) *local_weight += w;
        t->prog.step_in_epoch = (int64_t)s + 1;
        t->prog.global_step++;
        if (vote_finish(t, &vote) && s + 1 < S) {
            *preempted = 1;
            break;
        }
    }
    src->ops->epoch_end(src);
    if (rc == HPCML_OK && !*preempted && src->ops->epoch_report) src->ops->epoch_report(src, epoch);
    profile_end();
    return rc;
}

/* After the epoch's steps, collectively: the reduced training loss,
 * validation, the metrics.jsonl record, alert rules, early stopping, the
 * caller's hook, best / periodic checkpoints. */
static int finish_epoch(trainer *t, monitor *mo, int64_t val_global, uint64_t first, double t_epoch,
                        double train_s, double local_loss, double local_weight)
{
    const uint64_t S = t->smp.steps;
    train_epoch_metrics em;
    memset(&em, 0, sizeof em);
    em.epoch = t->prog.epoch + 1;
    double gl, gw;
    reduce_epoch_loss(t, local_loss, local_weight, &gl, &gw);
    em.train_loss = gw > 0 ? gl / gw : NAN;
    if (gw > 0 && !isfinite(em.train_loss)) /* reduced: the same on every rank */
        return diverged(t, "the epoch's training loss", em.train_loss, S);
    em.lr = lr_schedule_at(&t->lr_sched, t->opt.step > 0 ? t->opt.step - 1 : 0);
    t->prog.epoch++;
    t->prog.step_in_epoch = 0;
    t->prog.part_loss_sum = t->prog.part_weight_sum = 0.0;

    profile_begin("validate");
    split_metrics vm;
    memset(&vm, 0, sizeof vm);
    em.val_loss = em.val_accuracy = em.val_precision = em.val_recall = NAN;
    em.val_f1 = em.val_auc = em.val_pr_auc = NAN;
    int rc = HPCML_OK;
    if (val_global > 0) {
        rc = dist_metrics_evaluate(&t->model, t->val_x, t->val_y, t->val_rows, t->class_weights_be,
                                   t->threshold, t->comm, &vm, NULL);
        if (rc == HPCML_OK) fill_val_metrics(&em, &vm);
    }
    profile_end();
    if (rc != HPCML_OK) return rc;

    /* Times: the slowest rank's, so every rank sees the same numbers. */
    double times[4] = {hpcml_mono_s() - t_epoch, train_s, t->gs.wait_s, t->gs.window_s};
    if (t->size > 1)
        HPCML_MPI_CHECK_ABORT(t->comm,
                              MPI_Allreduce(MPI_IN_PLACE, times, 4, MPI_DOUBLE, MPI_MAX, t->comm));
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
             em.val_pr_auc, em.val_f1, em.epoch_s, em.samples_per_s, 100.0 * em.allreduce_share);
    int stop = 0;
    rc = monitor_write_epoch(mo, &em, t->prog.global_step, val_global ? vm.confusion : NULL,
                             t->n_classes);
    if (rc == HPCML_OK) rc = monitor_check_alerts(mo, &em, t->prog.alert_run, &stop);
    dist_metrics_free(&vm);
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc != HPCML_OK) return rc;
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
    if (t->hooks.on_epoch) { /* its status is the same on every rank (trainer.h) */
        int hook_stop = 0;
        HPCML_TRY(t->hooks.on_epoch(&em, t->hooks.user, &hook_stop));
        if (hook_stop && t->prog.stop_reason == STOP_NONE) t->prog.stop_reason = STOP_HOOK;
    }

    profile_begin("checkpoint");
    if (improved) {
        rc = mlp_get_params(&t->model, t->best_params);
        t->have_best = 1;
        rc = hpcml_mpi_agree(t->comm, rc);
        if (rc == HPCML_OK) rc = checkpoint_save(&t->ckpt, 1);
    }
    if (rc == HPCML_OK &&
        (last_epoch(t) || (t->ckpt_every > 0 && t->prog.epoch % t->ckpt_every == 0)))
        rc = checkpoint_save(&t->ckpt, 0);
    profile_end();
    return rc;
}

/* Collective: a signal that arrived during validation or the checkpoint
 * (after an epoch that was not the last). */
static int preempted_after_epoch(trainer *t)
{
    int flag = preempt_agree(t->comm);
    if (!flag || last_epoch(t)) return HPCML_OK;
    return t->ckpt_every > 0 && t->prog.epoch % t->ckpt_every == 0
               ? HPCML_FAIL(HPCML_EPREEMPTED,
                            "preempted by a signal after epoch %lld (checkpoint written); run "
                            "again to resume",
                            (long long)t->prog.epoch)
               : preempted_exit(t);
}

static int run_epochs(trainer *t, monitor *mo)
{
    int64_t val_global = (int64_t)t->val_rows;
    HPCML_MPI_CHECK_ABORT(
        t->comm, MPI_Allreduce(MPI_IN_PLACE, &val_global, 1, MPI_INT64_T, MPI_SUM, t->comm));
    if (val_global == 0) log_warn("the dataset has no /val rows: no validation metrics");

    int rc = HPCML_OK;
    while (rc == HPCML_OK && t->prog.epoch < t->epochs && t->prog.stop_reason == STOP_NONE) {
        const uint64_t epoch = (uint64_t)t->prog.epoch;
        const uint64_t first = (uint64_t)t->prog.step_in_epoch;
        profile_begin("epoch");
        const double t_epoch = hpcml_mono_s();
        grad_sync_reset_stats(&t->gs);
        double local_loss = 0.0, local_weight = 0.0;
        int preempted = 0;
        rc = run_steps(t, epoch, first, &local_loss, &local_weight, &preempted);
        const double train_s = hpcml_mono_s() - t_epoch;
        if (rc == HPCML_OK && preempted) {
            double gl, gw;
            reduce_epoch_loss(t, local_loss, local_weight, &gl, &gw);
            t->prog.part_loss_sum = gl;
            t->prog.part_weight_sum = gw;
        } else if (rc == HPCML_OK) {
            rc = finish_epoch(t, mo, val_global, first, t_epoch, train_s, local_loss, local_weight);
        }
        profile_end(); /* epoch */
        if (rc == HPCML_OK && preempted) {
            log_info("preemption requested: checkpoint at epoch %lld step %lld",
                     (long long)t->prog.epoch + 1, (long long)t->prog.step_in_epoch);
            rc = preempted_exit(t);
        } else if (rc == HPCML_OK) {
            rc = preempted_after_epoch(t);
        }
    }
    if (rc == HPCML_OK && t->prog.stop_reason == STOP_NONE) t->prog.stop_reason = STOP_DONE;
    return rc;
}

/* ---- evaluation on /test ---------------------------------------------------- */

static int evaluate_test(trainer *t)
{
    int64_t test_global = (int64_t)t->test_rows;
    HPCML_MPI_CHECK_ABORT(
        t->comm, MPI_Allreduce(MPI_IN_PLACE, &test_global, 1, MPI_INT64_T, MPI_SUM, t->comm));
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
        const evaluation_model em = {
            .threshold = t->threshold,
            .weights = t->have_best ? "best" : "last",
            .epoch = t->have_best ? t->prog.best_epoch : t->prog.epoch,
            .selection_metric = monitor_metric_name(t->es_metric),
            .epochs_trained = t->prog.epoch,
            .stop_reason = stop_names[t->prog.stop_reason % 5],
        };
        char jpath[4300];
        snprintf(jpath, sizeof jpath, "%s/evaluation.json", t->output_dir);
        lrc = evaluation_file_write(jpath, &tm, &em);
        if (lrc == HPCML_OK)
            log_info("test (%s model, epoch %lld): auc %.5f pr_auc %.5f f1 %.4f precision %.4f "
                     "recall %.4f accuracy %.5f -> %s",
                     em.weights, (long long)em.epoch, tm.auc, tm.pr_auc, tm.f1, tm.precision,
                     tm.recall, tm.accuracy, jpath);
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
        hpcml_pause_point("train.package");
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
        if (rc == HPCML_OK)
            rc = checkpoint_read_params(&t->ckpt, t->hooks.package_checkpoint, params, &epoch);
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
    device_batches_close(&t->dev);
    gpu_comm_close(&t->gcomm);
    if (t->gpu_open) nn_gpu_close();
    data_source_close(&t->src);
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
    /* The handler is app_main's, for the whole run (core/preempt.h); the
     * configuration only says which signals count, from here on. */
    if (rc == HPCML_OK) rc = preempt_only(cfg_str(t->cfg, "train.preempt_signal"));
    const int threads = trainer_blas_threads(t->cfg, t->comm); /* collective */
    rc = hpcml_mpi_agree(t->comm, rc);
    if (rc != HPCML_OK) return rc;
    rc = select_backend(t);
    if (rc != HPCML_OK) return rc;
    openblas_set_num_threads(threads);

    profile_begin("load");
    hpcml_pause_point("train.load");
    rc = load_data(t);
    profile_end();
    if (rc == HPCML_OK) rc = preempted_before_training(t); /* the load may be long */
    if (rc != HPCML_OK) return rc;
    rc = hpcml_mpi_agree(t->comm, build_model(t));
    if (rc != HPCML_OK) return rc;
    t->ckpt = (checkpoint_ctx){
        .comm = t->comm,
        .rank = t->rank,
        .size = t->size,
        .ckpt_dir = t->ckpt_dir,
        .keep = t->ckpt_keep,
        .model = &t->model,
        .opt = &t->opt,
        .act = t->shape.act,
        .dropout = t->shape.dropout_p,
        .smp = &t->smp,
        .order = t->src.ops->order(&t->src),
        .config_hash = t->config_hash,
        .dataset_id = t->dataset_id,
        .dataset = cfg_str(t->cfg, "train.dataset"),
        .prog = &t->prog,
        .best_params = t->best_params,
        .have_best = &t->have_best,
    };
    if (t->be.device_memory) { /* device gradients: NCCL or host-staged MPI, not grad_sync's */
        rc = gpu_comm_open(&t->gcomm, t->comm, &t->be, t->model.n_params, !t->gpu_shared);
        if (rc != HPCML_OK) return rc;
        t->be.allreduce_sum = gpu_comm_allreduce;
        t->be.comm_ctx = &t->gcomm;
        t->gs.bucketed = 0;
        log_info("device gradients summed by %s", gpu_comm_kind(&t->gcomm));
    }
    if (verify_only)
        return hpcml_mpi_agree(t->comm, t->rank == 0 ? checkpoint_verify_dir(&t->ckpt) : 0);
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
                 (unsigned long long)t->smp.global_batch, t->size, (unsigned long long)t->src.slice,
                 (unsigned long long)t->smp.steps, threads,
                 t->gs.bucketed ? "in buckets during backward" : "in one allreduce");
    }

    rc = hpcml_mpi_agree(t->comm, write_effective_config(t));
    if (rc != HPCML_OK) return rc;
    const int want_resume = strcmp(cfg_str(t->cfg, "train.resume"), "auto") == 0;
    int resumed = 0;
    if (want_resume) {
        rc = checkpoint_prepare_dir(&t->ckpt, 0);
        if (rc == HPCML_OK) rc = checkpoint_resume(&t->ckpt, &resumed);
        if (rc != HPCML_OK) return rc;
    }
    if (!resumed) {
        rc = checkpoint_prepare_dir(&t->ckpt, 1);
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

    rc = preempted_before_training(t);
    if (rc == HPCML_OK) {
        profile_begin("train");
        rc = run_epochs(t, &mo);
        profile_end();
    }
    monitor_close(&mo);
    if (rc != HPCML_OK) return rc;
    log_info("training ended after %lld epochs (%s)", (long long)t->prog.epoch,
             stop_names[t->prog.stop_reason % 5]);

    if (!t->hooks.no_outputs && cfg_bool(t->cfg, "train.evaluate") &&
        t->prog.stop_reason != STOP_HOOK) {
        hpcml_pause_point("train.evaluate");
        rc = preempted_after_training(t, "evaluation.json, predictions.h5 and model.h5");
        if (rc != HPCML_OK) return rc;
        profile_begin("evaluate");
        rc = evaluate_test(t);
        profile_end();
        if (rc != HPCML_OK) return rc;
    }
    if (!t->hooks.no_outputs && t->prog.stop_reason != STOP_HOOK) {
        rc = preempted_after_training(t, "model.h5");
        if (rc != HPCML_OK) return rc;
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
    HPCML_MPI_CHECK_ABORT(comm, MPI_Comm_rank(comm, &t->rank));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Comm_size(comm, &t->size));
    t->cfg = cfg;
    if (hooks) t->hooks = *hooks;
    const int verify_only = t->hooks.verify_checkpoints || t->hooks.package_checkpoint;
    rc = run_all(t, t->hooks.verify_checkpoints);
    /* profile.json even for a preempted run: it shows where the time went. */
    if ((rc == HPCML_OK || rc == HPCML_EPREEMPTED) && !t->hooks.no_outputs && !verify_only) {
        int prc = profile_write(comm, t->output_dir);
        if (rc == HPCML_OK) rc = prc;
    }
    trainer_free(t);
    return rc;
}
