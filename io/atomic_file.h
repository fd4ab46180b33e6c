/* atomic_file.h — write a file so that it either appears complete or not at all.
 *
 * Data goes to "<path>.tmp.<pid>" in the same directory; commit flushes,
 * fsyncs, renames over path and fsyncs the directory; abort unlinks the temp
 * file. A crash leaves at most a *.tmp.* file, never a truncated final file. */
#ifndef HPCML_ATOMIC_FILE_H
#define HPCML_ATOMIC_FILE_H

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
 * when given the same token, e.g. rank 0's pid broadcast). */
void atomic_tmp_name(char *out, size_t n, const char *path, long token);
/* fsync a finished temp file by name, rename it over path, fsync the dir. */
int atomic_rename_durable(const char *tmp_path, const char *path);
/* Write a whole string atomically. */
int atomic_write_text(const char *path, const char *text);
/* mkdir -p; an existing directory is fine. */
int fs_mkdir_p(const char *dir);

#endif
