/* etl_pipeline.h — hpcml-etl from top to bottom.
 *
 *   plan      expand etl.input, read the heads, resolve the schema
 *   extract   byte ranges -> parsed rows (etl_extract.h)
 *   validate  nulls, ranges (local), duplicate keys (etl_dedup, collective)
 *   split     per-row hash, exact per-class cut points when stratified
 *   fit       imputation, scaling, vocabularies on the train split
 *   write     X/y/row_id collectively into <output>.tmp.<pid>, then /meta
 *             by rank 0, then rename to etl.output
 *   report    quality.json beside the output (rank 0, atomic)
 *
 * Every local phase ends at an agreement point (hpcml_mpi.h), so a bad
 * record on one rank ends all ranks with its message and exit code 2. A
 * failed run removes its temp file: no file that looks complete is left. */
#ifndef HPCML_ETL_PIPELINE_H
#define HPCML_ETL_PIPELINE_H

#include <mpi.h>
#include <stdio.h>

#include "core/config.h"

/* Collective. Writes etl.output, quality.json and profile.json. */
int etl_run(MPI_Comm comm, const hpcml_config *cfg);

#endif
