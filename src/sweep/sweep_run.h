/* sweep_run.h — running trials of a sweep against the journal.
 *
 * A trial is a training run through a sweep_trial_runner: a function that
 * trains one complete config collectively over a communicator and calls
 * back after every epoch. hpcml-sweep passes the trainer (train/trainer.h);
 * tests pass a synthetic learning curve. The runner never sees the journal:
 * its epoch callback returns whether to go on.
 *
 *   array mode  sweep_run_trial: one trial on all ranks of comm (a Slurm
 *               array task); rank 0 records each epoch's result, gets the
 *               decision and broadcasts it.
 *   pool mode   sweep_run_pool: the ranks split into groups of
 *               sweep.ranks_per_trial (MPI_Comm_split); each group's rank 0
 *               claims trials from the journal until none are left.
 *
 * Rank 0 of a trial also appends a heartbeat every heartbeat_timeout_s / 4
 * from a helper thread (no MPI calls there), so a trial whose task died is
 * marked failed by the next writer instead of running forever. */
#ifndef HPCML_SWEEP_RUN_H
#define HPCML_SWEEP_RUN_H

#include <jansson.h>
#include <mpi.h>
#include <stdint.h>

#include "core/config.h"
#include "sweep/journal.h"
#include "sweep/search.h"
#include "sweep/space.h"

/* Called by the runner after each epoch, collectively on every rank of the
 * trial's communicator with the same epochs_done (1-based count of epochs
 * completed, counting epochs done before a resume) and the same metric
 * value (the sweep.metric field of that epoch's metrics.jsonl record; NaN
 * allowed). Returns a status that is the same on every rank (agreed); on
 * HPCML_OK, *stop is the same on every rank and nonzero means: end training
 * now (write the checkpoint as at any end, skip the final evaluation). */
typedef int (*sweep_epoch_fn)(void *arg, int64_t epochs_done, double metric, int *stop);

typedef struct {
    const char *name;
    /* Train trial_cfg collectively over comm. trial_cfg is complete: the
     * sweep's config with the trial's sampled values, train.epochs =
     * sweep.max_t, train.output_dir = the trial's own directory,
     * train.resume = "auto" (a re-run continues from its checkpoint there),
     * train.evaluate = false (the test split is not for model selection).
     * Call on_epoch(on_epoch_arg, ...) after each epoch and stop when it
     * says so. Return HPCML_OK when training ended (max epochs, early
     * stopping or on_epoch's stop), HPCML_EPREEMPTED after writing a
     * checkpoint on a preemption signal, or an error. */
    int (*run)(void *self, MPI_Comm comm, const hpcml_config *trial_cfg, sweep_epoch_fn on_epoch,
               void *on_epoch_arg);
    void *self;
} sweep_trial_runner;

typedef struct {
    const hpcml_config *base; /* the sweep's config */
    sweep_params params;
    sweep_space space;
    sweep_search search; /* sweep.search: random or TPE */
    char output_dir[4096];
    journal *j; /* opened on ranks that write (rank 0 of a trial) */
} sweep_ctx;

/* Read the sweep section (space included) and check it. No I/O. */
int sweep_ctx_init(sweep_ctx *s, const hpcml_config *cfg);
void sweep_ctx_free(sweep_ctx *s);

/* Array mode: run trial on comm (collective). A trial that has already
 * stopped or completed is not run again. Returns HPCML_EPREEMPTED when the
 * runner was preempted (Slurm should requeue the task). */
int sweep_run_trial(sweep_ctx *s, MPI_Comm comm, int64_t trial, const sweep_trial_runner *runner);

/* Pool mode (collective over comm). */
int sweep_run_pool(sweep_ctx *s, MPI_Comm comm, int ranks_per_trial,
                   const sweep_trial_runner *runner);

/* Rewrite results.csv, best.cfg and curves.svg from the journal under its
 * lock, and print the status table to fp when fp is not NULL. One rank. */
int sweep_write_reports(sweep_ctx *s, FILE *fp);

#endif
