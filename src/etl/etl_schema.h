/* etl_schema.h — the ETL's options (the etl config section) and the column
 * schema resolved against the header that was found.
 *
 * etl_options_load reads every etl.* key once into plain C types, so the
 * rest of the ETL never looks at the config. etl_schema_resolve matches the
 * configured columns (etl.columns, etl.label, etl.key_columns,
 * etl.split_key) with the input's column names (the header, or
 * etl.column_names when etl.header = false) and decides each input column's
 * type; errors name what is missing and show the header found. */
#ifndef HPCML_ETL_SCHEMA_H
#define HPCML_ETL_SCHEMA_H

#include <stdint.h>

#include "core/config.h"
#include "etl/csv_tokenize.h"
#include "etl/etl_manifest.h"

typedef enum {
    ETL_COL_FLOAT = 0,
    ETL_COL_INT,
    ETL_COL_CATEGORY,
    ETL_COL_LABEL,
    ETL_COL_ID,
    ETL_COL_IGNORE
} etl_col_type;

typedef enum {
    ETL_IMPUTE_NONE = 0,
    ETL_IMPUTE_MEAN,
    ETL_IMPUTE_MEDIAN,
    ETL_IMPUTE_MOST_FREQUENT,
    ETL_IMPUTE_CONSTANT,
    ETL_IMPUTE_DROP
} etl_impute;

typedef enum {
    ETL_SCALE_STANDARD = 0,
    ETL_SCALE_MINMAX,
    ETL_SCALE_NONE,
    ETL_SCALE_QUANTILE
} etl_scale;
typedef enum { ETL_NULL_WARN = 0, ETL_NULL_DROP, ETL_NULL_ERROR } etl_null_policy;
typedef enum { ETL_SPLIT_AUTO = 0, ETL_SPLIT_BYTES, ETL_SPLIT_FILES } etl_split_mode;

extern const char *const etl_col_type_names[];
extern const char *const etl_impute_names[];
extern const char *const etl_scale_names[];

typedef struct {
    char *name;
    etl_col_type type;
    int required, nullable;
    double min, max;
    etl_impute impute;
    double impute_value;
    etl_scale scale;
    int onehot; /* encoding = "onehot" */
    int64_t max_categories;
    int configured; /* listed in etl.columns */
    int keep_text;  /* scoring: keep each field's text (etl_table.strtab/cat) for output */
} etl_column_spec;

typedef struct {
    const char *const *inputs;
    int n_inputs;
    const char *output;
    etl_split_mode split_mode;
    etl_manifest_mode check_manifest; /* etl_manifest.h */
    csv_dialect dialect;
    int detect_delimiter;   /* etl.delimiter = "": etl_inputs_plan detects it */
    int delimiter_detected; /* ... and did: dialect.delimiter holds the choice */
    int header;
    const char *const *column_names;
    int n_column_names;
    const char **null_markers; /* NULL-terminated copy of etl.null_markers */
    int64_t skip_lines;
    const char *skip_prefix; /* "" = none */
    etl_column_spec *specs;  /* etl.columns */
    int n_specs;
    int default_type; /* an etl_col_type, or -1 for "error" */
    etl_scale default_scale; /* numeric columns with scale = "default" or unlisted */
    int64_t n_quantiles;     /* scale = "quantile": quantiles fitted per column (at most) */
    const char *label;
    const char *const *positive_labels;
    int n_positive;
    const char *const *negative_labels;
    int n_negative;
    const char *const *key_columns;
    int n_keys;
    int64_t min_records;
    int drop_bad_values; /* on_bad_value = "drop" */
    etl_null_policy on_null;
    int median_exact;
    double train_fraction, val_fraction;
    uint64_t split_seed;
    const char *split_key; /* "" = row number */
    int stratify;
    int resample; /* etl_resample */
    double resample_ratio;
    int balanced_weights;
    int64_t chunk_rows;
    int64_t read_buffer_bytes;
    int64_t infer_sample_rows;
} etl_options;

/* Reads and checks the etl section (exit 1 on inconsistent settings). The
 * strings stay owned by cfg. */
int etl_options_load(const hpcml_config *cfg, etl_options *o);
void etl_options_free(etl_options *o);

/* The side file `what` ("quality.json", "profile.json", "trace.json") of
 * the ETL output `output` (etl.output; hpcml-report finds them the same way): <dir>/<stem>.<what>, stem = the output's file name without
 * ".h5" / ".hdf5" (hpcml-out/dataset.h5 -> hpcml-out/dataset.quality.json),
 * so two outputs in one folder never share a side file. etl_side_prefix
 * gives the two parts: dir and "<stem>.". */
void etl_side_path(const char *output, const char *what, char *out, size_t n);
void etl_side_prefix(const char *output, char *dir, size_t dir_n, char *prefix, size_t prefix_n);

typedef struct {
    etl_column_spec *cols; /* one per input field, in input order */
    int n_cols;
    int label_col;
    int *key_cols; /* in etl.key_columns order */
    int n_key_cols;
    int split_key_col; /* -1: the row number decides */
} etl_schema;

/* names: the input's column names (n of them); where: "FILE" for messages.
 * Returns HPCML_EDATA for problems of the input (missing required or label
 * columns, duplicate or empty names), HPCML_EUSAGE for contradictions in
 * the config. */
int etl_schema_resolve(const etl_options *o, char *const *names, int n, const char *where,
                       etl_schema *s);
/* The schema of data to score with a fitted model (hpcml-predict): each
 * input column named in model_cols[0..n_model) gets the model's type and
 * the spec o has for it; o->label, when present, is the label (optional);
 * the id columns keep their text; every other column is ignored. Missing
 * model or id columns: HPCML_EDATA naming all of them and the header. */
int etl_schema_resolve_scoring(const etl_options *o, char *const *names, int n, const char *where,
                               char *const *model_cols, const etl_col_type *model_types,
                               int n_model, const char *const *id_cols, int n_ids, etl_schema *s);
void etl_schema_free(etl_schema *s);

/* "[a, b, c]" of names, shortened to about max_bytes, into out. */
void etl_format_names(char *out, size_t max_bytes, char *const *names, int n);

#endif
