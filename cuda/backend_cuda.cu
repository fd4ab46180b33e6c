/* backend_cuda.cu — the CUDA compute backend: cuBLAS for GEMM, one thin
 * kernel per backend operation over the per-element functions of
 * nn/elementwise.h and core/rng_inline.h (the CPU backend's loops call the
 * same ones), device memory, and the device state of gpu.h.
 *
 * The per-thread work of every kernel is a function in kernel_body.h, which
 * the unit tests also run on the CPU. Everything is issued on one compute stream, so operations are
 * ordered as the caller issued them; uploads of the next batch use a second (copy) stream from
 * pinned staging memory and join the compute stream through events (upload_async / upload_wait).
 * Results returned in host memory (loss sums, sum of squares) and copy_to_host synchronize.
 *
 * Compiled with --fmad=false (cuda/CMakeLists.txt): no multiply-add is
 * contracted, so the elementwise functions round as the CPU's do. The ReLU,
 * dropout, softmax-gradient and optimizer formulas use only + - * / sqrt
 * (IEEE-rounded on both sides) and so match the CPU bit for bit; GELU and
 * softmax call expf/logf/erff, whose CUDA versions may differ from glibc's
 * by an ulp or two; GEMM and the sums add in another order. */
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cuda/cuda_check.h"

extern "C" {
#include "cuda/kernel_body.h"
#include "nn/backend.h"
#include "nn/gpu.h"
}

struct gpu_state gpu_state_;

#define THREADS      256
#define RED_BLOCKS   1024 /* partial sums of a reduction */
#define UPLOAD_SLOTS 4

static struct {
    cublasHandle_t blas;
    cublasComputeType_t compute_type;
    double *red_d;     /* RED_BLOCKS partials + results */
    int *bad_row_d;    /* first row with a bad label (INT_MAX: none) */
    double *pinned_h;  /* small pinned results: sums, bad row */
    double *rowsum_d;  /* 2 * rowsum_cap doubles: per-row loss and weight */
    size_t rowsum_cap; /* rows */
    uint64_t *keys_d;  /* dropout row keys */
    size_t keys_cap;
    /* upload ring: pinned staging, each slot's last copy */
    void *stage[UPLOAD_SLOTS];
    size_t stage_cap[UPLOAD_SLOTS];
    cudaEvent_t stage_done[UPLOAD_SLOTS];
    cudaEvent_t compute_mark;
    int next_slot, last_slot, upload_pending;
} g;

#define OPEN_CHECK()                                                                               \
    HPCML_CHECK(gpu_state_.open, HPCML_EINTERNAL, "CUDA backend used before nn_gpu_open")

static unsigned blocks_for(size_t n)
{
    size_t b = (n + THREADS - 1) / THREADS;
    if (b < 1) b = 1;
    return b > (1u << 20) ? (1u << 20) : (unsigned)b; /* grid-stride beyond */
}

#define GRID_STRIDE(i, n)                                                                          \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                        \
         i += (size_t)gridDim.x * blockDim.x)

/* ---- device state ------------------------------------------------------- */

extern "C" int nn_gpu_built(void)
{
    return 1;
}

extern "C" int nn_gpu_device_count(char *why, size_t why_len)
{
    int n = 0, runtime = 0;
    cudaError_t rc = cudaGetDeviceCount(&n);
    const char *cvd = getenv("CUDA_VISIBLE_DEVICES");
    if (rc != cudaSuccess && why && why_len) {
        (void)cudaRuntimeGetVersion(&runtime);
        const char *hint = rc == cudaErrorInsufficientDriver
                               ? "no NVIDIA driver on this node, or one older than the CUDA runtime"
                           : rc == cudaErrorNoDevice ? "no CUDA-capable device visible"
                                                     : "the device cannot be used";
        snprintf(why, why_len, "%s: cudaGetDeviceCount: %s, CUDA runtime %d.%d%s%s", hint,
                 cudaGetErrorName(rc), runtime / 1000, runtime % 1000 / 10,
                 cvd ? ", CUDA_VISIBLE_DEVICES=" : "", cvd ? cvd : "");
    }
    if (rc != cudaSuccess) {
        (void)cudaGetLastError(); /* not sticky: clear it */
        return 0;
    }
    if (n == 0 && why && why_len)
        snprintf(why, why_len, "cudaGetDeviceCount found 0 devices%s%s",
                 cvd ? " (CUDA_VISIBLE_DEVICES=" : "", cvd ? cvd : "");
    if (n == 0 && why && why_len && cvd) strncat(why, ")", why_len - strlen(why) - 1);
    return n;
}

static int open_device(int device, nn_gpu_math math)
{
    gpu_state_.device = device;
    CUDA_TRY(cudaSetDevice(device));
    CUDA_TRY(cudaStreamCreateWithFlags(&gpu_state_.compute, cudaStreamNonBlocking));
    CUDA_TRY(cudaStreamCreateWithFlags(&gpu_state_.copy, cudaStreamNonBlocking));
    CUBLAS_TRY(cublasCreate(&g.blas));
    CUBLAS_TRY(cublasSetStream(g.blas, gpu_state_.compute));
    CUBLAS_TRY(cublasSetMathMode(g.blas, CUBLAS_DEFAULT_MATH));
    g.compute_type = math == NN_GPU_MATH_TF32   ? CUBLAS_COMPUTE_32F_FAST_TF32
                     : math == NN_GPU_MATH_BF16 ? CUBLAS_COMPUTE_32F_FAST_16BF
                                                : CUBLAS_COMPUTE_32F;
    CUDA_TRY(cudaMalloc((void **)&g.red_d, (RED_BLOCKS + 8) * sizeof(double)));
    CUDA_TRY(cudaMalloc((void **)&g.bad_row_d, sizeof(int)));
    CUDA_TRY(cudaMallocHost((void **)&g.pinned_h, 8 * sizeof(double)));
    for (int i = 0; i < UPLOAD_SLOTS; i++)
        CUDA_TRY(cudaEventCreateWithFlags(&g.stage_done[i], cudaEventDisableTiming));
    CUDA_TRY(cudaEventCreateWithFlags(&g.compute_mark, cudaEventDisableTiming));
    return HPCML_OK;
}

extern "C" int nn_gpu_open(int device, nn_gpu_math math)
{
    HPCML_CHECK(!gpu_state_.open, HPCML_EINTERNAL, "nn_gpu_open: a device is open already");
    memset(&g, 0, sizeof g);
    gpu_state_.open = 1; /* so nn_gpu_close cleans up a partial open */
    int rc = open_device(device, math);
    if (rc != HPCML_OK) nn_gpu_close();
    return rc;
}

extern "C" void nn_gpu_close(void)
{
    if (!gpu_state_.open) return;
    /* Teardown: errors are not actionable here, so results are dropped. */
    if (gpu_state_.compute) (void)cudaStreamSynchronize(gpu_state_.compute);
    if (gpu_state_.copy) (void)cudaStreamSynchronize(gpu_state_.copy);
    if (g.blas) (void)cublasDestroy(g.blas);
    (void)cudaFree(g.red_d);
    (void)cudaFree(g.bad_row_d);
    (void)cudaFree(g.rowsum_d);
    (void)cudaFree(g.keys_d);
    if (g.pinned_h) (void)cudaFreeHost(g.pinned_h);
    for (int i = 0; i < UPLOAD_SLOTS; i++) {
        if (g.stage[i]) (void)cudaFreeHost(g.stage[i]);
        if (g.stage_done[i]) (void)cudaEventDestroy(g.stage_done[i]);
    }
    if (g.compute_mark) (void)cudaEventDestroy(g.compute_mark);
    if (gpu_state_.compute) (void)cudaStreamDestroy(gpu_state_.compute);
    if (gpu_state_.copy) (void)cudaStreamDestroy(gpu_state_.copy);
    memset(&g, 0, sizeof g);
    memset(&gpu_state_, 0, sizeof gpu_state_);
}

extern "C" int nn_gpu_describe(char *buf, size_t len)
{
    OPEN_CHECK();
    cudaDeviceProp p;
    CUDA_TRY(cudaGetDeviceProperties(&p, gpu_state_.device));
    snprintf(buf, len, "%s (device %d, sm_%d%d, %d SMs, %.1f GiB)", p.name, gpu_state_.device,
             p.major, p.minor, p.multiProcessorCount, (double)p.totalGlobalMem / 1073741824.0);
    return HPCML_OK;
}

extern "C" int nn_gpu_pci_bus_id(char *buf, size_t len)
{
    OPEN_CHECK();
    CUDA_TRY(cudaDeviceGetPCIBusId(buf, (int)len, gpu_state_.device));
    return HPCML_OK;
}

extern "C" int nn_gpu_synchronize(void)
{
    OPEN_CHECK();
    CUDA_TRY(cudaStreamSynchronize(gpu_state_.copy));
    CUDA_TRY(cudaStreamSynchronize(gpu_state_.compute));
    return HPCML_OK;
}

/* ---- memory ------------------------------------------------------------- */

static int cuda_alloc(void **ptr, size_t bytes)
{
    OPEN_CHECK();
    *ptr = NULL;
    if (bytes == 0) return HPCML_OK;
    CUDA_TRY(cudaMalloc(ptr, bytes));
    CUDA_TRY(cudaMemsetAsync(*ptr, 0, bytes, gpu_state_.compute));
    return HPCML_OK;
}

static void cuda_free(void *ptr)
{
    if (ptr) (void)cudaFree(ptr); /* synchronizes; only at teardown */
}

static int cuda_copy_to_device(void *dst, const void *src_host, size_t bytes)
{
    OPEN_CHECK();
    if (bytes == 0) return HPCML_OK;
    CUDA_TRY(cudaMemcpyAsync(dst, src_host, bytes, cudaMemcpyHostToDevice, gpu_state_.compute));
    CUDA_TRY(cudaStreamSynchronize(gpu_state_.compute)); /* src_host may be freed on return */
    return HPCML_OK;
}

static int cuda_copy_to_host(void *dst_host, const void *src, size_t bytes)
{
    OPEN_CHECK();
    if (bytes == 0) return HPCML_OK;
    CUDA_TRY(cudaMemcpyAsync(dst_host, src, bytes, cudaMemcpyDeviceToHost, gpu_state_.compute));
    CUDA_TRY(cudaStreamSynchronize(gpu_state_.compute));
    return HPCML_OK;
}

static int cuda_copy(void *dst, const void *src, size_t bytes)
{
    OPEN_CHECK();
    if (bytes == 0 || dst == src) return HPCML_OK;
    CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, gpu_state_.compute));
    return HPCML_OK;
}

static int cuda_zero(void *ptr, size_t bytes)
{
    OPEN_CHECK();
    if (bytes == 0) return HPCML_OK;
    CUDA_TRY(cudaMemsetAsync(ptr, 0, bytes, gpu_state_.compute));
    return HPCML_OK;
}

static int cuda_upload_async(void *dst, const void *src_host, size_t bytes)
{
    OPEN_CHECK();
    if (bytes == 0) return HPCML_OK;
    const int s = g.next_slot;
    g.next_slot = (s + 1) % UPLOAD_SLOTS;
    /* The slot's previous copy must have left the staging memory. */
    CUDA_TRY(cudaEventSynchronize(g.stage_done[s]));
    if (g.stage_cap[s] < bytes) {
        if (g.stage[s]) CUDA_TRY(cudaFreeHost(g.stage[s]));
        g.stage[s] = NULL;
        g.stage_cap[s] = 0;
        CUDA_TRY(cudaMallocHost(&g.stage[s], bytes));
        g.stage_cap[s] = bytes;
    }
    memcpy(g.stage[s], src_host, bytes);
    /* Start after the work issued so far (the last user of dst), beside
     * the work issued next. */
    CUDA_TRY(cudaEventRecord(g.compute_mark, gpu_state_.compute));
    CUDA_TRY(cudaStreamWaitEvent(gpu_state_.copy, g.compute_mark, 0));
    CUDA_TRY(cudaMemcpyAsync(dst, g.stage[s], bytes, cudaMemcpyHostToDevice, gpu_state_.copy));
    CUDA_TRY(cudaEventRecord(g.stage_done[s], gpu_state_.copy));
    g.last_slot = s;
    g.upload_pending = 1;
    return HPCML_OK;
}

static int cuda_upload_wait(void)
{
    OPEN_CHECK();
    if (!g.upload_pending) return HPCML_OK;
    /* The copy stream runs in order: its last copy done means all are. */
    CUDA_TRY(cudaStreamWaitEvent(gpu_state_.compute, g.stage_done[g.last_slot], 0));
    g.upload_pending = 0;
    return HPCML_OK;
}

/* ---- reductions (deterministic: fixed blocks, fixed tree) ---------------- */

/* Sum of one double per thread over the block; the result in thread 0. */
__device__ static double block_sum(double v)
{
    __shared__ double part[THREADS];
    part[threadIdx.x] = v;
    __syncthreads();
    for (int w = THREADS / 2; w > 0; w /= 2) {
        if ((int)threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    return part[0];
}

__global__ static void k_sumsq_partial(const float *x, size_t n, double *partial)
{
    double s = 0.0;
    GRID_STRIDE(i, n) s += (double)x[i] * (double)x[i];
    s = block_sum(s);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

/* out[k] = sum of a[k * stride + i], i < n, for k < parts: one block. */
__global__ static void k_sum_parts(const double *a, size_t n, size_t stride, int parts, double *out)
{
    for (int k = 0; k < parts; k++) {
        double s = 0.0;
        for (size_t i = threadIdx.x; i < n; i += THREADS)
            s += a[(size_t)k * stride + i];
        s = block_sum(s);
        if (threadIdx.x == 0) out[k] = s;
        __syncthreads();
    }
}

static int cuda_sumsq(const float *x, size_t n, double *sumsq_host)
{
    OPEN_CHECK();
    unsigned blocks = blocks_for(n);
    if (blocks > RED_BLOCKS) blocks = RED_BLOCKS;
    k_sumsq_partial<<<blocks, THREADS, 0, gpu_state_.compute>>>(x, n, g.red_d);
    CUDA_LAUNCHED();
    k_sum_parts<<<1, THREADS, 0, gpu_state_.compute>>>(g.red_d, blocks, 0, 1, g.red_d + RED_BLOCKS);
    CUDA_LAUNCHED();
    CUDA_TRY(cudaMemcpyAsync(g.pinned_h, g.red_d + RED_BLOCKS, sizeof(double),
                             cudaMemcpyDeviceToHost, gpu_state_.compute));
    CUDA_TRY(cudaStreamSynchronize(gpu_state_.compute));
    *sumsq_host = g.pinned_h[0];
    return HPCML_OK;
}

/* ---- dense algebra ------------------------------------------------------- */

__global__ static void k_scale_matrix(float *c, int m, int n, int ldc, float beta)
{
    GRID_STRIDE(i, (size_t)m * n)
    {
        float *cij = &c[(i / n) * (size_t)ldc + i % n];
        *cij = beta == 0.0f ? 0.0f : beta * *cij;
    }
}

/* Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the
 * operands swap, the transposition flags stay. */
static int cuda_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                      int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    OPEN_CHECK();
    HPCML_CHECK(m >= 0 && n >= 0 && k >= 0, HPCML_EINTERNAL, "sgemm: negative size %d %d %d", m, n,
                k);
    if (m == 0 || n == 0) return HPCML_OK;
    if (k == 0) { /* C = beta C, as the CPU backend defines it */
        k_scale_matrix<<<blocks_for((size_t)m * n), THREADS, 0, gpu_state_.compute>>>(c, m, n, ldc,
                                                                                      beta);
        CUDA_LAUNCHED();
        return HPCML_OK;
    }
    CUBLAS_TRY(cublasGemmEx(g.blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                            trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, CUDA_R_32F,
                            ldb, a, CUDA_R_32F, lda, &beta, c, CUDA_R_32F, ldc, g.compute_type,
                            CUBLAS_GEMM_DEFAULT));
    return HPCML_OK;
}

/* Column sums: a block owns 32 columns (coalesced across threadIdx.x) and
 * sums their rows in KB_COLSUM_LANES interleaved lanes (threadIdx.y), then
 * adds the lanes in order (kernel_body.h). */
__global__ static void k_colsum(const float *a, int rows, int cols, float beta, float *out)
{
    __shared__ float lanes[32][KB_COLSUM_LANES + 1];
    const int c = blockIdx.x * 32 + threadIdx.x;
    lanes[threadIdx.x][threadIdx.y] =
        c < cols ? kb_colsum_lane(c, threadIdx.y, a, rows, cols) : 0.0f;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) out[c] = kb_colsum_finish(lanes[threadIdx.x], beta, out[c]);
}

static int cuda_colsum(const float *a, int rows, int cols, float beta, float *out)
{
    OPEN_CHECK();
    if (cols <= 0) return HPCML_OK;
    k_colsum<<<(cols + 31) / 32, dim3(32, KB_COLSUM_LANES), 0, gpu_state_.compute>>>(a, rows, cols,
                                                                                     beta, out);
    CUDA_LAUNCHED();
    return HPCML_OK;
}

__global__ static void k_scale(float *x, size_t n, float alpha)
{
    GRID_STRIDE(i, n) x[i] *= alpha;
}

static int cuda_scale(float *x, size_t n, float alpha)
{
    OPEN_CHECK();
    if (n == 0) return HPCML_OK;
    k_scale<<<blocks_for(n), THREADS, 0, gpu_state_.compute>>>(x, n, alpha);
    CUDA_LAUNCHED();
    return HPCML_OK;
}

/* ---- layers ------------------------------------------------------------- */

/* Bias and activation in one pass: z is read once and written once (kept
 * for backward), a written once. */
__global__ static void k_bias_act(float *z, const float *bias, size_t n, int cols,
                                  nn_activation act, float *a)
{
    GRID_STRIDE(i, n) kb_bias_act(i, z, bias, cols, act, a);
}

static int cuda_bias_act_forward(float *z, const float *bias, int rows, int cols, nn_activation act,
                                 float *a)
{
    OPEN_CHECK();
    const size_t n = (size_t)rows * cols;
    if (n == 0) return HPCML_OK;
    k_bias_act<<<blocks_for(n), THREADS, 0, gpu_state_.compute>>>(z, bias, n, cols, act, a);
    CUDA_LAUNCHED();
    return HPCML_OK;
}

__global__ static void k_act_backward(const float *z, const float *da, size_t n, nn_activation act,
                                      float *dz)
{
    GRID_STRIDE(i, n) kb_act_backward(i, z, da, act, dz);
}

static int cuda_act_backward(const float *z, const float *da, size_t n, nn_activation act,
                             float *dz)
{
    OPEN_CHECK();
    if (n == 0) return HPCML_OK;
    if (act == NN_ACT_NONE) return cuda_copy(dz, da, n * sizeof(float)); /* da * 1.0f */
    k_act_backward<<<blocks_for(n), THREADS, 0, gpu_state_.compute>>>(z, da, n, act, dz);
    CUDA_LAUNCHED();
    return HPCML_OK;
}

__global__ static void k_fill(float *x, size_t n, float v)
{
    GRID_STRIDE(i, n) x[i] = v;
}

/* One thread per (row, Philox block of eight units): the same Philox blocks as the
 * CPU backend's dropout_row, so the masks are identical. */
__global__ static void k_dropout(float *x, float *mask, int rows, int cols, uint64_t seed,
                                 const uint64_t *row_keys, uint64_t key_base, int layer,
                                 uint32_t thr, float scale)
{
    GRID_STRIDE(i, (size_t)rows * kb_dropout_blocks(cols))
    kb_dropout_group(i, x, mask, cols, seed, row_keys, key_base, layer, thr, scale);
}

static int grow_device(void **buf, size_t *cap, size_t bytes)
{
    if (*cap >= bytes) return HPCML_OK;
    if (*buf) CUDA_TRY(cudaFree(*buf));
    *buf = NULL;
    *cap = 0;
    CUDA_TRY(cudaMalloc(buf, bytes));
    *cap = bytes;
    return HPCML_OK;
}

static int cuda_dropout_forward(float *x, float *mask, int rows, int cols, float p, int layer,
                                const nn_dropout_rows *keys)
{
    OPEN_CHECK();
    HPCML_CHECK(p >= 0.0f && p < 1.0f, HPCML_EUSAGE, "dropout probability %g not in [0, 1)",
                (double)p);
    HPCML_CHECK(layer >= 0 && layer < NN_DROPOUT_MAX_LAYERS && cols <= NN_DROPOUT_MAX_UNITS,
                HPCML_EUSAGE, "dropout: layer %d or width %d out of range", layer, cols);
    const size_t n = (size_t)rows * cols;
    if (n == 0) return HPCML_OK;
    if (p == 0.0f) {
        k_fill<<<blocks_for(n), THREADS, 0, gpu_state_.compute>>>(mask, n, 1.0f);
        CUDA_LAUNCHED();
        return HPCML_OK;
    }
    const uint64_t *keys_d = NULL;
    if (keys->row_keys) { /* host keys: staged (rare; the trainer uses key_base) */
        size_t cap_bytes = g.keys_cap * sizeof(uint64_t);
        HPCML_TRY(grow_device((void **)&g.keys_d, &cap_bytes, (size_t)rows * sizeof(uint64_t)));
        g.keys_cap = cap_bytes / sizeof(uint64_t);
        HPCML_TRY(cuda_copy_to_device(g.keys_d, keys->row_keys, (size_t)rows * sizeof(uint64_t)));
        keys_d = g.keys_d;
    }
    const float scale = 1.0f / (1.0f - p);
    const uint32_t thr = nn_dropout_threshold(p);
    k_dropout<<<blocks_for((size_t)rows * kb_dropout_blocks(cols)), THREADS, 0, gpu_state_.compute>>>(
        x, mask, rows, cols, keys->seed, keys_d, keys->row_key_base, layer, thr, scale);
    CUDA_LAUNCHED();
    return HPCML_OK;
}

__global__ static void k_mul(const float *a, const float *b, size_t n, float *out)
{
    GRID_STRIDE(i, n) out[i] = a[i] * b[i];
}

static int cuda_dropout_backward(const float *dy, const float *mask, size_t n, float *dx)
{
    OPEN_CHECK();
    if (n == 0) return HPCML_OK;
    k_mul<<<blocks_for(n), THREADS, 0, gpu_state_.compute>>>(dy, mask, n, dx);
    CUDA_LAUNCHED();
    return HPCML_OK;
}

__global__ static void k_dropout_act_backward(const float *z, const float *da, const float *mask,
                                              size_t n, nn_activation act, float *dz)
{
    GRID_STRIDE(i, n) kb_dropout_act_backward(i, z, da, mask, act, dz);
}

static int cuda_dropout_act_backward(const float *z, const float *da, const float *mask, size_t n,
                                     nn_activation act, float *dz)
{
    OPEN_CHECK();
    if (n == 0) return HPCML_OK;
    k_dropout_act_backward<<<blocks_for(n), THREADS, 0, gpu_state_.compute>>>(z, da, mask, n, act,
                                                                              dz);
    CUDA_LAUNCHED();
    return HPCML_OK;
}

/* ---- loss --------------------------------------------------------------- */

/* One thread per row (classes are few here): probabilities and the row's
 * weighted loss and weight, summed by k_sum_parts in a fixed order. */
__global__ static void k_softmax_ce(const float *logits, const int32_t *labels,
                                    const float *class_weights, int rows, int classes, float *prob,
                                    double *row_loss, double *row_weight, int *bad_row)
{
    GRID_STRIDE(r, (size_t)rows)
    {
        if (kb_softmax_ce_row(r, logits, labels, class_weights, classes, prob, row_loss,
                              row_weight))
            atomicMin(bad_row, (int)r);
    }
}

__global__ static void k_set_int(int *p, int v)
{
    *p = v;
}

static int cuda_softmax_ce_forward(const float *logits, const int32_t *labels,
                                   const float *class_weights, int rows, int classes, float *prob,
                                   double *loss_sum, double *weight_sum)
{
    OPEN_CHECK();
    if (loss_sum) *loss_sum = 0.0;
    if (weight_sum) *weight_sum = 0.0;
    if (rows <= 0) return HPCML_OK;
    if (labels) {
        size_t cap_bytes = g.rowsum_cap * 2 * sizeof(double);
        HPCML_TRY(grow_device((void **)&g.rowsum_d, &cap_bytes, (size_t)rows * 2 * sizeof(double)));
        g.rowsum_cap = cap_bytes / (2 * sizeof(double));
        k_set_int<<<1, 1, 0, gpu_state_.compute>>>(g.bad_row_d, INT_MAX);
        CUDA_LAUNCHED();
    }
    double *row_loss = labels ? g.rowsum_d : NULL;
    double *row_weight = labels ? g.rowsum_d + g.rowsum_cap : NULL;
    k_softmax_ce<<<blocks_for((size_t)rows), THREADS, 0, gpu_state_.compute>>>(
        logits, labels, class_weights, rows, classes, prob, row_loss, row_weight, g.bad_row_d);
    CUDA_LAUNCHED();
    if (!labels) return HPCML_OK;
    k_sum_parts<<<1, THREADS, 0, gpu_state_.compute>>>(g.rowsum_d, (size_t)rows, g.rowsum_cap, 2,
                                                       g.red_d + RED_BLOCKS);
    CUDA_LAUNCHED();
    CUDA_TRY(cudaMemcpyAsync(g.pinned_h, g.red_d + RED_BLOCKS, 2 * sizeof(double),
                             cudaMemcpyDeviceToHost, gpu_state_.compute));
    CUDA_TRY(cudaMemcpyAsync(g.pinned_h + 2, g.bad_row_d, sizeof(int), cudaMemcpyDeviceToHost,
                             gpu_state_.compute));
    CUDA_TRY(cudaStreamSynchronize(gpu_state_.compute));
    int bad;
    memcpy(&bad, g.pinned_h + 2, sizeof bad);
    HPCML_CHECK(bad == INT_MAX, HPCML_EDATA, "label of row %d not in [0, %d)", bad, classes);
    if (loss_sum) *loss_sum = g.pinned_h[0];
    if (weight_sum) *weight_sum = g.pinned_h[1];
    return HPCML_OK;
}

__global__ static void k_softmax_ce_backward(const float *prob, const int32_t *labels,
                                             const float *class_weights, int rows, int classes,
                                             float scale, float *dlogits)
{
    GRID_STRIDE(i, (size_t)rows * classes)
    kb_softmax_ce_grad(i, prob, labels, class_weights, classes, scale, dlogits);
}

static int cuda_softmax_ce_backward(const float *prob, const int32_t *labels,
                                    const float *class_weights, int rows, int classes, float scale,
                                    float *dlogits)
{
    OPEN_CHECK();
    const size_t n = (size_t)rows * classes;
    if (n == 0) return HPCML_OK;
    k_softmax_ce_backward<<<blocks_for(n), THREADS, 0, gpu_state_.compute>>>(
        prob, labels, class_weights, rows, classes, scale, dlogits);
    CUDA_LAUNCHED();
    return HPCML_OK;
}

/* ---- optimizer: one fused pass over the flat buffers ---------------------- */

__global__ static void k_sgd(float *param, const float *grad, float *buf, size_t n,
                             nn_step_params sp)
{
    GRID_STRIDE(i, n) kb_sgd(i, param, grad, buf, &sp);
}

static int cuda_sgd_step(float *param, const float *grad, float *momentum_buf, size_t n,
                         const nn_step_params *sp)
{
    OPEN_CHECK();
    HPCML_CHECK(sp->momentum == 0.0f || momentum_buf != NULL, HPCML_EINTERNAL,
                "sgd_step: momentum without a buffer");
    if (n == 0) return HPCML_OK;
    k_sgd<<<blocks_for(n), THREADS, 0, gpu_state_.compute>>>(
        param, grad, sp->momentum != 0.0f ? momentum_buf : NULL, n, *sp);
    CUDA_LAUNCHED();
    return HPCML_OK;
}

__global__ static void k_adam(float *param, const float *grad, float *m, float *v, size_t n,
                              nn_step_params sp)
{
    GRID_STRIDE(i, n) kb_adam(i, param, grad, m, v, &sp);
}

static int cuda_adam_step(float *param, const float *grad, float *m, float *v, size_t n,
                          const nn_step_params *sp)
{
    OPEN_CHECK();
    if (n == 0) return HPCML_OK;
    k_adam<<<blocks_for(n), THREADS, 0, gpu_state_.compute>>>(param, grad, m, v, n, *sp);
    CUDA_LAUNCHED();
    return HPCML_OK;
}

/* ---- the table ------------------------------------------------------------ */

static nn_backend make_table(void)
{
    nn_backend b;
    memset(&b, 0, sizeof b);
    b.name = "cuda";
    b.device_memory = 1;
    b.alloc = cuda_alloc;
    b.free = cuda_free;
    b.copy_to_device = cuda_copy_to_device;
    b.copy_to_host = cuda_copy_to_host;
    b.copy = cuda_copy;
    b.zero = cuda_zero;
    b.upload_async = cuda_upload_async;
    b.upload_wait = cuda_upload_wait;
    b.sgemm = cuda_sgemm;
    b.colsum = cuda_colsum;
    b.scale = cuda_scale;
    b.sumsq = cuda_sumsq;
    b.bias_act_forward = cuda_bias_act_forward;
    b.act_backward = cuda_act_backward;
    b.dropout_forward = cuda_dropout_forward;
    b.dropout_backward = cuda_dropout_backward;
    b.dropout_act_backward = cuda_dropout_act_backward;
    b.softmax_ce_forward = cuda_softmax_ce_forward;
    b.softmax_ce_backward = cuda_softmax_ce_backward;
    b.sgd_step = cuda_sgd_step;
    b.adam_step = cuda_adam_step;
    b.allreduce_sum = nn_allreduce_single;
    b.allreduce_sum_f64 = nn_allreduce_single_f64;
    b.comm_ctx = NULL;
    return b;
}

/* C++ has no designated initializers before C++20: the table is filled by
 * a function at static initialization (constant afterwards). */
extern "C" const nn_backend nn_backend_cuda = make_table();
