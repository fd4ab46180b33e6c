/* etl_table.h — the extracted rows: one array per column (etl_table) and
 * the allocator that grows them.
 *
 * Rows that cannot be used are kept with a drop reason so that row numbers
 * and counts do not depend on the rank count. */
#ifndef HPCML_ETL_TABLE_H
#define HPCML_ETL_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "etl/etl_inputs.h"
#include "etl/etl_schema.h"
#include "etl/etl_vocab.h"

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
    int64_t bytes_read;  /* data bytes of the records read here: summed over the ranks,
                            each input byte once, whatever the rank count */
} etl_table;

/* An empty table with the per-column arrays the schema needs. */
int etl_table_init(etl_table *t, const etl_schema *s, int n_files);
/* Room for more rows: to an estimate of the final row count (rows so far x
 * bytes_total / bytes_done) when that is larger than double; never beyond
 * limit rows when limit > 0 (a batch's size, etl_extract_batches). */
int etl_table_grow(etl_table *t, const etl_schema *s, int64_t bytes_done, int64_t bytes_total,
                   int64_t limit);

/* Local: gets the next rows of this rank's share (t->n <= max_rows, local
 * row numbers from 0 in every batch, input order); a status other than
 * HPCML_OK stops the reading and is what etl_extract_batches agrees on. */
typedef int (*etl_batch_fn)(void *ctx, etl_table *t);
void etl_table_free(etl_table *t);

/* realloc for large arrays (2 MiB aligned, transparent huge pages); the
 * result is freed with free(). */
void *etl_big_realloc(void *ptr, size_t old_bytes, size_t new_bytes);

/* "FILE:LINE" of local row i into out. */
void etl_row_where(const etl_inputs *in, const etl_table *t, int64_t i, char *out, size_t n);

#endif
