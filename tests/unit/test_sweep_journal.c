/* test_sweep_journal.c — the sweep journal in one process: record format and
 * checksum, replay equals the writer's state, torn and corrupt records are
 * skipped, re-reported results are not recorded twice, a journal refuses a
 * sweep with other parameters, silent trials are marked failed, and the
 * lock file breaks stale locks and notices a lost lock. (Many processes:
 * tests/scripts/test_sweep_journal_concurrency.sh.) */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/clock.h"
#include "core/status.h"
#include "sweep/asha.h"
#include "sweep/journal.h"
#include "sweep/journal_lock.h"

static char dir[256];

static sweep_params params(void)
{
    sweep_params p = {0};
    p.scheduler = SCHED_ASHA;
    p.mode_max = 1;
    snprintf(p.metric, sizeof p.metric, "val_auc");
    p.max_t = 9;
    p.grace_period = 1;
    p.rf = 3;
    p.trials = 40;
    p.seed = 5;
    p.space_hash = 0xabc;
    p.lock_stale_s = 30;
    p.heartbeat_timeout_s = 1000;
    return p;
}

static double curve(int64_t trial, int64_t iter)
{
    double a = 0.5 + 0.4 * fmod(trial * 0.618033988749895, 1.0);
    return a - 0.3 * exp(-(double)iter / (1.0 + (double)(trial % 4)));
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void fresh_dir(const char *name)
{
    snprintf(dir, sizeof dir, "/tmp/hpcml-journal-test.%d/%s", (int)getpid(), name);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    CHECK_EQ_INT(system(cmd), 0);
}

static void test_line_format(void)
{
    json_t *rec =
        json_pack("{s:s, s:i, s:i, s:f}", "event", "result", "trial", 3, "iter", 2, "value", 0.125);
    char *line = journal_format_line(rec);
    CHECK(line && line[strlen(line) - 1] == '\n');
    CHECK(strstr(line, "\"crc\":\"") != NULL);
    json_t *back = journal_parse_line(line, strlen(line));
    CHECK(back && json_integer_value(json_object_get(back, "trial")) == 3);
    CHECK(back && json_real_value(json_object_get(back, "value")) == 0.125);
    json_decref(back);
    /* one flipped character anywhere: refused */
    size_t n = strlen(line);
    for (size_t i = 0; i + 1 < n; i += 3) {
        char *bad = strdup(line);
        bad[i] ^= 0x01;
        json_t *r = journal_parse_line(bad, n);
        CHECK_MSG(r == NULL, "flip at %zu accepted: %s", i, bad);
        json_decref(r);
        free(bad);
    }
    /* every truncation: refused */
    for (size_t k = 0; k + 1 < n; k++) {
        json_t *r = journal_parse_line(line, k);
        CHECK(r == NULL);
        json_decref(r);
    }
    free(line);
    json_decref(rec);
}

/* Trials 0..n-1 report epochs round-robin until stopped or at max_t. */
static void run_round_robin(journal *j, int n, sweep_decision *decisions, int *n_decisions)
{
    int alive[64], iter[64];
    for (int t = 0; t < n; t++) {
        trial_status prior;
        json_t *cfg = json_pack("{s:s}", "train.lr", "0.01");
        CHECK_EQ_INT(journal_begin_trial(j, t, cfg, &prior), HPCML_OK);
        json_decref(cfg);
        alive[t] = 1;
        iter[t] = 0;
    }
    for (int left = n; left > 0;)
        for (int t = 0; t < n; t++) {
            if (!alive[t]) continue;
            sweep_decision d;
            iter[t]++;
            CHECK_EQ_INT(journal_report(j, t, iter[t], curve(t, iter[t]), &d), HPCML_OK);
            decisions[(*n_decisions)++] = d;
            if (d == DECIDE_STOP) {
                CHECK_EQ_INT(
                    journal_end_trial(j, t, iter[t] >= 9 ? TRIAL_COMPLETED : TRIAL_STOPPED, NULL),
                    HPCML_OK);
                alive[t] = 0;
                left--;
            }
        }
}

static void test_replay_matches(void)
{
    fresh_dir("replay");
    sweep_params p = params();
    journal *j = NULL;
    CHECK_EQ_INT(journal_open(&j, dir, &p), HPCML_OK);
    sweep_decision dec[4096];
    int nd = 0;
    run_round_robin(j, 12, dec, &nd);
    const sweep_state *st = journal_state(j);
    int stopped = 0, completed = 0;
    for (int t = 0; t < 12; t++) {
        stopped += st->trials[t].status == TRIAL_STOPPED;
        completed += st->trials[t].status == TRIAL_COMPLETED;
    }
    CHECK_EQ_INT(stopped + completed, 12);
    CHECK(stopped > 0 && completed > 0);

    /* A second reader replays the same state and the same decisions. */
    journal *r = NULL;
    CHECK_EQ_INT(journal_open(&r, dir, &p), HPCML_OK);
    const sweep_state *rs = journal_state(r);
    CHECK_EQ_INT(rs->n_mismatched, 0);
    CHECK_EQ_INT(rs->n_corrupt, 0);
    for (int t = 0; t < 12; t++) {
        CHECK_EQ_INT(rs->trials[t].status, st->trials[t].status);
        CHECK_EQ_INT(rs->trials[t].n_results, st->trials[t].n_results);
        CHECK_EQ_STR(json_string_value(json_object_get(rs->trials[t].config, "train.lr")), "0.01");
    }
    /* The decisions equal Ray's rule applied directly in the same order. */
    asha_bracket b;
    asha_init(&b, 1, 9, 3, 1);
    int k = 0, alive[12], iter[12];
    for (int t = 0; t < 12; t++)
        alive[t] = 1, iter[t] = 0;
    for (int left = 12; left > 0;)
        for (int t = 0; t < 12; t++) {
            if (!alive[t]) continue;
            asha_decision d;
            iter[t]++;
            asha_on_result(&b, t, iter[t], curve(t, iter[t]), &d);
            CHECK_EQ_INT((int)d, (int)dec[k]);
            k++;
            if (d == ASHA_STOP) {
                asha_on_complete(&b, t, iter[t], curve(t, iter[t]));
                alive[t] = 0;
                left--;
            }
        }
    CHECK_EQ_INT(k, nd);
    asha_free(&b);

    /* Re-reporting a recorded epoch returns its decision and appends nothing. */
    long before = file_size(r->path);
    for (int t = 0; t < 12; t++)
        for (int i = 1; i <= rs->trials[t].n_results; i++) {
            sweep_decision d;
            CHECK_EQ_INT(journal_report(r, t, i, 0.0, &d), HPCML_OK);
            CHECK_EQ_INT(d, rs->trials[t].results[i - 1].decision);
        }
    CHECK_EQ_INT(file_size(r->path), before);
    /* A finished trial is not started again. */
    trial_status prior;
    CHECK_EQ_INT(journal_begin_trial(r, 0, NULL, &prior), HPCML_OK);
    CHECK(prior == TRIAL_STOPPED || prior == TRIAL_COMPLETED);
    CHECK_EQ_INT(file_size(r->path), before);
    journal_close(r);
    journal_close(j);

    /* Another sweep's parameters are refused. */
    sweep_params q = p;
    q.mode_max = 0;
    hpcml_error_clear();
    CHECK_EQ_INT(journal_open(&r, dir, &q), HPCML_EUSAGE);
    CHECK(strstr(hpcml_error_message(), "another sweep") != NULL);
    hpcml_error_clear();
    q = p;
    q.space_hash = 0xabd;
    CHECK_EQ_INT(journal_open(&r, dir, &q), HPCML_EUSAGE);
    hpcml_error_clear();
}

static void append_raw(const char *path, const char *bytes)
{
    FILE *f = fopen(path, "ab");
    CHECK(f != NULL);
    if (!f) return;
    fputs(bytes, f);
    fclose(f);
}

static void test_torn_and_corrupt(void)
{
    fresh_dir("torn");
    sweep_params p = params();
    journal *j = NULL;
    CHECK_EQ_INT(journal_open(&j, dir, &p), HPCML_OK);
    trial_status prior;
    sweep_decision d;
    CHECK_EQ_INT(journal_begin_trial(j, 1, NULL, &prior), HPCML_OK);
    CHECK_EQ_INT(journal_report(j, 1, 1, 0.5, &d), HPCML_OK);
    char path[4300];
    snprintf(path, sizeof path, "%s", j->path);

    /* A record with a bad checksum in the middle, then a torn tail. */
    append_raw(path, "{\"event\":\"result\",\"trial\":2,\"iter\":1,\"value\":0.9,\"decision\":"
                     "\"continue\",\"crc\":\"00000000\"}\n");
    append_raw(path, "{\"event\":\"result\",\"trial\":1,\"iter\":2,\"va");

    journal *r = NULL;
    CHECK_EQ_INT(journal_open(&r, dir, &p), HPCML_OK);
    CHECK_EQ_INT(journal_state(r)->n_corrupt, 1); /* the torn tail is not yet judged */
    CHECK_EQ_INT(journal_state(r)->trials[1].n_results, 1);
    CHECK_EQ_INT(journal_state(r)->trials[2].n_results, 0);

    /* The next writer ends the torn fragment and appends after it. */
    CHECK_EQ_INT(journal_report(r, 1, 2, 0.6, &d), HPCML_OK);
    CHECK_EQ_INT(journal_state(r)->trials[1].n_results, 2);
    journal *r2 = NULL;
    CHECK_EQ_INT(journal_open(&r2, dir, &p), HPCML_OK);
    const sweep_state *s2 = journal_state(r2);
    CHECK_EQ_INT(s2->n_corrupt, 2);
    CHECK_EQ_INT(s2->trials[1].n_results, 2);
    CHECK(s2->trials[1].results[1].value == 0.6);
    /* The first writer, which had replayed up to before the damage, catches up. */
    CHECK_EQ_INT(journal_refresh(j), HPCML_OK);
    CHECK_EQ_INT(journal_state(j)->trials[1].n_results, 2);
    CHECK_EQ_INT(journal_state(j)->n_corrupt, 2);
    journal_close(r2);
    journal_close(r);
    journal_close(j);
}

static void test_nan_and_values(void)
{
    fresh_dir("nan");
    sweep_params p = params();
    journal *j = NULL;
    CHECK_EQ_INT(journal_open(&j, dir, &p), HPCML_OK);
    sweep_decision d;
    CHECK_EQ_INT(journal_report(j, 3, 1, NAN, &d), HPCML_OK);
    CHECK_EQ_INT(journal_report(j, 4, 1, INFINITY, &d), HPCML_OK);
    CHECK_EQ_INT(journal_report(j, 5, 1, 0.1 + 0.2, &d), HPCML_OK);
    journal *r = NULL;
    CHECK_EQ_INT(journal_open(&r, dir, &p), HPCML_OK);
    CHECK(isnan(journal_state(r)->trials[3].results[0].value));
    CHECK(isinf(journal_state(r)->trials[4].results[0].value));
    CHECK(journal_state(r)->trials[5].results[0].value == 0.1 + 0.2); /* exact round trip */
    CHECK_EQ_INT(journal_state(r)->n_mismatched, 0);
    journal_close(r);
    journal_close(j);
}

static void test_heartbeat_timeout(void)
{
    fresh_dir("heartbeat");
    sweep_params p = params();
    p.heartbeat_timeout_s = 0.3;
    journal *j = NULL;
    CHECK_EQ_INT(journal_open(&j, dir, &p), HPCML_OK);
    trial_status prior;
    CHECK_EQ_INT(journal_begin_trial(j, 7, NULL, &prior), HPCML_OK);
    CHECK_EQ_INT(journal_begin_trial(j, 8, NULL, &prior), HPCML_OK);
    usleep(200 * 1000);
    CHECK_EQ_INT(journal_heartbeat(j, 8), HPCML_OK);
    usleep(200 * 1000);
    sweep_decision d;
    CHECK_EQ_INT(journal_report(j, 9, 1, 0.5, &d), HPCML_OK); /* anyone's append checks */
    CHECK_EQ_INT(journal_state(j)->trials[7].status, TRIAL_FAILED);
    CHECK(strstr(journal_state(j)->trials[7].reason, "heartbeat") != NULL);
    CHECK_EQ_INT(journal_state(j)->trials[8].status, TRIAL_RUNNING);
    /* A trial that was only slow comes back to life with its next record. */
    CHECK_EQ_INT(journal_report(j, 7, 1, 0.5, &d), HPCML_OK);
    CHECK_EQ_INT(journal_state(j)->trials[7].status, TRIAL_RUNNING);
    journal_close(j);
}

static void test_promotion_replay(void)
{
    fresh_dir("promo");
    sweep_params p = params();
    p.scheduler = SCHED_ASHA_PROMOTION;
    p.max_t = 9; /* rungs 1, 3, 9 */
    journal *j = NULL;
    CHECK_EQ_INT(journal_open(&j, dir, &p), HPCML_OK);
    int kind;
    int64_t trial, target;
    sweep_decision d;
    /* three trials reach rung 0; the best gets promoted */
    for (int t = 0; t < 3; t++) {
        CHECK_EQ_INT(journal_claim(j, NULL, NULL, &kind, &trial, &target), HPCML_OK);
        CHECK(kind == 1 && trial == t && target == 1);
        CHECK_EQ_INT(journal_report(j, t, 1, 0.1 * (t + 1), &d), HPCML_OK);
        CHECK_EQ_INT(d, DECIDE_PAUSE);
        CHECK_EQ_INT(journal_state(j)->trials[t].status, TRIAL_RUNNING); /* checkpointing */
        if (t < 2) CHECK_EQ_INT(journal_end_trial(j, t, TRIAL_PAUSED, NULL), HPCML_OK);
    }
    /* trial 2 is the one to promote, but its process has not said "paused"
     * yet (its checkpoint may not exist): everybody waits, nothing starts */
    CHECK_EQ_INT(journal_claim(j, NULL, NULL, &kind, &trial, &target), HPCML_OK);
    CHECK_EQ_INT(kind, 3);
    CHECK_EQ_INT(journal_end_trial(j, 2, TRIAL_PAUSED, NULL), HPCML_OK);
    CHECK_EQ_INT(journal_state(j)->trials[2].status, TRIAL_PAUSED);
    CHECK_EQ_INT(journal_claim(j, NULL, NULL, &kind, &trial, &target), HPCML_OK);
    CHECK(kind == 2 && trial == 2 && target == 3);
    /* promoted: re-reporting the epoch it paused at (it died before that
     * epoch's checkpoint) goes on, and appends nothing */
    CHECK(!sweep_state_pause_stands(journal_state(j), 2, 1));
    CHECK(sweep_state_pause_stands(journal_state(j), 0, 1));
    int64_t n_before = journal_state(j)->n_records;
    CHECK_EQ_INT(journal_report(j, 2, 1, 0.3, &d), HPCML_OK);
    CHECK_EQ_INT(d, DECIDE_CONTINUE);
    CHECK_EQ_INT(journal_state(j)->n_records, n_before);
    CHECK_EQ_INT(journal_report(j, 0, 1, 0.1, &d), HPCML_OK); /* not promoted: still a pause */
    CHECK_EQ_INT(d, DECIDE_PAUSE);
    CHECK_EQ_INT(journal_report(j, 2, 2, 0.5, &d), HPCML_OK);
    CHECK_EQ_INT(d, DECIDE_CONTINUE);
    CHECK_EQ_INT(journal_report(j, 2, 3, 0.6, &d), HPCML_OK);
    CHECK_EQ_INT(d, DECIDE_PAUSE);
    CHECK_EQ_INT(journal_end_trial(j, 2, TRIAL_PAUSED, NULL), HPCML_OK);
    journal *r = NULL;
    CHECK_EQ_INT(journal_open(&r, dir, &p), HPCML_OK);
    const sweep_state *rs = journal_state(r);
    CHECK_EQ_INT(rs->n_mismatched, 0);
    CHECK_EQ_INT(rs->trials[2].status, TRIAL_PAUSED);
    CHECK_EQ_INT(rs->trials[2].rung, 1);
    CHECK_EQ_INT(rs->promo.rungs[0].n, 3);
    CHECK_EQ_INT(rs->promo.rungs[1].n, 1);
    journal_close(r);
    journal_close(j);
}

/* Pool claims: new trials in order, then failed ones again, a bounded number of times. */
static void test_claim_retries(void)
{
    fresh_dir("claim");
    sweep_params p = params();
    p.trials = 2;
    journal *j = NULL;
    CHECK_EQ_INT(journal_open(&j, dir, &p), HPCML_OK);
    int kind;
    int64_t trial, target;
    CHECK_EQ_INT(journal_claim(j, NULL, NULL, &kind, &trial, &target), HPCML_OK);
    CHECK(kind == 1 && trial == 0 && target == 9);
    CHECK_EQ_INT(journal_claim(j, NULL, NULL, &kind, &trial, &target), HPCML_OK);
    CHECK(kind == 1 && trial == 1);
    CHECK_EQ_INT(journal_end_trial(j, 0, TRIAL_FAILED, "preempted"), HPCML_OK);
    for (int attempt = 2; attempt <= JOURNAL_MAX_ATTEMPTS; attempt++) {
        CHECK_EQ_INT(journal_claim(j, NULL, NULL, &kind, &trial, &target), HPCML_OK);
        CHECK(kind == 1 && trial == 0);
        CHECK_EQ_INT(journal_state(j)->trials[0].attempts, attempt);
        CHECK_EQ_INT(journal_end_trial(j, 0, TRIAL_FAILED, "again"), HPCML_OK);
    }
    CHECK_EQ_INT(journal_claim(j, NULL, NULL, &kind, &trial, &target), HPCML_OK);
    CHECK_EQ_INT(kind, 0); /* trial 1 is running elsewhere; trial 0 has had its attempts */
    journal_close(j);
}

/* A child process claims trial 0 of 1 and, per how, either records its own
 * failure (a preemption) or just stays silent; it then lives on until
 * killed. The parent sees what a pool re-run sees while that process is
 * still on its way out. */
static pid_t child_claims(const sweep_params *p, int record_failure)
{
    int fds[2];
    CHECK_EQ_INT(pipe(fds), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        journal *j = NULL;
        int kind = 0;
        int64_t trial = -1, target;
        int ok = journal_open(&j, dir, p) == HPCML_OK &&
                 journal_claim(j, NULL, NULL, &kind, &trial, &target) == HPCML_OK && kind == 1 &&
                 trial == 0 &&
                 (!record_failure ||
                  journal_end_trial(j, 0, TRIAL_FAILED, "preempted by a signal") == HPCML_OK);
        char c = ok ? 'y' : 'n';
        if (write(fds[1], &c, 1) != 1) _exit(1);
        pause();
        _exit(0);
    }
    close(fds[1]);
    char c = 0;
    CHECK_EQ_INT((int)read(fds[0], &c, 1), 1);
    CHECK_EQ_INT(c, 'y');
    close(fds[0]);
    return pid;
}

static void end_child(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Pool re-run while the failed trial's process still exists: a failure its
 * owner recorded (preempted) is retried at once; a trial marked failed by
 * another process for silence is not, while its process lives. */
static void test_claim_live_owner(void)
{
    fresh_dir("claim-owner");
    sweep_params p = params();
    p.trials = 1;
    pid_t child = child_claims(&p, 1);
    journal *j = NULL;
    CHECK_EQ_INT(journal_open(&j, dir, &p), HPCML_OK);
    CHECK_EQ_INT(journal_state(j)->trials[0].status, TRIAL_FAILED);
    CHECK(journal_state(j)->trials[0].failed_by_owner);
    int kind;
    int64_t trial, target;
    CHECK_EQ_INT(journal_claim(j, NULL, NULL, &kind, &trial, &target), HPCML_OK);
    CHECK(kind == 1 && trial == 0);
    CHECK_EQ_INT(journal_state(j)->trials[0].attempts, 2);
    journal_close(j);
    end_child(child);

    fresh_dir("claim-silent");
    p.trials = 2;
    p.heartbeat_timeout_s = 0.2;
    child = child_claims(&p, 0);
    usleep(300 * 1000);
    CHECK_EQ_INT(journal_open(&j, dir, &p), HPCML_OK);
    sweep_decision d;
    CHECK_EQ_INT(journal_report(j, 1, 1, 0.5, &d), HPCML_OK); /* anyone's append checks */
    CHECK_EQ_INT(journal_state(j)->trials[0].status, TRIAL_FAILED);
    CHECK(!journal_state(j)->trials[0].failed_by_owner);
    CHECK_EQ_INT(journal_claim(j, NULL, NULL, &kind, &trial, &target), HPCML_OK);
    CHECK_EQ_INT(kind, 0); /* trial 1 runs here; trial 0's silent process may still write */
    journal_close(j);
    end_child(child);
}

/* Preemptions do not use up a trial's retries (a cluster may preempt a long
 * trial any number of times; it resumes from its checkpoint); failures do,
 * and a replay counts the same. */
static void test_claim_preemptions(void)
{
    fresh_dir("claim-preempt");
    sweep_params p = params();
    p.trials = 1;
    journal *j = NULL;
    CHECK_EQ_INT(journal_open(&j, dir, &p), HPCML_OK);
    int kind;
    int64_t trial, target;
    for (int k = 0; k < 2 * JOURNAL_MAX_ATTEMPTS; k++) {
        CHECK_EQ_INT(journal_claim(j, NULL, NULL, &kind, &trial, &target), HPCML_OK);
        CHECK(kind == 1 && trial == 0);
        CHECK_EQ_INT(journal_end_preempted(j, 0, "preempted by a signal"), HPCML_OK);
    }
    CHECK_EQ_INT(journal_state(j)->trials[0].attempts, 2 * JOURNAL_MAX_ATTEMPTS);
    CHECK_EQ_INT(journal_state(j)->trials[0].preemptions, 2 * JOURNAL_MAX_ATTEMPTS);
    for (int k = 0; k < JOURNAL_MAX_ATTEMPTS; k++) {
        CHECK_EQ_INT(journal_claim(j, NULL, NULL, &kind, &trial, &target), HPCML_OK);
        CHECK(kind == 1 && trial == 0);
        CHECK_EQ_INT(journal_end_trial(j, 0, TRIAL_FAILED, "an error"), HPCML_OK);
    }
    CHECK_EQ_INT(journal_claim(j, NULL, NULL, &kind, &trial, &target), HPCML_OK);
    CHECK_EQ_INT(kind, 0); /* three attempts failed on their own */
    journal *r = NULL;
    CHECK_EQ_INT(journal_open(&r, dir, &p), HPCML_OK);
    CHECK_EQ_INT(journal_state(r)->trials[0].attempts, 3 * JOURNAL_MAX_ATTEMPTS);
    CHECK_EQ_INT(journal_state(r)->trials[0].preemptions, 2 * JOURNAL_MAX_ATTEMPTS);
    CHECK(!journal_retry_left(&journal_state(r)->trials[0]));
    journal_close(r);
    journal_close(j);
}

static void set_mtime_ago(const char *path, double ago_s)
{
    struct timeval now, tv[2];
    gettimeofday(&now, NULL);
    tv[0] = tv[1] = (struct timeval){now.tv_sec - (time_t)ago_s, now.tv_usec};
    CHECK_EQ_INT(utimes(path, tv), 0);
}

static void test_lock(void)
{
    fresh_dir("lock");
    char path[400];
    snprintf(path, sizeof path, "%s/x.lock", dir);
    journal_lock l;
    journal_lock_init(&l, path, 1.0);

    /* a dead holder's lock, two minutes old: broken at once */
    append_raw(path, "deadhost 12345 00000000000000aa 0.000\n");
    set_mtime_ago(path, 120);
    double t0 = hpcml_mono_s();
    CHECK_EQ_INT(journal_lock_acquire(&l), HPCML_OK);
    CHECK(hpcml_mono_s() - t0 < 0.5);
    CHECK_EQ_INT(l.broken_stale, 1);
    CHECK(journal_lock_still_held(&l));
    CHECK_EQ_INT(journal_lock_release(&l), HPCML_OK);
    CHECK(access(path, F_OK) != 0);

    /* a fresh lock is waited for until it turns stale (1 s) */
    append_raw(path, "otherhost 1 00000000000000bb 0.000\n");
    t0 = hpcml_mono_s();
    CHECK_EQ_INT(journal_lock_acquire(&l), HPCML_OK);
    double waited = hpcml_mono_s() - t0;
    CHECK_MSG(waited > 0.9 && waited < 5, "waited %.3f s", waited);
    CHECK_EQ_INT(journal_lock_release(&l), HPCML_OK);

    /* a holder whose lock was broken and retaken notices, and leaves the
     * new owner's lock in place */
    CHECK_EQ_INT(journal_lock_acquire(&l), HPCML_OK);
    CHECK_EQ_INT(unlink(path), 0);
    append_raw(path, "thief 2 00000000000000cc 0.000\n");
    CHECK(!journal_lock_still_held(&l));
    CHECK_EQ_INT(journal_lock_release(&l), HPCML_OK);
    CHECK_EQ_INT(l.lost, 1);
    char owner[64] = "";
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f) {
        CHECK(fgets(owner, sizeof owner, f) != NULL);
        fclose(f);
    }
    CHECK(strncmp(owner, "thief", 5) == 0);
    unlink(path);
}

int main(void)
{
    test_line_format();
    test_replay_matches();
    test_torn_and_corrupt();
    test_nan_and_values();
    test_heartbeat_timeout();
    test_promotion_replay();
    test_claim_retries();
    test_claim_live_owner();
    test_claim_preemptions();
    test_lock();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/hpcml-journal-test.%d", (int)getpid());
    CHECK_EQ_INT(system(cmd), 0);
    CHECK_DONE();
}
