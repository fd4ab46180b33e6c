/* etl_infer.h — --infer-schema: an etl block guessed from a sample of the
 * input, printed so that it runs as a config.
 *
 * The decisions are pure (etl_infer_column, etl_infer_label), made from
 * per-column counts of the sample (etl_sample.h):
 *   - no value in the sample: ignore ("null in every sampled record");
 *   - one value: ignore ("constant");
 *   - all values distinct (at least ID_MIN_ROWS of them) and text, or an
 *     integer whose name says it is an identifier (id, number, no, key, ...)
 *     or whose values rise with every record (a row number): id;
 *   - integers: int; numbers: float;
 *   - text with more than FREE_TEXT_MAX values, or more than half of its
 *     values distinct (and more than CATEGORY_FEW): ignore ("free text");
 *   - other text: category.
 * The label is etl.label when the header has it; otherwise the first
 * two-valued column named like a target (label, target, class, outcome,
 * y, ...), else the last column when it has two values. Its positive value
 * is the affirmative of a known pair (1/0, yes/no, true/false, y/n, t/f)
 * or else the rarer of the two. */
#ifndef HPCML_ETL_INFER_H
#define HPCML_ETL_INFER_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "etl/etl_schema.h"

#define ETL_INFER_ID_MIN_ROWS   50
#define ETL_INFER_FREE_TEXT_MAX 1000
#define ETL_INFER_CATEGORY_FEW  50

/* What the sample shows of one column. */
typedef struct {
    int64_t values; /* non-null fields */
    int64_t nulls;
    int64_t ints;       /* values that parse as int64 */
    int64_t numbers;    /* values that parse as a double */
    int64_t distinct;   /* distinct values */
    int rising;         /* integer values, each larger than the one before */
    const char *two[2]; /* distinct == 2: the two values ... */
    int64_t two_n[2];   /* ... and how often each occurs */
} etl_infer_stats;

typedef struct {
    etl_col_type type;
    char why[160]; /* the reason, for the comment ("" when plain) */
} etl_infer_choice;

/* Pure. type is never ETL_COL_LABEL (etl_infer_label decides that). */
void etl_infer_column(const char *name, const etl_infer_stats *st, etl_infer_choice *out);

/* Pure: the label's column (configured: etl.label, "" or a name absent from
 * names means none configured), or -1; *positive = 0 or 1: which of
 * st[col].two is the positive class (for a configured label with other
 * than two values, -1). */
int etl_infer_label(char *const *names, const etl_infer_stats *st, int n, const char *configured,
                    int *positive);

/* Collective: samples the input (etl_sample.h) and prints the block to out
 * on rank 0. */
int etl_infer_schema(MPI_Comm comm, const hpcml_config *cfg, FILE *out);

#endif
