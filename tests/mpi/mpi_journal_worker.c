/* mpi_journal_worker.c — test helper (no MPI): one of many processes that
 * drive trials through the real sweep journal, for
 * tests/scripts/test_sweep_journal_concurrency.sh.
 *
 *   mpi_journal_worker DIR WORKER WORKERS ACK_FILE [FAULT_PROB]
 *       runs trials WORKER, WORKER + WORKERS, ... (TRIALS_PER_WORKER of them):
 *       started, one result per epoch (a fixed learning curve) until the
 *       journal says stop, then stopped/completed; a heartbeat every third
 *       epoch. After each append returns, one line "trial iter decision" is
 *       appended to ACK_FILE: what the worker was told. Killed and started
 *       again, it re-reports its epochs from 1 (as a requeued task that lost
 *       its checkpoint would): the journal must answer with the recorded
 *       decisions and append nothing. With FAULT_PROB > 0 it kills itself
 *       (SIGKILL) with that probability at each fault point inside a locked
 *       append: holding the lock, half a record written, record not fsynced.
 *       Exit 0 when all its trials have ended.
 *   mpi_journal_worker --replay DIR WORKERS
 *       replays the journal and prints the state's counters as JSON. */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"
#include "core/status.h"
#include "sweep/journal.h"

#define TRIALS_PER_WORKER 3

static double fault_prob;
static uint64_t fault_state;

static void maybe_die(const char *point)
{
    (void)point;
    fault_state = rng_mix64(fault_state + 0x9e3779b97f4a7c15ull);
    if ((double)(fault_state >> 11) * 0x1.0p-53 < fault_prob) raise(SIGKILL);
}

static sweep_params params(int workers)
{
    sweep_params p = {0};
    p.scheduler = SCHED_ASHA;
    p.mode_max = 1;
    snprintf(p.metric, sizeof p.metric, "val_auc");
    p.max_t = 10; /* rungs 1, 3, 9 */
    p.grace_period = 1;
    p.rf = 3;
    p.trials = (int64_t)workers * TRIALS_PER_WORKER;
    p.seed = 1;
    p.lock_stale_s = 1.0;
    p.heartbeat_timeout_s = 1e6;
    return p;
}

/* A learning curve whose ceiling and speed depend on the trial; a few
 * trials report NaN (diverged). */
static double curve(int64_t trial, int64_t iter)
{
    if (trial % 11 == 5) return NAN;
    double top = 0.6 + 0.35 * rng_uniform(3, RNG_STREAM_SWEEP, (uint64_t)trial, 0);
    double tau = 0.5 + 3.0 * rng_uniform(3, RNG_STREAM_SWEEP, (uint64_t)trial, 1);
    return top - 0.4 * exp(-(double)iter / tau);
}

static void ack(int fd, const char *line)
{
    size_t n = strlen(line);
    if (write(fd, line, n) != (ssize_t)n) {
        perror("ack");
        exit(3);
    }
}

static int replay(const char *dir, int workers)
{
    sweep_params p = params(workers);
    journal *j = NULL;
    int rc = journal_open(&j, dir, &p);
    if (rc != HPCML_OK) {
        fprintf(stderr, "replay: %s\n", hpcml_error_message());
        return rc;
    }
    const sweep_state *st = journal_state(j);
    int64_t counts[6] = {0};
    for (int64_t t = 0; t < p.trials; t++)
        counts[st->trials[t].status]++;
    printf("{\"records\": %lld, \"corrupt\": %lld, \"duplicates\": %lld, \"mismatched\": %lld, "
           "\"ignored\": %lld, \"pending\": %lld, \"running\": %lld, \"stopped\": %lld, "
           "\"completed\": %lld, \"failed\": %lld}\n",
           (long long)st->n_records, (long long)st->n_corrupt, (long long)st->n_duplicates,
           (long long)st->n_mismatched, (long long)st->n_ignored, (long long)counts[TRIAL_PENDING],
           (long long)counts[TRIAL_RUNNING], (long long)counts[TRIAL_STOPPED],
           (long long)counts[TRIAL_COMPLETED], (long long)counts[TRIAL_FAILED]);
    journal_close(j);
    return HPCML_OK;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--replay")) return replay(argv[2], atoi(argv[3]));
    if (argc < 5) {
        fprintf(stderr, "usage: %s DIR WORKER WORKERS ACK_FILE [FAULT_PROB]\n", argv[0]);
        return HPCML_EUSAGE;
    }
    const char *dir = argv[1];
    int worker = atoi(argv[2]), workers = atoi(argv[3]);
    fault_prob = argc > 5 ? atof(argv[5]) : 0.0;
    fault_state = rng_mix64((uint64_t)getpid() * 7919u + (uint64_t)worker);
    if (fault_prob > 0) journal_fault_hook = maybe_die;
    int ackfd = open(argv[4], O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (ackfd < 0) {
        perror(argv[4]);
        return HPCML_EIO;
    }
    sweep_params p = params(workers);
    journal *j = NULL;
    int rc = journal_open(&j, dir, &p);
    for (int k = 0; rc == HPCML_OK && k < TRIALS_PER_WORKER; k++) {
        int64_t trial = worker + (int64_t)k * workers;
        trial_status prior;
        rc = journal_begin_trial(j, trial, NULL, &prior);
        if (rc != HPCML_OK || prior == TRIAL_STOPPED || prior == TRIAL_COMPLETED) continue;
        for (int64_t iter = 1; rc == HPCML_OK; iter++) {
            sweep_decision d;
            rc = journal_report(j, trial, iter, curve(trial, iter), &d);
            if (rc != HPCML_OK) break;
            char line[96];
            snprintf(line, sizeof line, "%lld %lld %s\n", (long long)trial, (long long)iter,
                     sweep_decision_name(d));
            ack(ackfd, line);
            if (iter % 3 == 0) rc = journal_heartbeat(j, trial);
            if (d == DECIDE_STOP) {
                trial_status how = (double)iter >= p.max_t ? TRIAL_COMPLETED : TRIAL_STOPPED;
                if (rc == HPCML_OK) rc = journal_end_trial(j, trial, how, NULL);
                break;
            }
        }
    }
    if (rc != HPCML_OK) fprintf(stderr, "worker %d: %s\n", worker, hpcml_error_message());
    journal_close(j);
    close(ackfd);
    return rc;
}
