/* predict.h — hpcml-predict from top to bottom.
 *
 *   model     rank 0 reads predict.model once and broadcasts its bytes; every
 *             rank opens that image (io/model_file.h): format, version and
 *             checksum checked; the ETL options come from the model's own
 *             /meta/config (CSV dialect, null markers, column specs), the
 *             inputs from predict.input
 *   plan      etl_inputs_plan; the schema of the input against the model's
 *             columns (etl_schema_resolve_scoring): missing ones exit 2;
 *             temps of killed runs of this output removed (one rank a node)
 *   read      the input once, etl_extract_batches (batches of
 *             predict.batch_rows records): validate (etl_validate_rows),
 *             bind categories (etl_fit_bind), count rejects / nulls / unseen /
 *             out-of-range, add up the drift summary (etl_drift_summary per
 *             batch), encode (etl_encode_rows: the ETL's own transform) and
 *             spill the encoded rows, labels, record numbers and ids to a
 *             per-rank temp; rejects.csv's part too; then the counts are
 *             reduced and an exclusive scan gives each rank its first global
 *             scored row
 *   drift     the summary merged over ranks against /meta/drift: drift.json,
 *             drift.svg, DRIFT, staged under temp names
 *   score     the spill read back: the MLP forward through mlp_infer (a row's
 *             bits depend on that row alone: any chunking, any rank count),
 *             CSV lines appended to a per-rank part or .h5 rows written in
 *             place
 *   metrics   labelled input (predict.metrics): the kept encoded rows through
 *             dist_metrics_evaluate in chunks aligned on the global row, so
 *             the loss sums equal the trainer's evaluation
 *   commit    the parts copied collectively into the output's temp name;
 *             predict_quality.json and predict_manifest.json staged; rank 0
 *             renames every file, the manifest last; a failed run removes
 *             its temps and leaves the previous set untouched
 * Memory per rank: O(batch_rows), not O(input) (labelled input with
 * predict.metrics keeps the encoded rows); disk: the spill, ~4 bytes per
 * feature + 12 per record beside the output.
 * Every local phase ends at an agreement point (hpcml_mpi.h). */
#ifndef HPCML_PREDICT_H
#define HPCML_PREDICT_H

#include <mpi.h>

#include "core/config.h"

/* Collective. */
int predict_run(MPI_Comm comm, const hpcml_config *cfg);

#endif
