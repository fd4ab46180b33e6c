/* backend.h — the compute backend: one table of operations the trainer and
 * the model call for every piece of numerical work.
 *
 * Every operation on model, gradient and optimizer buffers goes through an
 * nn_backend (compare IOR's aiori table, PETSc's _MatOps): the model and the
 * trainer never call BLAS or CUDA for the math, and the gradient sum is the
 * table's allreduce_sum. The trainer does call MPI itself for control and
 * bookkeeping — status agreement, the preemption vote, the epoch's loss and
 * batch-weight sums, timings, the row exchange — and OpenBLAS only to set
 * its thread count. Each implementation fills the table with designated
 * initializers in its own file: backend_cpu.c (OpenBLAS + plain C loops)
 * here, a CUDA one (cuBLAS + kernels over elementwise.h + NCCL) in cuda/.
 * nn_backend_by_name picks one at run time from the table in
 * backend_registry.c.
 *
 * Conventions for every operation:
 *   - float32 data, row-major matrices; "rows" is the batch dimension.
 *   - Pointers named as buffers (x, z, grad, ...) are backend memory from
 *     ->alloc (device memory on a GPU backend); pointers documented as host
 *     memory are plain process memory. Scalars come back in host memory.
 *   - Operations return an hpcml_status (0 = HPCML_OK) so a device backend
 *     can report failures; the CPU ones only fail on bad arguments.
 *   - Operations may run asynchronously on a device; copy_to_host and
 *     results returned through host pointers synchronize.
 *
 * Data-parallel use (one backend per rank): every rank computes gradients of
 * the GLOBAL-batch loss restricted to its rows (see softmax_ce_backward's
 * scale), then allreduce_sum adds them, so no averaging step is needed and
 * the result does not depend on the rank count. */
#ifndef HPCML_NN_BACKEND_H
#define HPCML_NN_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "nn/elementwise.h"

/* Which rows a dropout call covers: row r of the call uses the 64-bit key
 * row_keys[r] (host memory, may be NULL) or else row_key_base + r. A key must
 * identify the (epoch, sample) pair globally, e.g. epoch * n_train + global
 * position of the row in that epoch's order (nn_dropout_row_key), so the
 * mask of a sample is the same whichever rank and batch slot holds it. */
typedef struct {
    uint64_t seed;
    const uint64_t *row_keys;
    uint64_t row_key_base;
} nn_dropout_rows;

static inline uint64_t nn_dropout_row_key(uint64_t epoch, uint64_t rows_per_epoch,
                                          uint64_t global_row)
{
    return epoch * rows_per_epoch + global_row;
}

/* Hyper-parameters of one optimizer step, already resolved for this step
 * (learning rate from the schedule, bias corrections from the step count):
 * see optim.h, which fills them. */
typedef struct {
    float lr;
    float weight_decay;
    /* SGD */
    float momentum, dampening;
    int nesterov;
    int first_step; /* 1 on the optimizer's first step: momentum buffer = g */
    /* Adam/AdamW: see nn_adam_update in elementwise.h */
    float beta1, beta2, eps;
    float step_size, bc2_sqrt, l2, decay;
} nn_step_params;

typedef struct nn_backend nn_backend;

/* A whole MLP as mlp_infer (below) reads it: n_layers Linear layers,
 * width[0] inputs ... width[n_layers] classes, W_l ([out][in], row-major)
 * at params + w_off[l] and b_l at params + b_off[l] (mlp.h's layout), act
 * after every layer but the last. */
typedef struct {
    int n_layers;
    const int *width;
    const float *params;
    const size_t *w_off, *b_off;
    nn_activation act;
} nn_mlp_view;

/* Sum buf[0..n) elementwise over all ranks, in place, in backend memory. */
typedef int (*nn_allreduce_fn)(float *buf, size_t n, void *ctx);
/* The same for a few host doubles: loss and class-weight sums, counts. */
typedef int (*nn_allreduce_f64_fn)(double *buf_host, size_t n, void *ctx);

struct nn_backend {
    const char *name;  /* "cpu", "cuda" */
    int device_memory; /* 1 when buffers live off the host (copies needed) */

    /* ---- memory ---- */
    /* *ptr = zero-filled backend buffer of bytes (bytes 0 gives NULL, OK). */
    int (*alloc)(void **ptr, size_t bytes);
    void (*free)(void *ptr); /* NULL is fine */
    int (*copy_to_device)(void *dst, const void *src_host, size_t bytes);
    int (*copy_to_host)(void *dst_host, const void *src, size_t bytes);
    int (*copy)(void *dst, const void *src, size_t bytes); /* device to device */
    int (*zero)(void *ptr, size_t bytes);
    /* Overlapped uploads (the next batch while this one computes). The copy
     * of bytes from src_host (any host memory, free to reuse on return: the
     * backend stages it in pinned memory) into dst starts once the work
     * issued before this call is done, and runs beside the work issued after
     * it; operations issued after upload_wait see the data. So a trainer can
     * double-buffer: upload batch s + 1 into the slot step s - 1 used, issue
     * step s, upload_wait, issue step s + 1. Host backends copy at once. */
    int (*upload_async)(void *dst, const void *src_host, size_t bytes);
    int (*upload_wait)(void);

    /* ---- dense algebra ---- */
    /* C[m x n] = alpha * op(A) op(B) + beta * C, row-major, op(X) = X or X^T
     * (trans_* != 0), op(A) m x k, op(B) k x n, leading dimensions as in
     * cblas_sgemm(CblasRowMajor, ...). */
    int (*sgemm)(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                 int lda, const float *b, int ldb, float beta, float *c, int ldc);
    /* out[c] = beta * out[c] + sum_r a[r * cols + c]: bias gradients. */
    int (*colsum)(const float *a, int rows, int cols, float beta, float *out);
    /* x[i] *= alpha */
    int (*scale)(float *x, size_t n, float alpha);
    /* *sumsq_host = sum x[i]^2, accumulated in double. */
    int (*sumsq)(const float *x, size_t n, double *sumsq_host);

    /* ---- layers ---- */
    /* z[r][c] += bias[c] (z is the pre-activation, kept for backward), then
     * a[r][c] = act(z[r][c]). a may equal z only for NN_ACT_NONE. */
    int (*bias_act_forward)(float *z, const float *bias, int rows, int cols, nn_activation act,
                            float *a);
    /* dz[i] = da[i] * act'(z[i]), n elements; dz may equal da. */
    int (*act_backward)(const float *z, const float *da, size_t n, nn_activation act, float *dz);
    /* Inverted dropout of layer `layer`: mask[r][j] = nn_dropout_scale(u, p)
     * with u = nn_dropout_u01(nn_dropout_draw(w, j)), w the words of
     * rng_block(keys->seed, RNG_STREAM_DROPOUT, key(r), nn_dropout_lane(layer,
     * j)), then x[r][j] *= mask[r][j] in place. 0 <= p < 1 (p == 0 fills the
     * mask with ones). mask may be NULL where relu_dropout_backward (below)
     * will not need it: then only x is scaled. */
    int (*dropout_forward)(float *x, float *mask, int rows, int cols, float p, int layer,
                           const nn_dropout_rows *keys);
    /* dx[i] = dy[i] * mask[i], n elements; dx may equal dy. */
    int (*dropout_backward)(const float *dy, const float *mask, size_t n, float *dx);
    /* Optional (NULL: the two calls above): dz[i] = (da[i] * mask[i]) *
     * act'(z[i]), dropout_backward then act_backward in one pass over
     * memory, the same products in the same order; dz may equal da. */
    int (*dropout_act_backward)(const float *z, const float *da, const float *mask, size_t n,
                                nn_activation act, float *dz);
    /* Optional: ReLU then dropout backward from the layer's output alone,
     * dz[i] = da[i] * (h[i] > 0 ? scale : 0) with h = relu(z) * mask and
     * scale = 1 / (1 - p). A unit has h > 0 iff z > 0 and it was kept, so
     * this is bit for bit dropout_act_backward(z, da, mask, n, RELU) (the
     * products da * scale, da * 0 are the same, signs of zero included):
     * the forward then need not write the mask. dz may equal da. */
    int (*relu_dropout_backward)(const float *h, const float *da, size_t n, float scale,
                                 float *dz);
    /* Optional (NULL: sgemm and bias_act_forward per layer, mlp.c): the
     * evaluation forward of a whole network, logits[rows][classes] of
     * x[rows][inputs], each output of each layer one chain of fused
     * multiply-adds over its inputs in order, from the bias (infer_cpu.h has
     * the formula): a row's logits depend on that row alone, not on rows or
     * its place among them. No pre-activations are kept (no backward). */
    int (*mlp_infer)(const nn_mlp_view *net, const float *x, int rows, float *logits);

    /* ---- loss ---- */
    /* Softmax over each row of logits[rows][classes] into prob. With labels
     * (int32, backend memory; NULL for prediction only) also returns in host
     * memory loss_sum = sum_r w[y_r] * (-log p_r[y_r]) and weight_sum =
     * sum_r w[y_r], in double, with w = class_weights (NULL: all 1). The
     * mean loss of PyTorch's CrossEntropyLoss(weight=w) is loss_sum /
     * weight_sum over the whole (global) batch. */
    int (*softmax_ce_forward)(const float *logits, const int32_t *labels,
                              const float *class_weights, int rows, int classes, float *prob,
                              double *loss_sum, double *weight_sum);
    /* dlogits[r][c] = scale * w[y_r] * (prob[r][c] - [c == y_r]). With scale
     * = 1 / (global weight_sum) this is the gradient of the weighted mean
     * loss of the global batch w.r.t. this rank's logits. */
    int (*softmax_ce_backward)(const float *prob, const int32_t *labels, const float *class_weights,
                               int rows, int classes, float scale, float *dlogits);

    /* ---- optimizer (flat buffers of n parameters) ---- */
    int (*sgd_step)(float *param, const float *grad, float *momentum_buf, size_t n,
                    const nn_step_params *sp);
    int (*adam_step)(float *param, const float *grad, float *m, float *v, size_t n,
                     const nn_step_params *sp);

    /* ---- communication ---- */
    /* In-place sum over ranks. The CPU backend's default is the
     * single-process no-op (nn_allreduce_single); the trainer installs its
     * MPI implementation (and comm_ctx) in its own copy of the table. */
    nn_allreduce_fn allreduce_sum;
    /* Host doubles (loss_sum/weight_sum of softmax_ce_forward, confusion
     * counts): the global weight sum that scales softmax_ce_backward comes
     * from here, in double, so it is the same on every rank count. */
    nn_allreduce_f64_fn allreduce_sum_f64;
    void *comm_ctx;
};

/* The CPU backend table (OpenBLAS + C loops, single-process allreduce).
 * Copy it to change allreduce_sum/comm_ctx: `nn_backend be = nn_backend_cpu;` */
extern const nn_backend nn_backend_cpu;

/* The single-process allreduces: leave buf unchanged. */
int nn_allreduce_single(float *buf, size_t n, void *ctx);
int nn_allreduce_single_f64(double *buf_host, size_t n, void *ctx);

/* The backend registered under name ("cpu"; "cuda" when built with CUDA:
 * see nn/gpu.h, which must open a device before it is used), or NULL. */
const nn_backend *nn_backend_by_name(const char *name);

#endif
