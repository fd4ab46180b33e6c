/* etl_validate.h — row validation: nulls, ranges, unique keys.
 *
 * etl_validate_rows (local) walks the rows still kept after parsing and,
 * column by column in input order, applies: a null in a non-nullable column
 * (etl.on_null_violation: warn = count and keep, drop, error with
 * FILE:LINE), a null in a column with impute = "drop", a value outside
 * [min, max]. The first reason that drops a row is the one counted.
 *
 * etl_dedup (collective) removes rows whose key (etl.key_columns) was seen
 * earlier in global row order: each kept row's 128-bit key hash and global
 * row number go to the owner rank hash mod P (MPI_Alltoallv); the owner
 * sorts by (hash, row) and marks every row but the first of each key; the
 * marks travel back by the reverse MPI_Alltoallv. Volume: 24 bytes per row
 * each way; no rank sees more than its share of the keys. */
#ifndef HPCML_ETL_VALIDATE_H
#define HPCML_ETL_VALIDATE_H

#include <mpi.h>
#include <stdint.h>

#include "etl/etl_extract.h"

typedef struct {
    int64_t *below_min, *above_max; /* [col] rows dropped by the range check */
    int64_t *null_violations;       /* [col] nulls in non-nullable columns (any policy) */
    int64_t *impute_drops;          /* [col] rows dropped by impute = "drop" */
    int64_t duplicates;
} etl_validation;

int etl_validation_init(etl_validation *v, int n_cols);
void etl_validation_free(etl_validation *v);

/* Local. Returns HPCML_EDATA (FILE:LINE) for a null violation with
 * on_null_violation = "error". */
int etl_validate_rows(const etl_options *o, const etl_schema *s, const etl_inputs *in, etl_table *t,
                      etl_validation *v);

/* Collective (no-op without key columns). */
int etl_dedup(MPI_Comm comm, const etl_schema *s, etl_table *t, etl_validation *v);

#endif
