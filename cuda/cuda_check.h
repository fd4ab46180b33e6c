/* cuda_check.h — the CUDA room's check macros and shared state: every CUDA,
 * cuBLAS and NCCL call's result is checked where it is made and turned into
 * an hpcml error naming the call, file and line (status.h), never ignored. */
#ifndef HPCML_CUDA_CHECK_H
#define HPCML_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>

extern "C" {
#include "core/status.h"
}

#define CUDA_TRY(call)                                                                             \
    do {                                                                                           \
        cudaError_t cuda_rc_ = (call);                                                             \
        if (cuda_rc_ != cudaSuccess)                                                               \
            return HPCML_FAIL(HPCML_EINTERNAL, "%s: %s (%s)", #call, cudaGetErrorString(cuda_rc_), \
                              cudaGetErrorName(cuda_rc_));                                         \
    } while (0)

#define CUBLAS_TRY(call)                                                                           \
    do {                                                                                           \
        cublasStatus_t blas_rc_ = (call);                                                          \
        if (blas_rc_ != CUBLAS_STATUS_SUCCESS)                                                     \
            return HPCML_FAIL(HPCML_EINTERNAL, "%s: %s", #call, cublasGetStatusString(blas_rc_));  \
    } while (0)

/* A kernel launch: the launch error now (bad configuration), execution
 * errors at the next synchronizing call. */
#define CUDA_LAUNCHED() CUDA_TRY(cudaGetLastError())

/* The process's device state (backend_cuda.cu), shared with nccl_comm.cu. */
struct gpu_state {
    int open, device;
    cudaStream_t compute, copy;
};
extern struct gpu_state gpu_state_;

#endif
