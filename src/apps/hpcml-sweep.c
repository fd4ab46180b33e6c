/* hpcml-sweep — ASHA hyperparameter sweeps as Slurm job arrays.
 *
 *   hpcml-sweep -c CONFIG [-s section.key=value]... [--trial N | --pool | --status]
 *
 * Every trial is one array task (or one rank group of a --pool job); the
 * trials share sweep.output_dir/journal.jsonl, an append-only journal
 * written under a lock file, and no head node (src/sweep/journal.h,
 * docs/sweep.md). A trial is a training run through the trainer library,
 * reached through the sweep_trial_runner below. */
#include <stddef.h>

#include "core/app.h"
#include "sweep/sweep_app.h"
#include "sweep/trainer_runner.h"

static int run(app_ctx *ctx)
{
    return sweep_app_run(ctx, &sweep_trainer_runner);
}

int main(int argc, char **argv)
{
    static const app_def def = {
        .name = "hpcml-sweep",
        .summary = SWEEP_APP_SUMMARY,
        .options = sweep_app_options,
        .run = run,
        /* The trainer checkpoints a running trial; the pool stops claiming. */
        .polls_preemption = 1,
    };
    return app_main(&def, argc, argv);
}
