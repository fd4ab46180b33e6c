/* app.h — the common life of every hpcml program.
 *
 * app_main parses the command-line contract (-c/--config, -s/--set,
 * --print-config, --help, --version, -q/-v, plus a program's own options),
 * starts MPI, loads the config on every rank (rank 0 reads the file and
 * broadcasts its text), runs the program, agrees on the final status across
 * ranks, prints one error message on rank 0 and returns the exit code.
 * Preemption signals are handled for the whole run (core/preempt.h). */
#ifndef HPCML_APP_H
#define HPCML_APP_H

#include <mpi.h>

#include "core/config.h"

typedef struct app_ctx {
    MPI_Comm comm;
    int rank, size;
    hpcml_config *cfg;
    const char *program;
    /* Program-specific options (from app_def.option) land here. */
    long long opt_int[4];
    int opt_flag[8];
    const char *opt_str[4];
} app_ctx;

typedef struct {
    const char *long_name;  /* without "--" */
    int has_int_arg;        /* 1: takes an integer value -> opt_int[slot] */
    int has_str_arg;        /* 1: takes a string value -> opt_str[slot] */
    int slot;               /* index into opt_int / opt_flag / opt_str */
    const char *help;
} app_option; /* a program's "output" option also answers to -o */

typedef struct {
    const char *name;     /* "hpcml-gen" */
    const char *summary;  /* one line for --help */
    const app_option *options; /* program-specific, ended by {0}; may be NULL */
    /* Runs on every rank; returns a status. Collective calls must follow the
     * agreement rule of hpcml_mpi.h. */
    int (*run)(app_ctx *ctx);
    /* 1: the program reads the preemption flag at its safe points and agrees
     * on it across ranks (core/preempt.h: hpcml-train, hpcml-sweep); 0: a
     * preemption signal removes the tracked temps and exits with 75 at once. */
    int polls_preemption;
} app_def;

int app_main(const app_def *def, int argc, char **argv);

#endif
