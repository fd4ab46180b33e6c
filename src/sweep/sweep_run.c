/* sweep_run.c — trials against the journal: array mode, pool mode, heartbeats. */
#include "sweep/sweep_run.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/preempt.h"
#include "core/rng.h"
#include "core/status.h"
#include "sweep/sweep_report.h"

#define POOL_POLL_S 0.5 /* a pool group with nothing to do asks again after this */

static int scheduler_of(const char *name)
{
    if (!strcmp(name, "asha_promotion")) return SCHED_ASHA_PROMOTION;
    if (!strcmp(name, "none")) return SCHED_NONE;
    return SCHED_ASHA;
}

/* The space's identity: a journal refuses a sweep whose space changed. */
static uint64_t space_hash(const sweep_space *sp)
{
    uint64_t h = 0x5eed;
    for (int d = 0; d < sp->n_dims; d++) {
        const space_dim *dim = &sp->dims[d];
        char num[128];
        h = rng_hash_bytes(dim->key, strlen(dim->key), h);
        snprintf(num, sizeof num, "%d %.17g %.17g %.17g", (int)dim->dist, dim->low, dim->high,
                 dim->q);
        h = rng_hash_bytes(num, strlen(num), h);
        for (int i = 0; i < dim->n_values; i++)
            h = rng_hash_bytes(dim->values[i], strlen(dim->values[i]) + 1, h);
    }
    return h;
}

int sweep_ctx_init(sweep_ctx *s, const hpcml_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->base = cfg;
    sweep_params *p = &s->params;
    p->scheduler = scheduler_of(cfg_str(cfg, "sweep.scheduler"));
    p->mode_max = strcmp(cfg_str(cfg, "sweep.mode"), "min") != 0;
    snprintf(p->metric, sizeof p->metric, "%s", cfg_str(cfg, "sweep.metric"));
    p->max_t = (double)cfg_int(cfg, "sweep.max_t");
    p->grace_period = (double)cfg_int(cfg, "sweep.grace_period");
    p->rf = cfg_float(cfg, "sweep.reduction_factor");
    p->trials = cfg_int(cfg, "sweep.trials");
    p->seed = (uint64_t)cfg_int(cfg, "sweep.seed");
    p->lock_stale_s = cfg_float(cfg, "sweep.lock_stale_s");
    p->heartbeat_timeout_s = cfg_float(cfg, "sweep.heartbeat_timeout_s");
    const char *dir = cfg_str(cfg, "sweep.output_dir");
    HPCML_CHECK(*dir, HPCML_EUSAGE, "sweep.output_dir is empty");
    HPCML_CHECK(strlen(dir) < sizeof s->output_dir - 64, HPCML_EUSAGE,
                "sweep.output_dir is too long");
    snprintf(s->output_dir, sizeof s->output_dir, "%s", dir);
    /* The rules check their own parameters (asha_init: grace_period <= max_t; with
     * scheduler "none" there are no rungs to check); build them once to fail early. */
    sweep_state probe;
    HPCML_TRY(sweep_state_init(&probe, p));
    sweep_state_free(&probe);
    HPCML_TRY(space_from_config(cfg, &s->space));
    p->space_hash = space_hash(&s->space);
    int rc = search_init(&s->search, cfg, &s->space);
    if (rc != HPCML_OK) {
        space_free(&s->space);
        return rc;
    }
    snprintf(p->search, sizeof p->search, "%s", s->search.describe);
    p->search_implicit = !hpcml_config_is_set(cfg, "sweep.search");
    return HPCML_OK;
}

void sweep_ctx_free(sweep_ctx *s)
{
    journal_close(s->j);
    search_free(&s->search);
    space_free(&s->space);
    memset(s, 0, sizeof *s);
}

/* Open the journal on this rank (idempotent). A journal written before sweep.search existed
 * searched at random; with sweep.search left unset, its replay reads it so (check_header)
 * and this process continues it with random search instead of refusing it. */
static int sweep_ctx_open_journal(sweep_ctx *s)
{
    if (s->j) return HPCML_OK;
    HPCML_TRY(journal_open(&s->j, s->output_dir, &s->params));
    const char *theirs = journal_state(s->j)->params.search;
    if (s->search.kind == SEARCH_RANDOM || strcmp(theirs, "random") != 0) return HPCML_OK;
    search_free(&s->search);
    int rc = search_init_kind(&s->search, s->base, &s->space, SEARCH_RANDOM);
    if (rc != HPCML_OK) return rc;
    snprintf(s->params.search, sizeof s->params.search, "%s", s->search.describe);
    if (hpcml_mpi_rank(MPI_COMM_WORLD) == 0)
        log_warn("sweep journal %s/journal.jsonl was written before sweep.search existed: "
                 "continuing it with random search, as it began (sweep.search is not set)",
                 s->output_dir);
    return HPCML_OK;
}

/* The journal's hook: trial's values from the state just replayed under the lock. */
static json_t *choose_values(const sweep_state *st, int64_t trial, void *arg)
{
    const sweep_ctx *s = arg;
    int model = 0;
    json_t *v = search_values(&s->search, &s->space, st, trial, &model);
    if (v && s->search.kind == SEARCH_TPE)
        log_info("trial %lld: values from %s", (long long)trial,
                 model ? "TPE" : "random search (TPE's start-up)");
    return v;
}

/* The trial's directory: sweep.output_dir/trial-NNNNN. */
static void sweep_trial_dir(const sweep_ctx *s, int64_t trial, char *out, size_t n)
{
    snprintf(out, n, "%s/trial-%05lld", s->output_dir, (long long)trial);
}

static void quote_string(const char *in, char *out, size_t n)
{
    size_t k = 0;
    if (n < 3) return;
    out[k++] = '"';
    for (; *in && k + 3 < n; in++) {
        if (*in == '"' || *in == '\\') out[k++] = '\\';
        out[k++] = *in;
    }
    out[k++] = '"';
    out[k] = '\0';
}

/* The complete config of a trial (see sweep_trial_runner.run) with its
 * values (object key -> libconfig text, as its started record holds them). */
static int sweep_trial_config(const sweep_ctx *s, int64_t trial, const json_t *values,
                              hpcml_config **out)
{
    *out = NULL;
    hpcml_config *cfg = NULL;
    HPCML_TRY(hpcml_config_clone(s->base, &cfg));
    char dir[4200], quoted[8500], epochs[32];
    sweep_trial_dir(s, trial, dir, sizeof dir);
    quote_string(dir, quoted, sizeof quoted);
    snprintf(epochs, sizeof epochs, "%lld", (long long)llround(s->params.max_t));
    int rc = space_apply_values(&s->space, values, trial, cfg);
    if (rc == HPCML_OK) rc = hpcml_config_set(cfg, "train.epochs", epochs);
    if (rc == HPCML_OK) rc = hpcml_config_set(cfg, "train.output_dir", quoted);
    if (rc == HPCML_OK) rc = hpcml_config_set(cfg, "train.resume", "\"auto\"");
    if (rc == HPCML_OK) rc = hpcml_config_set(cfg, "train.evaluate", "false");
    if (rc != HPCML_OK) {
        hpcml_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return HPCML_OK;
}

/* ---- heartbeats ------------------------------------------------------------------ */

typedef struct {
    journal *j;
    int64_t trial;
    double interval_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, running;
} heartbeat;

static void *heartbeat_main(void *arg)
{
    heartbeat *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double t = (double)until.tv_sec + 1e-9 * (double)until.tv_nsec + h->interval_s;
        until.tv_sec = (time_t)t;
        until.tv_nsec = (long)((t - (double)until.tv_sec) * 1e9);
        int w = 0;
        while (!h->stop && w != ETIMEDOUT)
            w = pthread_cond_timedwait(&h->cv, &h->mu, &until);
        if (h->stop) break;
        pthread_mutex_unlock(&h->mu);
        /* A failed heartbeat is not fatal: the trial's next result will
         * meet the same file system and report it properly. */
        if (journal_heartbeat(h->j, h->trial) != HPCML_OK)
            log_warn("sweep: heartbeat of trial %lld failed", (long long)h->trial);
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void heartbeat_start(heartbeat *h, journal *j, int64_t trial, double timeout_s)
{
    memset(h, 0, sizeof *h);
    h->j = j;
    h->trial = trial;
    h->interval_s = timeout_s / 4;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->running = pthread_create(&h->thread, NULL, heartbeat_main, h) == 0;
    if (!h->running) log_warn("sweep: no heartbeat thread for trial %lld", (long long)trial);
}

static void heartbeat_stop(heartbeat *h)
{
    if (h->running) {
        pthread_mutex_lock(&h->mu);
        h->stop = 1;
        pthread_cond_signal(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->thread, NULL);
    }
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
}

/* ---- one trial --------------------------------------------------------------------- */

typedef struct {
    sweep_ctx *s;
    MPI_Comm comm;
    int rank;
    int64_t trial;
    int64_t reports, last_iter;
    int last_decision;
} epoch_state;

/* The sweep_epoch_fn: rank 0 asks the journal, everybody gets the answer. */
static int on_epoch(void *arg, int64_t epochs_done, double metric, int *stop)
{
    epoch_state *e = arg;
    int rc = HPCML_OK, decision = DECIDE_CONTINUE;
    if (e->rank == 0) {
        sweep_decision d = DECIDE_CONTINUE;
        rc = journal_report(e->s->j, e->trial, epochs_done, metric, &d);
        decision = (int)d;
        if (rc == HPCML_OK)
            log_debug("trial %lld epoch %lld: %s = %.6g -> %s", (long long)e->trial,
                      (long long)epochs_done, e->s->params.metric, metric, sweep_decision_name(d));
    }
    HPCML_TRY(hpcml_mpi_agree(e->comm, rc));
    HPCML_MPI_CHECK(MPI_Bcast(&decision, 1, MPI_INT, 0, e->comm));
    e->reports++;
    e->last_iter = epochs_done;
    e->last_decision = decision;
    *stop = decision != DECIDE_CONTINUE;
    return HPCML_OK;
}

/* Rank 0: record how the trial ended. */
static int record_end(sweep_ctx *s, const epoch_state *e, int rc)
{
    if (rc == HPCML_OK) {
        if (e->last_decision == DECIDE_PAUSE) /* checkpoint written: may be promoted now */
            return journal_end_trial(s->j, e->trial, TRIAL_PAUSED, NULL);
        trial_status how = e->last_decision == DECIDE_STOP && (double)e->last_iter < s->params.max_t
                               ? TRIAL_STOPPED
                               : TRIAL_COMPLETED;
        return journal_end_trial(s->j, e->trial, how, NULL);
    }
    if (rc == HPCML_EPREEMPTED)
        return journal_end_preempted(s->j, e->trial,
                                     "preempted by a signal (the trial's checkpoint, if any, is "
                                     "written; a re-run resumes it)");
    char why[512];
    snprintf(why, sizeof why, "%s", hpcml_error_message());
    return journal_end_trial(s->j, e->trial, TRIAL_FAILED, why);
}

/* Rank 0 of a trial; problems with the reports are warnings, not failures
 * of a trial that trained fine. */
static void reports_after_trial(sweep_ctx *s)
{
    FILE *table = log_get_level() >= LOG_INFO ? stdout : NULL;
    if (sweep_write_reports(s, table) != HPCML_OK) {
        log_warn("sweep: cannot write the reports: %s", hpcml_error_message());
        hpcml_error_clear();
    }
}

/* Rank 0, after the started/promoted record: a trial whose last recorded
 * result already ended it (stop, or max_t) or paused it, but whose end or
 * "paused" record is missing (its process died in between, perhaps after
 * the checkpoint), must not train on from that checkpoint: record the end or
 * the pause instead. Returns whether it did. */
static int end_if_decided(sweep_ctx *s, int64_t trial, int *rc)
{
    const sweep_state *st = journal_state(s->j);
    const trial_state *ts = &st->trials[trial];
    if (ts->n_results == 0) return 0;
    const trial_result *last = &ts->results[ts->n_results - 1];
    if (last->decision != DECIDE_STOP &&
        !(last->decision == DECIDE_PAUSE && sweep_state_pause_stands(st, trial, last->iter)))
        return 0;
    epoch_state e = {.trial = trial, .last_iter = last->iter, .last_decision = last->decision};
    log_info("trial %lld was told \"%s\" at epoch %lld before its process died: recording "
             "that, training nothing",
             (long long)trial, sweep_decision_name(last->decision), (long long)e.last_iter);
    *rc = record_end(s, &e, HPCML_OK);
    return 1;
}

/* Run trial on comm; begin: append its started record first (array mode;
 * pool mode's claim has done it). */
static int run_one(sweep_ctx *s, MPI_Comm comm, int64_t trial, const sweep_trial_runner *runner,
                   int begin)
{
    int rank = hpcml_mpi_rank(comm);
    int rc = HPCML_OK, prior = TRIAL_PENDING;
    if (rank == 0) {
        rc = sweep_ctx_open_journal(s);
        if (rc == HPCML_OK && begin) {
            trial_status p = TRIAL_PENDING;
            rc = journal_begin_trial_with(s->j, trial, choose_values, s, &p);
            prior = (int)p;
        }
        if (rc == HPCML_OK && prior != TRIAL_COMPLETED && prior != TRIAL_STOPPED &&
            end_if_decided(s, trial, &rc))
            prior = -1; /* recorded now */
    }
    HPCML_TRY(hpcml_mpi_agree(comm, rc));
    HPCML_MPI_CHECK(MPI_Bcast(&prior, 1, MPI_INT, 0, comm));
    if (prior == TRIAL_COMPLETED || prior == TRIAL_STOPPED || prior == -1) {
        if (rank == 0) {
            if (prior != -1)
                log_info("trial %lld has already %s: nothing to do", (long long)trial,
                         prior == TRIAL_COMPLETED ? "completed" : "been stopped");
            reports_after_trial(s);
        }
        return HPCML_OK;
    }

    /* The values are the journal's (chosen when the trial first began):
     * rank 0 sends them to the trial's other ranks. */
    json_t *values = NULL;
    char *text = NULL;
    int64_t len = 0;
    if (rank == 0) {
        const json_t *c = journal_state(s->j)->trials[trial].config;
        text = c ? json_dumps(c, JSON_COMPACT) : strdup("{}");
        if (!text) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
        len = text ? (int64_t)strlen(text) : 0;
    }
    rc = hpcml_mpi_agree(comm, rc); /* collective calls stay matched on every path */
    int mpi_rc = MPI_SUCCESS;
    if (rc == HPCML_OK && (mpi_rc = MPI_Bcast(&len, 1, MPI_INT64_T, 0, comm)) != MPI_SUCCESS)
        rc = hpcml_mpi_fail(mpi_rc, "MPI_Bcast(trial values' length)", __FILE__, __LINE__);
    if (rc == HPCML_OK && rank != 0) {
        text = calloc((size_t)len + 1, 1);
        if (!text) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    }
    rc = hpcml_mpi_agree(comm, rc);
    if (rc == HPCML_OK && (mpi_rc = MPI_Bcast(text, (int)len, MPI_CHAR, 0, comm)) != MPI_SUCCESS)
        rc = hpcml_mpi_fail(mpi_rc, "MPI_Bcast(trial values)", __FILE__, __LINE__);
    if (mpi_rc != MPI_SUCCESS)
        hpcml_error_context("while sending trial %lld's values to its ranks", (long long)trial);
    if (rc == HPCML_OK) {
        values = json_loads(text, 0, NULL);
        if (!values)
            rc = HPCML_FAIL(HPCML_EINTERNAL, "trial %lld's values do not parse", (long long)trial);
    }
    free(text);
    hpcml_config *tcfg = NULL;
    if (rc == HPCML_OK) rc = sweep_trial_config(s, trial, values, &tcfg);
    json_decref(values);
    rc = hpcml_mpi_agree(comm, rc);
    if (rc != HPCML_OK) {
        hpcml_config_free(tcfg);
        if (rank == 0) record_end(s, &(epoch_state){.trial = trial}, rc);
        return rc;
    }
    if (rank == 0)
        log_info("trial %lld: %s on %d rank(s)%s", (long long)trial, runner->name,
                 hpcml_mpi_size(comm), prior == TRIAL_PENDING ? "" : " (re-run: resumes)");
    heartbeat hb;
    if (rank == 0) heartbeat_start(&hb, s->j, trial, s->params.heartbeat_timeout_s);
    epoch_state e = {s, comm, rank, trial, 0, 0, DECIDE_CONTINUE};
    rc = runner->run(runner->self, comm, tcfg, on_epoch, &e);
    rc = hpcml_mpi_agree(comm, rc);
    if (rank == 0) heartbeat_stop(&hb);
    hpcml_config_free(tcfg);

    int rc_end = HPCML_OK;
    if (rank == 0) {
        rc_end = record_end(s, &e, rc);
        if (rc == HPCML_OK && rc_end == HPCML_OK) reports_after_trial(s);
    }
    if (rc != HPCML_OK) return rc; /* the runner's status, agreed */
    return hpcml_mpi_agree(comm, rc_end);
}

int sweep_run_trial(sweep_ctx *s, MPI_Comm comm, int64_t trial, const sweep_trial_runner *runner)
{
    HPCML_CHECK(trial >= 0 && trial < s->params.trials, HPCML_EUSAGE,
                "trial %lld is outside the sweep's trials [0, %lld) (sweep.trials)",
                (long long)trial, (long long)s->params.trials);
    HPCML_CHECK(s->params.scheduler != SCHED_ASHA_PROMOTION, HPCML_EUSAGE,
                "sweep.scheduler = \"asha_promotion\" pauses and promotes trials, which needs "
                "one job that outlives them: use --pool");
    return run_one(s, comm, trial, runner, 1);
}

/* ---- pool mode ---------------------------------------------------------------------- */

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

int sweep_run_pool(sweep_ctx *s, MPI_Comm comm, int ranks_per_trial,
                   const sweep_trial_runner *runner)
{
    int size = hpcml_mpi_size(comm), rank = hpcml_mpi_rank(comm);
    HPCML_CHECK(ranks_per_trial >= 1 && size % ranks_per_trial == 0, HPCML_EUSAGE,
                "pool mode: %d ranks cannot be split into groups of sweep.ranks_per_trial = %d",
                size, ranks_per_trial);
    MPI_Comm group;
    HPCML_MPI_CHECK(MPI_Comm_split(comm, rank / ranks_per_trial, rank, &group));
    int mpi_rc = MPI_Comm_set_errhandler(group, MPI_ERRORS_RETURN);
    if (mpi_rc != MPI_SUCCESS) {
        MPI_Comm_free(&group); /* best effort: the error above is the one reported */
        return hpcml_mpi_fail(mpi_rc, "MPI_Comm_set_errhandler(pool group)", __FILE__, __LINE__);
    }
    int grank = hpcml_mpi_rank(group), rc = HPCML_OK;
    int64_t done = 0;
    if (rank == 0)
        log_info("pool: %d group(s) of %d rank(s), scheduler %s, search %s", size / ranks_per_trial,
                 ranks_per_trial, cfg_str(s->base, "sweep.scheduler"), s->search.describe);
    for (;;) {
        if (done > 0) hpcml_pause_point("sweep.between");
        /* A safe point between trials: the group agrees on a preemption signal
         * before it claims anything (a running trial's trainer checkpoints and
         * its record says "preempted"; a claim here would be abandoned). */
        int sig = preempt_agree(group);
        if (sig) {
            rc = HPCML_FAIL(HPCML_EPREEMPTED,
                            "pool: preempted by a signal (%s) between trials; run the pool again "
                            "to continue the sweep",
                            preempt_signal_name(sig));
            break;
        }
        int kind = 0;
        int64_t trial = -1, target = 0;
        if (grank == 0) {
            rc = sweep_ctx_open_journal(s);
            if (rc == HPCML_OK) rc = journal_claim(s->j, choose_values, s, &kind, &trial, &target);
        }
        rc = hpcml_mpi_agree(group, rc);
        if (rc != HPCML_OK) break;
        int64_t msg[2] = {kind, trial};
        if ((mpi_rc = MPI_Bcast(msg, 2, MPI_INT64_T, 0, group)) != MPI_SUCCESS) {
            rc = hpcml_mpi_fail(mpi_rc, "MPI_Bcast(pool claim)", __FILE__, __LINE__);
            break;
        }
        kind = (int)msg[0];
        trial = msg[1];
        if (kind == 0) break;
        if (kind == 3) {
            sleep_s(POOL_POLL_S);
            continue;
        }
        if (grank == 0 && kind == 2)
            log_info("trial %lld promoted: continues to epoch %lld", (long long)trial,
                     (long long)target);
        rc = run_one(s, group, trial, runner, 0);
        if (rc != HPCML_OK) break;
        done++;
    }
    if ((mpi_rc = MPI_Comm_free(&group)) != MPI_SUCCESS && rc == HPCML_OK)
        rc = hpcml_mpi_fail(mpi_rc, "MPI_Comm_free(pool group)", __FILE__, __LINE__);
    rc = hpcml_mpi_agree(comm, rc);
    if (rc == HPCML_OK && rank == 0) {
        /* "finished" only when every trial has ended: a trial another live
         * process still runs is named instead (claims have already marked
         * those of dead owners failed and started them again), and so is a
         * failed trial with attempts left that no claim took (its process,
         * marked silent, still lives). */
        int64_t running = 0, retry = 0;
        rc = journal_refresh(s->j);
        const sweep_state *st = journal_state(s->j);
        for (int64_t t = 0; rc == HPCML_OK && t < st->params.trials; t++) {
            const trial_state *ts = &st->trials[t];
            if (ts->status == TRIAL_RUNNING && running++ < 5)
                log_warn("pool: trial %lld is still RUNNING in pid %lld on %s", (long long)t,
                         (long long)ts->owner_pid, ts->owner_host);
            if (ts->status == TRIAL_FAILED && journal_retry_left(ts) && retry++ < 5)
                log_warn("pool: trial %lld failed (%s) and was not retried by this pool: "
                         "marked silent while its process (pid %lld on %s) still existed, or "
                         "failed in another job after this pool's last claim",
                         (long long)t, ts->reason, (long long)ts->owner_pid, ts->owner_host);
        }
        if (running > 0 || retry > 0)
            log_info("pool: nothing left to start here; %lld trial(s) still running elsewhere, "
                     "%lld failed trial(s) to retry (run the pool again once their processes "
                     "end)",
                     (long long)running, (long long)retry);
        else
            log_info("pool: finished");
    }
    if (rc == HPCML_OK && rank == 0) {
        rc = sweep_write_reports(s, log_get_level() >= LOG_INFO ? stdout : NULL);
    }
    (void)done;
    return rc;
}

/* ---- reports ------------------------------------------------------------------------- */

typedef struct {
    sweep_ctx *s;
    FILE *fp;
} report_arg;

static int report_locked(const sweep_state *st, void *varg)
{
    report_arg *a = varg;
    int rc = sweep_report_write(st, &a->s->space, a->s->base, a->s->output_dir);
    if (a->fp) {
        sweep_report_table(st, &a->s->space, a->fp);
        fflush(a->fp);
    }
    return rc;
}

int sweep_write_reports(sweep_ctx *s, FILE *fp)
{
    HPCML_TRY(sweep_ctx_open_journal(s));
    report_arg a = {s, fp};
    return journal_with_lock(s->j, report_locked, &a);
}
