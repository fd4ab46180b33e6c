/* sweep_app.c — mode selection of hpcml-sweep. See sweep_app.h. */
#include "sweep/sweep_app.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/status.h"
#include "sweep/sweep_report.h"

enum { OPT_TRIAL = 0, OPT_POOL = 1, OPT_STATUS = 2 };

const app_option sweep_app_options[] = {
    {"trial", 1, 0, OPT_TRIAL, "run trial N (default: $SLURM_ARRAY_TASK_ID)"},
    {"pool", 0, 0, OPT_POOL, "run trials in groups of sweep.ranks_per_trial ranks"},
    {"status", 0, 0, OPT_STATUS,
     "print the progress table; rewrite results.csv, best.cfg, curves.svg"},
    {0},
};

static int trial_from_env(int64_t *trial)
{
    const char *id = getenv("SLURM_ARRAY_TASK_ID");
    HPCML_CHECK(id && *id, HPCML_EUSAGE,
                "which trial? give --trial N, --pool or --status, or run as a Slurm array task "
                "(SLURM_ARRAY_TASK_ID)");
    char *end;
    errno = 0;
    long long v = strtoll(id, &end, 10);
    HPCML_CHECK(errno == 0 && *end == '\0' && v >= 0, HPCML_EUSAGE,
                "SLURM_ARRAY_TASK_ID='%s' is not a trial number", id);
    *trial = v;
    return HPCML_OK;
}

/* --status: rank 0 only, no collective calls (app_main agrees afterwards). */
static int show_status(sweep_ctx *s)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", s->output_dir, JOURNAL_FILE);
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("no sweep journal at %s yet (0/%lld trials started)\n", path,
               (long long)s->params.trials);
        return HPCML_OK;
    }
    return sweep_write_reports(s, stdout);
}

int sweep_app_run(app_ctx *ctx, const sweep_trial_runner *runner)
{
    int modes = ctx->opt_flag[OPT_TRIAL] + ctx->opt_flag[OPT_POOL] + ctx->opt_flag[OPT_STATUS];
    HPCML_CHECK(modes <= 1, HPCML_EUSAGE, "give one of --trial, --pool and --status");
    sweep_ctx s;
    HPCML_TRY(sweep_ctx_init(&s, ctx->cfg));
    int rc;
    if (ctx->opt_flag[OPT_STATUS]) {
        rc = ctx->rank == 0 ? show_status(&s) : HPCML_OK;
    } else if (!runner) {
        rc = HPCML_FAIL(HPCML_EUSAGE,
                        "this %s has no trial runner (only --status works); see docs/sweep.md",
                        ctx->program);
    } else if (ctx->opt_flag[OPT_POOL]) {
        rc = sweep_run_pool(&s, ctx->comm, (int)cfg_int(ctx->cfg, "sweep.ranks_per_trial"), runner);
    } else {
        int64_t trial = ctx->opt_int[OPT_TRIAL];
        rc = ctx->opt_flag[OPT_TRIAL] ? HPCML_OK : trial_from_env(&trial);
        if (rc == HPCML_OK) rc = sweep_run_trial(&s, ctx->comm, trial, runner);
    }
    sweep_ctx_free(&s);
    return rc;
}
