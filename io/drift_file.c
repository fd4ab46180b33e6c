/* drift_file.c — the drift reference in an HDF5 group. See drift_file.h. */
#include "io/drift_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/h5_dataset_write.h"
#include "io/h5_util.h"

int drift_reference_write(hid_t f, const char *group, const drift_set *set, int64_t rows)
{
    int rc = HPCML_OK;
#define PUT(call)                                                                                  \
    do {                                                                                           \
        if (rc == HPCML_OK) rc = (call);                                                           \
    } while (0)
    PUT(h5_meta_group(f, group));
    PUT(h5_meta_attr_str(f, group, "format", DRIFT_REFERENCE_FORMAT));
    PUT(h5_meta_attr_i32(f, group, "version", DRIFT_REFERENCE_VERSION));
    PUT(h5_meta_attr_f64(f, group, "alpha", DRIFT_ALPHA));
    PUT(h5_meta_attr_f64(f, group, "min_magnitude", DRIFT_MIN_MAGNITUDE));
    PUT(h5_meta_attr_f64(f, group, "max_magnitude", DRIFT_MAX_MAGNITUDE));
    PUT(h5_meta_attr_i64(f, group, "side_buckets", DRIFT_SIDE_BUCKETS));
    PUT(h5_meta_attr_i64(f, group, "rows", rows));
    const char **names = calloc((size_t)set->n_cols + 1, sizeof *names);
    if (!names) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    for (int i = 0; names && i < set->n_cols; i++)
        names[i] = set->cols[i].name;
    char p[1400];
    snprintf(p, sizeof p, "%s/columns", group);
    PUT(h5_meta_strings(f, p, names, set->n_cols));
    free(names);
    for (int i = 0; i < set->n_cols && rc == HPCML_OK; i++) {
        const drift_column *c = &set->cols[i];
        char gn[600], g[1200];
        h5_group_name(c->name, gn, sizeof gn);
        snprintf(g, sizeof g, "%s/%s", group, gn);
        PUT(h5_meta_group(f, g));
        PUT(h5_meta_attr_str(f, g, "name", c->name));
        PUT(h5_meta_attr_str(f, g, "type", c->type == DRIFT_NUMERIC ? "numeric" : "categorical"));
        if (c->type == DRIFT_NUMERIC) {
            int lo = 0, hi = 0;
            while (lo < DRIFT_BUCKETS && !c->num->counts[lo])
                lo++;
            if (lo == DRIFT_BUCKETS) {
                lo = hi = 0; /* no values: one zero count */
            } else {
                hi = DRIFT_BUCKETS - 1;
                while (!c->num->counts[hi])
                    hi--;
            }
            PUT(h5_meta_attr_i64(f, g, "nulls", c->num->nulls));
            PUT(h5_meta_attr_i64(f, g, "count", drift_numeric_count(c->num)));
            PUT(h5_meta_attr_i64(f, g, "bucket_first", lo));
            snprintf(p, sizeof p, "%s/bucket_counts", g);
            PUT(h5_meta_i64(f, p, c->num->counts + lo, hi - lo + 1));
        } else {
            PUT(h5_meta_attr_i64(f, g, "nulls", c->cat.nulls));
            PUT(h5_meta_attr_i64(f, g, "count", drift_categorical_count(&c->cat)));
            snprintf(p, sizeof p, "%s/counts", g);
            PUT(h5_meta_i64(f, p, c->cat.counts, c->cat.n_slots));
            snprintf(p, sizeof p, "%s/categories", g);
            PUT(h5_meta_strings(f, p, (const char *const *)c->categories, c->cat.n_slots));
        }
    }
#undef PUT
    return rc;
}

/* ---- reading ---------------------------------------------------------------------- */
/* A 1-D dataset's length, or -1. */
static int64_t dset_len(hid_t obj, const char *name)
{
    hid_t d = H5Dopen2(obj, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    hsize_t dims[1] = {0};
    int64_t n = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
                        H5Sget_simple_extent_dims(sp, dims, NULL) == 1
                    ? (int64_t)dims[0]
                    : -1;
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return n;
}

static int dset_i64(hid_t obj, const char *name, int64_t *v)
{
    hid_t d = H5Dopen2(obj, name, H5P_DEFAULT);
    if (d < 0) return -1;
    int rc = H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0 ? 0 : -1;
    H5Dclose(d);
    return rc;
}

/* n variable-length strings into malloc'd copies. */
static int dset_strings(hid_t obj, const char *name, char **out, int64_t n)
{
    hid_t d = H5Dopen2(obj, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t t = H5Dget_type(d);
    char **raw = calloc((size_t)(n > 0 ? n : 1), sizeof *raw);
    int rc = -1;
    if (raw && t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0) {
        hid_t mt = H5Tcopy(t);
        if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0) {
            rc = 0;
            for (int64_t i = 0; i < n; i++) {
                out[i] = strdup(raw[i] ? raw[i] : "");
                if (!out[i]) rc = -1;
                if (raw[i]) H5free_memory(raw[i]);
            }
        }
        H5Tclose(mt);
    }
    if (t >= 0) H5Tclose(t);
    H5Dclose(d);
    free(raw);
    return rc;
}

#define BAD(...) HPCML_FAIL(HPCML_EDATA, __VA_ARGS__)

static int read_column(hid_t top, const char *where, const char *group, const char *name,
                       drift_set *set)
{
    char gn[600];
    h5_group_name(name, gn, sizeof gn);
    hid_t g = H5Gopen2(top, gn, H5P_DEFAULT);
    if (g < 0) return BAD("%s: %s/%s: missing (listed in %s/columns)", where, group, gn, group);
    int rc = HPCML_OK;
    char *type = h5_attr_string(g, "type");
    int64_t nulls = 0, count = 0;
    if (!type || h5_attr_i64(g, "nulls", &nulls) || h5_attr_i64(g, "count", &count) || nulls < 0) {
        rc = BAD("%s: %s/%s: attributes type, nulls and count expected", where, group, gn);
    } else if (!strcmp(type, "numeric")) {
        int64_t first = 0, n = dset_len(g, "bucket_counts");
        if (h5_attr_i64(g, "bucket_first", &first) || n < 1 || first < 0 ||
            first + n > DRIFT_BUCKETS) {
            rc = BAD("%s: %s/%s: bucket_first and bucket_counts (within %d buckets) expected",
                     where, group, gn, DRIFT_BUCKETS);
        } else {
            int k = drift_set_add_numeric(set, name);
            if (k < 0) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
            if (rc == HPCML_OK) {
                drift_numeric *s = set->cols[k].num;
                if (dset_i64(g, "bucket_counts", s->counts + first))
                    rc = BAD("%s: %s/%s/bucket_counts: unreadable", where, group, gn);
                s->nulls = nulls;
                if (rc == HPCML_OK && drift_numeric_count(s) != count)
                    rc = BAD("%s: %s/%s: bucket counts sum to %lld, count says %lld", where, group,
                             gn, (long long)drift_numeric_count(s), (long long)count);
            }
        }
    } else if (!strcmp(type, "categorical")) {
        int64_t n = dset_len(g, "counts");
        if (n < 1 || n > INT32_MAX || dset_len(g, "categories") != n) {
            rc = BAD("%s: %s/%s: counts and categories of one length expected", where, group, gn);
        } else {
            char **cats = calloc((size_t)n, sizeof *cats);
            if (!cats) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
            if (rc == HPCML_OK && dset_strings(g, "categories", cats, n))
                rc = BAD("%s: %s/%s/categories: unreadable", where, group, gn);
            int k = rc == HPCML_OK ? drift_set_add_categorical(set, name, (int32_t)n,
                                                               (const char *const *)cats)
                                   : -1;
            if (rc == HPCML_OK && k < 0) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
            if (rc == HPCML_OK) {
                drift_categorical *c = &set->cols[k].cat;
                if (dset_i64(g, "counts", c->counts))
                    rc = BAD("%s: %s/%s/counts: unreadable", where, group, gn);
                c->nulls = nulls;
                if (rc == HPCML_OK && drift_categorical_count(c) != count)
                    rc = BAD("%s: %s/%s: counts sum to %lld, count says %lld", where, group, gn,
                             (long long)drift_categorical_count(c), (long long)count);
            }
            for (int64_t i = 0; cats && i < n; i++)
                free(cats[i]);
            free(cats);
        }
    } else {
        rc = BAD("%s: %s/%s: type \"%s\": expected numeric or categorical", where, group, gn, type);
    }
    free(type);
    H5Gclose(g);
    return rc;
}

int drift_reference_read(hid_t file, const char *group, const char *where, drift_set *set,
                         int64_t *rows)
{
    drift_set_init(set);
    h5_quiet q;
    h5_quiet_begin(&q);
    int rc = HPCML_OK;
    hid_t top =
        H5Oexists_by_name(file, group, H5P_DEFAULT) > 0 ? H5Gopen2(file, group, H5P_DEFAULT) : -1;
    if (top < 0) {
        h5_quiet_end(&q);
        return BAD("%s: no drift reference at %s (written by hpcml-etl since format %s %d)", where,
                   group, DRIFT_REFERENCE_FORMAT, DRIFT_REFERENCE_VERSION);
    }
    char *format = h5_attr_string(top, "format");
    int64_t version = 0, side = 0, n_rows = 0;
    double alpha = 0, mn = 0, mx = 0;
    if (!format || strcmp(format, DRIFT_REFERENCE_FORMAT))
        rc = BAD("%s: %s: attribute format = \"%s\", expected \"%s\"", where, group,
                 format ? format : "(missing)", DRIFT_REFERENCE_FORMAT);
    else if (h5_attr_i64(top, "version", &version) || version < 1 ||
             version > DRIFT_REFERENCE_VERSION)
        rc = BAD("%s: %s: version %lld, this hpcml reads up to %d", where, group,
                 (long long)version, DRIFT_REFERENCE_VERSION);
    else if (h5_attr_f64(top, "alpha", &alpha) || h5_attr_f64(top, "min_magnitude", &mn) ||
             h5_attr_f64(top, "max_magnitude", &mx) || h5_attr_i64(top, "side_buckets", &side) ||
             alpha != DRIFT_ALPHA || mn != DRIFT_MIN_MAGNITUDE || mx != DRIFT_MAX_MAGNITUDE ||
             side != DRIFT_SIDE_BUCKETS)
        rc = BAD("%s: %s: bucket grid alpha %g, magnitudes %g..%g, %lld buckets a side; this "
                 "hpcml uses %g, %g..%g, %d",
                 where, group, alpha, mn, mx, (long long)side, DRIFT_ALPHA, DRIFT_MIN_MAGNITUDE,
                 DRIFT_MAX_MAGNITUDE, DRIFT_SIDE_BUCKETS);
    else if (h5_attr_i64(top, "rows", &n_rows))
        rc = BAD("%s: %s: attribute rows expected", where, group);
    free(format);
    int64_t n = rc == HPCML_OK ? dset_len(top, "columns") : -1;
    if (rc == HPCML_OK && n < 0) rc = BAD("%s: %s/columns: missing", where, group);
    char **names = rc == HPCML_OK ? calloc((size_t)(n > 0 ? n : 1), sizeof *names) : NULL;
    if (rc == HPCML_OK && !names) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    if (rc == HPCML_OK && n > 0 && dset_strings(top, "columns", names, n))
        rc = BAD("%s: %s/columns: unreadable", where, group);
    for (int64_t i = 0; rc == HPCML_OK && i < n; i++)
        rc = read_column(top, where, group, names[i], set);
    for (int64_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    H5Gclose(top);
    h5_quiet_end(&q);
    if (rc != HPCML_OK) {
        drift_set_free(set);
        return rc;
    }
    if (rows) *rows = n_rows;
    return HPCML_OK;
}

int drift_reference_load(const char *path, const char *group, drift_set *set, int64_t *rows)
{
    drift_set_init(set);
    h5_quiet q;
    h5_quiet_begin(&q);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    h5_quiet_end(&q);
    if (f < 0) return HPCML_FAIL(HPCML_EIO, "%s: cannot open as HDF5 to read %s", path, group);
    int rc = drift_reference_read(f, group, path, set, rows);
    H5Fclose(f);
    return rc;
}
