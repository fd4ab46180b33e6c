/* hpcml-export — a model package (model.h5) with its training transform as
 * one ONNX file that ONNX Runtime, Triton and other serving stacks load. The
 * work is in src/export/; this file is the command-line contract
 * (core/app.h). */
#include "core/app.h"
#include "export/export_run.h"

enum { OPT_MODEL = 0, OPT_OUTPUT = 1, OPT_NETWORK_ONLY = 2 };

static int run(app_ctx *ctx)
{
    const export_request req = {
        .model = ctx->opt_flag[OPT_MODEL] ? ctx->opt_str[OPT_MODEL] : NULL,
        .output = ctx->opt_flag[OPT_OUTPUT] ? ctx->opt_str[OPT_OUTPUT] : NULL,
        .network_only = ctx->opt_flag[OPT_NETWORK_ONLY],
    };
    return export_run(ctx->comm, ctx->cfg, &req);
}

int main(int argc, char **argv)
{
    static const app_option options[] = {
        {"model", 0, 1, OPT_MODEL, "the model.h5 to export (default: export.model)"},
        {"output", 0, 1, OPT_OUTPUT, "the ONNX file to write (default: export.output)"},
        {"network-only", 0, 0, OPT_NETWORK_ONLY,
         "the network alone: input 'features' [N, n_features], the transformed row"},
        {0},
    };
    static const app_def def = {
        .name = "hpcml-export",
        .summary = "write model.h5 and its training transform as one ONNX graph (raw columns in, "
                   "probabilities and label out); docs/export.md",
        .options = options,
        .run = run,
    };
    return app_main(&def, argc, argv);
}
