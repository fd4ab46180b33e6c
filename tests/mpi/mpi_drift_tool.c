/* mpi_drift_tool.c — test helper for the drift module (built by the tests'
 * mpi_*.c glob; it uses no MPI). Three modes:
 *
 *   mpi_drift_tool numeric REF.txt CUR.txt [BINS]
 *       one value per line ("nan" = null) -> JSON on stdout: the KS statistic
 *       and p-value, PSI, Jensen-Shannon, the coarse bins (edges, counts) and
 *       the largest bucket share of either sample (the KS error bound)
 *   mpi_drift_tool categorical REF.txt CUR.txt N_SLOTS
 *       one vocabulary index per line (-1 = null) -> JSON: chi-square
 *       statistic, df, p-value, PSI, Jensen-Shannon, the counts
 *   mpi_drift_tool compare REF.h5 CUR.h5 OUT.json OUT.svg [-s monitoring.key=value]...
 *       the drift references at /meta/drift of two files (io/drift_file.h),
 *       the second one's categories matched to the first one's vocabulary by
 *       name, compared with the monitoring options; writes drift.json and drift.svg,
 *       prints "dataset_drift=0|1 drifted=K of N"
 * tests/scripts/test_drift_scipy.sh and test_drift_etl.sh drive it. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/status.h"
#include "io/drift_file.h"
#include "monitor/drift.h"
#include "monitor/drift_report.h"

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *counts(const int64_t *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static void print(json_t *o)
{
    char *t = json_dumps(o, JSON_REAL_PRECISION(17));
    puts(t);
    free(t);
    json_decref(o);
}

static int read_numeric(const char *path, drift_numeric *s, int64_t *max_bucket)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    drift_numeric_init(s);
    char line[128];
    while (fgets(line, sizeof line, f))
        drift_numeric_add(s, strtod(line, NULL));
    fclose(f);
    int64_t n = drift_numeric_count(s), m = 0;
    for (int b = 0; b < DRIFT_BUCKETS; b++)
        if (s->counts[b] > m) m = s->counts[b];
    *max_bucket = m;
    return n > 0 ? 0 : -1;
}

static int mode_numeric(int argc, char **argv)
{
    drift_numeric *r = malloc(sizeof *r), *c = malloc(sizeof *c);
    int64_t mr = 0, mc = 0;
    if (!r || !c || read_numeric(argv[2], r, &mr) || read_numeric(argv[3], c, &mc)) return 3;
    drift_options o;
    drift_options_default(&o);
    if (argc > 4) o.bins = atoi(argv[4]);
    drift_column_result res;
    if (drift_compare_numeric(r, c, &o, &res)) return 4;
    json_t *j = json_object();
    json_object_set_new(j, "ks", num(res.ks));
    json_object_set_new(j, "ks_p_value", num(res.ks_p_value));
    json_object_set_new(j, "psi", num(res.psi));
    json_object_set_new(j, "jensenshannon", num(res.jensenshannon));
    json_object_set_new(j, "n_reference", json_integer(drift_numeric_count(r)));
    json_object_set_new(j, "n_current", json_integer(drift_numeric_count(c)));
    json_object_set_new(j, "max_bucket_share",
                        json_real(fmax((double)mr / (double)drift_numeric_count(r),
                                       (double)mc / (double)drift_numeric_count(c))));
    json_t *e = json_array();
    for (int i = 0; i <= res.n_bins; i++)
        json_array_append_new(e, json_real(res.edges[i]));
    json_object_set_new(j, "edges", e);
    json_object_set_new(j, "reference_counts", counts(res.reference_counts, res.n_bins));
    json_object_set_new(j, "current_counts", counts(res.current_counts, res.n_bins));
    print(j);
    drift_column_result_free(&res);
    free(r);
    free(c);
    return 0;
}

static int read_categorical(const char *path, drift_categorical *s)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[64];
    while (fgets(line, sizeof line, f))
        drift_categorical_add(s, (int32_t)strtol(line, NULL, 10));
    fclose(f);
    return 0;
}

static int mode_categorical(char **argv)
{
    int n = atoi(argv[4]);
    drift_categorical r, c;
    if (drift_categorical_init(&r, n) || drift_categorical_init(&c, n)) return 4;
    if (read_categorical(argv[2], &r) || read_categorical(argv[3], &c)) return 3;
    drift_options o;
    drift_options_default(&o);
    drift_column_result res;
    if (drift_compare_categorical(&r, &c, &o, &res)) return 4;
    json_t *j = json_object();
    json_object_set_new(j, "chisquare", num(res.chisquare));
    json_object_set_new(j, "chisquare_df", num(res.chisquare_df));
    json_object_set_new(j, "chisquare_p_value", num(res.chisquare_p_value));
    json_object_set_new(j, "psi", num(res.psi));
    json_object_set_new(j, "jensenshannon", num(res.jensenshannon));
    json_object_set_new(j, "reference_counts", counts(res.reference_counts, n));
    json_object_set_new(j, "current_counts", counts(res.current_counts, n));
    json_object_set_new(j, "method", json_string(drift_method_name(res.method)));
    print(j);
    drift_column_result_free(&res);
    drift_categorical_free(&r);
    drift_categorical_free(&c);
    return 0;
}

/* The current set in the reference's slots: an ETL of new data has its own
 * vocabulary, so categories are matched by name (unknown names and the
 * current unknown slot go to the reference's unknown slot, as hpcml-predict's
 * transform maps them). */
static int align(const drift_set *ref, const drift_set *cur, drift_set *out)
{
    if (drift_set_clone_empty(ref, out)) return HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    for (int i = 0; i < ref->n_cols; i++) {
        int k = drift_set_find(cur, ref->cols[i].name);
        if (k < 0 || cur->cols[k].type != ref->cols[i].type)
            return HPCML_FAIL(HPCML_EDATA, "column %s missing", ref->cols[i].name);
        const drift_column *c = &cur->cols[k];
        drift_column *o = &out->cols[i];
        if (c->type == DRIFT_NUMERIC) {
            *o->num = *c->num;
            continue;
        }
        o->cat.nulls = c->cat.nulls;
        for (int32_t s = 0; s < c->cat.n_slots; s++) {
            int32_t idx = 0;
            for (int32_t r = 1; s > 0 && r < o->cat.n_slots; r++)
                if (!strcmp(o->categories[r], c->categories[s])) idx = r;
            o->cat.counts[idx] += c->cat.counts[s];
        }
    }
    return HPCML_OK;
}

static int mode_compare(int argc, char **argv)
{
    const char *sets[64];
    int n_sets = 0;
    for (int i = 6; i + 1 < argc && n_sets < 64; i += 2)
        if (!strcmp(argv[i], "-s")) sets[n_sets++] = argv[i + 1];
    hpcml_config *cfg = NULL;
    int rc = hpcml_config_load(&cfg, NULL, sets, n_sets);
    drift_options o;
    if (rc == HPCML_OK) rc = drift_options_load(cfg, &o);
    drift_set ref, cur;
    drift_set_init(&ref);
    drift_set_init(&cur);
    int64_t rows_ref = 0, rows_cur = 0;
    if (rc == HPCML_OK) rc = drift_reference_load(argv[2], "/meta/drift", &ref, &rows_ref);
    if (rc == HPCML_OK) rc = drift_reference_load(argv[3], "/meta/drift", &cur, &rows_cur);
    drift_set aligned;
    drift_set_init(&aligned);
    if (rc == HPCML_OK) rc = align(&ref, &cur, &aligned);
    drift_result res = {0};
    const char *bad = NULL;
    if (rc == HPCML_OK && drift_compare(&ref, &aligned, &o, &res, &bad) != 0)
        rc = HPCML_FAIL(HPCML_EDATA, "column %s does not match", bad ? bad : "?");
    if (rc == HPCML_OK) rc = drift_write_json(argv[4], argv[2], &res);
    if (rc == HPCML_OK) rc = drift_write_svg(argv[5], &res);
    if (rc == HPCML_OK)
        printf("dataset_drift=%d drifted=%d of %d\n", res.dataset_drift, res.drifted_columns,
               res.n_cols);
    else
        fprintf(stderr, "mpi_drift_tool: %s\n", hpcml_error_message());
    drift_result_free(&res);
    drift_set_free(&ref);
    drift_set_free(&cur);
    drift_set_free(&aligned);
    hpcml_config_free(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "numeric")) return mode_numeric(argc, argv);
    if (argc >= 5 && !strcmp(argv[1], "categorical")) return mode_categorical(argv);
    if (argc >= 6 && !strcmp(argv[1], "compare")) return mode_compare(argc, argv);
    fprintf(stderr, "usage: mpi_drift_tool numeric|categorical|compare ...\n");
    return 1;
}
