/* predict.h — hpcml-predict from top to bottom.
 *
 *   model     every rank opens predict.model (io/model_file.h): format,
 *             version and checksum checked; the ETL options come from the
 *             model's own /meta/config (CSV dialect, null markers, column
 *             specs), the inputs from predict.input
 *   plan      etl_inputs_plan; the schema of the input against the model's
 *             columns (etl_schema_resolve_scoring): missing ones exit 2
 *   pass 1    etl_extract_batches (batches of predict.batch_rows records):
 *             validate (etl_validate_rows), bind categories (etl_fit_bind),
 *             count rejects / nulls / unseen / out-of-range, add up the drift
 *             summary (etl_drift_summary per batch), spill rejects.csv's
 *             part; then the counts are reduced and an exclusive scan gives
 *             each rank its first global scored row
 *   drift     the summary merged over ranks against /meta/drift: drift.json,
 *             drift.svg, DRIFT, staged under temp names
 *   pass 2    etl_extract_batches again: etl_encode_rows (the ETL's own
 *             transform, fitted parameters from the file), the MLP forward
 *             in 2048-row chunks aligned on the global scored-row number
 *             (cut chunks padded: no communication), CSV lines appended to
 *             a per-rank part file or .h5 rows written in place
 *   metrics   labelled input (predict.metrics): the kept encoded rows through
 *             dist_metrics_evaluate in aligned chunks
 *   commit    the parts copied collectively into the output's temp name;
 *             predict_quality.json staged; rank 0 renames every file (the
 *             predictions last) and writes predict_manifest.json last
 * Memory per rank: O(batch_rows), not O(input) (labelled input with
 * predict.metrics keeps the encoded rows).
 * Every local phase ends at an agreement point (hpcml_mpi.h). */
#ifndef HPCML_PREDICT_H
#define HPCML_PREDICT_H

#include <mpi.h>

#include "core/config.h"

/* Collective. */
int predict_run(MPI_Comm comm, const hpcml_config *cfg);

#endif
