/* hpcml-train — data-parallel MLP training on dataset.h5 with checkpoints,
 * resume and preemption. The work is in src/train/trainer.c; this file is
 * the command-line contract (core/app.h). */
#include <stdlib.h>

#include "core/app.h"
#include "core/status.h"
#include "train/signals.h"
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
    return trainer_run(ctx->comm, ctx->cfg, &hooks);
}

int main(int argc, char **argv)
{
    static const app_def def = {
        .name = "hpcml-train",
        .summary = "data-parallel MLP training: dataset.h5 -> checkpoints, metrics.jsonl, "
                   "evaluation.json, predictions.h5, model.h5, profile.json",
        .options = options,
        .run = run,
    };
    /* First: a preemption signal during MPI_Init or the load is a request
     * (exit 75), not the signal's default action that kills the rank. */
    if (signals_install_early() != HPCML_OK) return HPCML_EINTERNAL;
    return app_main(&def, argc, argv);
}
