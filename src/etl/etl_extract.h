/* etl_extract.h — the ETL's extract phase: input files -> per-rank rows.
 *
 * The rooms it is built from: planning (etl_inputs.h: file heads, headers,
 * column names), the row container (etl_table.h), the cut among ranks
 * (etl_ranges.h), record parsing (etl_record.h). --infer-schema's sample is
 * etl_sample.h.
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

#include "etl/etl_inputs.h"
#include "etl/etl_schema.h"
#include "etl/etl_table.h"

/* Collective; agrees internally. */
int etl_extract(MPI_Comm comm, const etl_options *o, const etl_schema *s, const etl_inputs *in,
                etl_table *t);

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

#endif
