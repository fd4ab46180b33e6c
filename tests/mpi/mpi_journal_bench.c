/* mpi_journal_bench.c — benchmark helper (no MPI): throughput of the sweep
 * journal's write path, the one operation every trial of every array task
 * serialises on: take the O_EXCL lock file, replay what others appended, append
 * one record, fsync it, release the lock (journal_heartbeat does exactly that).
 *
 *   mpi_journal_bench DIR WRITERS OPS
 *       forks WRITERS processes that each begin their own trial and then append
 *       OPS heartbeats; prints one CSV line
 *       writers,ops,seconds,appends_per_s,mean_latency_ms
 *       (latency: wall time of one locked append, waiting included).
 * Used by benchmarks/scaling/journal.sh for docs/scaling.md. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/status.h"
#include "sweep/journal.h"

static sweep_params params(int writers)
{
    sweep_params p = {0};
    p.scheduler = SCHED_NONE;
    p.mode_max = 1;
    snprintf(p.metric, sizeof p.metric, "val_auc");
    p.max_t = 1;
    p.grace_period = 1;
    p.rf = 3;
    p.trials = writers;
    p.seed = 1;
    p.lock_stale_s = 30.0;
    p.heartbeat_timeout_s = 1e6;
    return p;
}

static int writer(const char *dir, int w, int writers, int ops)
{
    sweep_params p = params(writers);
    journal *j = NULL;
    trial_status prior;
    int rc = journal_open(&j, dir, &p);
    if (rc == HPCML_OK) rc = journal_begin_trial(j, w, NULL, &prior);
    for (int k = 0; rc == HPCML_OK && k < ops; k++)
        rc = journal_heartbeat(j, w);
    if (rc != HPCML_OK) fprintf(stderr, "writer %d: %s\n", w, hpcml_error_message());
    if (j) journal_close(j);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s DIR WRITERS OPS\n", argv[0]);
        return HPCML_EUSAGE;
    }
    const char *dir = argv[1];
    int writers = atoi(argv[2]), ops = atoi(argv[3]);
    if (writers < 1 || ops < 1) {
        fprintf(stderr, "WRITERS and OPS must be positive\n");
        return HPCML_EUSAGE;
    }
    double t0 = hpcml_mono_s();
    for (int w = 0; w < writers; w++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return HPCML_EINTERNAL;
        }
        if (pid == 0) _exit(writer(dir, w, writers, ops));
    }
    int failed = 0, status;
    for (int w = 0; w < writers; w++) {
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
    }
    double s = hpcml_mono_s() - t0;
    if (failed) {
        fprintf(stderr, "a writer failed\n");
        return HPCML_EIO;
    }
    double n = (double)writers * ops;
    printf("%d,%d,%.4f,%.1f,%.3f\n", writers, ops, s, n / s, 1e3 * s * writers / n);
    return HPCML_OK;
}
