/* gpu_comm.c — NCCL (bootstrapped through MPI) or host-staged MPI sums of
 * device gradients. See gpu_comm.h. */
#include "train/gpu_comm.h"

#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "nn/gpu.h"

static int want_nccl(void)
{
    const char *v = getenv("HPCML_GPU_ALLREDUCE");
    return nn_gpu_nccl_built() && !(v && strcmp(v, "mpi") == 0);
}

int gpu_comm_open(gpu_comm *gc, MPI_Comm comm, const nn_backend *be, size_t n, int allow_nccl)
{
    memset(gc, 0, sizeof *gc);
    gc->comm = comm;
    gc->be = be;
    gc->n = n;
    int rank;
    HPCML_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    HPCML_MPI_CHECK(MPI_Comm_size(comm, &gc->size));
    if (gc->size == 1) return HPCML_OK;
    if (allow_nccl && want_nccl()) {
        unsigned char id[NN_GPU_NCCL_ID_BYTES];
        memset(id, 0, sizeof id);
        int rc = hpcml_mpi_agree(comm, rank == 0 ? nn_gpu_nccl_unique_id(id) : HPCML_OK);
        if (rc != HPCML_OK) return rc;
        HPCML_MPI_CHECK(MPI_Bcast(id, NN_GPU_NCCL_ID_BYTES, MPI_BYTE, 0, comm));
        return hpcml_mpi_agree(comm, nn_gpu_nccl_open(id, gc->size, rank, &gc->nccl));
    }
    gc->host = malloc((n ? n : 1) * sizeof *gc->host);
    return hpcml_mpi_agree(
        comm, gc->host ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory (%zu floats)", n));
}

void gpu_comm_close(gpu_comm *gc)
{
    nn_gpu_nccl_close(gc->nccl);
    free(gc->host);
    memset(gc, 0, sizeof *gc);
}

int gpu_comm_allreduce(float *buf, size_t n, void *ctx)
{
    gpu_comm *gc = ctx;
    if (gc->size <= 1 || n == 0) return HPCML_OK;
    if (gc->nccl) return nn_gpu_nccl_allreduce(buf, n, gc->nccl);
    HPCML_CHECK(n <= gc->n && n <= (size_t)0x7fffffff, HPCML_EINTERNAL,
                "gpu_comm: allreduce of %zu floats (room for %zu)", n, gc->n);
    HPCML_TRY(gc->be->copy_to_host(gc->host, buf, n * sizeof(float)));
    HPCML_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, gc->host, (int)n, MPI_FLOAT, MPI_SUM, gc->comm));
    return gc->be->copy_to_device(buf, gc->host, n * sizeof(float));
}

const char *gpu_comm_kind(const gpu_comm *gc)
{
    return gc->size <= 1 ? "none (1 rank)" : gc->nccl ? "NCCL" : "MPI through host memory";
}
