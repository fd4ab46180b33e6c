/* predict.h — hpcml-predict from top to bottom.
 *
 *   model     every rank opens predict.model (io/model_file.h): format,
 *             version and checksum checked; the ETL options come from the
 *             model's own /meta/config (CSV dialect, null markers, column
 *             specs), the inputs from predict.input
 *   plan      etl_inputs_plan; the schema of the input against the model's
 *             columns (etl_schema_resolve_scoring): missing ones exit 2
 *   extract   etl_extract: byte ranges / whole files per rank, as the ETL
 *   validate  etl_validate_rows with the model's column rules
 *   transform model_file_load_fit + etl_fit_bind + etl_encode_rows: the
 *             ETL's own transform, with the fitted parameters from the file
 *   forward   the model's MLP on the CPU backend (dist_metrics_predict, or
 *             dist_metrics_evaluate when the input has the label)
 *   write     the output CSV collectively (offsets from an exclusive scan of
 *             the formatted bytes), in input order for any rank count, to a
 *             temp name that rank 0 renames; rejects.csv likewise;
 *             predict_quality.json by rank 0
 * Every local phase ends at an agreement point (hpcml_mpi.h). */
#ifndef HPCML_PREDICT_H
#define HPCML_PREDICT_H

#include <mpi.h>

#include "core/config.h"

/* Collective. */
int predict_run(MPI_Comm comm, const hpcml_config *cfg);

#endif
