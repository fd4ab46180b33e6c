/* gpu.h — the CUDA device behind the "cuda" backend: whether one is usable,
 * which one a rank takes, the GEMM math mode, and NCCL.
 *
 * Built with CUDA (HPCML_WITH_CUDA=1) these functions are cuda/'s, compiled
 * into the plugin libhpcml_cuda.so, which gpu_loader.c opens on first use (a
 * CPU run never maps the CUDA libraries); without CUDA they are gpu_stub.c's.
 * Either way a missing plugin or device is reported, not fatal: the stubs
 * report no usable device and fail to open one, so callers need no #if. The device-choice helpers (device_select.c) are plain
 * C and always built.
 *
 * The CUDA backend keeps one device, two streams (compute, copy), a cuBLAS
 * handle and its scratch per process: nn_gpu_open before the first
 * operation of nn_backend_cuda, nn_gpu_close after the last. */
#ifndef HPCML_NN_GPU_H
#define HPCML_NN_GPU_H

#include <stddef.h>

#include "nn/backend.h"

/* GEMM precision. Parameters, activations and gradients are stored in
 * float32 in every mode (float32 master weights); the modes differ only in
 * how cuBLAS multiplies:
 *   fp32  float32 products (CUBLAS_COMPUTE_32F): the CPU's arithmetic;
 *   tf32  inputs rounded to TF32 (10-bit mantissa) on tensor cores,
 *         float32 accumulation (CUBLAS_COMPUTE_32F_FAST_TF32);
 *   bf16  inputs rounded to BF16 (7-bit mantissa) on tensor cores, float32
 *         accumulation (CUBLAS_COMPUTE_32F_FAST_16BF). BF16 has float32's
 *         exponent range, so gradients cannot underflow where float32 ones
 *         would not and no loss scaling is needed (it is FP16 that needs it,
 *         and FP16 is not offered). */
typedef enum { NN_GPU_MATH_FP32 = 0, NN_GPU_MATH_TF32 = 1, NN_GPU_MATH_BF16 = 2 } nn_gpu_math;

/* "fp32" | "tf32" | "bf16" -> *math; -1 for another name. */
int nn_gpu_math_from_name(const char *name, nn_gpu_math *math);

int nn_gpu_built(void);      /* 1 when CUDA is compiled in */
int nn_gpu_nccl_built(void); /* 1 when NCCL is compiled in */

/* Usable CUDA devices of this process (CUDA_VISIBLE_DEVICES applies); 0
 * with the reason in why (no driver, no device, built without CUDA). */
int nn_gpu_device_count(char *why, size_t why_len);

/* Bind the process to device (0-based among the visible ones), create the
 * streams, the cuBLAS handle in math mode and the reduction scratch. */
int nn_gpu_open(int device, nn_gpu_math math);
void nn_gpu_close(void); /* safe when not open */
/* e.g. "NVIDIA H100 80GB HBM3 (device 0, sm_90, 79.1 GiB)" */
int nn_gpu_describe(char *buf, size_t len);
/* The open device's PCI bus id ("0000:3b:00.0"): names one physical GPU
 * whatever CUDA_VISIBLE_DEVICES each process has. */
#define NN_GPU_BUS_ID_BYTES 32
int nn_gpu_pci_bus_id(char *buf, size_t len);
/* Wait for all work issued on the device (timings, tests). */
int nn_gpu_synchronize(void);

/* NCCL, bootstrapped by the caller: rank 0 makes the id, the caller
 * broadcasts it (MPI_Bcast of NN_GPU_NCCL_ID_BYTES), every rank opens. */
#define NN_GPU_NCCL_ID_BYTES 128
int nn_gpu_nccl_unique_id(unsigned char id[NN_GPU_NCCL_ID_BYTES]);
int nn_gpu_nccl_open(const unsigned char id[NN_GPU_NCCL_ID_BYTES], int nranks, int rank,
                     void **comm);
void nn_gpu_nccl_close(void *comm); /* NULL is fine */
/* nn_allreduce_fn: in-place float sum over the NCCL communicator ctx,
 * enqueued on the compute stream (ordered after the backward pass that
 * produced buf and before the optimizer step that reads it). */
int nn_gpu_nccl_allreduce(float *buf, size_t n, void *ctx);

/* ---- which device a rank takes (device_select.c, plain C) ----------------
 * The rank's index among the ranks of its node from the launcher's
 * environment: OMPI_COMM_WORLD_LOCAL_RANK (Open MPI), SLURM_LOCALID (srun),
 * MPI_LOCALRANKID (MPICH/Hydra), in that order; -1 when none is set or
 * parses. *local_size (may be NULL) gets the ranks on the node from
 * OMPI_COMM_WORLD_LOCAL_SIZE / SLURM_NTASKS_PER_NODE / MPI_LOCALNRANKS, or
 * -1. */
int nn_gpu_local_rank_from_env(int *local_size);
/* Device of a rank: local_rank modulo the devices it sees. With
 * --gpus-per-task=1 or --gpu-bind=single:1 every rank sees one device
 * (index 0); with all of a node's devices visible, local rank i takes
 * device i. local_rank < 0 counts as 0. */
int nn_gpu_pick_device(int local_rank, int n_devices);

/* The CUDA backend table, loading the plugin on first use; NULL when CUDA is
 * not built or the plugin cannot be loaded (nn_gpu_device_count says why).
 * The plugin defines it as nn_backend_cuda. */
const nn_backend *nn_gpu_backend(void);

#endif
