/* h5_dataset_write.c — parallel X/y/row_id and serial /meta. See h5_dataset_write.h. */
#include "io/h5_dataset_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "io/dataset_layout.h"
#include "io/h5_util.h"

#define ALIGN_THRESHOLD_BYTES (512 * 1024)
#define ALIGN_BYTES           (1024 * 1024)

struct h5_dataset_writer {
    MPI_Comm comm;
    hid_t file, dxpl;
    hid_t dset[3][3]; /* [split][X, y, row_id] */
    int64_t rows[3];
    int64_t n_features;
    char path[4096];
};

/* The innermost HDF5 error description (the cause, e.g. the MPI-IO or
 * system error), for messages. */
static herr_t walk_first(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0) snprintf((char *)data, 400, "%s (in %s)", e->desc ? e->desc : "?", e->func_name);
    return 0;
}

static const char *h5_cause(char *buf)
{
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_first, buf);
    if (!buf[0]) snprintf(buf, 400, "HDF5 error");
    return buf;
}

#define H5_FAIL(what, ...)                                                                         \
    do {                                                                                           \
        char cause_[400];                                                                          \
        h5_cause(cause_);                                                                          \
        char ctx_[4200];                                                                           \
        snprintf(ctx_, sizeof ctx_, __VA_ARGS__);                                                  \
        return HPCML_FAIL(HPCML_EIO, "%s: %s: %s", ctx_, what, cause_);                            \
    } while (0)

static void quiet_hdf5(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static hid_t make_dset(hid_t file, const char *name, hid_t type, int rank, int64_t rows,
                       int64_t cols, int64_t chunk_rows)
{
    hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
    hsize_t maxdims[2] = {H5S_UNLIMITED, (hsize_t)cols};
    int64_t cr = rows < chunk_rows ? (rows > 0 ? rows : 1) : chunk_rows;
    hsize_t chunk[2] = {(hsize_t)cr, (hsize_t)cols};
    hid_t space = H5Screate_simple(rank, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, rank, chunk);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = space >= 0 && dcpl >= 0
                  ? H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)
                  : -1;
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return d;
}

int h5_dataset_write_create(MPI_Comm comm, const char *path, const int64_t rows[3],
                            int64_t n_features, int64_t chunk_rows, h5_dataset_writer **out)
{
    quiet_hdf5();
    *out = NULL;
    h5_dataset_writer *f = calloc(1, sizeof *f);
    /* H5Fcreate below is collective: a rank that returned here would leave
     * its peers waiting in it. */
    HPCML_ALLOC_ABORT(comm, f, "for the dataset writer");
    f->comm = comm;
    f->file = f->dxpl = -1;
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 3; k++)
            f->dset[s][k] = -1;
    memcpy(f->rows, rows, sizeof f->rows);
    f->n_features = n_features;
    snprintf(f->path, sizeof f->path, "%s", path);
    *out = f;

    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    H5Pset_alignment(fapl, ALIGN_THRESHOLD_BYTES, ALIGN_BYTES);
    H5Pset_all_coll_metadata_ops(fapl, 1);
    H5Pset_coll_metadata_write(fapl, 1);
    f->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f->file < 0) H5_FAIL("cannot create the file", "%s", path);
    f->dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(f->dxpl, H5FD_MPIO_COLLECTIVE);

    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(gcpl, 0);
    for (int s = 0; s < 3; s++) {
        char name[64];
        snprintf(name, sizeof name, "/%s", hpcml_split_names[s]);
        hid_t g = H5Gcreate2(f->file, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
        if (g < 0) {
            H5Pclose(gcpl);
            H5_FAIL("cannot create a group", "%s%s", path, name);
        }
        H5Gclose(g);
        snprintf(name, sizeof name, "/%s/X", hpcml_split_names[s]);
        f->dset[s][0] =
            make_dset(f->file, name, H5T_NATIVE_FLOAT, 2, rows[s], n_features, chunk_rows);
        snprintf(name, sizeof name, "/%s/y", hpcml_split_names[s]);
        f->dset[s][1] = make_dset(f->file, name, H5T_NATIVE_INT32, 1, rows[s], 1, chunk_rows);
        snprintf(name, sizeof name, "/%s/row_id", hpcml_split_names[s]);
        f->dset[s][2] = make_dset(f->file, name, H5T_NATIVE_INT64, 1, rows[s], 1, chunk_rows);
        for (int k = 0; k < 3; k++)
            if (f->dset[s][k] < 0) {
                H5Pclose(gcpl);
                H5_FAIL("cannot create a dataset", "%s/%s", path, hpcml_split_names[s]);
            }
    }
    H5Pclose(gcpl);
    /* Write the metadata now, while the file is small: if the raw data
     * writes then fail (disk full, file size limit), closing has little
     * left to flush. */
    if (H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0) H5_FAIL("cannot write the metadata", "%s", path);
    return HPCML_OK;
}

static int write_block(h5_dataset_writer *f, hid_t d, hid_t type, int rank, int64_t first,
                       int64_t n, int64_t cols, const void *data, const char *what)
{
    hsize_t start[2] = {(hsize_t)first, 0}, count[2] = {(hsize_t)n, (hsize_t)cols};
    hid_t fspace = H5Dget_space(d);
    hsize_t mdims[2] = {(hsize_t)(n > 0 ? n : 1), (hsize_t)cols};
    hid_t mspace = H5Screate_simple(rank, mdims, NULL);
    if (n > 0) {
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    } else {
        H5Sselect_none(fspace);
        H5Sselect_none(mspace);
    }
    /* Every rank calls H5Dwrite, also with nothing to write: it is collective. */
    herr_t st = H5Dwrite(d, type, mspace, fspace, f->dxpl, n > 0 ? data : NULL);
    H5Sclose(mspace);
    H5Sclose(fspace);
    if (st < 0) H5_FAIL("cannot write", "%s %s", f->path, what);
    return HPCML_OK;
}

int h5_dataset_write_x(h5_dataset_writer *f, int split, int64_t first_row, int64_t n_rows,
                       const float *X)
{
    char what[64];
    snprintf(what, sizeof what, "/%s/X", hpcml_split_names[split]);
    return write_block(f, f->dset[split][0], H5T_NATIVE_FLOAT, 2, first_row, n_rows,
                       f->n_features, X, what);
}

int h5_dataset_write_labels(h5_dataset_writer *f, int split, int64_t first_row, int64_t n_rows,
                            const int32_t *y, const int64_t *row_id)
{
    char what[64];
    /* Both writes happen whatever the first returns: they are collective. */
    snprintf(what, sizeof what, "/%s/y", hpcml_split_names[split]);
    int rc1 = write_block(f, f->dset[split][1], H5T_NATIVE_INT32, 1, first_row, n_rows, 1, y, what);
    snprintf(what, sizeof what, "/%s/row_id", hpcml_split_names[split]);
    int rc2 =
        write_block(f, f->dset[split][2], H5T_NATIVE_INT64, 1, first_row, n_rows, 1, row_id, what);
    return rc1 ? rc1 : rc2;
}

int h5_dataset_write_close(h5_dataset_writer *f, int *poisoned)
{
    *poisoned = 0;
    if (!f) return HPCML_OK;
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 3; k++)
            if (f->dset[s][k] >= 0) H5Dclose(f->dset[s][k]);
    if (f->dxpl >= 0) H5Pclose(f->dxpl);
    herr_t st = f->file >= 0 ? H5Fclose(f->file) : 0;
    char path[4096];
    snprintf(path, sizeof path, "%s", f->path);
    free(f);
    if (st < 0) {
        /* The library keeps the file open and would flush it again, and
         * crash, in MPI_Finalize: the caller must end with MPI_Abort. */
        *poisoned = 1;
        H5_FAIL("cannot close (flush) the file", "%s", path);
    }
    return HPCML_OK;
}

/* ---- serial /meta --------------------------------------------------------- */

int h5_meta_open(const char *path, hid_t *file)
{
    quiet_hdf5();
    *file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (*file < 0) H5_FAIL("cannot open for writing /meta", "%s", path);
    return HPCML_OK;
}

int h5_meta_close(hid_t file)
{
    if (H5Fclose(file) < 0) H5_FAIL("cannot close", "dataset file");
    return HPCML_OK;
}

int h5_meta_group(hid_t file, const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(gcpl, 0);
    int rc = HPCML_OK;
    for (char *p = buf + 1;; p++) {
        int end = *p == '\0';
        if (*p == '/' || end) {
            char saved = *p;
            *p = '\0';
            htri_t exists = H5Lexists(file, buf, H5P_DEFAULT);
            if (exists <= 0) {
                hid_t g = H5Gcreate2(file, buf, H5P_DEFAULT, gcpl, H5P_DEFAULT);
                if (g < 0) {
                    char cause[400];
                    rc = HPCML_FAIL(HPCML_EIO, "cannot create group %s: %s", buf, h5_cause(cause));
                    break;
                }
                H5Gclose(g);
            }
            *p = saved;
        }
        if (end) break;
    }
    H5Pclose(gcpl);
    return rc;
}


static int write_1d(hid_t file, const char *path, hid_t type, const void *data, int64_t n)
{
    hsize_t dims[1] = {(hsize_t)n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = H5Dcreate2(file, path, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t st = d >= 0 && n > 0 ? H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0;
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (d < 0 || st < 0) H5_FAIL("cannot write", "%s", path);
    return HPCML_OK;
}

int h5_meta_strings(hid_t file, const char *path, const char *const *strings, int64_t n)
{
    hid_t t = h5_vlen_string();
    int rc = write_1d(file, path, t, strings, n);
    H5Tclose(t);
    return rc;
}

int h5_meta_string(hid_t file, const char *path, const char *text)
{
    hid_t t = h5_vlen_string();
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = H5Dcreate2(file, path, t, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t st = d >= 0 ? H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) : -1;
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Tclose(t);
    if (st < 0) H5_FAIL("cannot write", "%s", path);
    return HPCML_OK;
}

int h5_meta_f64(hid_t file, const char *path, const double *v, int64_t n)
{
    return write_1d(file, path, H5T_NATIVE_DOUBLE, v, n);
}

int h5_meta_i64(hid_t file, const char *path, const int64_t *v, int64_t n)
{
    return write_1d(file, path, H5T_NATIVE_INT64, v, n);
}

static int write_attr(hid_t file, const char *obj, const char *name, hid_t type, const void *v)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a =
        H5Acreate_by_name(file, obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = a >= 0 ? H5Awrite(a, type, v) : -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    if (st < 0) H5_FAIL("cannot write attribute", "%s@%s", obj, name);
    return HPCML_OK;
}

int h5_meta_attr_str(hid_t file, const char *obj, const char *name, const char *text)
{
    hid_t t = h5_vlen_string();
    int rc = write_attr(file, obj, name, t, &text);
    H5Tclose(t);
    return rc;
}

int h5_meta_attr_f64(hid_t file, const char *obj, const char *name, double v)
{
    return write_attr(file, obj, name, H5T_NATIVE_DOUBLE, &v);
}

int h5_meta_attr_i64(hid_t file, const char *obj, const char *name, int64_t v)
{
    return write_attr(file, obj, name, H5T_NATIVE_INT64, &v);
}

int h5_meta_attr_i32(hid_t file, const char *obj, const char *name, int32_t v)
{
    return write_attr(file, obj, name, H5T_NATIVE_INT32, &v);
}
