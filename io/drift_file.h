/* drift_file.h — the drift reference in an HDF5 file: written by hpcml-etl
 * into dataset.h5 /meta/drift, copied into model.h5, read back by
 * hpcml-predict. The layout (io/dataset_layout.h, docs/formats.md):
 *
 *   GROUP/                  attributes format = "hpcml-drift-reference",
 *                           version (int32) = 1, alpha, min_magnitude,
 *                           max_magnitude (float64), side_buckets (int64),
 *                           rows (int64: train rows summarized)
 *   GROUP/columns           strings [n]  column names, schema order
 *   GROUP/<name>/           one group per column ('/' written "%2F", '%' "%25"),
 *                           attributes name, type ("numeric" | "categorical"),
 *                           nulls, count (int64: non-null values)
 *     numeric:     attribute bucket_first (int64) and dataset bucket_counts
 *                  int64 [bucket_last - bucket_first + 1]: the occupied range of
 *                  the DRIFT_BUCKETS grid (src/monitor/drift.h); an empty column
 *                  has bucket_first = 0 and one zero count
 *     categorical: datasets counts int64 [n_slots] (vocabulary index order,
 *                  [0] = unknown slot) and categories strings [n_slots]
 *                  ([0] = "<unknown>")
 * A reader rejects another format, a newer version or another grid (exit 2).
 *
 * For the tests only (no program calls them): drift_reference_load. Tests: test_drift_file.c,
 * mpi_drift_tool.c.
 */
#ifndef HPCML_DRIFT_FILE_H
#define HPCML_DRIFT_FILE_H

#include <hdf5.h>
#include <stdint.h>

#include "monitor/drift.h"

#define DRIFT_REFERENCE_FORMAT  "hpcml-drift-reference"
#define DRIFT_REFERENCE_VERSION 1

/* Serial. Creates group (e.g. "/meta/drift") in the open file and writes set
 * into it; rows: the rows summarized. Returns an HPCML_E* code. */
int drift_reference_write(hid_t file, const char *group, const drift_set *set, int64_t rows);
/* Serial. Reads the reference at group ("/meta/drift") of an open file (any
 * driver; every rank may call it) into set (initialized here; free with
 * drift_set_free). *rows: the rows summarized (may be NULL). A missing group
 * is HPCML_EDATA naming file and group; where is the file name for messages. */
int drift_reference_read(hid_t file, const char *group, const char *where, drift_set *set,
                         int64_t *rows);
/* Convenience: open path read-only, read group, close. */
int drift_reference_load(const char *path, const char *group, drift_set *set, int64_t *rows);

#endif
