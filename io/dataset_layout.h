/* dataset_layout.h — the dataset.h5 file contract between hpcml-etl (writer)
 * and hpcml-train / hpcml-sweep (readers). Version it: a reader rejects a
 * format_version it does not know (exit 2, bad data).
 *
 *   /                       attribute "hpcml_format" = "hpcml-dataset"
 *                           attribute "format_version" (int32) = HPCML_DATASET_VERSION
 *   /train/X  float32 [rows, n_features]  chunked (chunk_rows x n_features)
 *   /train/y  int32   [rows]              class index 0..n_classes-1
 *   /train/row_id int64 [rows]            global row number in the input (0-based)
 *   /val/...  /test/...   same three datasets (rows may be 0)
 *   /meta/feature_names   variable-length strings [n_features]
 *   /meta/class_names     variable-length strings [n_classes] ("0","1" / "<=50K",">50K")
 *   /meta/class_counts    int64 [n_classes]   counts in /train (after resampling)
 *   /meta/class_weights   float64 [n_classes] n / (n_classes * count) or all 1
 *   /meta/scale_offset    float64 [n_features] x' = (x - offset) * scale_mul
 *   /meta/scale_mul       float64 [n_features]
 *   /meta/columns/<name>/ one group per input column with attributes:
 *                           type, impute, impute_value (float64), scale, mean, std, min, max,
 *                           and for categoricals a dataset "vocabulary" (strings, index order;
 *                           index 0 is the "unknown" slot) and "encoding"
 *                           (hpcml-etl also writes: "name" (the column name; in the group name
 *                           '/' is written "%2F" and '%' "%25"), "first_feature" and "n_features"
 *                           (int64: the column's slice of X, -1/0 for label, id), and for
 *                           categoricals "vocabulary_counts" (int64, train rows per index; [0] =
 *                           nulls and values outside the vocabulary). Columns of type "ignore"
 *                           have no group. For categoricals impute_value is the index nulls get.)
 *   /meta/sources         variable-length strings [n_files]  input file names (as given)
 *   /meta/source_sha256   variable-length strings [n_files]  hex SHA-256 of each input file
 *   /meta/config          variable-length string  the effective config text
 *   /meta attribute n_features, n_classes, rows_train, rows_val, rows_test (int64)
 *   /meta/drift/          the drift reference of the train split (before resampling), raw
 *                           values before imputation and scaling: io/drift_file.h has the
 *                           layout (per numeric column a log-bucket summary and its nulls, per
 *                           category column the count of every vocabulary index, unknown slot
 *                           included, and nulls); identical for any rank count; docs/drift.md
 *
 * No time stamps or host names anywhere: the same input and config give the
 * same file contents. */
#ifndef HPCML_DATASET_LAYOUT_H
#define HPCML_DATASET_LAYOUT_H

#define HPCML_DATASET_MAGIC "hpcml-dataset"
#define HPCML_DATASET_VERSION 1

static const char *const hpcml_split_names[3] = {"train", "val", "test"};
enum { SPLIT_TRAIN = 0, SPLIT_VAL = 1, SPLIT_TEST = 2 };

#endif
