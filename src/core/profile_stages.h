/* profile_stages.h — the pure record-keeping behind profile.h.
 *
 * No clocks, no MPI, no files: the caller hands in counter samples and gets
 * back a stack of open stages, one aggregated record per (parent, name) and
 * a capped list of trace events. Kept apart from profile.c so the nesting and
 * aggregation rules are unit-tested without MPI (tests/unit/test_profile_stack.c).
 *
 * Aggregation rule: entering a stage whose name is already a child of the
 * current innermost stage (or a top-level stage, at the top) adds to that
 * record (count, summed wall/CPU/MPI/bytes, max of peak RSS, first start,
 * last end); every occurrence still becomes one trace event until
 * max_events is reached, after which events are only counted as dropped. */
#ifndef HPCML_PROFILE_STAGES_H
#define HPCML_PROFILE_STAGES_H

#include <stddef.h>
#include <stdint.h>

#define PROFILE_NAME_MAX 128 /* longer stage names are truncated */
#define PROFILE_MAX_EVENTS_DEFAULT 100000

/* Cumulative counters of this process at one instant. */
typedef struct {
    double wall_s; /* since profile_init */
    double cpu_user_s, cpu_sys_s;
    double mpi_s;
    long long read_bytes, write_bytes; /* /proc/self/io rchar, wchar */
    long long peak_rss_bytes;          /* ru_maxrss, already in bytes */
} profile_sample;

typedef struct {
    char name[PROFILE_NAME_MAX];
    int parent; /* record index, -1 at top level; always < own index */
    int depth;  /* 0 at top level */
    long long count;
    double start_s, end_s; /* first entry, last exit (wall_s of the samples) */
    double wall_s, cpu_user_s, cpu_sys_s, mpi_s;
    long long read_bytes, write_bytes;
    long long peak_rss_bytes;
} profile_record;

typedef struct {
    int record;
    double start_s, dur_s, mpi_s;
} profile_event;

typedef struct {
    int record;
    profile_sample start;
} profile_open_stage;

typedef struct {
    profile_record *records;
    int n_records, cap_records;
    profile_open_stage *stack;
    int depth, cap_stack;
    profile_event *events;
    size_t n_events, cap_events, max_events;
    long long events_dropped;
} profile_table;

void profile_table_init(profile_table *t, size_t max_events);
void profile_table_free(profile_table *t);
/* HPCML_OK, or HPCML_EINTERNAL when out of memory (the stage is then not opened). */
int profile_table_begin(profile_table *t, const char *name, const profile_sample *now);
/* HPCML_OK, or HPCML_EUSAGE when no stage is open. */
int profile_table_end(profile_table *t, const profile_sample *now);
/* A deep copy of t with every open stage closed at now; t is unchanged, so a
 * profile can be written while the outer stages are still running. */
int profile_table_closed_copy(const profile_table *t, const profile_sample *now,
                              profile_table *out);
/* "parent/child/name" of a record, for humans. */
void profile_record_path(const profile_table *t, int record, char *out, size_t n);
/* FNV-1a over the names and parents: equal on every rank when the stage
 * sequences match, which the cross-rank reduction relies on. */
uint64_t profile_table_signature(const profile_table *t);

/* Chrome trace-event text for one rank: comma-separated JSON objects (no
 * brackets), "ph":"M" metadata naming the track "rank N" (and, when program
 * is not NULL, the process) followed by one "ph":"X" event per stored event,
 * ts/dur in microseconds shifted by offset_s. Never empty. *out is malloc'd.
 * HPCML_OK or HPCML_EINTERNAL (out of memory). */
int profile_trace_chunk(const profile_table *t, int rank, double offset_s, const char *program,
                        char **out, size_t *len);

#endif
