/* app.c — command-line contract and program life cycle. See app.h. */
#include "core/app.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/preempt.h"
#include "core/profile.h"
#include "core/status.h"
#include "core/version.h"

#define MAX_OVERRIDES 256

typedef struct {
    const char *config_path;
    const char *overrides[MAX_OVERRIDES];
    int n_overrides;
    int print_config, help, version, reference;
    log_level level;
} cli;

/* One option per line: the spec, at least two spaces, the text. cmake/hpcml_man.cmake
 * turns this shape into the man pages, so keep it. */
static void print_option(FILE *fp, const char *spec, const char *help)
{
    fprintf(fp, "  %-22s  %s\n", spec, help);
}

static void print_usage(const app_def *def, FILE *fp)
{
    fprintf(fp, "usage: %s -c CONFIG [-s section.key=value]... [options]\n%s\n\n", def->name,
            def->summary);
    print_option(fp, "-c, --config FILE", "libconfig file (may hold every section)");
    print_option(fp, "-s, --set K=V", "override a key, e.g. -s train.lr=0.01 (repeatable)");
    print_option(fp, "    --print-config", "print the effective config and exit");
    print_option(fp, "    --config-reference",
                 "print the configuration reference (markdown) and exit");
    print_option(fp, "-q, --quiet", "errors only");
    print_option(fp, "-v, --verbose", "debug messages from every rank");
    print_option(fp, "-h, --help", "this text");
    print_option(fp, "    --version", "print the release and the git commit it was built from");
    for (const app_option *o = def->options; o && o->long_name; o++) {
        const char *metavar = o->has_int_arg ? " N" : "";
        if (o->has_str_arg) metavar = " VALUE";
        char spec[64];
        /* --output also answers to -o (app_main maps it) */
        snprintf(spec, sizeof spec, "%s--%s%s", strcmp(o->long_name, "output") ? "    " : "-o, ",
                 o->long_name, metavar);
        print_option(fp, spec, o->help);
    }
    fputs("\nexit codes: 0 ok, 1 usage/config, 2 bad data, 3 I/O, 4 internal/MPI, 75 preempted\n",
          fp);
}

static int parse_int_arg(const char *opt, const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    HPCML_CHECK(errno == 0 && end != s && *end == '\0', HPCML_EUSAGE,
                "%s: expected an integer, got '%s'", opt, s);
    *out = v;
    return HPCML_OK;
}

static int parse_cli(const app_def *def, app_ctx *ctx, cli *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    c->level = LOG_INFO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            HPCML_CHECK(next, HPCML_EUSAGE, "%s needs a file name", a);
            c->config_path = argv[++i];
        } else if (!strncmp(a, "--config=", 9)) {
            c->config_path = a + 9;
        } else if (!strcmp(a, "-s") || !strcmp(a, "--set")) {
            HPCML_CHECK(next, HPCML_EUSAGE, "%s needs section.key=value", a);
            HPCML_CHECK(c->n_overrides < MAX_OVERRIDES, HPCML_EUSAGE, "too many -s options");
            c->overrides[c->n_overrides++] = argv[++i];
        } else if (!strncmp(a, "--set=", 6)) {
            HPCML_CHECK(c->n_overrides < MAX_OVERRIDES, HPCML_EUSAGE, "too many -s options");
            c->overrides[c->n_overrides++] = a + 6;
        } else if (!strcmp(a, "--print-config")) {
            c->print_config = 1;
        } else if (!strcmp(a, "--config-reference")) {
            c->reference = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            c->help = 1;
        } else if (!strcmp(a, "--version")) {
            c->version = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            c->level = LOG_ERROR;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            c->level = LOG_DEBUG;
        } else {
            const app_option *o = def->options;
            for (; o && o->long_name; o++) {
                size_t n = strlen(o->long_name);
                if (strncmp(a, "--", 2) == 0 && strncmp(a + 2, o->long_name, n) == 0 &&
                    (a[2 + n] == '\0' || a[2 + n] == '='))
                    break;
                if (!strcmp(a, "-o") && !strcmp(o->long_name, "output")) break;
            }
            HPCML_CHECK(o && o->long_name, HPCML_EUSAGE, "unknown option '%s' (see %s --help)", a,
                        def->name);
            const char *val = a[1] == '-' ? strchr(a, '=') : NULL;
            if (o->has_int_arg || o->has_str_arg) {
                if (val)
                    val++;
                else {
                    HPCML_CHECK(next, HPCML_EUSAGE, "%s needs a value", a);
                    val = argv[++i];
                }
                if (o->has_int_arg)
                    HPCML_TRY(parse_int_arg(a, val, &ctx->opt_int[o->slot]));
                else
                    ctx->opt_str[o->slot] = val;
            }
            ctx->opt_flag[o->slot] = 1;
        }
    }
    return HPCML_OK;
}

/* Rank 0 reads the file, everybody parses the same text: one metadata
 * operation on the shared file system, whatever the job size. */
static int load_config(app_ctx *ctx, const cli *c)
{
    char *text = NULL;
    long len = 0;
    int rc = HPCML_OK;
    if (c->config_path && ctx->rank == 0) rc = hpcml_config_read_file(c->config_path, &text, &len);
    rc = hpcml_mpi_agree(ctx->comm, rc);
    if (rc != HPCML_OK) {
        free(text);
        return rc;
    }
    if (c->config_path) {
        HPCML_MPI_CHECK_GOTO(rc, MPI_Bcast(&len, 1, MPI_LONG, 0, ctx->comm), done);
        /* A rank that cannot allocate still reaches the agreement, so no peer
         * waits alone in the second broadcast. */
        if (ctx->rank != 0) {
            text = malloc((size_t)len + 1);
            if (!text)
                rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory (%ld bytes of config)", len + 1);
        }
        rc = hpcml_mpi_agree(ctx->comm, rc);
        if (rc != HPCML_OK) goto done;
        HPCML_MPI_CHECK_GOTO(rc, MPI_Bcast(text, (int)len + 1, MPI_CHAR, 0, ctx->comm), done);
        rc =
            hpcml_config_load_string(&ctx->cfg, text, c->config_path, c->overrides, c->n_overrides);
    done:
        free(text);
    } else {
        rc = hpcml_config_load(&ctx->cfg, NULL, c->overrides, c->n_overrides);
    }
    return rc;
}

static void print_error(const app_def *def, int rc)
{
    const char *msg = hpcml_error_message();
    fprintf(stderr, "%s: error: %s\n", def->name, *msg ? msg : hpcml_status_name(rc));
    for (const char *c = hpcml_error_context_text(); *c;) {
        const char *nl = strchr(c, '\n');
        int len = nl ? (int)(nl - c) : (int)strlen(c);
        fprintf(stderr, "%s:   %.*s\n", def->name, len, c);
        c += len + (nl != NULL);
    }
    if (log_get_level() >= LOG_DEBUG || rc == HPCML_EINTERNAL)
        fprintf(stderr, "%s: (detected at %s; exit code %d: %s)\n", def->name, hpcml_error_where(),
                rc, hpcml_status_name(rc));
}

/* The rank a launcher gave this process (0 when started alone), read from the
 * environment because --help and --version run before MPI_Init: under mpirun -np 4
 * only rank 0 prints. */
static int launcher_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                       "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return atoi(v);
    }
    return 0;
}

int app_main(const app_def *def, int argc, char **argv)
{
    app_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.program = def->name;
    ctx.comm = MPI_COMM_WORLD;
    /* Open MPI busy-polls while a rank waits in a collective unless told to
     * yield. A rank that waits for a slower one then takes CPU time from
     * whatever shares its core — on a loaded node often the very rank it
     * waits for: 1.6x slower 2-rank training measured on a busy 2-core
     * machine, and a third of a 2-rank ETL's CPU time spent polling. Yielding
     * costs a sched_yield (well under a microsecond) per poll when nothing
     * else is runnable. Read by MPI_Init; a value the user set wins. */
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
    /* With a file-size limit (ulimit -f, a batch system's file-size limit) a write
     * beyond it must fail with EFBIG, which becomes exit code 3 with the file's
     * name and no temp left, instead of SIGXFSZ killing the rank (exit 153, its
     * temps and hpcml-gen's running mark left). Every program, set once here. */
    signal(SIGXFSZ, SIG_IGN);
    /* A preemption signal (SIGTERM, SIGUSR1, SIGUSR2) from here to the end is
     * exit 75 on every rank, never the signal's default action (143, 138): the
     * handler is installed before MPI_Init and the load (core/preempt.h). */
    if (preempt_install(def->name, launcher_rank(), def->polls_preemption) != HPCML_OK) {
        fprintf(stderr, "%s: error: %s\n", def->name, hpcml_error_message());
        return HPCML_EINTERNAL;
    }
    /* The command line is parsed before MPI starts: --help, --version and
     * --config-reference then need no MPI at all, so they work on a login node whose
     * MPI refuses to start outside a job, and the build runs --help for the man pages
     * (cmake/hpcml_man.cmake) without a launcher. parse_cli uses no MPI. */
    cli c;
    int rc = parse_cli(def, &ctx, &c, argc, argv);
    if (rc == HPCML_OK && (c.help || c.version || c.reference)) {
        if (launcher_rank() != 0) return HPCML_OK;
        if (c.help)
            print_usage(def, stdout);
        else if (c.version)
            printf("%s %s\n", def->name, hpcml_version_string());
        else
            hpcml_config_write_reference(stdout);
        return HPCML_OK;
    }
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fprintf(stderr, "%s: error: MPI_Init failed\n", def->name);
        return HPCML_EINTERNAL;
    }
    /* Before the error handler is set, a failing MPI call aborts the job by
     * itself (MPI_ERRORS_ARE_FATAL); the checks below are for the record. */
    if (MPI_Comm_rank(ctx.comm, &ctx.rank) != MPI_SUCCESS ||
        MPI_Comm_size(ctx.comm, &ctx.size) != MPI_SUCCESS ||
        MPI_Comm_set_errhandler(ctx.comm, MPI_ERRORS_RETURN) != MPI_SUCCESS) {
        fprintf(stderr, "%s: error: cannot query MPI_COMM_WORLD\n", def->name);
        MPI_Abort(MPI_COMM_WORLD, HPCML_EINTERNAL);
    }
    log_init(ctx.rank, LOG_INFO);

    log_set_level(rc == HPCML_OK ? c.level : LOG_INFO);
    if (rc == HPCML_OK) rc = load_config(&ctx, &c);
    if (rc == HPCML_OK && c.print_config) {
        if (ctx.rank == 0) rc = hpcml_config_print(ctx.cfg, stdout);
    } else if (rc == HPCML_OK) {
        profile_init(def->name);
        profile_set_outputs(cfg_bool(ctx.cfg, "monitoring.profile"),
                            cfg_bool(ctx.cfg, "monitoring.trace"));
        log_debug("%s %s on %d ranks, config %s", def->name, hpcml_version_string(), ctx.size,
                  hpcml_config_source(ctx.cfg));
        hpcml_pause_point("app.run");
        rc = def->run(&ctx);
        hpcml_pause_point("app.end");
        /* A program that polls saw no signal after its last safe point: this
         * agreement counts it (its outputs are complete; the job is requeued
         * as every preempted one is). */
        int sig = preempt_pending();
        if (rc == HPCML_OK && sig)
            rc = HPCML_FAIL(HPCML_EPREEMPTED,
                            "preempted by %s after the run's last safe point: its outputs are "
                            "complete",
                            preempt_signal_name(sig));
    }
    rc = hpcml_mpi_agree(ctx.comm, rc);
    if (rc != HPCML_OK && ctx.rank == 0) print_error(def, rc);
    hpcml_config_free(ctx.cfg);
    if (MPI_Finalize() != MPI_SUCCESS && rc == HPCML_OK) {
        fprintf(stderr, "%s: error: MPI_Finalize failed\n", def->name);
        rc = HPCML_EINTERNAL;
    }
    return rc;
}
