/* gpu_comm.h — summing device-memory gradients over ranks.
 *
 * With NCCL (nn/gpu.h): the communicator is bootstrapped through MPI (rank 0
 * makes the unique id, MPI_Bcast sends it, every rank joins), and the
 * allreduce is enqueued on the GPU's compute stream. Without NCCL, or with
 * HPCML_GPU_ALLREDUCE=mpi in the environment, the gradients are copied to
 * the host, summed with MPI_Allreduce and copied back: slower, but it needs
 * nothing beyond MPI. One rank needs neither. */
#ifndef HPCML_TRAIN_GPU_COMM_H
#define HPCML_TRAIN_GPU_COMM_H

#include <mpi.h>
#include <stddef.h>

#include "nn/backend.h"

typedef struct {
    MPI_Comm comm;
    int size;
    const nn_backend *be;
    void *nccl;  /* NCCL communicator, or NULL */
    float *host; /* staging for the MPI path (n floats), or NULL */
    size_t n;
} gpu_comm;

/* Collective over comm: n floats per allreduce at most; allow_nccl = 0
 * takes the MPI path (ranks sharing a GPU, which NCCL refuses). */
int gpu_comm_open(gpu_comm *gc, MPI_Comm comm, const nn_backend *be, size_t n, int allow_nccl);
void gpu_comm_close(gpu_comm *gc); /* safe on a zeroed gpu_comm */
/* nn_allreduce_fn (ctx = the gpu_comm): in-place sum of buf[0..n) in backend memory. */
int gpu_comm_allreduce(float *buf, size_t n, void *ctx);
/* "NCCL", "MPI through host memory" or "none (1 rank)" */
const char *gpu_comm_kind(const gpu_comm *gc);

#endif
