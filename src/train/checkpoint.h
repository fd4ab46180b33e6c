/* checkpoint.h — when and where the trainer's checkpoints are written, and
 * which one a resumed run continues from.
 *
 * Files in output_dir/checkpoints/ (rank 0 writes, see io/checkpoint_file.h
 * for the atomic write and the checksum):
 *   step-NNNNNNNNNN.h5  periodic (every train.checkpoint_every epochs), on
 *                       preemption and at the end; named by the global
 *                       optimizer step; the newest train.keep_checkpoints kept
 *   best.h5             the best model by train.early_stopping_metric
 *   latest              text: the name of the newest step-*.h5, replaced
 *                       atomically after that file is durable
 * Contents of one file:
 *   /model/layer{l}.weight [out][in], /model/layer{l}.bias [out]   float32
 *   /optimizer/m, /optimizer/v [n_params] (the moments in use), /optimizer/step
 *   /state/...   epoch, step_in_epoch, global_step, partial epoch loss,
 *                best_metric, best_epoch, bad_epochs, alert_run, stop_reason,
 *                config_hash
 *   /sampler/... seed, rows, global_batch, drop_last, steps_per_epoch,
 *                ranks (informational: the order does not depend on it)
 *   /model_info/ widths, activation, dropout (to rebuild the model elsewhere)
 * Random state: every random number of training is a pure function of
 * (seed, stream, counter) with counters (epoch, position in the epoch) that
 * the /state and /sampler items determine, so no generator state is saved.
 *
 * Resume (train.resume = "auto"): rank 0 tries the step-*.h5 files newest
 * first and takes the first one that reads back with a matching checksum;
 * corrupt or truncated ones are skipped with a warning. The state is then
 * broadcast. Collective functions agree on their status (hpcml_mpi.h). */
#ifndef HPCML_TRAIN_CHECKPOINT_H
#define HPCML_TRAIN_CHECKPOINT_H

#include <mpi.h>

#include "nn/mlp.h"
#include "nn/optim.h"
#include "train/data_source.h"
#include "train/sampler.h"
#include "train/trainer.h"

/* What the checkpoints see of the trainer (set up once the model and the
 * optimizer exist): the state they save and restore through pointers, and
 * what a checkpoint is checked against. */
typedef struct {
    MPI_Comm comm;
    int rank, size;
    const char *ckpt_dir; /* output_dir/checkpoints */
    int keep;             /* train.keep_checkpoints */
    mlp *model;
    nn_optim *opt;
    nn_activation act;
    float dropout;        /* train.dropout (recorded in /model_info) */
    const sampler *smp;
    data_order order;     /* the data source's (data_source.h) */
    uint64_t config_hash;
    uint64_t dataset_id;  /* h5_dataset_identity of train.dataset */
    const char *dataset;  /* train.dataset, for messages */
    train_progress *prog;
    float *best_params;   /* the best model so far (n_params), restored by resume */
    int *have_best;
} checkpoint_ctx;

/* Collective. Create the checkpoint directory; when fresh (no resume),
 * remove the checkpoints and pointer a previous run left there. */
int checkpoint_prepare_dir(const checkpoint_ctx *c, int fresh);

/* Collective. Write the current state as step-<global_step>.h5 (best = 0)
 * or best.h5 (best = 1); the former updates `latest` and drops old files. */
int checkpoint_save(const checkpoint_ctx *c, int best);

/* Collective. Load the newest valid checkpoint (model, optimizer, progress)
 * and best.h5 into *c->best_params; *resumed = 0 when none. */
int checkpoint_resume(const checkpoint_ctx *c, int *resumed);

/* Not collective: read the model parameters of the checkpoint file path
 * (any format version this build reads, checksum verified, this model's
 * architecture) into params (n_params floats) and the epoch it was written
 * at into *epoch. */
int checkpoint_read_params(const checkpoint_ctx *c, const char *path, float *params,
                           int64_t *epoch);

/* Not collective: check every checkpoint in the directory, print one line
 * per file to stdout; returns HPCML_OK when the newest step-*.h5 is valid. */
int checkpoint_verify_dir(const checkpoint_ctx *c);

#endif
