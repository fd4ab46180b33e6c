/* hpcml-etl — CSV files to a validated, transformed parallel HDF5 dataset.
 *
 *   hpcml-etl -c CONFIG [-s etl.key=value]...   # writes etl.output and, beside it,
 *                                               # <stem>.quality.json, .profile.json, .trace.json
 *   hpcml-etl -c CONFIG --infer-schema          # prints an etl.columns block to pin
 *
 * The stages are in src/etl/etl_pipeline.h; docs/etl.md is the user guide.
 * The output does not depend on the number of ranks. */
#include <stdio.h>

#include "core/app.h"
#include "core/status.h"
#include "etl/etl_infer.h"
#include "etl/etl_pipeline.h"

enum { OPT_INFER = 0 };

static int run(app_ctx *ctx)
{
    /* A preemption signal removes this run's temp files, tracked by the
     * pipeline (exit 75; app_main's handler, core/preempt.h). */
    if (ctx->opt_flag[OPT_INFER]) return etl_infer_schema(ctx->comm, ctx->cfg, stdout);
    return etl_run(ctx->comm, ctx->cfg);
}

static const app_option options[] = {
    {"infer-schema", 0, 0, OPT_INFER,
     "read etl.infer_sample_rows records and print an etl.columns block"},
    {0},
};

int main(int argc, char **argv)
{
    static const app_def def = {
        .name = "hpcml-etl",
        .summary = "CSV -> validated, transformed parallel HDF5 dataset (+ <stem>.quality.json, "
                   "<stem>.profile.json)",
        .options = options,
        .run = run,
    };
    return app_main(&def, argc, argv);
}
