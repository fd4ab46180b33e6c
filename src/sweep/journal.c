/* journal.c — records, replay (pure) and locked appends of the sweep journal.
 * See journal.h for the format and the rules. */
#include "sweep/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/atomic_file.h"
#include "core/log.h"
#include "core/status.h"

#define CRC_SUFFIX_LEN 18 /* ,"crc":"xxxxxxxx"} */

void (*journal_fault_hook)(const char *point) = NULL;

static const char *decision_names[] = {"continue", "stop", "pause"};
static const char *status_names[] = {"PENDING", "RUNNING",   "PAUSED",
                                     "STOPPED", "COMPLETED", "FAILED"};
static const char *scheduler_names[] = {"asha", "asha_promotion", "none"};

const char *sweep_decision_name(sweep_decision d)
{
    return decision_names[d];
}
const char *sweep_status_name(trial_status s)
{
    return status_names[s];
}

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- values and lines --------------------------------------------------------- */

/* JSON has no NaN or infinity; they travel as the strings Python's float() reads. */
static json_t *json_metric(double v)
{
    if (isnan(v)) return json_string("nan");
    if (isinf(v)) return json_string(v > 0 ? "inf" : "-inf");
    return json_real(v);
}

static int metric_of(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 1;
    }
    const char *s = json_string_value(v);
    if (!s) return 0;
    if (!strcmp(s, "nan"))
        *out = NAN;
    else if (!strcmp(s, "inf"))
        *out = INFINITY;
    else if (!strcmp(s, "-inf"))
        *out = -INFINITY;
    else
        return 0;
    return 1;
}

char *journal_format_line(json_t *rec)
{
    char *body = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!body) return NULL;
    size_t len = strlen(body);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)body, (uInt)len);
    char *line = malloc(len + CRC_SUFFIX_LEN + 2);
    if (line && len >= 2) {
        memcpy(line, body, len - 1); /* without the closing brace */
        snprintf(line + len - 1, CRC_SUFFIX_LEN + 3, ",\"crc\":\"%08lx\"}\n", (unsigned long)crc);
    } else if (line) {
        free(line);
        line = NULL;
    }
    free(body);
    return line;
}

json_t *journal_parse_line(const char *line, size_t len)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len < CRC_SUFFIX_LEN + 2 || line[0] != '{') return NULL;
    const char *suffix = line + len - CRC_SUFFIX_LEN;
    if (strncmp(suffix, ",\"crc\":\"", 8) != 0 || suffix[16] != '"' || suffix[17] != '}')
        return NULL;
    char hex[9];
    memcpy(hex, suffix + 8, 8);
    hex[8] = '\0';
    char *end;
    unsigned long want = strtoul(hex, &end, 16);
    if (*end) return NULL;
    size_t body_len = len - CRC_SUFFIX_LEN;
    uLong crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)line, (uInt)body_len);
    crc = crc32(crc, (const Bytef *)"}", 1);
    if (crc != want) return NULL;
    json_error_t err;
    json_t *rec = json_loadb(line, len, 0, &err);
    if (!rec || !json_is_object(rec) || !json_is_string(json_object_get(rec, "event"))) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}

/* ---- replay (pure) --------------------------------------------------------------- */

int sweep_state_init(sweep_state *st, const sweep_params *p)
{
    memset(st, 0, sizeof *st);
    st->params = *p;
    if (p->scheduler == SCHED_ASHA)
        HPCML_TRY(asha_init(&st->bracket, p->grace_period, p->max_t, p->rf, p->mode_max));
    if (p->scheduler == SCHED_ASHA_PROMOTION)
        HPCML_TRY(asha_promo_init(&st->promo, p->grace_period, p->max_t, p->rf, p->mode_max));
    st->trials = calloc((size_t)p->trials, sizeof *st->trials);
    HPCML_ALLOC_CHECK(st->trials, (size_t)p->trials * sizeof *st->trials);
    return HPCML_OK;
}

void sweep_state_free(sweep_state *st)
{
    if (st->trials)
        for (int64_t t = 0; t < st->params.trials; t++) {
            json_decref(st->trials[t].config);
            free(st->trials[t].results);
        }
    free(st->trials);
    if (st->params.scheduler == SCHED_ASHA) asha_free(&st->bracket);
    if (st->params.scheduler == SCHED_ASHA_PROMOTION) asha_promo_free(&st->promo);
    memset(st, 0, sizeof *st);
}

static json_t *header_record(const sweep_params *p)
{
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)p->space_hash);
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->seed);
    return json_pack(
        "{s:s, s:i, s:s, s:s, s:s, s:f, s:f, s:f, s:I, s:s, s:s, s:s, s:f}", "event", "sweep",
        "version", JOURNAL_VERSION, "scheduler", scheduler_names[p->scheduler], "metric", p->metric,
        "mode", p->mode_max ? "max" : "min", "max_t", p->max_t, "grace_period", p->grace_period,
        "reduction_factor", p->rf, "trials", (json_int_t)p->trials, "seed", seed, "space_hash",
        hash, "search", p->search[0] ? p->search : "random", "time", wall_s());
}

/* The journal's header against this process's parameters. A header with no searcher
 * (written before sweep.search existed) searched at random: when the user did not set
 * sweep.search, p becomes random search to match (sweep_ctx_open_journal follows). */
static int check_header(sweep_params *p, json_t *rec)
{
    if (!json_object_get(rec, "search") && p->search_implicit)
        snprintf(p->search, sizeof p->search, "random");
    json_t *mine = header_record(p);
    HPCML_CHECK(mine, HPCML_EINTERNAL, "out of memory");
    static const char *keys[] = {"version",      "scheduler",        "metric", "mode", "max_t",
                                 "grace_period", "reduction_factor", "trials", "seed", "space_hash",
                                 "search"};
    /* Journals written before the searcher was chosen searched at random. */
    json_t *random = json_string("random");
    int rc = HPCML_OK;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && rc == HPCML_OK; i++) {
        json_t *a = json_object_get(rec, keys[i]), *b = json_object_get(mine, keys[i]);
        if (!a && !strcmp(keys[i], "search")) a = random;
        int same = a && (json_is_number(a) && json_is_number(b)
                             ? json_number_value(a) == json_number_value(b)
                             : json_equal(a, b));
        if (!same) {
            char *ja = a ? json_dumps(a, JSON_ENCODE_ANY) : NULL;
            char *jb = json_dumps(b, JSON_ENCODE_ANY);
            rc = HPCML_FAIL(HPCML_EUSAGE,
                            "the sweep journal belongs to another sweep: its %s is %s, this "
                            "config's is %s (use a new sweep.output_dir, or the same sweep "
                            "settings)",
                            keys[i], ja ? ja : "missing", jb ? jb : "?");
            free(ja);
            free(jb);
        }
    }
    json_decref(mine);
    json_decref(random);
    return rc;
}

static int push_result(trial_state *ts, const trial_result *r)
{
    if (ts->n_results == ts->cap_results) {
        int64_t cap = ts->cap_results ? 2 * ts->cap_results : 16;
        trial_result *p = realloc(ts->results, (size_t)cap * sizeof *p);
        HPCML_ALLOC_CHECK(p, (size_t)cap * sizeof *p);
        ts->results = p;
        ts->cap_results = cap;
    }
    ts->results[ts->n_results++] = *r;
    return HPCML_OK;
}

static const trial_result *find_result(const trial_state *ts, int64_t iter)
{
    for (int64_t i = ts->n_results - 1; i >= 0; i--)
        if (ts->results[i].iter == iter) return &ts->results[i];
    return NULL;
}

int sweep_state_pause_stands(const sweep_state *st, int64_t trial, int64_t iter)
{
    const asha_promo *pr = &st->promo;
    if (st->params.scheduler != SCHED_ASHA_PROMOTION || pr->n_rungs == 0) return 0;
    int r = st->trials[trial].rung;
    if (r >= pr->n_rungs) r = pr->n_rungs - 1;
    return (double)iter >= ceil(pr->rungs[r].milestone);
}

static int decide(sweep_state *st, int64_t trial, trial_state *ts, int64_t iter, double value,
                  sweep_decision *d)
{
    const sweep_params *p = &st->params;
    *d = DECIDE_CONTINUE;
    switch (p->scheduler) {
    case SCHED_ASHA: {
        asha_decision a;
        HPCML_TRY(asha_on_result(&st->bracket, trial, (double)iter, value, &a));
        *d = a == ASHA_STOP ? DECIDE_STOP : DECIDE_CONTINUE;
        return HPCML_OK;
    }
    case SCHED_NONE: *d = (double)iter >= p->max_t ? DECIDE_STOP : DECIDE_CONTINUE; return HPCML_OK;
    case SCHED_ASHA_PROMOTION: {
        int last = st->promo.n_rungs - 1;
        int r = ts->rung < last ? ts->rung : last;
        if ((double)iter >= ceil(st->promo.rungs[r].milestone)) {
            HPCML_TRY(asha_promo_record(&st->promo, r, trial, value));
            *d = r == last ? DECIDE_STOP : DECIDE_PAUSE;
        }
        return HPCML_OK;
    }
    }
    return HPCML_OK;
}

/* The owner of the attempt a started/promoted record begins. */
static void set_owner(trial_state *ts, const json_t *rec)
{
    const char *host = json_string_value(json_object_get(rec, "host"));
    json_t *pid = json_object_get(rec, "pid");
    snprintf(ts->owner_host, sizeof ts->owner_host, "%s", host ? host : "");
    ts->owner_pid = json_is_integer(pid) ? (int64_t)json_integer_value(pid) : 0;
}

static void close_attempt(trial_state *ts, double time)
{
    if (ts->attempt_start > 0) ts->seconds += ts->last_time - ts->attempt_start;
    ts->attempt_start = time;
    ts->last_time = time;
}

/* Apply one record. For a result without "decision" (a writer's own new
 * record), the decision is computed and added to rec; with one, the
 * computed decision is compared and n_mismatched counts differences. */
static int sweep_state_apply(sweep_state *st, json_t *rec)
{
    const char *ev = json_string_value(json_object_get(rec, "event"));
    double time = json_number_value(json_object_get(rec, "time"));
    st->n_records++;
    if (!ev) {
        st->n_ignored++;
        return HPCML_OK;
    }
    if (time > st->last_time) st->last_time = time;
    if (!strcmp(ev, "sweep")) {
        if (!st->have_header) HPCML_TRY(check_header(&st->params, rec));
        st->have_header = 1;
        return HPCML_OK;
    }
    json_t *jt = json_object_get(rec, "trial");
    int64_t trial = json_is_integer(jt) ? (int64_t)json_integer_value(jt) : -1;
    if (trial < 0 || trial >= st->params.trials) {
        st->n_ignored++;
        return HPCML_OK;
    }
    trial_state *ts = &st->trials[trial];
    if (ts->first_time == 0) ts->first_time = time;
    int timeout_mark = json_is_true(json_object_get(rec, "timeout"));
    /* A new attempt's clock starts at started/promoted; a timeout mark is
     * another process's observation, not this trial's activity. */
    if (!timeout_mark && strcmp(ev, "started") && strcmp(ev, "promoted") && time > ts->last_time)
        ts->last_time = time;

    if (!strcmp(ev, "started")) {
        close_attempt(ts, time);
        ts->attempts++;
        ts->attempt_preempted = 0;
        ts->status = TRIAL_RUNNING;
        ts->reason[0] = '\0';
        json_t *cfg = json_object_get(rec, "config");
        if (!ts->config && json_is_object(cfg)) ts->config = json_incref(cfg);
        set_owner(ts, rec);
    } else if (!strcmp(ev, "result")) {
        json_t *ji = json_object_get(rec, "iter");
        trial_result r = {json_is_integer(ji) ? (int64_t)json_integer_value(ji) : -1, NAN,
                          DECIDE_CONTINUE, time};
        if (r.iter < 0 || !metric_of(json_object_get(rec, "value"), &r.value)) {
            st->n_ignored++;
            return HPCML_OK;
        }
        if (find_result(ts, r.iter)) { /* a re-run's repeat: the first one counts */
            st->n_duplicates++;
            return HPCML_OK;
        }
        sweep_decision computed;
        HPCML_TRY(decide(st, trial, ts, r.iter, r.value, &computed));
        const char *dn = json_string_value(json_object_get(rec, "decision"));
        if (dn) {
            int k = 0;
            while (k < 3 && strcmp(dn, decision_names[k]))
                k++;
            r.decision = k < 3 ? (sweep_decision)k : computed;
            if (r.decision != computed) st->n_mismatched++;
        } else {
            r.decision = computed;
            HPCML_CHECK(
                json_object_set_new(rec, "decision", json_string(decision_names[computed])) == 0,
                HPCML_EINTERNAL, "out of memory");
        }
        HPCML_TRY(push_result(ts, &r));
        if (ts->status == TRIAL_PENDING || ts->status == TRIAL_FAILED) ts->status = TRIAL_RUNNING;
        /* A pause leaves it RUNNING: its process still writes the checkpoint,
         * then appends "paused"; only then may another process resume it. */
    } else if (!strcmp(ev, "paused")) {
        ts->status = TRIAL_PAUSED;
    } else if (!strcmp(ev, "stopped") || !strcmp(ev, "completed")) {
        ts->status = ev[0] == 's' ? TRIAL_STOPPED : TRIAL_COMPLETED;
        json_t *ji = json_object_get(rec, "iter");
        double v;
        if (st->params.scheduler == SCHED_ASHA && json_is_integer(ji) &&
            metric_of(json_object_get(rec, "value"), &v))
            HPCML_TRY(asha_on_complete(&st->bracket, trial, (double)json_integer_value(ji), v));
    } else if (!strcmp(ev, "failed")) {
        ts->status = TRIAL_FAILED;
        ts->failed_by_owner = !timeout_mark;
        if (!timeout_mark && json_is_true(json_object_get(rec, "preempted")) &&
            !ts->attempt_preempted) {
            ts->preemptions++;
            ts->attempt_preempted = 1;
        }
        const char *why = json_string_value(json_object_get(rec, "reason"));
        snprintf(ts->reason, sizeof ts->reason, "%s", why ? why : "");
    } else if (!strcmp(ev, "heartbeat")) {
        if (ts->status == TRIAL_FAILED) ts->status = TRIAL_RUNNING;
    } else if (!strcmp(ev, "promoted")) {
        json_t *jr = json_object_get(rec, "rung");
        int r = json_is_integer(jr) ? (int)json_integer_value(jr) : -1;
        if (st->params.scheduler != SCHED_ASHA_PROMOTION || r < 1 || r >= st->promo.n_rungs) {
            st->n_ignored++;
            return HPCML_OK;
        }
        HPCML_TRY(asha_promo_mark_promoted(&st->promo, r - 1, trial));
        close_attempt(ts, time);
        ts->rung = r;
        ts->status = TRIAL_RUNNING;
        set_owner(ts, rec);
    } else {
        st->n_ignored++;
    }
    return HPCML_OK;
}

int sweep_state_replay_text(sweep_state *st, const char *text, size_t len, size_t *consumed)
{
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        if (!nl) break; /* torn or still being written */
        size_t line_len = (size_t)(nl - (text + pos));
        json_t *rec = journal_parse_line(text + pos, line_len);
        pos += line_len + 1;
        if (!rec) {
            if (line_len) st->n_corrupt++;
            continue;
        }
        int rc = sweep_state_apply(st, rec);
        json_decref(rec);
        if (rc != HPCML_OK) {
            if (consumed) *consumed = pos;
            return rc;
        }
    }
    if (consumed) *consumed = pos;
    return HPCML_OK;
}

/* ---- the file ---------------------------------------------------------------------- */

int journal_open(journal **out, const char *dir, const sweep_params *p)
{
    *out = NULL;
    HPCML_TRY(fs_mkdir_p(dir));
    journal *j = calloc(1, sizeof *j);
    HPCML_ALLOC_CHECK(j, sizeof *j);
    snprintf(j->dir, sizeof j->dir, "%s", dir);
    snprintf(j->path, sizeof j->path, "%s/%s", dir, JOURNAL_FILE);
    char lock_path[4300];
    snprintf(lock_path, sizeof lock_path, "%s.lock", j->path);
    journal_lock_init(&j->lock, lock_path, p->lock_stale_s);
    j->params = *p;
    pthread_mutex_init(&j->mu, NULL);
    int rc = sweep_state_init(&j->state, p);
    if (rc == HPCML_OK) rc = journal_refresh(j);
    if (rc != HPCML_OK) {
        journal_close(j);
        return rc;
    }
    *out = j;
    return HPCML_OK;
}

void journal_close(journal *j)
{
    if (!j) return;
    sweep_state_free(&j->state);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

const sweep_state *journal_state(const journal *j)
{
    return &j->state;
}

/* Read what was appended since j->offset and replay it. With the lock held,
 * an unterminated tail is a dead writer's torn record: end it with a
 * newline so that it stays a single bad line. */
static int refresh_fd(journal *j, int fd, int locked)
{
    if (j->needs_reset) {
        sweep_state_free(&j->state);
        HPCML_TRY(sweep_state_init(&j->state, &j->params));
        j->offset = 0;
        j->needs_reset = 0;
    }
    struct stat st;
    HPCML_CHECK(fstat(fd, &st) == 0, HPCML_EIO, "cannot stat %s: %s", j->path, strerror(errno));
    /* The journal is append-only and never replaced by hpcml: another file at its path
     * (removed, moved away, copied over) would start a second history that lacks this
     * one's records (results of trials it never saw start). Stop instead; a new run
     * reads whatever file is there then. */
    if (j->have_id && ((unsigned long long)st.st_dev != j->id_dev ||
                       (unsigned long long)st.st_ino != j->id_ino)) {
        HPCML_FAIL(HPCML_EDATA,
                   "sweep journal %s was replaced or removed while this sweep ran (another file "
                   "is at its path now): nothing more is written, so no second history starts",
                   j->path);
        return hpcml_error_context("restore the journal, or run the sweep again to continue "
                                   "from the file that is there now");
    }
    j->have_id = 1;
    j->id_dev = (unsigned long long)st.st_dev;
    j->id_ino = (unsigned long long)st.st_ino;
    int64_t size = (int64_t)st.st_size;
    if (size < j->offset) {
        log_warn("sweep journal %s shrank (%lld < %lld bytes): replaying it from the start",
                 j->path, (long long)size, (long long)j->offset);
        j->needs_reset = 1;
        return refresh_fd(j, fd, locked);
    }
    if (size == j->offset) return HPCML_OK;
    size_t n = (size_t)(size - j->offset);
    char *buf = malloc(n);
    HPCML_ALLOC_CHECK(buf, n);
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)(j->offset + (int64_t)got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            free(buf);
            return HPCML_FAIL(HPCML_EIO, "cannot read %s: %s", j->path,
                              r < 0 ? strerror(errno) : "unexpected end of file");
        }
        got += (size_t)r;
    }
    size_t consumed = 0;
    int rc = sweep_state_replay_text(&j->state, buf, n, &consumed);
    free(buf);
    j->offset += (int64_t)consumed;
    HPCML_TRY(rc);
    /* Only a holder may end a torn tail: a lock broken under a slow holder
     * must not let it cut a new holder's record in two. */
    if (locked && consumed < n && journal_lock_still_held(&j->lock)) {
        log_warn("sweep journal %s: ignoring a torn record of %zu bytes at its end", j->path,
                 n - consumed);
        HPCML_CHECK(write(fd, "\n", 1) == 1 && fsync(fd) == 0, HPCML_EIO, "cannot write %s: %s",
                    j->path, strerror(errno));
        j->state.n_corrupt++;
        j->offset = size + 1;
    }
    return HPCML_OK;
}

int journal_refresh(journal *j)
{
    pthread_mutex_lock(&j->mu);
    int rc = HPCML_OK;
    int fd = open(j->path, O_RDONLY);
    if (fd < 0) {
        if (errno != ENOENT)
            rc = HPCML_FAIL(HPCML_EIO, "cannot open %s: %s", j->path, strerror(errno));
    } else {
        rc = refresh_fd(j, fd, 0);
        close(fd);
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}

/* Apply rec to the state (which fills in a result's decision), then write
 * and fsync its line. The state is replayed afresh if the write fails. */
static int append(journal *j, int fd, json_t *rec)
{
    if (!json_object_get(rec, "time")) json_object_set_new(rec, "time", json_real(wall_s()));
    int rc = sweep_state_apply(&j->state, rec);
    if (rc != HPCML_OK) {
        j->needs_reset = 1;
        return rc;
    }
    char *line = journal_format_line(rec);
    if (!line) {
        j->needs_reset = 1;
        return HPCML_FAIL(HPCML_EINTERNAL, "cannot format a journal record");
    }
    size_t len = strlen(line), done = 0;
    if (journal_fault_hook) journal_fault_hook("locked");
    while (done < len) {
        size_t chunk = len - done;
        if (journal_fault_hook && done == 0)
            chunk = len / 2;
        else if (journal_fault_hook && done == len / 2)
            journal_fault_hook("half-written");
        ssize_t w = write(fd, line + done, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            free(line);
            j->needs_reset = 1;
            return HPCML_FAIL(HPCML_EIO, "cannot append to %s: %s", j->path, strerror(errno));
        }
        done += (size_t)w;
    }
    free(line);
    j->appends++;
    if (journal_fault_hook) journal_fault_hook("written");
    if (fsync(fd) != 0) {
        j->needs_reset = 1;
        return HPCML_FAIL(HPCML_EIO, "cannot fsync %s: %s", j->path, strerror(errno));
    }
    j->fsyncs++;
    j->offset += (int64_t)len;
    return HPCML_OK;
}

typedef int (*txn_fn)(journal *j, int fd, void *arg);

static void this_host(char *host, size_t n)
{
    snprintf(host, n, "?");
    gethostname(host, n - 1);
    host[n - 1] = '\0';
}

/* Whether the owner of ts's attempt runs: 1 alive (its pid exists on this
 * host), 0 gone (no such pid on this host), -1 cannot tell (another host, an
 * owner not recorded, or our own pid): the heartbeat decides. A live pid on
 * this host that has stopped writing heartbeats (hung) is still marked
 * failed after the heartbeat timeout, as before. */
static int owner_alive(const trial_state *ts)
{
    char host[128];
    this_host(host, sizeof host);
    if (!ts->owner_host[0] || ts->owner_pid <= 0 || strcmp(ts->owner_host, host) != 0) return -1;
    /* Our own pid: an earlier process that had it (pids restart in a new
     * container), or this process's other journal handle: the heartbeat
     * decides. */
    if (ts->owner_pid == (int64_t)getpid()) return -1;
    return kill((pid_t)ts->owner_pid, 0) == 0 || errno == EPERM;
}

static double silent_s(const trial_state *ts, double now)
{
    return now - (ts->last_time > ts->attempt_start ? ts->last_time : ts->attempt_start);
}

/* Mark RUNNING trials failed whose owner is gone from this host, or that
 * have been silent for longer than the heartbeat timeout. */
static int expire_silent(journal *j, int fd, int64_t own_trial)
{
    double now = wall_s();
    for (int64_t t = 0; t < j->params.trials; t++) {
        trial_state *ts = &j->state.trials[t];
        if (t == own_trial || ts->status != TRIAL_RUNNING) continue;
        const double silent = silent_s(ts, now);
        const int alive = owner_alive(ts);
        char why[200];
        if (alive == 0)
            snprintf(why, sizeof why, "its process (pid %lld on %s) is gone",
                     (long long)ts->owner_pid, ts->owner_host);
        else if (silent > j->params.heartbeat_timeout_s)
            snprintf(why, sizeof why, "no heartbeat for %.1f s (sweep.heartbeat_timeout_s = %g)",
                     silent, j->params.heartbeat_timeout_s);
        else
            continue;
        json_t *rec = json_pack("{s:s, s:I, s:s, s:b}", "event", "failed", "trial", (json_int_t)t,
                                "reason", why, "timeout", 1);
        HPCML_CHECK(rec, HPCML_EINTERNAL, "out of memory");
        int rc = append(j, fd, rec);
        json_decref(rec);
        HPCML_TRY(rc);
        log_warn("sweep: trial %lld marked failed: %s", (long long)t, why);
    }
    return HPCML_OK;
}

static int transact(journal *j, int64_t own_trial, txn_fn fn, void *arg)
{
    pthread_mutex_lock(&j->mu);
    int rc = HPCML_OK;
    for (int attempt = 0;; attempt++) {
        rc = journal_lock_acquire(&j->lock);
        if (rc != HPCML_OK) break;
        /* Created only by a process that has not seen it yet (see refresh_fd). */
        int fd = open(j->path, O_RDWR | O_APPEND | (j->have_id ? 0 : O_CREAT), 0644);
        if (fd < 0) {
            rc = errno == ENOENT && j->have_id
                     ? HPCML_FAIL(HPCML_EDATA,
                                  "sweep journal %s was removed while this sweep ran: nothing "
                                  "more is written, so no second history starts",
                                  j->path)
                     : HPCML_FAIL(HPCML_EIO, "cannot open %s: %s", j->path, strerror(errno));
            journal_lock_release(&j->lock);
            break;
        }
        rc = refresh_fd(j, fd, 1);
        /* A holder slower than lock_stale_s may have lost the lock: check
         * before deciding anything, and start over if so. */
        if (rc == HPCML_OK && !journal_lock_still_held(&j->lock)) {
            close(fd);
            journal_lock_release(&j->lock);
            if (attempt < 5) continue;
            rc = HPCML_FAIL(HPCML_EIO,
                            "lost the journal lock %s five times in a row: is sweep.lock_stale_s "
                            "(%g s) shorter than this file system's delays?",
                            j->lock.path, j->params.lock_stale_s);
            break;
        }
        if (rc == HPCML_OK && !j->state.have_header && j->state.n_records > 0)
            rc = HPCML_FAIL(HPCML_EDATA,
                            "%s has %lld records but no valid header record (its first line is "
                            "damaged): it cannot be checked against this sweep's settings, so "
                            "nothing is written to it; restore the line or use a new "
                            "sweep.output_dir",
                            j->path, (long long)j->state.n_records);
        if (rc == HPCML_OK && !j->state.have_header) {
            json_t *h = header_record(&j->params);
            rc = h ? append(j, fd, h) : HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
            json_decref(h);
        }
        if (rc == HPCML_OK) rc = expire_silent(j, fd, own_trial);
        if (rc == HPCML_OK) rc = fn(j, fd, arg);
        if (close(fd) != 0 && rc == HPCML_OK)
            rc = HPCML_FAIL(HPCML_EIO, "cannot close %s: %s", j->path, strerror(errno));
        int rc2 = journal_lock_release(&j->lock);
        if (rc == HPCML_OK) rc = rc2;
        break;
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}

static int append_new(journal *j, int fd, json_t *rec)
{
    HPCML_CHECK(rec, HPCML_EINTERNAL, "out of memory");
    int rc = append(j, fd, rec);
    json_decref(rec);
    return rc;
}

/* ---- the operations ------------------------------------------------------------------ */

typedef struct {
    int64_t trial;
    journal_config_fn make_config;
    void *arg;
    trial_status *prior;
} begin_arg;

/* The config of trial's next started record: its own from an earlier
 * attempt, else a new one from the state under the lock (new reference). */
static json_t *trial_config(journal *j, int64_t trial, journal_config_fn make_config, void *arg,
                            int *failed)
{
    const trial_state *ts = &j->state.trials[trial];
    *failed = 0;
    if (ts->config) return json_incref(ts->config);
    if (!make_config) return NULL;
    json_t *c = make_config(&j->state, trial, arg);
    *failed = c == NULL;
    return c;
}

static json_t *started_record(int64_t trial, int attempt, json_t *config)
{
    char host[128];
    this_host(host, sizeof host);
    return json_pack("{s:s, s:I, s:i, s:o, s:s, s:i}", "event", "started", "trial",
                     (json_int_t)trial, "attempt", attempt, "config",
                     config ? json_incref(config) : json_object(), "host", host, "pid",
                     (int)getpid());
}

static int begin_txn(journal *j, int fd, void *varg)
{
    begin_arg *a = varg;
    trial_state *ts = &j->state.trials[a->trial];
    *a->prior = ts->status;
    if (ts->status == TRIAL_COMPLETED || ts->status == TRIAL_STOPPED) return HPCML_OK;
    if (ts->status == TRIAL_RUNNING) {
        const int alive = owner_alive(ts);
        const double silent = silent_s(ts, wall_s());
        if (alive == 1 || (alive < 0 && silent <= j->params.heartbeat_timeout_s))
            return HPCML_FAIL(HPCML_EPREEMPTED,
                              "trial %lld is running in another process (pid %lld on %s, last "
                              "record %.1f s ago, %s): not starting it again; run again after it "
                              "ends",
                              (long long)a->trial, (long long)ts->owner_pid,
                              ts->owner_host[0] ? ts->owner_host : "an unrecorded host", silent,
                              alive == 1 ? "that process exists" : "within sweep.heartbeat_timeout_s");
        if (ts->owner_pid > 0)
            log_warn("sweep: trial %lld: its previous process (pid %lld on %s) is gone or "
                     "silent past sweep.heartbeat_timeout_s; starting attempt %d",
                     (long long)a->trial, (long long)ts->owner_pid, ts->owner_host,
                     ts->attempts + 1);
    }
    int failed;
    json_t *cfg = trial_config(j, a->trial, a->make_config, a->arg, &failed);
    HPCML_CHECK(!failed, HPCML_EINTERNAL, "cannot choose the values of trial %lld",
                (long long)a->trial);
    int rc = append_new(j, fd, started_record(a->trial, ts->attempts + 1, cfg));
    json_decref(cfg);
    return rc;
}

int journal_begin_trial_with(journal *j, int64_t trial, journal_config_fn make_config, void *arg,
                             trial_status *prior)
{
    HPCML_CHECK(trial >= 0 && trial < j->params.trials, HPCML_EUSAGE,
                "trial %lld is outside the sweep's [0, %lld)", (long long)trial,
                (long long)j->params.trials);
    begin_arg a = {trial, make_config, arg, prior};
    return transact(j, trial, begin_txn, &a);
}

static json_t *given_config(const sweep_state *st, int64_t trial, void *arg)
{
    (void)st;
    (void)trial;
    return arg ? json_incref((json_t *)arg) : json_object();
}

int journal_begin_trial(journal *j, int64_t trial, json_t *config, trial_status *prior)
{
    return journal_begin_trial_with(j, trial, given_config, config, prior);
}

typedef struct {
    int64_t trial, iter;
    double value;
    sweep_decision *decision;
} report_arg;

static int report_txn(journal *j, int fd, void *varg)
{
    report_arg *a = varg;
    const trial_state *ts = &j->state.trials[a->trial];
    const trial_result *old = find_result(ts, a->iter);
    if (old) { /* re-run of a recorded epoch: the journal's decision stands */
        *a->decision = old->decision;
        /* ...unless it was a pause the trial has been promoted past since (it
         * died before that epoch's checkpoint and trains it again): go on. */
        if (old->decision == DECIDE_PAUSE &&
            !sweep_state_pause_stands(&j->state, a->trial, a->iter))
            *a->decision = DECIDE_CONTINUE;
        return HPCML_OK;
    }
    json_t *rec =
        json_pack("{s:s, s:I, s:I, s:o}", "event", "result", "trial", (json_int_t)a->trial, "iter",
                  (json_int_t)a->iter, "value", json_metric(a->value));
    HPCML_CHECK(rec, HPCML_EINTERNAL, "out of memory");
    int rc = append(j, fd, rec);
    if (rc == HPCML_OK) {
        ts = &j->state.trials[a->trial];
        *a->decision = ts->results[ts->n_results - 1].decision;
    }
    json_decref(rec);
    return rc;
}

int journal_report(journal *j, int64_t trial, int64_t iter, double value, sweep_decision *decision)
{
    HPCML_CHECK(trial >= 0 && trial < j->params.trials, HPCML_EINTERNAL, "bad trial %lld",
                (long long)trial);
    report_arg a = {trial, iter, value, decision};
    return transact(j, trial, report_txn, &a);
}

typedef struct {
    int64_t trial;
    trial_status how;
    const char *reason;
    int preempted;
} end_arg;

static int end_txn(journal *j, int fd, void *varg)
{
    end_arg *a = varg;
    const trial_state *ts = &j->state.trials[a->trial];
    const char *ev = a->how == TRIAL_STOPPED     ? "stopped"
                     : a->how == TRIAL_COMPLETED ? "completed"
                     : a->how == TRIAL_PAUSED    ? "paused"
                                                 : "failed";
    if (ts->status == a->how && a->how != TRIAL_FAILED) return HPCML_OK; /* already recorded */
    json_t *rec = json_pack("{s:s, s:I}", "event", ev, "trial", (json_int_t)a->trial);
    HPCML_CHECK(rec, HPCML_EINTERNAL, "out of memory");
    if (ts->n_results) {
        const trial_result *last = &ts->results[ts->n_results - 1];
        json_object_set_new(rec, "iter", json_integer((json_int_t)last->iter));
        json_object_set_new(rec, "value", json_metric(last->value));
    }
    if (a->reason) json_object_set_new(rec, "reason", json_string(a->reason));
    if (a->preempted) json_object_set_new(rec, "preempted", json_true());
    return append_new(j, fd, rec);
}

int journal_end_trial(journal *j, int64_t trial, trial_status how, const char *reason)
{
    HPCML_CHECK(trial >= 0 && trial < j->params.trials, HPCML_EINTERNAL, "bad trial %lld",
                (long long)trial);
    HPCML_CHECK(how == TRIAL_STOPPED || how == TRIAL_COMPLETED || how == TRIAL_FAILED ||
                    how == TRIAL_PAUSED,
                HPCML_EINTERNAL, "bad end status %d", (int)how);
    end_arg a = {trial, how, reason, 0};
    return transact(j, trial, end_txn, &a);
}

int journal_end_preempted(journal *j, int64_t trial, const char *reason)
{
    HPCML_CHECK(trial >= 0 && trial < j->params.trials, HPCML_EINTERNAL, "bad trial %lld",
                (long long)trial);
    end_arg a = {trial, TRIAL_FAILED, reason, 1};
    return transact(j, trial, end_txn, &a);
}

static int heartbeat_txn(journal *j, int fd, void *varg)
{
    int64_t trial = *(int64_t *)varg;
    return append_new(j, fd,
                      json_pack("{s:s, s:I}", "event", "heartbeat", "trial", (json_int_t)trial));
}

int journal_heartbeat(journal *j, int64_t trial)
{
    HPCML_CHECK(trial >= 0 && trial < j->params.trials, HPCML_EINTERNAL, "bad trial %lld",
                (long long)trial);
    return transact(j, trial, heartbeat_txn, &trial);
}

typedef struct {
    journal_config_fn make_config;
    void *arg;
    int *kind;
    int64_t *trial, *target;
} claim_arg;

static int claim_txn(journal *j, int fd, void *varg)
{
    claim_arg *a = varg;
    sweep_state *st = &j->state;
    *a->kind = 0;
    if (st->params.scheduler == SCHED_ASHA_PROMOTION) {
        int found, to;
        int64_t t;
        HPCML_TRY(asha_promo_next(&st->promo, &found, &t, &to));
        if (found && st->trials[t].status == TRIAL_RUNNING) {
            /* Its process is still writing the checkpoint it paused with: wait
             * for its "paused" (or for the heartbeat timeout to mark it failed;
             * a failed one is promoted all the same and resumes from the newest
             * checkpoint it has). */
            *a->kind = 3;
            return HPCML_OK;
        }
        if (found) {
            char host[128];
            this_host(host, sizeof host);
            json_t *rec = json_pack("{s:s, s:I, s:i, s:s, s:i}", "event", "promoted", "trial",
                                    (json_int_t)t, "rung", to, "host", host, "pid", (int)getpid());
            HPCML_TRY(append_new(j, fd, rec));
            *a->kind = 2;
            *a->trial = t;
            *a->target = (int64_t)ceil(st->promo.rungs[to].milestone);
            return HPCML_OK;
        }
    }
    /* New trials first, then failed ones again (preempted, or silent past the
     * heartbeat timeout) while journal_retry_left. */
    for (int pass = 0; pass < 2; pass++)
        for (int64_t t = 0; t < st->params.trials; t++) {
            const trial_state *ts = &st->trials[t];
            if (pass == 0 ? ts->status != TRIAL_PENDING
                          : ts->status != TRIAL_FAILED || !journal_retry_left(ts))
                continue;
            /* Marked failed by another process for silence while its own
             * process still lives (hung, or slow): it may still write the
             * trial's files. A failure the owner recorded itself (preempted,
             * an error) is its last act on the trial: retry it even while
             * that process is still on its way out. */
            if (pass == 1 && !ts->failed_by_owner && owner_alive(ts) == 1) continue;
            int failed;
            json_t *cfg = trial_config(j, t, a->make_config, a->arg, &failed);
            HPCML_CHECK(!failed, HPCML_EINTERNAL, "cannot choose the values of trial %lld",
                        (long long)t);
            int rc = append_new(j, fd, started_record(t, ts->attempts + 1, cfg));
            json_decref(cfg);
            HPCML_TRY(rc);
            *a->kind = 1;
            *a->trial = t;
            *a->target = st->params.scheduler == SCHED_ASHA_PROMOTION
                             ? (int64_t)ceil(st->promo.rungs[ts->rung].milestone)
                             : (int64_t)ceil(st->params.max_t);
            return HPCML_OK;
        }
    if (st->params.scheduler == SCHED_ASHA_PROMOTION)
        for (int64_t t = 0; t < st->params.trials; t++)
            if (st->trials[t].status == TRIAL_RUNNING) {
                *a->kind = 3; /* its next result may make a promotion possible */
                break;
            }
    return HPCML_OK;
}

int journal_claim(journal *j, journal_config_fn make_config, void *arg, int *kind, int64_t *trial,
                  int64_t *target_iter)
{
    claim_arg a = {make_config, arg, kind, trial, target_iter};
    return transact(j, -1, claim_txn, &a);
}

typedef struct {
    int (*fn)(const sweep_state *, void *);
    void *arg;
} with_arg;

static int with_txn(journal *j, int fd, void *varg)
{
    (void)fd;
    with_arg *a = varg;
    return a->fn(&j->state, a->arg);
}

int journal_with_lock(journal *j, int (*fn)(const sweep_state *st, void *arg), void *arg)
{
    with_arg a = {fn, arg};
    return transact(j, -1, with_txn, &a);
}
