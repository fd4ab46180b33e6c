/* sweep_app.h — the hpcml-sweep program as a function of its trial runner,
 * so that the real program (the trainer) and the tests (a synthetic
 * learning curve) share every line but the runner.
 *
 *   hpcml-sweep -c CFG [-s k=v]... [--trial N | --pool | --status]
 *
 *   --trial N  run trial N (default: $SLURM_ARRAY_TASK_ID) on all ranks
 *   --pool     run trials in groups of sweep.ranks_per_trial ranks until
 *              none are left
 *   --status   print the status table from the journal and rewrite
 *              results.csv, best.cfg and curves.svg (rank 0; no training) */
#ifndef HPCML_SWEEP_APP_H
#define HPCML_SWEEP_APP_H

#include "core/app.h"
#include "sweep/sweep_run.h"

/* The program's own options for app_def.options. */
extern const app_option sweep_app_options[];
#define SWEEP_APP_SUMMARY                                                                          \
    "Hyperparameter sweep with ASHA: one trial per Slurm array task (or a pool of rank groups), "  \
    "sharing a journal in sweep.output_dir; --status prints the progress table."

/* app_def.run body. runner may be NULL: then only --status works. */
int sweep_app_run(app_ctx *ctx, const sweep_trial_runner *runner);

#endif
