/* predictions_file.c — collective HDF5 write of predictions. See
 * predictions_file.h. */
#include "io/predictions_file.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "io/h5_util.h"

static int write_part(hid_t file, const char *name, hid_t ftype, hid_t mtype, int rank,
                      uint64_t total, uint64_t offset, uint64_t rows, uint64_t cols,
                      const void *data)
{
    hsize_t dims[2] = {total, cols};
    hsize_t mdims[2] = {rows ? rows : 1, cols};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t fsp = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(file, name, ftype, fsp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    hid_t msp = H5Screate_simple(rank, mdims, NULL);
    h5_select_rows(fsp, msp, offset, rows, cols);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
    int bad = ds < 0 || (total > 0 && H5Dwrite(ds, mtype, msp, fsp, dxpl, data) < 0);
    H5Pclose(dxpl);
    H5Sclose(msp);
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(fsp);
    H5Pclose(dcpl);
    return bad ? -1 : 0;
}

static int write_attrs(hid_t file, const char *split, double threshold)
{
    const char *names[2] = {"hpcml_format", "split"}, *values[2] = {"hpcml-predictions", split};
    int bad = 0;
    for (int i = 0; i < 2; i++) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, strlen(values[i]) + 1);
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(file, names[i], t, sp, H5P_DEFAULT, H5P_DEFAULT);
        bad |= a < 0 || H5Awrite(a, t, values[i]) < 0;
        if (a >= 0) H5Aclose(a);
        H5Sclose(sp);
        H5Tclose(t);
    }
    int32_t version = 1;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(file, "format_version", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    bad |= a < 0 || H5Awrite(a, H5T_NATIVE_INT32, &version) < 0;
    if (a >= 0) H5Aclose(a);
    a = H5Acreate2(file, "threshold", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    bad |= a < 0 || H5Awrite(a, H5T_NATIVE_DOUBLE, &threshold) < 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return bad ? -1 : 0;
}

/* Collective: path created for parallel I/O over comm, no time stamps. */
static hid_t create_parallel(const char *path, MPI_Comm comm)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    H5Pclose(fapl);
    return file;
}

/* The score and decision of each row (predictions_file.h). */
static void score_rows(const float *prob, uint64_t rows, int classes, double threshold,
                       float *score, int32_t *pred)
{
    for (uint64_t i = 0; i < rows; i++) {
        const float *p = prob + i * (uint64_t)classes;
        int best = 0;
        for (int c = 1; c < classes; c++)
            if (p[c] > p[best]) best = c;
        score[i] = classes == 2 ? p[1] : p[best];
        pred[i] = classes == 2 ? (double)p[1] >= threshold : best;
    }
}

int predictions_write(const char *path, MPI_Comm comm, const char *split, uint64_t total,
                      uint64_t offset, uint64_t rows, int classes, const int64_t *row_id,
                      const int32_t *label, const float *prob, double threshold)
{
    int rank = hpcml_mpi_rank(comm);
    /* Local phase: scores and decisions. */
    float *score = malloc((rows ? rows : 1) * sizeof *score);
    int32_t *pred = malloc((rows ? rows : 1) * sizeof *pred);
    int rc = score && pred ? HPCML_OK
                           : HPCML_FAIL(HPCML_EINTERNAL, "out of memory for %llu predictions",
                                        (unsigned long long)rows);
    if (rc == HPCML_OK) score_rows(prob, rows, classes, threshold, score, pred);
    rc = hpcml_mpi_agree(comm, rc);
    if (rc != HPCML_OK) goto done;
    char tmp[4200]; /* rank 0's name on every rank: one file across nodes */
    HPCML_TRY_GOTO(rc, hpcml_mpi_tmp_name(comm, path, tmp, sizeof tmp), done);

    /* Collective phase: every rank makes the same HDF5 calls. */
    h5_quiet q;
    h5_quiet_begin(&q);
    hid_t file = create_parallel(tmp, comm);
    int bad = file < 0;
    if (!bad) {
        bad |= write_part(file, "/row_id", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, total, offset, rows,
                          1, row_id);
        bad |= write_part(file, "/label", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, total, offset, rows,
                          1, label);
        bad |= write_part(file, "/prob", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, total, offset, rows,
                          (uint64_t)classes, prob);
        bad |= write_part(file, "/score", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, total, offset, rows,
                          1, score);
        bad |= write_part(file, "/predicted", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, total, offset,
                          rows, 1, pred);
        bad |= write_attrs(file, split, threshold);
        bad |= H5Fclose(file) < 0;
    }
    h5_quiet_end(&q);
    rc = bad ? HPCML_FAIL(HPCML_EIO, "cannot write predictions %s", tmp) : HPCML_OK;
    rc = hpcml_mpi_agree(comm, rc);
    if (rc == HPCML_OK)
        rc = hpcml_mpi_agree(comm, rank == 0 ? atomic_rename_durable(tmp, path) : HPCML_OK);
    else if (rank == 0)
        unlink(tmp);
done:
    free(score);
    free(pred);
    return rc;
}

/* ---- streaming ------------------------------------------------------------------- */

static hid_t create_ds(hid_t loc, const char *name, hid_t ftype, int rank, uint64_t total,
                       uint64_t cols)
{
    hsize_t dims[2] = {total, cols};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY); /* independent writes need the space */
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Sclose(sp);
    H5Pclose(dcpl);
    return ds;
}

static hid_t id_type(size_t width)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, width ? width : 1);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

int predictions_stream_create(predictions_stream *w, const char *path, MPI_Comm comm,
                              const char *split, uint64_t total, int classes, double threshold,
                              int n_ids, const char *const *id_names, const int64_t *id_width)
{
    memset(w, 0, sizeof *w);
    w->file = -1;
    for (int k = 0; k < 5; k++)
        w->ds[k] = -1;
    w->classes = classes;
    w->threshold = threshold;
    w->n_ids = n_ids;
    snprintf(w->path, sizeof w->path, "%s", path);
    w->id_ds = malloc(((size_t)n_ids + 1) * sizeof *w->id_ds);
    w->id_width = malloc(((size_t)n_ids + 1) * sizeof *w->id_width);
    int bad = !w->id_ds || !w->id_width;
    HPCML_TRY(hpcml_mpi_agree(comm, bad ? HPCML_FAIL(HPCML_EINTERNAL, "out of memory") : HPCML_OK));
    for (int k = 0; k < n_ids; k++) {
        w->id_ds[k] = -1;
        w->id_width[k] = id_width[k] > 0 ? (size_t)id_width[k] : 1;
    }
    /* Collective phase: every rank makes the same HDF5 calls. */
    h5_quiet q;
    h5_quiet_begin(&q);
    w->file = create_parallel(path, comm);
    bad = w->file < 0;
    if (!bad) {
        w->ds[0] = create_ds(w->file, "/row_id", H5T_STD_I64LE, 1, total, 1);
        w->ds[1] = create_ds(w->file, "/label", H5T_STD_I32LE, 1, total, 1);
        w->ds[2] = create_ds(w->file, "/prob", H5T_IEEE_F32LE, 2, total, (uint64_t)classes);
        w->ds[3] = create_ds(w->file, "/score", H5T_IEEE_F32LE, 1, total, 1);
        w->ds[4] = create_ds(w->file, "/predicted", H5T_STD_I32LE, 1, total, 1);
        for (int k = 0; k < 5; k++)
            bad |= w->ds[k] < 0;
        bad |= write_attrs(w->file, split, threshold);
    }
    if (!bad && n_ids > 0) {
        hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
        H5Pset_obj_track_times(gcpl, 0);
        hid_t g = H5Gcreate2(w->file, "/id", H5P_DEFAULT, gcpl, H5P_DEFAULT);
        H5Pclose(gcpl);
        bad |= g < 0;
        for (int k = 0; k < n_ids && !bad; k++) {
            char name[1024];
            h5_group_name(id_names[k], name, sizeof name);
            hid_t t = id_type(w->id_width[k]);
            w->id_ds[k] = create_ds(g, name, t, 1, total, 1);
            H5Tclose(t);
            bad |= w->id_ds[k] < 0;
            if (bad) break;
            hid_t st = H5Tcopy(H5T_C_S1);
            H5Tset_size(st, strlen(id_names[k]) + 1);
            H5Tset_cset(st, H5T_CSET_UTF8);
            hid_t sp = H5Screate(H5S_SCALAR);
            hid_t a = H5Acreate2(w->id_ds[k], "name", st, sp, H5P_DEFAULT, H5P_DEFAULT);
            bad |= a < 0 || H5Awrite(a, st, id_names[k]) < 0;
            if (a >= 0) H5Aclose(a);
            int32_t order = k;
            a = H5Acreate2(w->id_ds[k], "order", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
            bad |= a < 0 || H5Awrite(a, H5T_NATIVE_INT32, &order) < 0;
            if (a >= 0) H5Aclose(a);
            H5Sclose(sp);
            H5Tclose(st);
        }
        if (g >= 0) H5Gclose(g);
    }
    h5_quiet_end(&q);
    int rc = bad ? HPCML_FAIL(HPCML_EIO, "cannot create predictions %s", path) : HPCML_OK;
    rc = hpcml_mpi_agree(comm, rc);
    if (rc != HPCML_OK) predictions_stream_close(w, comm);
    return rc;
}

static int write_rows(hid_t ds, hid_t mtype, uint64_t offset, uint64_t rows, uint64_t cols,
                      const void *data)
{
    hid_t fsp = H5Dget_space(ds);
    hsize_t mdims[2] = {rows, cols};
    hid_t msp = H5Screate_simple(cols > 1 ? 2 : 1, mdims, NULL);
    h5_select_rows(fsp, msp, offset, rows, cols);
    int bad = H5Dwrite(ds, mtype, msp, fsp, H5P_DEFAULT, data) < 0;
    H5Sclose(msp);
    H5Sclose(fsp);
    return bad;
}

int predictions_stream_write(predictions_stream *w, uint64_t offset, uint64_t rows,
                             const int64_t *row_id, const int32_t *label, const float *prob,
                             char *const *ids)
{
    if (rows == 0) return HPCML_OK;
    float *score = malloc(rows * sizeof *score);
    int32_t *pred = malloc(rows * sizeof *pred);
    if (!score || !pred) {
        free(score);
        free(pred);
        return HPCML_FAIL(HPCML_EINTERNAL, "out of memory for %llu predictions",
                          (unsigned long long)rows);
    }
    score_rows(prob, rows, w->classes, w->threshold, score, pred);
    h5_quiet q;
    h5_quiet_begin(&q);
    int bad = write_rows(w->ds[0], H5T_NATIVE_INT64, offset, rows, 1, row_id);
    bad |= write_rows(w->ds[1], H5T_NATIVE_INT32, offset, rows, 1, label);
    bad |= write_rows(w->ds[2], H5T_NATIVE_FLOAT, offset, rows, (uint64_t)w->classes, prob);
    bad |= write_rows(w->ds[3], H5T_NATIVE_FLOAT, offset, rows, 1, score);
    bad |= write_rows(w->ds[4], H5T_NATIVE_INT32, offset, rows, 1, pred);
    for (int k = 0; k < w->n_ids && !bad; k++) {
        hid_t t = id_type(w->id_width[k]);
        bad |= write_rows(w->id_ds[k], t, offset, rows, 1, ids[k]);
        H5Tclose(t);
    }
    h5_quiet_end(&q);
    free(score);
    free(pred);
    return bad ? HPCML_FAIL(HPCML_EIO, "cannot write predictions %s", w->path) : HPCML_OK;
}

int predictions_stream_close(predictions_stream *w, MPI_Comm comm)
{
    h5_quiet q;
    h5_quiet_begin(&q);
    int bad = 0;
    for (int k = 0; k < 5; k++)
        if (w->ds[k] >= 0) bad |= H5Dclose(w->ds[k]) < 0;
    for (int k = 0; w->id_ds && k < w->n_ids; k++)
        if (w->id_ds[k] >= 0) bad |= H5Dclose(w->id_ds[k]) < 0;
    if (w->file >= 0) bad |= H5Fclose(w->file) < 0;
    h5_quiet_end(&q);
    free(w->id_ds);
    free(w->id_width);
    int was_open = w->file >= 0;
    memset(w->ds, 0xff, sizeof w->ds);
    w->id_ds = NULL;
    w->id_width = NULL;
    w->file = -1;
    int rc = was_open && bad ? HPCML_FAIL(HPCML_EIO, "cannot close predictions %s", w->path)
                             : HPCML_OK;
    return hpcml_mpi_agree(comm, rc);
}
