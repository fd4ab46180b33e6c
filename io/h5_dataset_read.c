/* h5_dataset_read.c — parallel hyperslab reads of dataset.h5. See
 * h5_dataset_read.h and dataset_layout.h for the file contract. */
#include "io/h5_dataset_read.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/status.h"
#include "io/dataset_layout.h"
#include "io/h5_util.h"


/* Read a string attribute (fixed or variable length) into out. */
static int read_string_attr(hid_t obj, const char *name, char *out, size_t n)
{
    char *s = h5_attr_string(obj, name);
    int rc = s ? 0 : -1;
    snprintf(out, n, "%s", s ? s : "");
    free(s);
    return rc;
}

/* Shape of a dataset: rank and dims (up to 2). */
static int dataset_shape(hid_t file, const char *name, int *rank, hsize_t dims[2])
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t sp = H5Dget_space(ds);
    int r = H5Sget_simple_extent_ndims(sp);
    int rc = -1;
    if (r >= 1 && r <= 2) {
        dims[1] = 0;
        H5Sget_simple_extent_dims(sp, dims, NULL);
        *rank = r;
        rc = 0;
    }
    H5Sclose(sp);
    H5Dclose(ds);
    return rc;
}

static int check_split(h5_dataset *d, int split)
{
    const char *name = hpcml_split_names[split];
    char px[64], py[64], pid[64];
    snprintf(px, sizeof px, "/%s/X", name);
    snprintf(py, sizeof py, "/%s/y", name);
    snprintf(pid, sizeof pid, "/%s/row_id", name);
    int rx, ry, rid;
    hsize_t dx[2], dy[2], did[2];
    HPCML_CHECK(dataset_shape(d->file, px, &rx, dx) == 0 && rx == 2, HPCML_EDATA,
                "%s: no 2-D dataset %s (is it an hpcml-etl dataset?)", d->path, px);
    HPCML_CHECK(dataset_shape(d->file, py, &ry, dy) == 0 && ry == 1, HPCML_EDATA,
                "%s: no 1-D dataset %s", d->path, py);
    HPCML_CHECK(dy[0] == dx[0], HPCML_EDATA, "%s: %s has %llu rows but %s has %llu", d->path, px,
                (unsigned long long)dx[0], py, (unsigned long long)dy[0]);
    if (d->n_features < 0) d->n_features = (int64_t)dx[1];
    HPCML_CHECK((int64_t)dx[1] == d->n_features, HPCML_EDATA,
                "%s: %s has %llu features, /train/X has %lld", d->path, px,
                (unsigned long long)dx[1], (long long)d->n_features);
    d->rows[split] = dx[0];
    d->has_row_id[split] = H5Lexists(d->file, pid, H5P_DEFAULT) > 0 &&
                           dataset_shape(d->file, pid, &rid, did) == 0 && rid == 1 &&
                           did[0] == dx[0];
    return HPCML_OK;
}

static int open_checked(h5_dataset *d)
{
    char magic[64];
    HPCML_CHECK(read_string_attr(d->file, "hpcml_format", magic, sizeof magic) == 0 &&
                    strcmp(magic, HPCML_DATASET_MAGIC) == 0,
                HPCML_EDATA,
                "%s is not an hpcml dataset (root attribute hpcml_format is not \"%s\")", d->path,
                HPCML_DATASET_MAGIC);
    int64_t version = -1;
    HPCML_CHECK(h5_attr_i64(d->file, "format_version", &version) == 0, HPCML_EDATA,
                "%s: no format_version attribute", d->path);
    HPCML_CHECK(version == HPCML_DATASET_VERSION, HPCML_EDATA,
                "%s: dataset format version %lld, this hpcml-train reads version %d", d->path,
                (long long)version, HPCML_DATASET_VERSION);
    d->n_features = -1;
    for (int s = 0; s < 3; s++)
        HPCML_TRY(check_split(d, s));
    HPCML_CHECK(d->n_features > 0, HPCML_EDATA, "%s: the dataset has no features", d->path);

    hid_t meta = H5Gopen2(d->file, "/meta", H5P_DEFAULT);
    HPCML_CHECK(meta >= 0, HPCML_EDATA, "%s: no /meta group", d->path);
    int64_t nc = -1;
    if (h5_attr_i64(meta, "n_classes", &nc) != 0) {
        int r;
        hsize_t dims[2];
        if (dataset_shape(d->file, "/meta/class_names", &r, dims) == 0 && r == 1)
            nc = (int64_t)dims[0];
    }
    H5Gclose(meta);
    HPCML_CHECK(nc >= 2 && nc <= 1000000, HPCML_EDATA,
                "%s: /meta has no usable n_classes attribute (got %lld)", d->path, (long long)nc);
    d->n_classes = nc;
    return HPCML_OK;
}

int h5_dataset_open(h5_dataset *d, const char *path, MPI_Comm comm)
{
    memset(d, 0, sizeof *d);
    d->file = -1;
    d->comm = comm;
    snprintf(d->path, sizeof d->path, "%s", path);
    h5_quiet q;
    h5_quiet_begin(&q);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    /* Metadata is read by one rank and broadcast, not by every rank. */
    H5Pset_all_coll_metadata_ops(fapl, 1);
    d->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    int rc = HPCML_OK;
    if (d->file < 0) {
        FILE *fp = fopen(path, "rb");
        if (fp) fclose(fp);
        rc = fp ? HPCML_FAIL(HPCML_EDATA, "%s is not an HDF5 file", path)
                : HPCML_FAIL(HPCML_EIO, "cannot open dataset %s (train.dataset)", path);
    } else {
        rc = open_checked(d);
    }
    h5_quiet_end(&q);
    if (rc != HPCML_OK) h5_dataset_close(d);
    return rc;
}

/* Read rows [lo, hi) of the open 1-D or 2-D dataset ds (cols columns),
 * collectively (MPI-IO) or with the file's own driver. */
static int read_rows_of(hid_t ds, const char *path, const char *name, hid_t mem_type, uint64_t lo,
                        uint64_t hi, hsize_t cols, int rank, int collective, void *buf)
{
    hid_t fsp = H5Dget_space(ds);
    hsize_t mdims[2] = {hi > lo ? hi - lo : 1, cols};
    hid_t msp = H5Screate_simple(rank, mdims, NULL);
    h5_select_rows(fsp, msp, lo, hi - lo, cols);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (collective) H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
    herr_t err = H5Dread(ds, mem_type, msp, fsp, dxpl, buf);
    H5Pclose(dxpl);
    H5Sclose(msp);
    H5Sclose(fsp);
    HPCML_CHECK(err >= 0, HPCML_EIO, "%s: reading rows [%llu, %llu) of %s failed", path,
                (unsigned long long)lo, (unsigned long long)hi, name);
    return HPCML_OK;
}

/* Read rows [lo, hi) of a 1-D or 2-D dataset (cols columns) collectively. */
static int read_hyperslab(h5_dataset *d, const char *name, hid_t mem_type, uint64_t lo, uint64_t hi,
                          hsize_t cols, int rank, void *buf)
{
    hid_t ds = H5Dopen2(d->file, name, H5P_DEFAULT);
    HPCML_CHECK(ds >= 0, HPCML_EDATA, "%s: cannot open %s", d->path, name);
    int rc = read_rows_of(ds, d->path, name, mem_type, lo, hi, cols, rank, 1, buf);
    H5Dclose(ds);
    return rc;
}

/* Labels outside [0, n_classes) are bad data. */
static int check_labels(const char *path, const char *split, uint64_t lo, const int32_t *y,
                        uint64_t n, int64_t n_classes)
{
    for (uint64_t i = 0; i < n; i++)
        HPCML_CHECK(y[i] >= 0 && y[i] < n_classes, HPCML_EDATA,
                    "%s: /%s/y[%llu] = %d is not a class index in [0, %lld)", path, split,
                    (unsigned long long)(lo + i), (int)y[i], (long long)n_classes);
    return HPCML_OK;
}

/* Every feature must be a finite number: one NaN or infinity makes every
 * weight NaN within a step (etl impute = "none" keeps nulls as NaN; a
 * damaged file). Cheap next to the read. */
static int check_features(const char *path, const char *split, uint64_t lo, const float *x,
                          uint64_t n, int64_t nf)
{
    const uint64_t cells = n * (uint64_t)nf;
    for (uint64_t i = 0; i < cells; i++)
        if (!isfinite(x[i]))
            return HPCML_FAIL(HPCML_EDATA,
                              "%s: /%s/X[%llu][%llu] = %g is not a finite number (a null kept by "
                              "etl impute = \"none\", or a damaged file): impute it in the ETL",
                              path, split, (unsigned long long)(lo + i / (uint64_t)nf),
                              (unsigned long long)(i % (uint64_t)nf), (double)x[i]);
    return HPCML_OK;
}

int h5_dataset_read_rows(h5_dataset *d, int split, uint64_t lo, uint64_t hi, float *x, int32_t *y,
                         int64_t *row_id)
{
    HPCML_CHECK(split >= 0 && split < 3 && lo <= hi && hi <= d->rows[split], HPCML_EINTERNAL,
                "h5_dataset_read_rows: split %d rows [%llu, %llu) of %llu", split,
                (unsigned long long)lo, (unsigned long long)hi,
                (unsigned long long)(split >= 0 && split < 3 ? d->rows[split] : 0));
    const char *name = hpcml_split_names[split];
    char path[64];
    h5_quiet q;
    h5_quiet_begin(&q);
    int rc = HPCML_OK;
    snprintf(path, sizeof path, "/%s/X", name);
    rc = read_hyperslab(d, path, H5T_NATIVE_FLOAT, lo, hi, (hsize_t)d->n_features, 2, x);
    if (rc == HPCML_OK) {
        snprintf(path, sizeof path, "/%s/y", name);
        rc = read_hyperslab(d, path, H5T_NATIVE_INT32, lo, hi, 1, 1, y);
    }
    if (rc == HPCML_OK && row_id) {
        if (d->has_row_id[split]) {
            snprintf(path, sizeof path, "/%s/row_id", name);
            rc = read_hyperslab(d, path, H5T_NATIVE_INT64, lo, hi, 1, 1, row_id);
        } else {
            for (uint64_t i = lo; i < hi; i++)
                row_id[i - lo] = (int64_t)i;
        }
    }
    h5_quiet_end(&q);
    HPCML_TRY(rc);
    HPCML_TRY(check_features(d->path, name, lo, x, hi - lo, (int64_t)d->n_features));
    return check_labels(d->path, name, lo, y, hi - lo, d->n_classes);
}

/* Hash the bytes of /meta/<name> into *h when the file has it (numbers as
 * stored in memory type mtype; strings, scalar or 1-D, as their texts). */
static void hash_meta(hid_t file, const char *name, hid_t mtype, uint64_t *h)
{
    char path[128];
    snprintf(path, sizeof path, "/meta/%s", name);
    if (H5Lexists(file, "/meta", H5P_DEFAULT) <= 0 || H5Lexists(file, path, H5P_DEFAULT) <= 0) {
        *h = rng_hash_bytes("-", 1, *h);
        return;
    }
    hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
    if (ds < 0) return;
    hid_t sp = H5Dget_space(ds);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    if (n > 0 && n < (1 << 24)) {
        if (mtype < 0) { /* strings */
            hid_t st = H5Tcopy(H5T_C_S1);
            H5Tset_size(st, H5T_VARIABLE);
            H5Tset_cset(st, H5T_CSET_UTF8);
            char **v = calloc((size_t)n, sizeof *v);
            if (v && H5Dread(ds, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0) {
                for (hssize_t i = 0; i < n; i++)
                    if (v[i]) *h = rng_hash_bytes(v[i], strlen(v[i]) + 1, *h);
                H5Dvlen_reclaim(st, sp, H5P_DEFAULT, v);
            }
            free(v);
            H5Tclose(st);
        } else {
            double *v = calloc((size_t)n, 8);
            if (v && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)
                *h = rng_hash_bytes(v, (size_t)n * 8, *h);
            free(v);
        }
    }
    H5Sclose(sp);
    H5Dclose(ds);
}

int h5_dataset_identity(h5_dataset *d, uint64_t *id)
{
    uint64_t h = 0x6870636d6c647331ull; /* "hpcmlds1" */
    int64_t shape[5] = {d->n_features, d->n_classes, (int64_t)d->rows[0], (int64_t)d->rows[1],
                        (int64_t)d->rows[2]};
    h = rng_hash_bytes(shape, sizeof shape, h);
    h5_quiet q;
    h5_quiet_begin(&q);
    hash_meta(d->file, "source_sha256", -1, &h);
    hash_meta(d->file, "feature_names", -1, &h);
    hash_meta(d->file, "class_counts", H5T_NATIVE_INT64, &h);
    hash_meta(d->file, "scale_offset", H5T_NATIVE_DOUBLE, &h);
    hash_meta(d->file, "scale_mul", H5T_NATIVE_DOUBLE, &h);
    h5_quiet_end(&q);
    *id = h;
    return HPCML_OK;
}

int h5_dataset_class_weights(h5_dataset *d, double *w, int *found)
{
    *found = 0;
    h5_quiet q;
    h5_quiet_begin(&q);
    int rc = HPCML_OK;
    if (H5Lexists(d->file, "/meta/class_weights", H5P_DEFAULT) > 0) {
        int r;
        hsize_t dims[2];
        if (dataset_shape(d->file, "/meta/class_weights", &r, dims) != 0 || r != 1 ||
            (int64_t)dims[0] != d->n_classes) {
            rc = HPCML_FAIL(HPCML_EDATA, "%s: /meta/class_weights does not hold %lld values",
                            d->path, (long long)d->n_classes);
        } else {
            hid_t ds = H5Dopen2(d->file, "/meta/class_weights", H5P_DEFAULT);
            if (ds < 0 || H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, w) < 0)
                rc = HPCML_FAIL(HPCML_EIO, "%s: cannot read /meta/class_weights", d->path);
            else
                *found = 1;
            if (ds >= 0) H5Dclose(ds);
        }
    }
    h5_quiet_end(&q);
    return rc;
}

void h5_dataset_close(h5_dataset *d)
{
    if (d->file >= 0) H5Fclose(d->file);
    d->file = -1;
}

/* ---- serial reads of one split (streaming mode's reader thread) ---------- */

int h5_rows_open(h5_rows_file *f, const h5_dataset *d, int split)
{
    memset(f, 0, sizeof *f);
    f->file = f->x = f->y = -1;
    snprintf(f->path, sizeof f->path, "%s", d->path);
    f->split = split;
    f->n_features = d->n_features;
    f->n_classes = d->n_classes;
    f->rows = d->rows[split];
    char px[64], py[64];
    snprintf(px, sizeof px, "/%s/X", hpcml_split_names[split]);
    snprintf(py, sizeof py, "/%s/y", hpcml_split_names[split]);
    h5_quiet q;
    h5_quiet_begin(&q);
    f->file = H5Fopen(d->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f->file >= 0) f->x = H5Dopen2(f->file, px, H5P_DEFAULT);
    if (f->x >= 0) f->y = H5Dopen2(f->file, py, H5P_DEFAULT);
    h5_quiet_end(&q);
    if (f->y < 0) {
        h5_rows_close(f);
        return HPCML_FAIL(HPCML_EIO, "%s: cannot open %s and %s for streaming", d->path, px, py);
    }
    return HPCML_OK;
}

int h5_rows_read(h5_rows_file *f, uint64_t lo, uint64_t hi, float *x, int32_t *y)
{
    HPCML_CHECK(lo <= hi && hi <= f->rows, HPCML_EINTERNAL, "h5_rows_read: rows [%llu, %llu) of %llu",
                (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)f->rows);
    const char *name = hpcml_split_names[f->split];
    h5_quiet q;
    h5_quiet_begin(&q);
    int rc = read_rows_of(f->x, f->path, name, H5T_NATIVE_FLOAT, lo, hi,
                          (hsize_t)f->n_features, 2, 0, x);
    if (rc == HPCML_OK)
        rc = read_rows_of(f->y, f->path, name, H5T_NATIVE_INT32, lo, hi, 1, 1, 0, y);
    h5_quiet_end(&q);
    HPCML_TRY(rc);
    HPCML_TRY(check_features(f->path, name, lo, x, hi - lo, (int64_t)f->n_features));
    return check_labels(f->path, name, lo, y, hi - lo, f->n_classes);
}

void h5_rows_close(h5_rows_file *f)
{
    if (f->y >= 0) H5Dclose(f->y);
    if (f->x >= 0) H5Dclose(f->x);
    if (f->file >= 0) H5Fclose(f->file);
    f->file = f->x = f->y = -1;
}
