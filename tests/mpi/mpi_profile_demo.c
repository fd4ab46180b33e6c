/* mpi_profile_demo.c — exercises profile.h end to end for test_profile.sh.
 *
 *   mpirun -np N mpi_profile_demo OUT_DIR [--mismatch]
 *
 * Runs nested stages that each do one known kind of work — CPU, 4 MiB of
 * file writes, an MPI_Allreduce loop, repeated "epoch"/"step" stages and a
 * small parallel HDF5 write (whose only MPI calls are HDF5's own, so a count
 * for MPI_File_* in profile.json proves the interposers catch them) — then
 * writes OUT_DIR/profile.json and OUT_DIR/trace.json. With --mismatch the
 * last rank opens one extra stage, which profile_write must refuse on every
 * rank without hanging. Exit status: the hpcml status of the first failure. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/profile.h"
#include "core/status.h"

#define DEMO_WRITE_BYTES (4 << 20)
#define DEMO_EPOCHS 5
#define DEMO_STEPS 3

static volatile double g_sink;

static void busy_work(long iters)
{
    double acc = 0.0;
    for (long i = 0; i < iters; i++)
        acc += 1.0 / (double)(i + 1);
    g_sink = acc;
}

static int write_scratch(const char *dir, int rank)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/scratch.%d", dir, rank);
    FILE *fp = fopen(path, "wb");
    HPCML_CHECK(fp != NULL, HPCML_EIO, "cannot create %s", path);
    static char block[1 << 16];
    memset(block, 'x', sizeof block);
    for (size_t done = 0; done < DEMO_WRITE_BYTES; done += sizeof block) {
        if (fwrite(block, 1, sizeof block, fp) != sizeof block) {
            fclose(fp);
            return HPCML_FAIL(HPCML_EIO, "cannot write %s", path);
        }
    }
    HPCML_CHECK(fclose(fp) == 0, HPCML_EIO, "cannot close %s", path);
    unlink(path);
    return HPCML_OK;
}

static void allreduce_loop(int iters)
{
    double in[1024], out[1024];
    for (int i = 0; i < 1024; i++)
        in[i] = i;
    for (int i = 0; i < iters; i++)
        MPI_Allreduce(in, out, 1024, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

/* Collective: every rank writes its 256 doubles of one dataset. */
static int hdf5_write(const char *dir, int rank, int size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/demo.h5", dir);
    int st = HPCML_OK;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (file < 0) return HPCML_FAIL(HPCML_EIO, "cannot create %s", path);
    hsize_t rows = 256, total = rows * (hsize_t)size, start = rows * (hsize_t)rank;
    hid_t fspace = H5Screate_simple(1, &total, NULL);
    hid_t dset =
        H5Dcreate2(file, "x", H5T_NATIVE_DOUBLE, fspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t mspace = H5Screate_simple(1, &rows, NULL);
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &rows, NULL);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
    double buf[256];
    for (int i = 0; i < 256; i++)
        buf[i] = rank + i * 1e-3;
    if (dset < 0 || H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, fspace, dxpl, buf) < 0)
        st = HPCML_FAIL(HPCML_EIO, "cannot write %s", path);
    H5Pclose(dxpl);
    H5Sclose(mspace);
    if (dset >= 0) H5Dclose(dset);
    H5Sclose(fspace);
    if (H5Fclose(file) < 0 && st == HPCML_OK) st = HPCML_FAIL(HPCML_EIO, "cannot close %s", path);
    return st;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank = hpcml_mpi_rank(MPI_COMM_WORLD), size = hpcml_mpi_size(MPI_COMM_WORLD);
    log_init(rank, LOG_INFO);
    int mismatch = argc == 3 && strcmp(argv[2], "--mismatch") == 0;
    if (argc != 2 && !mismatch) {
        if (rank == 0) fprintf(stderr, "usage: %s OUT_DIR [--mismatch]\n", argv[0]);
        MPI_Finalize();
        return HPCML_EUSAGE;
    }
    const char *dir = argv[1];
    int st = hpcml_mpi_agree(MPI_COMM_WORLD, rank == 0 ? fs_mkdir_p(dir) : HPCML_OK);

    profile_init("mpi_profile_demo");
    profile_begin("demo");
    if (st == HPCML_OK) {
        profile_begin("compute");
        busy_work(20 * 1000 * 1000);
        profile_end();

        profile_begin("write_file");
        st = hpcml_mpi_agree(MPI_COMM_WORLD, write_scratch(dir, rank));
        profile_end();
    }
    if (st == HPCML_OK) {
        profile_begin("allreduce");
        allreduce_loop(200);
        profile_end();

        for (int e = 0; e < DEMO_EPOCHS; e++) {
            profile_begin("epoch");
            for (int s = 0; s < DEMO_STEPS; s++) {
                profile_begin("step");
                busy_work(200 * 1000);
                profile_end();
            }
            profile_end();
        }

        profile_begin("hdf5_write");
        st = hpcml_mpi_agree(MPI_COMM_WORLD, hdf5_write(dir, rank, size));
        profile_end();

        if (mismatch && rank == size - 1) {
            profile_begin("only_on_the_last_rank");
            profile_end();
        }
    }
    profile_end();

    if (st == HPCML_OK) st = profile_write(MPI_COMM_WORLD, dir);
    if (st != HPCML_OK && rank == 0)
        fprintf(stderr, "error: %s [%s]\n", hpcml_error_message(), hpcml_error_where());
    MPI_Finalize();
    return st;
}
