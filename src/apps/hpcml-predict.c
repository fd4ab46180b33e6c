/* hpcml-predict — score new CSV data with a model package (model.h5): the
 * training transform, the MLP, predictions in input order, data-quality
 * counts. The work is in src/predict/predict.c; this file is the
 * command-line contract (core/app.h). */
#include "core/app.h"
#include "predict/predict.h"

static int run(app_ctx *ctx)
{
    /* A preemption signal (SIGTERM, SIGUSR1, ...) removes this run's temp
     * files, which predict.c tracks, and ends it with 75 (requeue):
     * app_main's handler, core/preempt.h. */
    return predict_run(ctx->comm, ctx->cfg);
}

int main(int argc, char **argv)
{
    static const app_def def = {
        .name = "hpcml-predict",
        .summary = "score CSV records with model.h5: predictions (.csv or .h5) in input order, "
                   "predict_quality.json, rejects.csv, profile.json",
        .options = NULL,
        .run = run,
    };
    return app_main(&def, argc, argv);
}
