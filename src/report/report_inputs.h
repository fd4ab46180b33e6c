/* report_inputs.h — hpcml-report's effects: find a run's files through its
 * config (etl.output, sweep.output_dir, train.output_dir, gen.output_dir,
 * report.*), read them, and write report.output atomically (temp name,
 * fsync, rename).
 *
 * A missing input leaves its section with a note; an input that cannot be
 * read (bad JSON, wrong format, truncated HDF5) is logged with its path and
 * reason, shown on the page, and counted in *n_corrupt; the page is written
 * either way. */
#ifndef HPCML_REPORT_INPUTS_H
#define HPCML_REPORT_INPUTS_H

#include "core/config.h"

int report_write(const hpcml_config *cfg, const char *config_path, int *n_corrupt);

#endif
