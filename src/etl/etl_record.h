/* etl_record.h — parsing CSV records into an etl_table.
 *
 * Each record becomes a row of the column arrays: numbers parsed, null
 * markers recognized, categories interned, labels mapped to their class,
 * key and split-key texts hashed. A bad field ends the run with
 * FILE:LINE:COLUMN, or (on_bad_value = "drop") drops the row and counts it. */
#ifndef HPCML_ETL_RECORD_H
#define HPCML_ETL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "etl/csv_tokenize.h"
#include "etl/etl_inputs.h"
#include "etl/etl_ranges.h"
#include "etl/etl_schema.h"
#include "etl/etl_table.h"

#define ETL_MAX_MARKERS 64

typedef struct {
    const char *text;
    size_t len;
    int cls; /* labels: the class */
} etl_marker;

typedef struct {
    const etl_options *o;
    const etl_schema *s;
    const etl_inputs *in;
    etl_table *t;
    /* Null markers with their lengths, and which first bytes can start
     * one: most fields are rejected by one table look-up. */
    etl_marker nulls[ETL_MAX_MARKERS];
    int n_nulls;
    int null_empty; /* "" is a marker */
    unsigned char null_first[256];
    size_t max_null_len;
    etl_marker labels[2 * ETL_MAX_MARKERS];
    int n_labels;
    csv_record rec;
    int64_t bytes_done, bytes_total; /* of this rank's ranges, for the row estimate */
    /* etl_extract_batches: fn gets the table every max_rows rows */
    int64_t max_rows, rows_handed;
    etl_batch_fn fn;
    void *ctx;
} etl_parser;

void etl_parser_init(etl_parser *p, const etl_options *o, const etl_schema *s, const etl_inputs *in,
                     etl_table *t);
void etl_parser_free(etl_parser *p);

/* Hands the rows parsed so far to p->fn (when set) and empties the table
 * (rows and category interning; the counters go on accumulating). */
int etl_parser_flush(etl_parser *p);

/* Parses the records of one piece that start in [start, stop) (stop =
 * INT64_MAX: to the end of the file), numbering lines from first_line;
 * *bufp / *capp: the read buffer, grown for a long record. */
int etl_parse_piece(etl_parser *p, const etl_piece *pc, int64_t start, int64_t stop,
                    size_t first_line, char **bufp, size_t *capp);

#endif
