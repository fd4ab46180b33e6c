/* drift_report.h — the effects around drift.h: options from the config's
 * monitoring section, the MPI merge of a summary set, and the two outputs,
 * drift.json and drift.svg (docs/drift.md, the contract in docs/formats.md).
 * drift.c stays pure; everything here calls it. */
#ifndef HPCML_DRIFT_REPORT_H
#define HPCML_DRIFT_REPORT_H

#include <mpi.h>

#include "core/config.h"
#include "monitor/drift.h"

#define DRIFT_JSON_FORMAT  "hpcml-drift"
#define DRIFT_JSON_VERSION 1

/* monitoring.numeric_method, categorical_method, auto_max_rows, the four
 * thresholds, bins, drift_share into o (the schema has checked them; a
 * method that does not fit the column type is HPCML_EUSAGE). */
int drift_options_load(const hpcml_config *cfg, drift_options *o);

/* Collective: sums every count of set over comm (MPI_INT64_T, MPI_SUM), in
 * place, so each rank holds the global summary; exact for any rank count.
 * Every rank must hold the same columns (drift_set_clone_empty). */
int drift_set_allreduce(MPI_Comm comm, drift_set *set);

/* drift.json (version 1): temp name, fsync, rename. model: the model path
 * written into "model". Returns an HPCML_E* code. */
int drift_write_json(const char *path, const char *model, const drift_result *r);
/* drift.svg: for each column, reference against current shares per bin
 * (numeric) or per category, drifted columns marked in red with their
 * method and statistic; temp name, fsync, rename. */
int drift_write_svg(const char *path, const drift_result *r);

#endif
