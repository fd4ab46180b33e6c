/* hpcml-train — data-parallel MLP training on dataset.h5 with checkpoints,
 * resume and preemption. The work is in src/train/trainer.c; this file is
 * the command-line contract (core/app.h). */
#include <stdlib.h>

#include "core/app.h"
#include "core/config.h"
#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "io/run_lock.h"
#include "train/trainer.h"

enum { OPT_VERIFY = 0, OPT_PACKAGE = 1, OPT_OUTPUT = 2 };

static const app_option options[] = {
    {"verify-checkpoints", 0, 0, OPT_VERIFY,
     "check every checkpoint in train.output_dir/checkpoints and exit (0: the newest is valid)"},
    {"package", 0, 1, OPT_PACKAGE,
     "CHECKPOINT: write a model package (model.h5) from this checkpoint and exit"},
    {"output", 0, 1, OPT_OUTPUT, "PATH: where --package writes (default train.output_dir/model.h5)"},
    {0},
};

static int run(app_ctx *ctx)
{
    trainer_hooks hooks = {0};
    hooks.verify_checkpoints = ctx->opt_flag[OPT_VERIFY];
    hooks.package_checkpoint = ctx->opt_flag[OPT_PACKAGE] ? ctx->opt_str[OPT_PACKAGE] : NULL;
    hooks.package_output = ctx->opt_flag[OPT_OUTPUT] ? ctx->opt_str[OPT_OUTPUT] : NULL;
    /* One training per output_dir at a time: a second one (a requeue race, a
     * re-run by hand) would append to the same metrics.jsonl and checkpoints.
     * Rank 0 holds the lock until the process ends (io/run_lock.h). The read-only
     * modes take none. */
    run_lock lock = {.fd = -1};
    int rc = HPCML_OK;
    if (!hooks.verify_checkpoints && !hooks.package_checkpoint && ctx->rank == 0)
        rc = run_lock_acquire(&lock, cfg_str(ctx->cfg, "train.output_dir"), "train.lock",
                              "train.output_dir");
    rc = hpcml_mpi_agree(ctx->comm, rc);
    if (rc == HPCML_OK) rc = trainer_run(ctx->comm, ctx->cfg, &hooks);
    /* A refused run (a config error, no GPU) leaves no folder it made behind. */
    run_lock_release(&lock, rc != HPCML_OK && rc != HPCML_EPREEMPTED);
    return rc;
}

int main(int argc, char **argv)
{
    static const app_def def = {
        .name = "hpcml-train",
        .summary = "data-parallel MLP training: dataset.h5 -> checkpoints, metrics.jsonl, "
                   "evaluation.json, predictions.h5, model.h5, profile.json",
        .options = options,
        .run = run,
        /* A preemption signal is a request, read at step boundaries and the
         * other safe points of the trainer: a checkpoint, then exit 75. */
        .polls_preemption = 1,
    };
    return app_main(&def, argc, argv);
}
