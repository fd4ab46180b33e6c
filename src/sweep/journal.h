/* journal.h — the sweep's durable, shared state: an append-only JSON Lines
 * file (sweep.output_dir/journal.jsonl) and its replay.
 *
 * Every process of a sweep (array tasks, pool groups, --status) opens the
 * same journal; there is no server. A record is one line:
 *
 *   {"event":"result","trial":7,"iter":4,"value":0.91,"decision":"continue",
 *    "time":1718000000.123,"crc":"89abcdef"}
 *
 * with "crc" the CRC-32 (zlib) of the line's text up to the comma before
 * "crc" with "}" appended, i.e. of the record serialized without its
 * checksum. Events: sweep (the header: scheduler parameters; a journal
 * belongs to one sweep), started (trial, attempt, config: the sampled
 * values as libconfig text, host, pid), result (iter = epochs done, value =
 * the metric, "nan"/"inf"/"-inf" as strings, decision), stopped, completed
 * (iter, value of the last result), failed (reason), heartbeat, and in
 * pool mode with asha_promotion: paused (the process that paused a trial
 * has written its checkpoint) and promoted (trial, rung).
 *
 * Writers append under journal_lock (journal_lock.h) and fsync each record.
 * In one lock hold a writer reads the records appended since its last look,
 * replays them, takes its decision from that state, appends the record with
 * the decision and releases: the journal's line order is the one global
 * order of decisions, and replaying it sequentially gives the same
 * decisions. Readers skip lines that do not parse or fail their checksum (a
 * torn tail from a writer killed mid-append; the next writer ends such a
 * fragment with a newline so it stays one bad line).
 *
 * Idempotence: a re-run trial that reports a result the journal already has
 * (same trial, same iter) gets the recorded decision back and nothing is
 * appended. A RUNNING trial with no record for sweep.heartbeat_timeout_s is
 * marked failed by the next writer, and so is, at once, one whose owner
 * (the host and pid of its started/promoted record) is a process of this
 * host that no longer exists.
 *
 * Ownership: a RUNNING trial whose owner is alive (its pid exists on this
 * host, or, on another host, its last record is younger than the heartbeat
 * timeout) is never started again: journal_begin_trial fails with
 * HPCML_EPREEMPTED (exit 75: run again later) naming the owner.
 *
 * A journal with records but no valid header (its first line damaged) is
 * refused by every writer (HPCML_EDATA): without it the "belongs to another
 * sweep" check could not be made.
 *
 * For the tests only (no program calls them): journal_begin_trial. Exported for the tests;
 * programs reach them only through this room's other functions: journal_format_line. Tests:
 * test_sweep_journal.c, mpi_journal_worker.c, mpi_journal_bench.c.
 */
#ifndef HPCML_SWEEP_JOURNAL_H
#define HPCML_SWEEP_JOURNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "sweep/asha.h"
#include "sweep/journal_lock.h"

#define JOURNAL_FILE         "journal.jsonl"
#define JOURNAL_VERSION      1
#define JOURNAL_MAX_ATTEMPTS 3 /* pool mode re-runs a failed trial until it has had this many
                                * attempts that did not end in a preemption */

typedef enum { SCHED_ASHA = 0, SCHED_ASHA_PROMOTION = 1, SCHED_NONE = 2 } sweep_scheduler;

/* Decisions as written in result records. */
typedef enum { DECIDE_CONTINUE = 0, DECIDE_STOP = 1, DECIDE_PAUSE = 2 } sweep_decision;

typedef enum {
    TRIAL_PENDING = 0, /* never started */
    TRIAL_RUNNING,
    TRIAL_PAUSED,  /* promotion mode: waiting at a rung */
    TRIAL_STOPPED, /* stopped by the scheduler */
    TRIAL_COMPLETED,
    TRIAL_FAILED
} trial_status;

/* What a sweep is: a journal refuses writers whose parameters differ. */
typedef struct {
    sweep_scheduler scheduler;
    int mode_max;
    char metric[64];
    double max_t, grace_period, rf;
    int64_t trials;
    uint64_t seed, space_hash;
    char search[256]; /* the searcher (search.h describe); "" reads as "random" */
    int search_implicit; /* sweep.search not set by the user: a journal whose header names no
                            searcher (written before sweep.search existed) is continued as
                            "random", what it searched with; replay sets search so */
    double lock_stale_s, heartbeat_timeout_s; /* not part of the identity */
} sweep_params;

typedef struct {
    int64_t iter;
    double value;
    sweep_decision decision;
    double time;
} trial_result;

typedef struct {
    trial_status status;
    int attempts;    /* started records (attempts begun) */
    int preemptions; /* of them, ended by a preemption: these do not use up the retries */
    int attempt_preempted; /* this started attempt's preemption is counted (at most once, so
                            * preemptions <= attempts) */
    json_t *config;        /* object key -> libconfig text, from the first started record */
    trial_result *results; /* in journal order, one per iter */
    int64_t n_results, cap_results;
    double first_time, last_time, attempt_start, seconds;
    int rung; /* promotion mode: the rung the trial is working towards */
    char reason[160];
    char owner_host[64]; /* the process running the current attempt (started / */
    int64_t owner_pid;   /* promoted records): "" and 0 when not recorded */
    int failed_by_owner; /* FAILED by the owner's own record (it has let go of the
                          * trial), not marked by another process as silent */
} trial_state;

typedef struct {
    sweep_params params;
    int have_header;
    trial_state *trials;  /* params.trials entries */
    asha_bracket bracket; /* SCHED_ASHA */
    asha_promo promo;     /* SCHED_ASHA_PROMOTION */
    int64_t n_records, n_corrupt, n_duplicates, n_mismatched, n_ignored;
    double last_time;
} sweep_state;

typedef struct journal {
    char dir[4096], path[4200];
    journal_lock lock;
    sweep_params params;
    sweep_state state;
    int64_t offset;     /* bytes of the file replayed */
    int needs_reset;    /* state ahead of the file after a failed append */
    int have_id;        /* the journal file this process replayed: (dev, ino) */
    unsigned long long id_dev, id_ino;
    pthread_mutex_t mu; /* heartbeat thread vs. the main thread */
    int64_t appends, fsyncs;
} journal;

const char *sweep_decision_name(sweep_decision d);
const char *sweep_status_name(trial_status s);

/* Open (creating sweep.output_dir) and replay what is there. Does not write:
 * the header is appended with the first record. HPCML_EUSAGE when the
 * journal belongs to a sweep with other parameters. */
int journal_open(journal **out, const char *dir, const sweep_params *p);
void journal_close(journal *j);
/* Replay records appended since the last look, without the lock. */
int journal_refresh(journal *j);
const sweep_state *journal_state(const journal *j);

/* A trial's values (object key -> libconfig text, new reference; NULL on
 * out of memory), chosen under the journal lock from the state just
 * replayed: the searcher's hook (search.h). */
typedef json_t *(*journal_config_fn)(const sweep_state *st, int64_t trial, void *arg);

/* Append "started" for trial unless it has already stopped or completed;
 * *prior is its status before (COMPLETED/STOPPED: nothing appended, the
 * caller should not run it). The config of a trial that has one (from an
 * earlier attempt) is kept: a requeued task re-runs the same values. A new
 * trial's config is make_config(state, trial, arg), called under the lock
 * after replaying, so the values and the record that claims them are one
 * step: no other process sees the trial begun without its values. The
 * trial's config is then journal_state(j)->trials[trial].config. */
int journal_begin_trial_with(journal *j, int64_t trial, journal_config_fn make_config, void *arg,
                             trial_status *prior);
/* The same with a config given in advance (borrowed; NULL: none). */
int journal_begin_trial(journal *j, int64_t trial, json_t *config, trial_status *prior);
/* The decision for trial's result after iter epochs, taken under the lock
 * from the journal before it and recorded with it; idempotent per (trial,
 * iter). */
int journal_report(journal *j, int64_t trial, int64_t iter, double value, sweep_decision *decision);
/* Record the end of a trial: TRIAL_STOPPED, TRIAL_COMPLETED or
 * TRIAL_FAILED (reason may be NULL), or TRIAL_PAUSED: its process is done
 * with it after a pause (checkpoint written), it may be promoted. The last
 * result's iter/value go with it, so a replay can give it to Ray's
 * on_trial_complete. */
int journal_end_trial(journal *j, int64_t trial, trial_status how, const char *reason);
/* TRIAL_FAILED by a preemption (its record says "preempted": true): the
 * attempt does not count against JOURNAL_MAX_ATTEMPTS, since the trial
 * resumes from its checkpoint and a cluster may preempt it any number of
 * times. */
int journal_end_preempted(journal *j, int64_t trial, const char *reason);
int journal_heartbeat(journal *j, int64_t trial);

/* Whether a failed trial may be started again: fewer than
 * JOURNAL_MAX_ATTEMPTS of its attempts ended other than by a preemption. */
static inline int journal_retry_left(const trial_state *ts)
{
    return ts->attempts - ts->preemptions < JOURNAL_MAX_ATTEMPTS;
}

/* Pool mode: under the lock, pick the next work. *kind: 0 none left (all
 * trials started and, with promotions, none running), 1 start trial (a new
 * one, else a failed one with journal_retry_left),
 * 2 resume trial after a promotion, 3 nothing now but trials are running
 * (ask again later). For kinds 1/2, *target_iter is the epochs to reach
 * before the trial pauses (max_t without promotions). make_config builds
 * the started record's config of a trial that has none yet, as in
 * journal_begin_trial_with. */
int journal_claim(journal *j, journal_config_fn make_config, void *arg, int *kind, int64_t *trial,
                  int64_t *target_iter);

/* Run fn on the fresh state while holding the lock (reports that must not
 * be overwritten by an older view). */
int journal_with_lock(journal *j, int (*fn)(const sweep_state *st, void *arg), void *arg);

/* Test-only fault injection (NULL in production): called inside a locked
 * append at "locked" (lock held, nothing written), "half-written" (half a
 * record written) and "written" (record written, not yet fsynced); a test
 * kills its process there. */
extern void (*journal_fault_hook)(const char *point);

/* ---- the pure part: replay ------------------------------------------------ */

int sweep_state_init(sweep_state *st, const sweep_params *p);
void sweep_state_free(sweep_state *st);
/* Promotion mode: whether a pause recorded at iter still holds for trial
 * (it has not been promoted past iter since). 0 for the other schedulers. */
int sweep_state_pause_stands(const sweep_state *st, int64_t trial, int64_t iter);
/* A whole journal file's text, for tests and --status. */
int sweep_state_replay_text(sweep_state *st, const char *text, size_t len, size_t *consumed);

/* Record <-> line. journal_format_line returns a malloc'd line ending in
 * "\n"; journal_parse_line returns NULL for a bad line (no newline needed). */
char *journal_format_line(json_t *rec);
json_t *journal_parse_line(const char *line, size_t len);

#endif
