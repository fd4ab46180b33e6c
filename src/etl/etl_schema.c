/* etl_schema.c — etl options from the config, and the column schema. See etl_schema.h. */
#include "etl/etl_schema.h"

#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

const char *const etl_col_type_names[] = {"float", "int", "category", "label", "id", "ignore"};
const char *const etl_impute_names[] = {"none",          "mean",     "median",
                                        "most_frequent", "constant", "drop"};
const char *const etl_scale_names[] = {"standard", "minmax", "none", "quantile"};

static int index_of(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

static void spec_defaults(etl_column_spec *c)
{
    memset(c, 0, sizeof *c);
    c->type = ETL_COL_FLOAT;
    c->required = 1;
    c->nullable = 1;
    c->min = -1e300;
    c->max = 1e300;
    c->impute = ETL_IMPUTE_MEAN;
    c->scale = ETL_SCALE_STANDARD;
    c->onehot = 1;
    c->max_categories = 1000;
}

static int load_specs(const hpcml_config *cfg, etl_options *o)
{
    config_setting_t *list = cfg_setting(cfg, "etl.columns");
    int n = list ? config_setting_length(list) : 0;
    o->n_specs = 0;
    o->specs = calloc((size_t)n + 1, sizeof *o->specs);
    HPCML_ALLOC_CHECK(o->specs, ((size_t)n + 1) * sizeof *o->specs);
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        etl_column_spec *c = &o->specs[i];
        spec_defaults(c);
        const char *s = NULL;
        double d;
        int b;
        long long ll;
        if (config_setting_lookup_string(g, "name", &s)) c->name = (char *)s;
        HPCML_CHECK(c->name && *c->name, HPCML_EUSAGE, "etl.columns[%d]: empty column name", i);
        for (int j = 0; j < i; j++)
            HPCML_CHECK(strcmp(o->specs[j].name, c->name) != 0, HPCML_EUSAGE,
                        "etl.columns: column '%s' is listed twice", c->name);
        if (config_setting_lookup_string(g, "type", &s))
            c->type = (etl_col_type)index_of(etl_col_type_names, 6, s);
        if (config_setting_lookup_bool(g, "required", &b)) c->required = b;
        if (config_setting_lookup_bool(g, "nullable", &b)) c->nullable = b;
        if (config_setting_lookup_float(g, "min", &d)) c->min = d;
        if (config_setting_lookup_float(g, "max", &d)) c->max = d;
        if (config_setting_lookup_string(g, "impute", &s))
            c->impute = (etl_impute)index_of(etl_impute_names, 6, s);
        if (config_setting_lookup_float(g, "impute_value", &d)) c->impute_value = d;
        c->scale = o->default_scale;
        if (config_setting_lookup_string(g, "scale", &s) && strcmp(s, "default") != 0)
            c->scale = (etl_scale)index_of(etl_scale_names, 4, s);
        if (config_setting_lookup_string(g, "encoding", &s)) c->onehot = strcmp(s, "onehot") == 0;
        if (config_setting_lookup_int64(g, "max_categories", &ll)) c->max_categories = ll;
        HPCML_CHECK(c->min <= c->max, HPCML_EUSAGE, "etl.columns '%s': min %g is above max %g",
                    c->name, c->min, c->max);
        c->configured = 1;
        o->n_specs++;
    }
    return HPCML_OK;
}

void etl_side_prefix(const char *output, char *dir, size_t dir_n, char *prefix, size_t prefix_n)
{
    const char *slash = strrchr(output, '/');
    const char *base = slash ? slash + 1 : output;
    if (slash)
        snprintf(dir, dir_n, "%.*s", slash == output ? 1 : (int)(slash - output), output);
    else
        snprintf(dir, dir_n, ".");
    size_t len = strlen(base);
    static const char *const exts[] = {".h5", ".hdf5"};
    for (size_t e = 0; e < sizeof exts / sizeof exts[0]; e++) {
        size_t el = strlen(exts[e]);
        if (len > el && strcmp(base + len - el, exts[e]) == 0) {
            len -= el;
            break;
        }
    }
    snprintf(prefix, prefix_n, "%.*s.", (int)len, base);
}

void etl_side_path(const char *output, const char *what, char *out, size_t n)
{
    char dir[4096], prefix[1024];
    etl_side_prefix(output, dir, sizeof dir, prefix, sizeof prefix);
    snprintf(out, n, "%s/%s%s", dir, prefix, what);
}

int etl_options_load(const hpcml_config *cfg, etl_options *o)
{
    memset(o, 0, sizeof *o);
    o->n_inputs = cfg_str_list(cfg, "etl.input", &o->inputs);
    o->output = cfg_str(cfg, "etl.output");
    HPCML_CHECK(o->n_inputs > 0, HPCML_EUSAGE, "etl.input names no files");
    HPCML_CHECK(*o->output, HPCML_EUSAGE, "etl.output is empty");
    const char *mode = cfg_str(cfg, "etl.split_mode");
    o->split_mode = !strcmp(mode, "bytes")   ? ETL_SPLIT_BYTES
                    : !strcmp(mode, "files") ? ETL_SPLIT_FILES
                                             : ETL_SPLIT_AUTO;
    const char *manifest = cfg_str(cfg, "etl.check_manifest");
    o->check_manifest = !strcmp(manifest, "require") ? ETL_MANIFEST_REQUIRE
                        : !strcmp(manifest, "off")   ? ETL_MANIFEST_OFF
                                                     : ETL_MANIFEST_AUTO;

    csv_dialect_default(&o->dialect);
    const char *delim = cfg_str(cfg, "etl.delimiter");
    const char *quote = cfg_str(cfg, "etl.quote");
    HPCML_CHECK(strlen(delim) <= CSV_DELIMITER_MAX, HPCML_EUSAGE,
                "etl.delimiter must be 0 to %d bytes (got \"%s\")", CSV_DELIMITER_MAX, delim);
    o->detect_delimiter = delim[0] == '\0';
    if (o->detect_delimiter) delim = ","; /* until etl_inputs_plan has looked */
    HPCML_CHECK(strlen(quote) <= 1, HPCML_EUSAGE,
                "etl.quote must be one character or \"\" (no quoting), got \"%s\"", quote);
    snprintf(o->dialect.delimiter, sizeof o->dialect.delimiter, "%s", delim);
    o->dialect.quote = quote[0];
    o->dialect.trim_spaces = cfg_bool(cfg, "etl.trim_spaces");
    o->dialect.skip_bom = true;
    const char *why = NULL;
    HPCML_CHECK(csv_dialect_check(&o->dialect, &why) == HPCML_OK, HPCML_EUSAGE, "etl.delimiter: %s",
                why ? why : "invalid");

    o->header = cfg_bool(cfg, "etl.header");
    o->n_column_names = cfg_str_list(cfg, "etl.column_names", &o->column_names);
    HPCML_CHECK(o->header || o->n_column_names > 0, HPCML_EUSAGE,
                "etl.header = false needs the column names in etl.column_names");
    const char *const *markers;
    int n_markers = cfg_str_list(cfg, "etl.null_markers", &markers);
    o->null_markers = calloc((size_t)n_markers + 1, sizeof *o->null_markers);
    HPCML_ALLOC_CHECK(o->null_markers, ((size_t)n_markers + 1) * sizeof *o->null_markers);
    for (int i = 0; i < n_markers; i++)
        o->null_markers[i] = markers[i];
    o->skip_lines = cfg_int(cfg, "etl.skip_lines");
    o->skip_prefix = cfg_str(cfg, "etl.skip_prefix");

    o->default_scale = (etl_scale)index_of(etl_scale_names, 4, cfg_str(cfg, "etl.default_scale"));
    o->n_quantiles = cfg_int(cfg, "etl.n_quantiles");
    HPCML_TRY(load_specs(cfg, o));
    const char *dt = cfg_str(cfg, "etl.default_type");
    o->default_type = !strcmp(dt, "error") ? -1 : index_of(etl_col_type_names, 6, dt);

    o->label = cfg_str(cfg, "etl.label");
    HPCML_CHECK(*o->label, HPCML_EUSAGE, "etl.label is empty");
    o->n_positive = cfg_str_list(cfg, "etl.positive_labels", &o->positive_labels);
    o->n_negative = cfg_str_list(cfg, "etl.negative_labels", &o->negative_labels);
    /* A label text that is also a null marker would make every row of that
     * class a null label, dropped without a word. */
    for (int i = 0; o->null_markers[i]; i++) {
        HPCML_CHECK(index_of(o->positive_labels, o->n_positive, o->null_markers[i]) < 0 &&
                        index_of(o->negative_labels, o->n_negative, o->null_markers[i]) < 0,
                    HPCML_EUSAGE,
                    "etl.null_markers contains \"%s\", which is also a label text "
                    "(etl.positive_labels / etl.negative_labels): every row of that class would "
                    "be read as a null label and dropped; remove it from one of the lists",
                    o->null_markers[i]);
    }
    HPCML_CHECK(o->n_positive > 0 && o->n_negative > 0, HPCML_EUSAGE,
                "etl.positive_labels and etl.negative_labels need at least one text each");
    for (int i = 0; i < o->n_positive; i++)
        HPCML_CHECK(index_of(o->negative_labels, o->n_negative, o->positive_labels[i]) < 0,
                    HPCML_EUSAGE, "label text '%s' is both positive and negative",
                    o->positive_labels[i]);
    o->n_keys = cfg_str_list(cfg, "etl.key_columns", &o->key_columns);
    o->min_records = cfg_int(cfg, "etl.min_records");
    o->drop_bad_values = !strcmp(cfg_str(cfg, "etl.on_bad_value"), "drop");
    const char *on_null = cfg_str(cfg, "etl.on_null_violation");
    o->on_null = !strcmp(on_null, "warn")   ? ETL_NULL_WARN
                 : !strcmp(on_null, "drop") ? ETL_NULL_DROP
                                            : ETL_NULL_ERROR;
    o->median_exact = !strcmp(cfg_str(cfg, "etl.median"), "exact");
    o->train_fraction = cfg_float(cfg, "etl.train_fraction");
    /* An empty /train would be written with made-up statistics (mean 0,
     * std 0): the scaling and the vocabularies are fitted on it. */
    HPCML_CHECK(o->train_fraction > 0.0, HPCML_EUSAGE,
                "etl.train_fraction = 0 leaves the train split empty, and the imputation, scaling "
                "and vocabularies are fitted on it: use a fraction above 0");
    o->val_fraction = cfg_float(cfg, "etl.val_fraction");
    HPCML_CHECK(o->train_fraction + o->val_fraction <= 1.0 + 1e-12, HPCML_EUSAGE,
                "etl.train_fraction + etl.val_fraction = %g is above 1",
                o->train_fraction + o->val_fraction);
    o->split_seed = (uint64_t)cfg_int(cfg, "etl.split_seed");
    o->split_key = cfg_str(cfg, "etl.split_key");
    o->stratify = cfg_bool(cfg, "etl.stratify");
    const char *rs = cfg_str(cfg, "etl.resample");
    o->resample = !strcmp(rs, "undersample") ? 1 : !strcmp(rs, "oversample") ? 2 : 0;
    o->resample_ratio = cfg_float(cfg, "etl.resample_ratio");
    o->balanced_weights = !strcmp(cfg_str(cfg, "etl.class_weights"), "balanced");
    o->chunk_rows = cfg_int(cfg, "etl.chunk_rows");
    o->read_buffer_bytes = cfg_int(cfg, "etl.read_buffer_mb") << 20;
    o->infer_sample_rows = cfg_int(cfg, "etl.infer_sample_rows");
    return HPCML_OK;
}

void etl_options_free(etl_options *o)
{
    free(o->null_markers);
    free(o->specs);
    memset(o, 0, sizeof *o);
}

void etl_format_names(char *out, size_t max_bytes, char *const *names, int n)
{
    size_t len = 0;
    out[0] = '\0';
    len += (size_t)snprintf(out + len, max_bytes - len, "[");
    for (int i = 0; i < n && len < max_bytes; i++) {
        if (len + strlen(names[i]) + 8 >= max_bytes) {
            snprintf(out + len, max_bytes - len, "... (%d columns)", n);
            len = strlen(out);
            break;
        }
        len += (size_t)snprintf(out + len, max_bytes - len, "%s%s", i ? ", " : "", names[i]);
    }
    if (len < max_bytes) snprintf(out + len, max_bytes - len, "]");
}

static int find_name(char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

static int check_names(char *const *names, int n, const char *where, const char *header);

/* An empty schema, the header as text for messages, the names checked. */
static int schema_begin(etl_schema *s, char *const *names, int n, const char *where, char *header,
                        size_t header_size)
{
    memset(s, 0, sizeof *s);
    s->label_col = -1;
    s->split_key_col = -1;
    etl_format_names(header, header_size, names, n);
    return check_names(names, n, where, header);
}

static int check_names(char *const *names, int n, const char *where, const char *header)
{
    HPCML_CHECK(n > 0, HPCML_EDATA, "%s: no columns in the header", where);
    for (int i = 0; i < n; i++) {
        HPCML_CHECK(names[i][0] != '\0', HPCML_EDATA, "%s: column %d has an empty name; header: %s",
                    where, i + 1, header);
        for (int j = 0; j < i; j++)
            HPCML_CHECK(strcmp(names[i], names[j]) != 0, HPCML_EDATA,
                        "%s: duplicate column name '%s' (columns %d and %d); header: %s", where,
                        names[i], j + 1, i + 1, header);
    }
    return HPCML_OK;
}

int etl_schema_resolve(const etl_options *o, char *const *names, int n, const char *where,
                       etl_schema *s)
{
    char header[700];
    HPCML_TRY(schema_begin(s, names, n, where, header, sizeof header));

    /* The config's own consistency first: exit 1 whatever the input. */
    for (int k = 0; k < o->n_specs; k++) {
        const etl_column_spec *c = &o->specs[k];
        HPCML_CHECK(c->type != ETL_COL_LABEL || strcmp(c->name, o->label) == 0, HPCML_EUSAGE,
                    "etl.columns: '%s' has type \"label\" but etl.label is '%s'", c->name,
                    o->label);
        if (strcmp(c->name, o->label) == 0)
            HPCML_CHECK(c->type == ETL_COL_LABEL, HPCML_EUSAGE,
                        "etl.columns: the label column '%s' must have type \"label\" (got \"%s\")",
                        c->name, etl_col_type_names[c->type]);
    }

    HPCML_CHECK(find_name(names, n, o->label) >= 0, HPCML_EDATA,
                "%s: the label column '%s' is missing; header found: %s", where, o->label, header);

    /* Required columns: one message naming every missing one. */
    char missing[600] = "";
    int n_missing = 0;
    for (int k = 0; k < o->n_specs; k++) {
        const etl_column_spec *c = &o->specs[k];
        if (!c->required || find_name(names, n, c->name) >= 0) continue;
        size_t len = strlen(missing);
        snprintf(missing + len, sizeof missing - len, "%s'%s'", n_missing ? ", " : "", c->name);
        n_missing++;
    }
    HPCML_CHECK(n_missing == 0, HPCML_EDATA, "%s: required column%s %s missing; header found: %s",
                where, n_missing > 1 ? "s" : "", missing, header);

    s->cols = calloc((size_t)n, sizeof *s->cols);
    s->key_cols = calloc((size_t)o->n_keys + 1, sizeof *s->key_cols);
    HPCML_CHECK(s->cols && s->key_cols, HPCML_EINTERNAL, "out of memory for %d columns", n);
    s->n_cols = n;
    int n_features = 0;
    for (int i = 0; i < n; i++) {
        etl_column_spec *c = &s->cols[i];
        const etl_column_spec *spec = NULL;
        for (int k = 0; k < o->n_specs; k++)
            if (strcmp(o->specs[k].name, names[i]) == 0) spec = &o->specs[k];
        if (spec) {
            *c = *spec;
        } else {
            spec_defaults(c);
            if (strcmp(names[i], o->label) == 0) {
                c->type = ETL_COL_LABEL;
            } else {
                HPCML_CHECK(o->default_type >= 0, HPCML_EDATA,
                            "%s: column '%s' is not in etl.columns (etl.default_type = \"error\"); "
                            "header found: %s",
                            where, names[i], header);
                c->type = (etl_col_type)o->default_type;
            }
            c->scale = o->default_scale;
        }
        c->name = names[i];
        if (c->type == ETL_COL_LABEL) s->label_col = i;
        if (c->type == ETL_COL_FLOAT || c->type == ETL_COL_INT || c->type == ETL_COL_CATEGORY)
            n_features++;
    }
    HPCML_CHECK(s->label_col >= 0, HPCML_EDATA,
                "%s: the label column '%s' is missing; header found: %s", where, o->label, header);
    HPCML_CHECK(n_features > 0, HPCML_EDATA,
                "%s: no feature columns (float, int or category); header found: %s", where, header);
    for (int k = 0; k < o->n_keys; k++) {
        int i = find_name(names, n, o->key_columns[k]);
        HPCML_CHECK(i >= 0, HPCML_EDATA,
                    "%s: key column '%s' (etl.key_columns) is missing; header found: %s", where,
                    o->key_columns[k], header);
        s->key_cols[s->n_key_cols++] = i;
    }
    if (o->split_key[0]) {
        s->split_key_col = find_name(names, n, o->split_key);
        HPCML_CHECK(s->split_key_col >= 0, HPCML_EDATA,
                    "%s: split key column '%s' (etl.split_key) is missing; header found: %s", where,
                    o->split_key, header);
    }
    return HPCML_OK;
}

int etl_schema_resolve_scoring(const etl_options *o, char *const *names, int n, const char *where,
                               char *const *model_cols, const etl_col_type *model_types,
                               int n_model, const char *const *id_cols, int n_ids, etl_schema *s)
{
    char header[700];
    HPCML_TRY(schema_begin(s, names, n, where, header, sizeof header));
    char missing[800] = "";
    int n_missing = 0;
    for (int k = 0; k < n_model + n_ids; k++) {
        const char *want = k < n_model ? model_cols[k] : id_cols[k - n_model];
        if (find_name(names, n, want) >= 0) continue;
        size_t len = strlen(missing);
        snprintf(missing + len, sizeof missing - len, "%s'%s'%s", n_missing ? ", " : "", want,
                 k < n_model ? "" : " (predict.id_columns)");
        n_missing++;
    }
    HPCML_CHECK(n_missing == 0, HPCML_EDATA,
                "%s: column%s %s needed by the model %s missing; header found: %s", where,
                n_missing > 1 ? "s" : "", missing, n_missing > 1 ? "are" : "is", header);
    s->cols = calloc((size_t)n, sizeof *s->cols);
    s->key_cols = calloc(1, sizeof *s->key_cols);
    HPCML_CHECK(s->cols && s->key_cols, HPCML_EINTERNAL, "out of memory for %d columns", n);
    s->n_cols = n;
    for (int i = 0; i < n; i++) {
        etl_column_spec *c = &s->cols[i];
        int m = -1;
        for (int k = 0; k < n_model; k++)
            if (!strcmp(model_cols[k], names[i])) m = k;
        const etl_column_spec *spec = NULL;
        for (int k = 0; k < o->n_specs; k++)
            if (strcmp(o->specs[k].name, names[i]) == 0) spec = &o->specs[k];
        if (spec && m >= 0) {
            *c = *spec;
        } else {
            spec_defaults(c);
            /* a column the ETL typed by etl.default_type was scaled by etl.default_scale */
            c->scale = o->default_scale;
        }
        if (m >= 0)
            c->type = model_types[m];
        else if (!strcmp(names[i], o->label))
            c->type = ETL_COL_LABEL;
        else
            c->type = ETL_COL_IGNORE;
        c->name = names[i];
        if (c->type == ETL_COL_LABEL) s->label_col = i;
        for (int k = 0; k < n_ids; k++)
            if (!strcmp(id_cols[k], names[i])) {
                c->keep_text = 1;
                if (c->type == ETL_COL_IGNORE) c->type = ETL_COL_ID;
            }
    }
    return HPCML_OK;
}

void etl_schema_free(etl_schema *s)
{
    free(s->cols);
    free(s->key_cols);
    memset(s, 0, sizeof *s);
}
