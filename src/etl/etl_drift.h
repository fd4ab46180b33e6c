/* etl_drift.h — the drift reference hpcml-etl stores in dataset.h5
 * /meta/drift (io/drift_file.h): per numeric column the bucket summary of
 * the raw train values (before imputation and scaling) and their null count,
 * per categorical column the count of every vocabulary entry, of the
 * unknown slot (index 0) and of nulls. src/monitor/drift.h defines the
 * summaries; hpcml-predict summarizes new data the same way and compares. */
#ifndef HPCML_ETL_DRIFT_H
#define HPCML_ETL_DRIFT_H

#include <mpi.h>
#include <stdint.h>

#include "etl/etl_extract.h"
#include "etl/etl_transform.h"
#include "monitor/drift.h"

/* Collective. Summarizes the rows with drop == ETL_KEEP and split == 0 (the
 * train split before resampling, the rows the transform was fitted on),
 * merged over comm with integer sums: the same set on every rank and for
 * every rank count. Columns in schema order; label, id and ignored columns
 * are left out. *rows: the train rows summarized. */
int etl_drift_reference(MPI_Comm comm, const etl_schema *s, const etl_table *t, const etl_fit *fit,
                        drift_set *out, int64_t *rows);

/* Collective. The same summary of the local rows rows[0..n_rows) (raw
 * values: nulls counted, categories by the fit's vocabulary index, unseen
 * ones in the unknown slot), merged over comm. hpcml-predict summarizes the
 * rows it scores with it; etl_drift_reference calls it for the train rows.
 * fit's local_to_index must be bound to t (etl_fit_bind). */
int etl_drift_summary(MPI_Comm comm, const etl_schema *s, const etl_table *t, const etl_fit *fit,
                      const int64_t *rows, int64_t n_rows, drift_set *out);

/* drift_bucket_of(v) for a non-NaN v, from a table built on first use
 * (a few ms) instead of a log per value; equal to it for every double (the
 * unit test compares them). Pure. */
int etl_drift_bucket(double v);

#endif
