/* hpcml-train — data-parallel MLP training on dataset.h5 with checkpoints,
 * resume and preemption. The work is in src/train/trainer.c; this file is
 * the command-line contract (core/app.h). */
#include <stdlib.h>

#include "core/app.h"
#include "train/trainer.h"

enum { OPT_VERIFY = 0 };

static const app_option options[] = {
    {"verify-checkpoints", 0, 0, OPT_VERIFY,
     "check every checkpoint in train.output_dir/checkpoints and exit (0: the newest is valid)"},
    {0},
};

static int run(app_ctx *ctx)
{
    trainer_hooks hooks = {0};
    hooks.verify_checkpoints = ctx->opt_flag[OPT_VERIFY];
    return trainer_run(ctx->comm, ctx->cfg, &hooks);
}

int main(int argc, char **argv)
{
    static const app_def def = {
        .name = "hpcml-train",
        .summary = "data-parallel MLP training: dataset.h5 -> checkpoints, metrics.jsonl, "
                   "evaluation.json, predictions.h5, profile.json",
        .options = options,
        .run = run,
    };
    return app_main(&def, argc, argv);
}
