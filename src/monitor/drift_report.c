/* drift_report.c — the effects around drift.c: options from the config, the
 * MPI merge of a summary set, drift.json and drift.svg (drift_report.h). */
#include "monitor/drift_report.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "io/atomic_file.h"

int drift_options_load(const hpcml_config *cfg, drift_options *o)
{
    drift_options_default(o);
    const char *nm = cfg_str(cfg, "monitoring.numeric_method");
    const char *cm = cfg_str(cfg, "monitoring.categorical_method");
    if (drift_method_parse(nm, &o->numeric_method) != 0 ||
        o->numeric_method == DRIFT_METHOD_CHISQUARE)
        return HPCML_FAIL(HPCML_EUSAGE,
                          "monitoring.numeric_method = \"%s\": expected auto, ks, psi or "
                          "jensenshannon",
                          nm);
    if (drift_method_parse(cm, &o->categorical_method) != 0 ||
        o->categorical_method == DRIFT_METHOD_KS)
        return HPCML_FAIL(HPCML_EUSAGE,
                          "monitoring.categorical_method = \"%s\": expected auto, chisquare, psi "
                          "or jensenshannon",
                          cm);
    o->auto_max_rows = cfg_int(cfg, "monitoring.auto_max_rows");
    o->ks_threshold = cfg_float(cfg, "monitoring.ks_threshold");
    o->chisquare_threshold = cfg_float(cfg, "monitoring.chisquare_threshold");
    o->psi_threshold = cfg_float(cfg, "monitoring.psi_threshold");
    o->jensenshannon_threshold = cfg_float(cfg, "monitoring.jensenshannon_threshold");
    o->bins = (int)cfg_int(cfg, "monitoring.bins");
    o->drift_share = cfg_float(cfg, "monitoring.drift_share");
    return HPCML_OK;
}

int drift_set_allreduce(MPI_Comm comm, drift_set *set)
{
    int64_t n = drift_set_n_words(set);
    int64_t *w = malloc((size_t)(n > 0 ? n : 1) * sizeof *w);
    int rc = w ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory (drift summary)");
    HPCML_TRY(hpcml_mpi_agree(comm, rc));
    drift_set_pack(set, w);
    /* in pieces below 2^31 elements (MPI counts are int) */
    for (int64_t lo = 0; lo < n && rc == HPCML_OK; lo += 1 << 30) {
        int count = (int)(n - lo < (1 << 30) ? n - lo : (1 << 30));
        if (MPI_Allreduce(MPI_IN_PLACE, w + lo, count, MPI_INT64_T, MPI_SUM, comm) != MPI_SUCCESS)
            rc = HPCML_FAIL(HPCML_EINTERNAL, "MPI_Allreduce of the drift summary failed");
    }
    if (rc == HPCML_OK) drift_set_unpack(set, w);
    free(w);
    return rc;
}

/* ---- drift.json ------------------------------------------------------------------ */
static json_t *real_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *int_array(const int64_t *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

/* numeric: {"edges", "counts"}; categorical: {"categories", "counts"} with the
 * unknown slot (slot 0) moved last, as the drift.json contract orders them */
static json_t *distribution(const drift_column_result *c, const int64_t *counts)
{
    json_t *d = json_object();
    if (c->type == DRIFT_NUMERIC) {
        json_t *e = json_array();
        for (int i = 0; i <= c->n_bins; i++)
            json_array_append_new(e, real_or_null(c->edges[i]));
        json_object_set_new(d, "edges", e);
        json_object_set_new(d, "counts", int_array(counts, c->n_bins));
        return d;
    }
    json_t *names = json_array(), *n = json_array();
    for (int k = 1; k <= c->n_bins; k++) {
        int slot = k < c->n_bins ? k : 0;
        const char *name = c->categories ? c->categories[slot] : NULL;
        char num[24];
        if (!name) {
            snprintf(num, sizeof num, "%d", slot);
            name = num;
        }
        json_array_append_new(names, json_string(slot == 0 ? "<unknown>" : name));
        json_array_append_new(n, json_integer((json_int_t)counts[slot]));
    }
    json_object_set_new(d, "categories", names);
    json_object_set_new(d, "counts", n);
    return d;
}

static json_t *column_json(const drift_column_result *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name ? c->name : ""));
    json_object_set_new(o, "type", json_string(c->type == DRIFT_NUMERIC ? "numeric" : "categorical"));
    json_object_set_new(o, "method", json_string(drift_method_name(c->method)));
    json_object_set_new(o, "statistic", real_or_null(c->statistic));
    json_object_set_new(o, "p_value", real_or_null(c->p_value));
    json_object_set_new(o, "threshold", json_real(c->threshold));
    json_object_set_new(o, "drifted", json_boolean(c->drifted));
    json_object_set_new(o, "psi", real_or_null(c->psi));
    json_object_set_new(o, "jensenshannon", real_or_null(c->jensenshannon));
    if (c->type == DRIFT_NUMERIC) {
        json_object_set_new(o, "ks", real_or_null(c->ks));
        json_object_set_new(o, "ks_p_value", real_or_null(c->ks_p_value));
    } else {
        json_object_set_new(o, "chisquare", real_or_null(c->chisquare));
        json_object_set_new(o, "chisquare_p_value", real_or_null(c->chisquare_p_value));
        json_object_set_new(o, "chisquare_df", real_or_null(c->chisquare_df));
    }
    json_object_set_new(o, "rows_reference", json_integer((json_int_t)c->rows_reference));
    json_object_set_new(o, "rows_current", json_integer((json_int_t)c->rows_current));
    json_object_set_new(o, "null_share_reference", real_or_null(c->null_share_reference));
    json_object_set_new(o, "null_share_current", real_or_null(c->null_share_current));
    json_object_set_new(o, "reference", distribution(c, c->reference_counts));
    json_object_set_new(o, "current", distribution(c, c->current_counts));
    return o;
}

int drift_write_json(const char *path, const char *model, const drift_result *r)
{
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(DRIFT_JSON_FORMAT));
    json_object_set_new(root, "version", json_integer(DRIFT_JSON_VERSION));
    json_object_set_new(root, "model", json_string(model ? model : ""));
    json_object_set_new(root, "rows_reference", json_integer((json_int_t)r->rows_reference));
    json_object_set_new(root, "rows_current", json_integer((json_int_t)r->rows_current));
    json_object_set_new(root, "dataset_drift", json_boolean(r->dataset_drift));
    json_object_set_new(root, "drifted_columns", json_integer(r->drifted_columns));
    json_object_set_new(root, "columns_total", json_integer(r->n_cols));
    json_object_set_new(root, "drift_share", json_real(r->drift_share));
    json_object_set_new(root, "summary_alpha", json_real(DRIFT_ALPHA));
    json_t *cols = json_array();
    for (int i = 0; i < r->n_cols; i++)
        json_array_append_new(cols, column_json(&r->cols[i]));
    json_object_set_new(root, "columns", cols);
    char *text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!text) return HPCML_FAIL(HPCML_EINTERNAL, "out of memory writing %s", path);
    size_t len = strlen(text);
    char *withnl = realloc(text, len + 2);
    if (!withnl) {
        free(text);
        return HPCML_FAIL(HPCML_EINTERNAL, "out of memory writing %s", path);
    }
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    int rc = atomic_write_text(path, withnl);
    free(withnl);
    return rc;
}
