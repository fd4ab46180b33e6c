/* profile_pmpi.c — MPI profiling-interface interposers: the time spent in MPI.
 *
 * Each MPI_X defined here times the real PMPI_X and adds the seconds to the
 * counters in profile.c (profile_internal.h). This file is compiled into every
 * executable rather than the static library, so the definitions are always
 * linked; being in the executable (and exported in its dynamic symbol table,
 * which the linker does for symbols that shared libraries such as libhdf5
 * reference) they also catch the MPI calls made by HDF5's MPI-IO driver.
 *
 * Only the outermost intercepted call of a thread is timed: when an MPI
 * implementation calls a public MPI_ function from inside another one, the
 * inner call passes straight through, so no second is counted twice. */
#include <mpi.h>
#include <time.h>

#include "core/clock.h"
#include "core/profile_internal.h"

static _Thread_local int g_inside;

__attribute__((constructor)) static void pmpi_mark_linked(void) { hpcml_pmpi_linked = 1; }

#define PMPI_TIMED(name, call)                                                                     \
    do {                                                                                           \
        if (g_inside) return call;                                                                 \
        g_inside = 1;                                                                              \
        double t0_ = hpcml_mono_s();                                                                     \
        int rc_ = call;                                                                            \
        double dt_ = hpcml_mono_s() - t0_;                                                               \
        g_inside = 0;                                                                              \
        hpcml_pmpi_counters[HPCML_PMPI_##name].seconds += dt_;                                     \
        hpcml_pmpi_counters[HPCML_PMPI_##name].calls++;                                            \
        hpcml_pmpi_total_s += dt_;                                                                 \
        return rc_;                                                                                \
    } while (0)

/* ---- collectives ---------------------------------------------------------- */

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                  MPI_Comm comm)
{
    PMPI_TIMED(Allreduce, PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm));
}

int MPI_Iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                   MPI_Comm comm, MPI_Request *request)
{
    PMPI_TIMED(Iallreduce, PMPI_Iallreduce(sendbuf, recvbuf, count, datatype, op, comm, request));
}

int MPI_Reduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
               int root, MPI_Comm comm)
{
    PMPI_TIMED(Reduce, PMPI_Reduce(sendbuf, recvbuf, count, datatype, op, root, comm));
}

int MPI_Bcast(void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm)
{
    PMPI_TIMED(Bcast, PMPI_Bcast(buffer, count, datatype, root, comm));
}

int MPI_Barrier(MPI_Comm comm) { PMPI_TIMED(Barrier, PMPI_Barrier(comm)); }

int MPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                  int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
    PMPI_TIMED(Allgather,
               PMPI_Allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm));
}

int MPI_Allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                   const int recvcounts[], const int displs[], MPI_Datatype recvtype, MPI_Comm comm)
{
    PMPI_TIMED(Allgatherv, PMPI_Allgatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts,
                                           displs, recvtype, comm));
}

int MPI_Gather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
               int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm)
{
    PMPI_TIMED(Gather,
               PMPI_Gather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm));
}

int MPI_Gatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                const int recvcounts[], const int displs[], MPI_Datatype recvtype, int root,
                MPI_Comm comm)
{
    PMPI_TIMED(Gatherv, PMPI_Gatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs,
                                     recvtype, root, comm));
}

int MPI_Alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                 int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
    PMPI_TIMED(Alltoall,
               PMPI_Alltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm));
}

int MPI_Alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
                  MPI_Datatype sendtype, void *recvbuf, const int recvcounts[], const int rdispls[],
                  MPI_Datatype recvtype, MPI_Comm comm)
{
    PMPI_TIMED(Alltoallv, PMPI_Alltoallv(sendbuf, sendcounts, sdispls, sendtype, recvbuf,
                                         recvcounts, rdispls, recvtype, comm));
}

int MPI_Scan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
             MPI_Comm comm)
{
    PMPI_TIMED(Scan, PMPI_Scan(sendbuf, recvbuf, count, datatype, op, comm));
}

int MPI_Exscan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
               MPI_Comm comm)
{
    PMPI_TIMED(Exscan, PMPI_Exscan(sendbuf, recvbuf, count, datatype, op, comm));
}

/* ---- completion and point to point ---------------------------------------- */

int MPI_Wait(MPI_Request *request, MPI_Status *status)
{
    PMPI_TIMED(Wait, PMPI_Wait(request, status));
}

int MPI_Waitall(int count, MPI_Request array_of_requests[], MPI_Status *array_of_statuses)
{
    PMPI_TIMED(Waitall, PMPI_Waitall(count, array_of_requests, array_of_statuses));
}

int MPI_Send(const void *buf, int count, MPI_Datatype datatype, int dest, int tag, MPI_Comm comm)
{
    PMPI_TIMED(Send, PMPI_Send(buf, count, datatype, dest, tag, comm));
}

int MPI_Recv(void *buf, int count, MPI_Datatype datatype, int source, int tag, MPI_Comm comm,
             MPI_Status *status)
{
    PMPI_TIMED(Recv, PMPI_Recv(buf, count, datatype, source, tag, comm, status));
}

int MPI_Sendrecv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, int dest, int sendtag,
                 void *recvbuf, int recvcount, MPI_Datatype recvtype, int source, int recvtag,
                 MPI_Comm comm, MPI_Status *status)
{
    PMPI_TIMED(Sendrecv, PMPI_Sendrecv(sendbuf, sendcount, sendtype, dest, sendtag, recvbuf,
                                       recvcount, recvtype, source, recvtag, comm, status));
}

/* ---- MPI-IO (what HDF5's mpio driver and trace.json use) ------------------- */

int MPI_File_open(MPI_Comm comm, const char *filename, int amode, MPI_Info info, MPI_File *fh)
{
    PMPI_TIMED(File_open, PMPI_File_open(comm, filename, amode, info, fh));
}

int MPI_File_close(MPI_File *fh) { PMPI_TIMED(File_close, PMPI_File_close(fh)); }

int MPI_File_set_view(MPI_File fh, MPI_Offset disp, MPI_Datatype etype, MPI_Datatype filetype,
                      const char *datarep, MPI_Info info)
{
    PMPI_TIMED(File_set_view, PMPI_File_set_view(fh, disp, etype, filetype, datarep, info));
}

int MPI_File_write_at(MPI_File fh, MPI_Offset offset, const void *buf, int count,
                      MPI_Datatype datatype, MPI_Status *status)
{
    PMPI_TIMED(File_write_at, PMPI_File_write_at(fh, offset, buf, count, datatype, status));
}

int MPI_File_read_at(MPI_File fh, MPI_Offset offset, void *buf, int count, MPI_Datatype datatype,
                     MPI_Status *status)
{
    PMPI_TIMED(File_read_at, PMPI_File_read_at(fh, offset, buf, count, datatype, status));
}

int MPI_File_write_at_all(MPI_File fh, MPI_Offset offset, const void *buf, int count,
                          MPI_Datatype datatype, MPI_Status *status)
{
    PMPI_TIMED(File_write_at_all, PMPI_File_write_at_all(fh, offset, buf, count, datatype, status));
}

int MPI_File_read_at_all(MPI_File fh, MPI_Offset offset, void *buf, int count,
                         MPI_Datatype datatype, MPI_Status *status)
{
    PMPI_TIMED(File_read_at_all, PMPI_File_read_at_all(fh, offset, buf, count, datatype, status));
}

int MPI_File_write_all(MPI_File fh, const void *buf, int count, MPI_Datatype datatype,
                       MPI_Status *status)
{
    PMPI_TIMED(File_write_all, PMPI_File_write_all(fh, buf, count, datatype, status));
}

int MPI_File_read_all(MPI_File fh, void *buf, int count, MPI_Datatype datatype, MPI_Status *status)
{
    PMPI_TIMED(File_read_all, PMPI_File_read_all(fh, buf, count, datatype, status));
}
