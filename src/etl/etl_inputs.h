/* etl_inputs.h — planning the ETL's input (collective).
 *
 * Rank 0 expands etl.input and checks hpcml-gen's manifests and that no
 * output of the run is an input; every rank reads the heads of a share of
 * the files (junk lines, skip_prefix lines, the header) to learn where each
 * file's data begins; the headers must agree. The column names are the
 * header of the first file, or etl.column_names when etl.header = false. */
#ifndef HPCML_ETL_INPUTS_H
#define HPCML_ETL_INPUTS_H

#include <mpi.h>
#include <stdint.h>

#include "etl/etl_schema.h"
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

/* Collective; agrees internally: returns the same status on every rank.
 * With o->detect_delimiter (etl.delimiter unset) rank 0 first detects the
 * delimiter from the first file's first records (csv_sniff_delimiter), logs
 * it and every rank stores it in o->dialect (o->delimiter_detected). */
int etl_inputs_plan(MPI_Comm comm, etl_options *o, etl_inputs *in);
void etl_inputs_free(etl_inputs *in);

#endif
