/* gpu_stub.c — gpu.h for builds without CUDA: no device is ever usable, so
 * train.device = "auto" falls back to the CPU and "cuda" is refused with a
 * message saying why. */
#if !HPCML_WITH_CUDA
#include <stdio.h>

#include "core/status.h"
#include "nn/gpu.h"

const nn_backend *nn_gpu_backend(void)
{
    return NULL;
}

int nn_gpu_built(void)
{
    return 0;
}
int nn_gpu_nccl_built(void)
{
    return 0;
}

int nn_gpu_device_count(char *why, size_t why_len)
{
    if (why && why_len) snprintf(why, why_len, "this hpcml was built without CUDA (HPCML_CUDA)");
    return 0;
}

int nn_gpu_open(int device, nn_gpu_math math)
{
    (void)device;
    (void)math;
    return HPCML_FAIL(HPCML_EUSAGE, "this hpcml was built without CUDA: no GPU backend");
}

void nn_gpu_close(void) {}

int nn_gpu_describe(char *buf, size_t len)
{
    if (buf && len) snprintf(buf, len, "none (built without CUDA)");
    return HPCML_OK;
}

int nn_gpu_pci_bus_id(char *buf, size_t len)
{
    if (buf && len) buf[0] = '\0';
    return HPCML_FAIL(HPCML_EUSAGE, "this hpcml was built without CUDA: no GPU");
}

int nn_gpu_synchronize(void)
{
    return HPCML_OK;
}

int nn_gpu_nccl_unique_id(unsigned char id[NN_GPU_NCCL_ID_BYTES])
{
    (void)id;
    return HPCML_FAIL(HPCML_EUSAGE, "this hpcml was built without NCCL");
}

int nn_gpu_nccl_open(const unsigned char id[NN_GPU_NCCL_ID_BYTES], int nranks, int rank,
                     void **comm)
{
    (void)id;
    (void)nranks;
    (void)rank;
    *comm = NULL;
    return HPCML_FAIL(HPCML_EUSAGE, "this hpcml was built without NCCL");
}

void nn_gpu_nccl_close(void *comm)
{
    (void)comm;
}

int nn_gpu_nccl_allreduce(float *buf, size_t n, void *ctx)
{
    (void)buf;
    (void)n;
    (void)ctx;
    return HPCML_FAIL(HPCML_EINTERNAL, "this hpcml was built without NCCL");
}
#else
/* With CUDA the definitions are in cuda/backend_cuda.cu and cuda/nccl_comm.cu. */
typedef int hpcml_gpu_stub_unused;
#endif
