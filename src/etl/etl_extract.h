/* etl_extract.h — the ETL's extract phase: input files -> per-rank rows.
 *
 * Planning (etl_inputs_plan, collective): rank 0 expands etl.input; every
 * rank reads the heads of a share of the files (junk lines, skip_prefix
 * lines, the header) to learn where each file's data begins; the headers
 * must agree; the schema is resolved against them.
 *
 * Reading (etl_extract, collective): the data regions of all files form one
 * logical stream, cut into P equal byte ranges, one per rank, so a rank's
 * rows are contiguous in input order and an exclusive scan of the row counts
 * gives global row numbers. Plain files are cut anywhere (see csv_tokenize.h
 * for how the quote parity makes the cut exact, docs/etl.md for the rule);
 * gzip files (and every file with split_mode = "files") are atomic and go to
 * the rank whose range holds the file's middle.
 *
 * Each record becomes a row in column arrays (etl_table); rows that cannot
 * be used are kept with a drop reason so that row numbers and counts do not
 * depend on the rank count. With on_bad_value = "error" the first bad value
 * ends the run with FILE:LINE:COLUMN. */
#ifndef HPCML_ETL_EXTRACT_H
#define HPCML_ETL_EXTRACT_H

#include <mpi.h>
#include <stdint.h>

#include "etl/etl_schema.h"
#include "etl/etl_vocab.h"
#include "io/csv_source.h"

typedef struct {
    csv_input_file *files;
    int n_files;
    int64_t *data_start; /* offset of the first data byte (decompressed for .gz) */
    int64_t *head_lines; /* line feeds before data_start */
    char **names;        /* the column names (header of the first file, or etl.column_names) */
    int n_names;
    char *names_buf;
    etl_manifest_check manifest; /* rank 0 only: what the manifests vouch for */
} etl_inputs;

/* Collective; agrees internally: returns the same status on every rank. */
int etl_inputs_plan(MPI_Comm comm, const etl_options *o, etl_inputs *in);
void etl_inputs_free(etl_inputs *in);

/* Why a row is not used; the first reason found is the one counted. */
typedef enum {
    ETL_KEEP = 0,
    ETL_DROP_MALFORMED,      /* CSV syntax: unterminated or stray quote */
    ETL_DROP_RAGGED,         /* wrong number of fields */
    ETL_DROP_BAD_VALUE,      /* a field that does not parse as its type */
    ETL_DROP_BAD_LABEL,      /* a label text that is neither positive nor negative */
    ETL_DROP_NULL_LABEL,     /* no label */
    ETL_DROP_NULL_VIOLATION, /* null in a non-nullable column (on_null_violation = drop) */
    ETL_DROP_IMPUTE,         /* null in a column with impute = "drop" */
    ETL_DROP_RANGE,          /* value outside [min, max] */
    ETL_DROP_DUPLICATE,      /* a later row with the same key */
    ETL_DROP_RESAMPLED,      /* left out by undersampling (train only) */
    ETL_DROP_N
} etl_drop;

extern const char *const etl_drop_names[ETL_DROP_N];

typedef struct {
    int64_t n, cap;
    int n_cols;
    double **num;        /* [col][row] float and int columns; NaN = null */
    int32_t **cat;       /* [col][row] category columns: local string id, -1 = null */
    etl_strtab *strtab;  /* [col] category columns: local interning */
    int8_t *label;       /* class index, -1 = none */
    uint64_t *key_hash;  /* [row][2] 128-bit hash of the key columns' texts (n_keys > 0) */
    uint64_t *split_key; /* hash of the split key text (split_key_col >= 0) */
    int32_t *file;       /* provenance for messages */
    int64_t *line;
    uint8_t *drop; /* etl_drop */
    int8_t *split; /* filled by the pipeline: 0 train, 1 val, 2 test */

    int64_t first_row;  /* global row number of local row 0 */
    int64_t total_rows; /* over all ranks */
    int64_t blank_lines, skipped_lines;
    int64_t *nulls;      /* [col] nulls seen in parsed rows */
    int64_t *bad_values; /* [col] */
    int64_t *file_rows;  /* [file] records read (local until reduced) */
    int64_t bytes_read;
} etl_table;

/* Collective; agrees internally. */
int etl_extract(MPI_Comm comm, const etl_options *o, const etl_schema *s, const etl_inputs *in,
                etl_table *t);
void etl_table_free(etl_table *t);

/* Local: gets the next rows of this rank's share (t->n <= max_rows, local
 * row numbers from 0 in every batch, input order); a status other than
 * HPCML_OK stops the reading and is what etl_extract_batches agrees on. */
typedef int (*etl_batch_fn)(void *ctx, etl_table *t);

/* Collective; agrees internally. etl_extract in bounded memory (for
 * hpcml-predict): this rank's share is handed to fn in batches of at most
 * max_rows rows, and the table is emptied after each (rows and category
 * interning: a batch's local string ids are its own). The counters (nulls,
 * bad_values, file_rows, blank/skipped lines, bytes_read) accumulate over
 * the batches. On return t holds no rows; first_row and total_rows are the
 * global row number of this rank's first row and the total, as etl_extract
 * sets them. Memory: O(max_rows + read buffer), not O(share). */
int etl_extract_batches(MPI_Comm comm, const etl_options *o, const etl_schema *s,
                        const etl_inputs *in, int64_t max_rows, etl_batch_fn fn, void *ctx,
                        etl_table *t);

/* realloc for large arrays (2 MiB aligned, transparent huge pages); the
 * result is freed with free(). */
void *etl_big_realloc(void *ptr, size_t old_bytes, size_t new_bytes);

/* "FILE:LINE" of local row i into out. */
void etl_row_where(const etl_inputs *in, const etl_table *t, int64_t i, char *out, size_t n);

/* Serial: the first records of one file, for --infer-schema. Fills
 * names (n_names) and up to max_rows rows of field texts (row-major,
 * n_names per row; NULL for a missing field). */
int etl_read_sample(const etl_options *o, const etl_inputs *in, int64_t max_rows, char ***cells,
                    int64_t *n_rows);

#endif
