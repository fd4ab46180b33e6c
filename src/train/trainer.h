/* trainer.h — data-parallel training of the MLP classifier: the epoch loop
 * of hpcml-train, callable as a library (hpcml-sweep runs trials with it).
 *
 * trainer_run(comm, cfg, hooks) does, collectively over comm:
 *   load    each rank reads its shard of /train and its share of /val and
 *           /test (parallel HDF5 hyperslabs);
 *   resume  train.resume = "auto": the newest valid checkpoint in
 *           output_dir/checkpoints (checkpoint.h);
 *   epochs  fetch the epoch's rows (epoch_data.h), then per global batch:
 *           forward, weighted softmax cross-entropy, backward with the
 *           gradient summed over ranks (grad_sync.h), clipping, optimizer
 *           step; the preemption flag is agreed at every step boundary;
 *           after the epoch: exact validation metrics over all ranks
 *           (dist_metrics.h), a metrics.jsonl record, alert rules, early
 *           stopping, best/periodic checkpoints (monitor.h, checkpoint.h);
 *   finish  final checkpoint, evaluation on /test with the best model
 *           (evaluation.json, predictions.h5), profile.json / trace.json.
 * Preempted runs write a checkpoint and return HPCML_EPREEMPTED.
 *
 * The trainer's state is private to trainer.c; checkpoint.c sees it through
 * checkpoint_ctx (checkpoint.h), the data through data_source.h. */
#ifndef HPCML_TRAIN_TRAINER_H
#define HPCML_TRAIN_TRAINER_H

#include <mpi.h>
#include <stdint.h>

#include "core/config.h"

#define TRAIN_MAX_ALERTS 32

/* One epoch's metrics (the metrics.jsonl record). NaN when undefined. */
typedef struct {
    int64_t epoch; /* 1-based: the number of epochs completed */
    double train_loss;
    double val_loss, val_accuracy, val_precision, val_recall, val_f1, val_auc, val_pr_auc;
    double epoch_s, train_s, samples_per_s, lr;
    double allreduce_s, allreduce_share, overlap_window_s;
} train_epoch_metrics;

/* Hooks for a caller that drives training (hpcml-sweep). May be NULL. */
typedef struct {
    /* After every epoch's record, collectively on every rank with the same
     * metrics. Returns a status that must be the same on every rank (agree
     * inside when only some ranks can fail); with HPCML_OK, *stop must be
     * the same on every rank, nonzero: end training now (checkpoint as at
     * any end; no evaluation on /test). An error ends the run with it.
     * A run resumed from a checkpoint that on_epoch stopped continues
     * training (the caller runs it again to get more epochs). */
    int (*on_epoch)(const train_epoch_metrics *m, void *user, int *stop);
    void *user;
    /* Skip evaluation.json / predictions.h5 / profile.json. */
    int no_outputs;
    /* Only load the data and model, check the checkpoints in output_dir and
     * print one line per file (hpcml-train --verify-checkpoints). */
    int verify_checkpoints;
    /* Only load the data and model, read this checkpoint and write a model
     * package from it (hpcml-train --package CHECKPOINT [-o PATH]); the
     * package goes to package_output, or train.output_dir/model.h5. */
    const char *package_checkpoint;
    const char *package_output;
} trainer_hooks;

/* Everything that says where training stands; saved in checkpoints. */
typedef struct {
    int64_t epoch;         /* epochs completed */
    int64_t step_in_epoch; /* optimizer steps done in epoch `epoch` (0 at a boundary) */
    int64_t global_step;   /* optimizer steps in all (== optim.step) */
    double part_loss_sum;  /* the unfinished epoch's training loss so far, summed over ranks */
    double part_weight_sum;
    double best_metric; /* of train.early_stopping_metric; NaN before the first epoch */
    int64_t best_epoch; /* 0: none yet */
    int64_t bad_epochs; /* epochs since the best */
    int64_t alert_run[TRAIN_MAX_ALERTS]; /* consecutive epochs on the bad side, per rule */
    int64_t stop_reason;                 /* 0 running, 1 done, 2 early stop, 3 alert, 4 hook */
} train_progress;

int trainer_run(MPI_Comm comm, const hpcml_config *cfg, const trainer_hooks *hooks);

/* OpenBLAS threads for this rank: train.blas_threads, else SLURM_CPUS_PER_TASK,
 * else the CPUs this rank may use (its affinity mask when it is bound to
 * fewer than all, otherwise all online CPUs divided by the ranks on this node). */
int trainer_blas_threads(const hpcml_config *cfg, MPI_Comm comm);

#endif
