/* hpcml-report — one self-contained HTML page (inline SVG and CSS, no
 * script) from a pipeline run's files.
 *
 *   hpcml-report -c CONFIG [-s section.key=value]...
 *
 * The config is the run's: it says where each stage wrote (docs/report.md).
 * Exit 0 when every input that exists could be read; 2 (bad input data) when
 * one could not — report.html is still written, naming it. Rank 0 does the
 * work; more ranks only wait. */
#include "core/app.h"
#include "core/config.h"
#include "core/log.h"
#include "core/status.h"
#include "report/report_inputs.h"

static int run(app_ctx *ctx)
{
    if (ctx->rank != 0) return HPCML_OK;
    int n_corrupt = 0;
    HPCML_TRY(report_write(ctx->cfg, hpcml_config_source(ctx->cfg), &n_corrupt));
    const char *out = cfg_str(ctx->cfg, "report.output");
    HPCML_CHECK(n_corrupt == 0, HPCML_EDATA,
                "%d input file%s could not be read (named above and in the report); %s was "
                "written without %s",
                n_corrupt, n_corrupt == 1 ? "" : "s", out, n_corrupt == 1 ? "it" : "them");
    log_info("report: %s", out);
    return HPCML_OK;
}

int main(int argc, char **argv)
{
    static const app_def def = {
        .name = "hpcml-report",
        .summary = "a run's files (quality.json, journal, metrics.jsonl, predictions.h5, "
                   "profile.json, drift.json) -> one self-contained report.html",
        .run = run,
    };
    return app_main(&def, argc, argv);
}
