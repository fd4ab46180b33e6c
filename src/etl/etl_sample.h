/* etl_sample.h — the records --infer-schema looks at, drawn from the whole
 * input (collective).
 *
 * A file sorted by date shows only its first months in its first records,
 * and columns that are null only early look empty there. So the sample is
 * chunks of consecutive records at evenly spaced offsets of every file:
 * each file gets at least one chunk and a share of the rest by its data
 * bytes; chunk j of a file with k chunks begins at the first record after
 * byte data_start + width * j / k and takes at most the per-chunk quota of
 * records that start before the next chunk's offset (so a small input is
 * read whole). gzip files cannot be entered in the middle: they give one
 * chunk, their first records. Chunk c is read by rank c mod P; rank 0
 * merges the chunks in chunk order, so the sample does not depend on the
 * rank count. A chunk that begins mid-file does not know whether it begins
 * inside a quoted field: both readings are tried and the one whose records
 * parse with the header's field count is kept. */
#ifndef HPCML_ETL_SAMPLE_H
#define HPCML_ETL_SAMPLE_H

#include <mpi.h>
#include <stdint.h>

#include "etl/etl_inputs.h"
#include "etl/etl_schema.h"

typedef struct {
    char **cells;   /* rank 0: [row * n_cols + col] field texts, NULL = missing */
    int64_t n_rows; /* records in the sample */
    int n_cols;     /* in->n_names */
    int n_chunks;   /* chunks planned */
    int n_files;    /* files they come from */
    int n_gz;       /* gzip files, sampled from their start */
    int64_t quota;  /* records per chunk at most */
    int whole;      /* every chunk ended at the next chunk's offset: the input was read whole */
} etl_sample;

/* Collective; agrees internally. At most about max_rows records. */
int etl_sample_collect(MPI_Comm comm, const etl_options *o, const etl_inputs *in, int64_t max_rows,
                       etl_sample *s);
void etl_sample_free(etl_sample *s);

#endif
