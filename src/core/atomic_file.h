/* atomic_file.h — write a file so that it either appears complete or not at all.
 *
 * Data goes to "<path>.tmp.<pid>" in the same directory; commit flushes,
 * fsyncs, renames over path and fsyncs the directory; abort unlinks the temp
 * file. A crash leaves at most a *.tmp.* file, never a truncated final file. */
#ifndef HPCML_CORE_ATOMIC_FILE_H
#define HPCML_CORE_ATOMIC_FILE_H

#include <stdio.h>

typedef struct {
    FILE *fp;
    char path[4096];
    char tmp_path[4200];
} atomic_file;

int atomic_file_open(atomic_file *af, const char *path);
int atomic_file_commit(atomic_file *af);
void atomic_file_abort(atomic_file *af);

/* The temp name a collective writer should use for path (same on all ranks
 * when given the same token, e.g. rank 0's pid broadcast):
 * "<path>.tmp.<host>.<token>", so the name says which process on which host
 * owns it and is unique per run. */
void atomic_tmp_name(char *out, size_t n, const char *path, long token);

/* Remove the temp files in dir (whose names start with prefix; NULL or ""
 * for all) whose owner ran on this host and no longer exists: a writer
 * killed by SIGKILL leaves its temp behind, and only a later run can remove
 * it. Temps of live processes and of other hosts are kept (a process on
 * another host may still rename its temp). One warning per file removed. */
int atomic_tmp_remove_stale(const char *dir, const char *prefix, int *removed);

/* The temps a preemption signal removes (core/preempt.h: in a program that
 * cannot resume, the handler unlinks them and exits with 75): track a temp
 * file from before it is created until it is renamed or removed (at most 32
 * at once). */
void atomic_tmp_track(const char *tmp_path);
void atomic_tmp_untrack(const char *tmp_path);
/* Unlink every tracked temp (async-signal-safe: for the signal handler). */
void atomic_tmp_unlink_tracked(void);
/* fsync a finished temp file by name, rename it over path, fsync the dir. */
int atomic_rename_durable(const char *tmp_path, const char *path);
/* Write a whole string atomically. */
int atomic_write_text(const char *path, const char *text);
/* Write root as JSON text (jansson's json_dumps flags) plus a final newline, atomically;
 * root is not consumed. */
struct json_t;
int atomic_write_json(const char *path, const struct json_t *root, size_t flags);
/* mkdir -p; an existing directory is fine. */
int fs_mkdir_p(const char *dir);

#endif
