/* csv_source.h — finding the ETL's input files and reading their bytes.
 *
 * The ETL reads each input either as byte ranges (plain files: every rank
 * reads the part of the logical input stream that it owns, with pread) or as
 * whole files (.csv.gz through zlib's gzread, or split_mode = "files").
 * Reads are independent: each rank reads a contiguous range once, so MPI-IO
 * collective reads would add a synchronization without saving any I/O; pread
 * on a shared file system (NFS, Lustre, GPFS) gives the same throughput.
 *
 * Nothing here is collective: the caller expands the patterns on one rank and
 * broadcasts the result. */
#ifndef HPCML_IO_CSV_SOURCE_H
#define HPCML_IO_CSV_SOURCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *path;
    int64_t size_bytes; /* on disk (compressed size for .gz) */
    int gz;             /* name ends in .gz */
    uint64_t dev, ino;  /* identity on rank 0 (stat): one file under two names is one input */
} csv_input_file;

/* Expands each pattern (glob(3); a pattern without wildcards must name an
 * existing file) in order, matches of one pattern sorted by name, a file
 * named twice (under any spelling: ./, .., a symlink or a hard link, compared
 * by device and inode) kept once at its first place, with a warning. Returns HPCML_EIO when a pattern
 * matches nothing or a file cannot be stat'ed or is not a regular file. */
int csv_source_expand(const char *const *patterns, int n_patterns, csv_input_file **files,
                      int *n_files);
void csv_source_free(csv_input_file *files, int n_files);

/* A sequential reader over one file from a byte offset; for .gz files the
 * offset counts decompressed bytes (skipped by decompressing). */
typedef struct {
    const char *path;
    int fd;
    void *gz;    /* gzFile */
    int64_t pos; /* next byte (decompressed for .gz) */
} csv_reader;

int csv_reader_open(csv_reader *r, const char *path, int gz, int64_t offset);
/* Reads up to n bytes; *got = 0 at the end of the file. Retries short
 * reads, so *got < n only at the end. */
int csv_reader_read(csv_reader *r, char *buf, size_t n, size_t *got);
void csv_reader_close(csv_reader *r);
/* A plain file's reader met its end at r->pos, before planned (the size
 * csv_source_expand saw): the file was truncated while being read. Returns
 * HPCML_EIO naming both sizes (the current one from fstat), so the rest of a
 * cut record is not reported as bad data. */
int csv_reader_shrunk(const csv_reader *r, int64_t planned);

#endif
