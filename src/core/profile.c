/* profile.c — stage timing of one process and the collective write of
 * profile.json and trace.json. See profile.h; the record-keeping rules are in
 * profile_stages.h, the MPI interposers in profile_pmpi.c.
 *
 * Times are CLOCK_MONOTONIC seconds since this rank's profile_init. When the
 * profile is written, every rank's times are shifted onto one time line whose
 * zero is the earliest profile_init of all ranks, matched by wall clock
 * (CLOCK_REALTIME at profile_init), so trace tracks of ranks on different
 * nodes line up as well as their clocks agree.
 *
 * Cost: one profile_begin/profile_end pair is about 12 us (mostly reading
 * /proc/self/io), so stages should be milliseconds or longer. trace.json keeps
 * at most PROFILE_MAX_EVENTS_DEFAULT (100000) events per rank, or
 * HPCML_PROFILE_MAX_EVENTS from the environment; profile.json always counts
 * every occurrence and says how many events the trace dropped. */
#include "core/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/clock.h"
#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/profile_internal.h"
#include "core/profile_stages.h"
#include "core/status.h"
#include "core/version.h"

/* ---- the MPI counters shared with profile_pmpi.c -------------------------- */

hpcml_pmpi_counter hpcml_pmpi_counters[HPCML_PMPI_COUNT];
double hpcml_pmpi_total_s;
int hpcml_pmpi_linked;
const char *const hpcml_pmpi_names[HPCML_PMPI_COUNT] = {
#define HPCML_PMPI_NAME(name) "MPI_" #name,
    HPCML_PMPI_FUNCS(HPCML_PMPI_NAME)
#undef HPCML_PMPI_NAME
};

double hpcml_pmpi_seconds(void)
{
    return hpcml_pmpi_total_s;
}
double profile_mpi_seconds(void)
{
    return hpcml_pmpi_total_s;
}

/* ---- process state -------------------------------------------------------- */

static struct {
    int initialized;
    char program[256];
    double origin_s; /* hpcml_mono_s() at profile_init */
    long long origin_realtime_ns;
    profile_table table;
    int io_available;
    long long io_self_read_bytes; /* what reading /proc/self/io itself added to rchar */
    int warned_misuse, warned_dropped;
    int skip_json, skip_trace; /* monitoring.profile / monitoring.trace off */
} g;

static double since_origin_s(void)
{
    return hpcml_mono_s() - g.origin_s;
}

/* rchar/wchar of this process; 0 when /proc/self/io cannot be read (not
 * Linux, or a container that hides it). rchar counts every read(2), ours of
 * /proc/self/io included, so those bytes are subtracted again. */
static int read_proc_io(long long *rchar, long long *wchar)
{
    *rchar = *wchar = 0;
    int fd = open("/proc/self/io", O_RDONLY);
    if (fd < 0) return 0;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    const char *r = strstr(buf, "rchar:");
    const char *w = strstr(buf, "wchar:");
    if (!r || !w) return 0;
    *rchar = strtoll(r + 6, NULL, 10) - g.io_self_read_bytes;
    *wchar = strtoll(w + 6, NULL, 10);
    g.io_self_read_bytes += n;
    return 1;
}

static void sample_now(profile_sample *s)
{
    s->wall_s = since_origin_s();
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    getrusage(RUSAGE_SELF, &ru);
    s->cpu_user_s = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec;
    s->cpu_sys_s = (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    s->peak_rss_bytes = (long long)ru.ru_maxrss * 1024; /* Linux reports KiB */
    s->mpi_s = hpcml_pmpi_total_s;
    s->read_bytes = s->write_bytes = 0;
    if (g.io_available) read_proc_io(&s->read_bytes, &s->write_bytes);
}

void profile_init(const char *program)
{
    if (g.initialized) profile_table_free(&g.table);
    memset(&g, 0, sizeof g);
    snprintf(g.program, sizeof g.program, "%s", program ? program : "hpcml");
    g.origin_s = hpcml_mono_s();
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    g.origin_realtime_ns = (long long)rt.tv_sec * 1000000000LL + rt.tv_nsec;

    size_t max_events = PROFILE_MAX_EVENTS_DEFAULT;
    const char *env = getenv("HPCML_PROFILE_MAX_EVENTS");
    if (env && *env) {
        char *end = NULL;
        long long v = strtoll(env, &end, 10);
        if (end && *end == '\0' && v >= 0) max_events = (size_t)v;
    }
    profile_table_init(&g.table, max_events);
    long long r, w;
    g.io_available = read_proc_io(&r, &w);
    g.initialized = 1;
}

void profile_set_outputs(int json, int trace)
{
    g.skip_json = !json;
    g.skip_trace = !trace;
}

void profile_begin(const char *stage)
{
    if (!g.initialized) profile_init(NULL);
    profile_sample now;
    sample_now(&now);
    if (profile_table_begin(&g.table, stage, &now) != HPCML_OK && !g.warned_misuse) {
        g.warned_misuse = 1;
        log_warn("profile: out of memory opening stage \"%s\"; later stages may be missing", stage);
    }
}

void profile_end(void)
{
    if (!g.initialized || g.table.depth == 0) {
        /* Checked here, not by profile_table_end, so that a profiling slip
         * does not become the process's recorded first error. */
        if (!g.warned_misuse) log_warn("profile: profile_end without a matching profile_begin");
        g.warned_misuse = 1;
        return;
    }
    profile_sample now;
    sample_now(&now);
    profile_table_end(&g.table, &now);
    if (g.table.events_dropped > 0 && !g.warned_dropped) {
        g.warned_dropped = 1;
        log_warn("profile: trace holds at most %zu events per rank; later stage occurrences are "
                 "aggregated in profile.json but left out of trace.json",
                 g.table.max_events);
    }
}

/* ---- profile.json --------------------------------------------------------- */

/* Per stage, the quantities reduced over ranks. */
enum {
    M_WALL,
    M_CPU_USER,
    M_CPU_SYS,
    M_RSS,
    M_READ,
    M_WRITE,
    M_MPI,
    M_START,
    M_END,
    M_COUNT,
    N_METRICS
};
static const struct {
    const char *key;
    int integer;
} metric_info[N_METRICS] = {
    [M_WALL] = {"wall_s", 0},       [M_CPU_USER] = {"cpu_user_s", 0},
    [M_CPU_SYS] = {"cpu_sys_s", 0}, [M_RSS] = {"peak_rss_bytes", 1},
    [M_READ] = {"read_bytes", 1},   [M_WRITE] = {"write_bytes", 1},
    [M_MPI] = {"mpi_s", 0},         [M_START] = {"start_s", 0},
    [M_END] = {"end_s", 0},         [M_COUNT] = {"count", 1},
};

/* After the per-stage values, whole-run ones, then per MPI function its
 * seconds and its call count. */
enum { E_RUN, E_EVENTS, E_DROPPED, E_IO, E_PMPI_LINKED, N_EXTRAS };

typedef struct {
    double value;
    int rank;
} value_rank; /* the layout of MPI_DOUBLE_INT */

typedef struct {
    const double *min, *sum;
    const value_rank *max;
    int ranks;
} reduced;

static json_t *stat_json(const reduced *red, size_t i, int integer)
{
    json_t *o = json_object();
    if (integer) {
        json_object_set_new(o, "min", json_integer((json_int_t)red->min[i]));
        json_object_set_new(o, "max", json_integer((json_int_t)red->max[i].value));
    } else {
        json_object_set_new(o, "min", json_real(red->min[i]));
        json_object_set_new(o, "max", json_real(red->max[i].value));
    }
    json_object_set_new(o, "mean", json_real(red->sum[i] / red->ranks));
    json_object_set_new(o, "max_rank", json_integer(red->max[i].rank));
    return o;
}

static json_t *name_json(const char *s)
{
    json_t *j = json_string(s);
    return j ? j : json_string("?");
}

static int write_profile_json(const profile_table *t, const reduced *red, size_t max_events,
                              const char *trace_name, const char *path)
{
    json_t *root = json_object();
    HPCML_ALLOC_CHECK(root, sizeof(json_t));
    size_t x = (size_t)t->n_records * N_METRICS; /* first whole-run value */
    json_object_set_new(root, "format", json_string("hpcml-profile"));
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "program", name_json(g.program));
    json_object_set_new(root, "hpcml_version", json_string(hpcml_version_string()));
    json_object_set_new(root, "ranks", json_integer(red->ranks));
    json_object_set_new(root, "time_origin",
                        json_string("seconds since the earliest profile_init of all ranks"));
    json_object_set_new(root, "run_s", stat_json(red, x + E_RUN, 0));
    json_object_set_new(root, "io_counters", json_boolean(red->min[x + E_IO] > 0));
    json_object_set_new(root, "mpi_intercepted", json_boolean(red->min[x + E_PMPI_LINKED] > 0));

    json_t *trace = json_object();
    json_object_set_new(trace, "file", g.skip_trace ? json_null() : json_string(trace_name));
    json_object_set_new(trace, "events", json_integer((json_int_t)red->sum[x + E_EVENTS]));
    json_object_set_new(trace, "events_dropped", json_integer((json_int_t)red->sum[x + E_DROPPED]));
    json_object_set_new(trace, "max_events_per_rank", json_integer((json_int_t)max_events));
    json_object_set_new(root, "trace", trace);

    json_t *calls = json_object();
    for (int f = 0; f < HPCML_PMPI_COUNT; f++) {
        size_t si = x + N_EXTRAS + (size_t)f, ci = si + HPCML_PMPI_COUNT;
        if (red->sum[ci] <= 0) continue;
        json_t *c = json_object();
        json_object_set_new(c, "calls", json_integer((json_int_t)red->sum[ci]));
        json_object_set_new(c, "seconds", stat_json(red, si, 0));
        json_object_set_new(calls, hpcml_pmpi_names[f], c);
    }
    json_object_set_new(root, "mpi_calls", calls);

    json_t *stages = json_array();
    char path_buf[1024];
    for (int r = 0; r < t->n_records; r++) {
        const profile_record *rec = &t->records[r];
        size_t base = (size_t)r * N_METRICS;
        json_t *s = json_object();
        json_object_set_new(s, "name", name_json(rec->name));
        profile_record_path(t, r, path_buf, sizeof path_buf);
        json_object_set_new(s, "path", name_json(path_buf));
        json_object_set_new(s, "parent", json_integer(rec->parent));
        json_object_set_new(s, "depth", json_integer(rec->depth));
        /* Counts normally agree; the largest is reported, the smallest too
         * when they differ. */
        json_object_set_new(s, "count", json_integer((json_int_t)red->max[base + M_COUNT].value));
        if (red->min[base + M_COUNT] != red->max[base + M_COUNT].value)
            json_object_set_new(s, "count_min", json_integer((json_int_t)red->min[base + M_COUNT]));
        for (int m = 0; m < N_METRICS; m++)
            if (m != M_COUNT)
                json_object_set_new(s, metric_info[m].key,
                                    stat_json(red, base + (size_t)m, metric_info[m].integer));
        json_array_append_new(stages, s);
    }
    json_object_set_new(root, "stages", stages);

    char *text = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(2));
    json_decref(root);
    HPCML_CHECK(text != NULL, HPCML_EINTERNAL, "cannot serialize %s (out of memory?)", path);
    size_t n = strlen(text);
    char *with_newline = realloc(text, n + 2);
    if (with_newline) {
        text = with_newline;
        text[n] = '\n';
        text[n + 1] = '\0';
    }
    int rc = atomic_write_text(path, text);
    free(text);
    return rc;
}

/* ---- the collective write ------------------------------------------------- */

static int mpi_io_fail(int mpi_rc, const char *what, const char *path)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(mpi_rc, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "MPI error %d", mpi_rc);
    return HPCML_FAIL(HPCML_EIO, "cannot %s %s: %s", what, path, msg);
}

static int join_path(char *out, size_t n, const char *dir, const char *name)
{
    int w = snprintf(out, n, "%s/%s", dir, name);
    HPCML_CHECK(w > 0 && (size_t)w < n, HPCML_EUSAGE, "profile directory name too long: %.80s...",
                dir);
    return HPCML_OK;
}

/* Every rank writes its piece of the trace's temp file at its exclusive-scan
 * offset in one collective call; rank 0 then renames the file into place.
 * Rank 0's piece starts with "[", later ones with ",", the last one ends
 * with "]", and every piece holds at least its track's metadata events, so
 * the file is one JSON array for any number of ranks. */
static int write_trace(MPI_Comm comm, int rank, int size, const profile_table *t, double offset_s,
                       const char *tmp_path, const char *path)
{
    char *chunk = NULL, *piece = NULL;
    size_t chunk_len = 0, piece_len = 0;
    int st =
        profile_trace_chunk(t, rank, offset_s, rank == 0 ? g.program : NULL, &chunk, &chunk_len);
    if (st == HPCML_OK) {
        const char *head = rank == 0 ? "[\n" : ",\n";
        const char *tail = rank == size - 1 ? "\n]\n" : "";
        piece_len = strlen(head) + chunk_len + strlen(tail);
        piece = malloc(piece_len + 1);
        if (!piece) {
            st = HPCML_FAIL(HPCML_EINTERNAL, "out of memory writing %s", path);
        } else {
            snprintf(piece, piece_len + 1, "%s%s%s", head, chunk, tail);
            if (piece_len > INT_MAX)
                st = HPCML_FAIL(HPCML_EINTERNAL,
                                "trace of rank %d is over 2 GiB; lower "
                                "HPCML_PROFILE_MAX_EVENTS",
                                rank);
        }
    }
    free(chunk);

    long long my_len = st == HPCML_OK ? (long long)piece_len : 0, offset = 0;
    HPCML_MPI_CHECK_ABORT(comm, MPI_Exscan(&my_len, &offset, 1, MPI_LONG_LONG, MPI_SUM, comm));
    if (rank == 0) offset = 0; /* Exscan leaves rank 0's result undefined */

    /* Opened by every rank, even one that failed above: the others do not
     * know yet and are in the collective open. */
    MPI_File fh = MPI_FILE_NULL;
    int rc = MPI_File_open(comm, tmp_path, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh);
    if (rc != MPI_SUCCESS) {
        fh = MPI_FILE_NULL;
        if (st == HPCML_OK) st = mpi_io_fail(rc, "create", tmp_path);
    }
    st = hpcml_mpi_agree(comm, st);
    if (st != HPCML_OK) {
        /* Close only when every rank holds the file; a rank whose open
         * failed cannot join the collective close, so the handle then leaks
         * rather than hanging the job. */
        int have = fh != MPI_FILE_NULL, all_have = 0;
        HPCML_MPI_CHECK_ABORT(comm, MPI_Allreduce(&have, &all_have, 1, MPI_INT, MPI_LAND, comm));
        if (all_have) MPI_File_close(&fh);
        if (rank == 0) unlink(tmp_path);
        free(piece);
        return st;
    }

    MPI_Status mst;
    rc = MPI_File_write_at_all(fh, (MPI_Offset)offset, piece, (int)piece_len, MPI_BYTE, &mst);
    if (rc != MPI_SUCCESS) {
        st = mpi_io_fail(rc, "write", tmp_path);
    } else {
        int written = 0;
        MPI_Get_count(&mst, MPI_BYTE, &written);
        if (written != (int)piece_len)
            st = HPCML_FAIL(HPCML_EIO, "cannot write %s: wrote %d of %zu bytes", tmp_path, written,
                            piece_len);
    }
    free(piece);
    rc = MPI_File_close(&fh);
    if (rc != MPI_SUCCESS && st == HPCML_OK) st = mpi_io_fail(rc, "close", tmp_path);
    st = hpcml_mpi_agree(comm, st);
    if (st != HPCML_OK) {
        if (rank == 0) unlink(tmp_path);
        return st;
    }

    if (rank == 0) {
        st = atomic_rename_durable(tmp_path, path);
        if (st != HPCML_OK) unlink(tmp_path);
    }
    return hpcml_mpi_agree(comm, st);
}

int profile_write(MPI_Comm comm, const char *dir)
{
    return profile_write_as(comm, dir, "");
}

int profile_write_as(MPI_Comm comm, const char *dir, const char *prefix)
{
    if (!g.initialized) profile_init(NULL);
    if (g.skip_json && g.skip_trace) return HPCML_OK; /* the same on every rank */
    int rank = hpcml_mpi_rank(comm), size = hpcml_mpi_size(comm);

    /* Freeze the numbers before this function's own MPI calls count. */
    profile_sample now;
    sample_now(&now);
    hpcml_pmpi_counter pmpi[HPCML_PMPI_COUNT];
    memcpy(pmpi, hpcml_pmpi_counters, sizeof pmpi);
    profile_table t;
    int st = profile_table_closed_copy(&g.table, &now, &t);
    int have_table = st == HPCML_OK;

    /* Phase 1, local: paths and the directory. */
    char json_path[4096], trace_path[4096], tmp_path[4200], json_name[1100], trace_name[1100];
    snprintf(json_name, sizeof json_name, "%sprofile.json", prefix);
    snprintf(trace_name, sizeof trace_name, "%strace.json", prefix);
    if (st == HPCML_OK) st = join_path(json_path, sizeof json_path, dir, json_name);
    if (st == HPCML_OK) st = join_path(trace_path, sizeof trace_path, dir, trace_name);
    /* The trace's temp name is this run's own (rank 0's host and pid), the
     * same on every rank, on any node: two runs writing side by side never
     * share one. */
    if (st != HPCML_OK) trace_path[0] = '\0';
    int name_st = hpcml_mpi_tmp_name(comm, trace_path, tmp_path, sizeof tmp_path);
    if (st == HPCML_OK) st = name_st;
    atomic_tmp_track(tmp_path); /* removed on a fatal signal where a program asks for it */
    if (st == HPCML_OK && rank == 0) {
        st = fs_mkdir_p(dir);
        /* A stale, longer temp file would leave bytes after our "]". */
        if (st == HPCML_OK && unlink(tmp_path) != 0 && errno != ENOENT)
            st = HPCML_FAIL(HPCML_EIO, "cannot remove stale %s: %s", tmp_path, strerror(errno));
    }
    st = hpcml_mpi_agree(comm, st);
    if (st != HPCML_OK) goto done;

    /* Phase 2: the reductions below pair stage i of every rank, so first make
     * sure every rank has the same stages; also find the common time origin. */
    uint64_t sig = profile_table_signature(&t);
    long long mine[6] = {t.n_records,
                         (long long)(sig >> 32),
                         (long long)(sig & 0xFFFFFFFFu),
                         -(long long)t.n_records,
                         -(long long)(sig >> 32),
                         -(long long)(sig & 0xFFFFFFFFu)};
    long long agreed[6];
    long long origin_neg = -g.origin_realtime_ns, origin_neg_max = 0;
    HPCML_MPI_CHECK_ABORT(comm, MPI_Allreduce(mine, agreed, 6, MPI_LONG_LONG, MPI_MAX, comm));
    HPCML_MPI_CHECK_ABORT(
        comm, MPI_Allreduce(&origin_neg, &origin_neg_max, 1, MPI_LONG_LONG, MPI_MAX, comm));
    if (agreed[0] != -agreed[3] || agreed[1] != -agreed[4] || agreed[2] != -agreed[5]) {
        /* Every rank sees the same agreed values, so all return here. */
        st = HPCML_FAIL(HPCML_EINTERNAL,
                        "profile stages differ across ranks (%lld to %lld stages): every rank must "
                        "open the same stages in the same order; %s not written",
                        -agreed[3], agreed[0], json_path);
        goto done;
    }
    double offset_s = (double)(g.origin_realtime_ns + origin_neg_max) * 1e-9;

    /* Phase 3: min, sum and max-with-rank of every value in one reduction
     * each, to rank 0 — no per-rank data is gathered. */
    size_t n_stage_vals = (size_t)t.n_records * N_METRICS;
    size_t n_vals = n_stage_vals + N_EXTRAS + 2 * HPCML_PMPI_COUNT;
    double *vals = calloc(n_vals, sizeof *vals);
    double *mins = calloc(n_vals, sizeof *mins);
    double *sums = calloc(n_vals, sizeof *sums);
    value_rank *in = calloc(n_vals, sizeof *in);
    value_rank *maxs = calloc(n_vals, sizeof *maxs);
    int alloc_ok = vals && mins && sums && in && maxs;
    /* Out of memory here cannot skip the reductions alone: agree first. */
    st = hpcml_mpi_agree(
        comm,
        alloc_ok ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory writing %s", json_path));
    if (st == HPCML_OK) {
        for (int r = 0; r < t.n_records; r++) {
            const profile_record *rec = &t.records[r];
            double *v = vals + (size_t)r * N_METRICS;
            v[M_WALL] = rec->wall_s;
            v[M_CPU_USER] = rec->cpu_user_s;
            v[M_CPU_SYS] = rec->cpu_sys_s;
            v[M_RSS] = (double)rec->peak_rss_bytes;
            v[M_READ] = (double)rec->read_bytes;
            v[M_WRITE] = (double)rec->write_bytes;
            v[M_MPI] = rec->mpi_s;
            v[M_START] = rec->start_s + offset_s;
            v[M_END] = rec->end_s + offset_s;
            v[M_COUNT] = (double)rec->count;
        }
        double *x = vals + n_stage_vals;
        x[E_RUN] = now.wall_s + offset_s;
        x[E_EVENTS] = (double)t.n_events;
        x[E_DROPPED] = (double)t.events_dropped;
        x[E_IO] = g.io_available;
        x[E_PMPI_LINKED] = hpcml_pmpi_linked;
        for (int f = 0; f < HPCML_PMPI_COUNT; f++) {
            x[N_EXTRAS + f] = pmpi[f].seconds;
            x[N_EXTRAS + HPCML_PMPI_COUNT + f] = (double)pmpi[f].calls;
        }
        for (size_t i = 0; i < n_vals; i++)
            in[i] = (value_rank){vals[i], rank};
        HPCML_MPI_CHECK_ABORT(comm,
                              MPI_Reduce(vals, mins, (int)n_vals, MPI_DOUBLE, MPI_MIN, 0, comm));
        HPCML_MPI_CHECK_ABORT(comm,
                              MPI_Reduce(vals, sums, (int)n_vals, MPI_DOUBLE, MPI_SUM, 0, comm));
        HPCML_MPI_CHECK_ABORT(
            comm, MPI_Reduce(in, maxs, (int)n_vals, MPI_DOUBLE_INT, MPI_MAXLOC, 0, comm));
        if (rank == 0 && !g.skip_json) {
            reduced red = {mins, sums, maxs, size};
            st = write_profile_json(&t, &red, t.max_events, trace_name, json_path);
        }
        st = hpcml_mpi_agree(comm, st);
    }
    free(vals);
    free(mins);
    free(sums);
    free(in);
    free(maxs);
    if (st != HPCML_OK) goto done;

    /* Phase 4: the trace, collectively. */
    if (!g.skip_trace) st = write_trace(comm, rank, size, &t, offset_s, tmp_path, trace_path);
    atomic_tmp_untrack(tmp_path);

done:
    atomic_tmp_untrack(tmp_path);
    if (have_table) profile_table_free(&t);
    return st;
}
