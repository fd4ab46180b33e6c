/* nccl_comm.cu — the gradient allreduce of the CUDA backend over NCCL (gpu.h).
 * The caller bootstraps the communicator through MPI: rank 0 makes the
 * unique id, MPI_Bcast carries it, every rank opens (train/gpu_comm.c).
 * The allreduce is enqueued on the compute stream, so it runs after the
 * backward pass that wrote the gradients and before the optimizer step,
 * with no host synchronization. Without NCCL (HPCML_WITH_NCCL=0) these
 * report that it is missing and the trainer sums on the host over MPI. */
#include <cstring>

#include "cuda/cuda_check.h"

extern "C" {
#include "nn/gpu.h"
}

#if HPCML_WITH_NCCL
#include <nccl.h>

static_assert(sizeof(ncclUniqueId) == NN_GPU_NCCL_ID_BYTES, "NCCL unique id size");

#define NCCL_TRY(call)                                                                             \
    do {                                                                                           \
        ncclResult_t nccl_rc_ = (call);                                                            \
        if (nccl_rc_ != ncclSuccess)                                                               \
            return HPCML_FAIL(HPCML_EINTERNAL, "%s: %s (%s)", #call, ncclGetErrorString(nccl_rc_), \
                              ncclGetLastError(NULL));                                             \
    } while (0)

extern "C" int nn_gpu_nccl_built(void)
{
    return 1;
}

extern "C" int nn_gpu_nccl_unique_id(unsigned char id[NN_GPU_NCCL_ID_BYTES])
{
    ncclUniqueId uid;
    NCCL_TRY(ncclGetUniqueId(&uid));
    memcpy(id, &uid, sizeof uid);
    return HPCML_OK;
}

extern "C" int nn_gpu_nccl_open(const unsigned char id[NN_GPU_NCCL_ID_BYTES], int nranks, int rank,
                                void **comm)
{
    *comm = NULL;
    HPCML_CHECK(gpu_state_.open, HPCML_EINTERNAL, "nn_gpu_nccl_open before nn_gpu_open");
    ncclUniqueId uid;
    memcpy(&uid, id, sizeof uid);
    ncclComm_t c;
    NCCL_TRY(ncclCommInitRank(&c, nranks, uid, rank));
    *comm = c;
    return HPCML_OK;
}

extern "C" void nn_gpu_nccl_close(void *comm)
{
    if (comm) (void)ncclCommDestroy((ncclComm_t)comm); /* teardown: nothing to act on */
}

extern "C" int nn_gpu_nccl_allreduce(float *buf, size_t n, void *ctx)
{
    HPCML_CHECK(gpu_state_.open && ctx, HPCML_EINTERNAL, "NCCL allreduce without a communicator");
    if (n == 0) return HPCML_OK;
    NCCL_TRY(ncclAllReduce(buf, buf, n, ncclFloat, ncclSum, (ncclComm_t)ctx, gpu_state_.compute));
    return HPCML_OK;
}

#else /* CUDA without NCCL */

extern "C" int nn_gpu_nccl_built(void)
{
    return 0;
}

extern "C" int nn_gpu_nccl_unique_id(unsigned char id[NN_GPU_NCCL_ID_BYTES])
{
    (void)id;
    return HPCML_FAIL(HPCML_EUSAGE, "this hpcml was built without NCCL");
}

extern "C" int nn_gpu_nccl_open(const unsigned char id[NN_GPU_NCCL_ID_BYTES], int nranks, int rank,
                                void **comm)
{
    (void)id;
    (void)nranks;
    (void)rank;
    *comm = NULL;
    return HPCML_FAIL(HPCML_EUSAGE, "this hpcml was built without NCCL");
}

extern "C" void nn_gpu_nccl_close(void *comm)
{
    (void)comm;
}

extern "C" int nn_gpu_nccl_allreduce(float *buf, size_t n, void *ctx)
{
    (void)buf;
    (void)n;
    (void)ctx;
    return HPCML_FAIL(HPCML_EINTERNAL, "this hpcml was built without NCCL");
}
#endif
