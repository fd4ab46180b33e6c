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
    for (uint64_t i = 0; rc == HPCML_OK && i < rows; i++) {
        const float *p = prob + i * (uint64_t)classes;
        int best = 0;
        for (int c = 1; c < classes; c++)
            if (p[c] > p[best]) best = c;
        score[i] = classes == 2 ? p[1] : p[best];
        pred[i] = classes == 2 ? (double)p[1] >= threshold : best;
    }
    long token = (long)getpid();
    rc = hpcml_mpi_agree(comm, rc);
    if (rc != HPCML_OK) goto done;
    HPCML_MPI_CHECK_GOTO(rc, MPI_Bcast(&token, 1, MPI_LONG, 0, comm), done);
    char tmp[4200];
    atomic_tmp_name(tmp, sizeof tmp, path, token);

    /* Collective phase: every rank makes the same HDF5 calls. */
    h5_quiet q;
    h5_quiet_begin(&q);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0);
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    H5Pclose(fapl);
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
