/* hd.h — HPCML_HD, the marker of functions compiled for both the host and a
 * GPU: __host__ __device__ under nvcc, nothing in C. Headers whose static
 * inline functions the CUDA kernels call (rng_inline.h, nn/elementwise.h)
 * use it, so the kernels and the CPU loops run one definition. */
#ifndef HPCML_CORE_HD_H
#define HPCML_CORE_HD_H

#if defined(__CUDACC__)
#define HPCML_HD __host__ __device__
#else
#define HPCML_HD
#endif

#endif
