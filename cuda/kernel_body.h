/* kernel_body.h — what one thread of each CUDA backend kernel computes, as
 * HPCML_HD functions of the thread's index. The kernels in backend_cuda.cu
 * are grid-stride loops around these and nothing else; the unit test
 * tests/unit/test_gpu_kernel_body.c runs the same functions over every index
 * on the CPU and compares them with the CPU backend, so the kernels' math is
 * tested on machines without a GPU. Plain C11 and CUDA C++ alike: no
 * language features outside their intersection. */
#ifndef HPCML_CUDA_KERNEL_BODY_H
#define HPCML_CUDA_KERNEL_BODY_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hd.h"
#include "core/rng.h"
#include "core/rng_inline.h"
#include "nn/backend.h"
#include "nn/elementwise.h"

/* z[i] += bias[column]; a[i] = act(z[i]) (a may be z for NN_ACT_NONE). */
static inline HPCML_HD void kb_bias_act(size_t i, float *z, const float *bias, int cols,
                                        nn_activation act, float *a)
{
    const float v = z[i] + bias[i % (size_t)cols];
    z[i] = v;
    a[i] = nn_act_forward(act, v);
}

static inline HPCML_HD void kb_act_backward(size_t i, const float *z, const float *da,
                                            nn_activation act, float *dz)
{
    dz[i] = da[i] * nn_act_derivative(act, z[i]);
}

/* dropout backward then activation backward, fused: the same two products */
static inline HPCML_HD void kb_dropout_act_backward(size_t i, const float *z, const float *da,
                                                    const float *mask, nn_activation act, float *dz)
{
    const float d = da[i] * mask[i];
    dz[i] = d * nn_act_derivative(act, z[i]);
}

/* Philox blocks per row of dropout: 16 for every started group of 128 units. */
static inline HPCML_HD size_t kb_dropout_blocks(int cols)
{
    return (size_t)(cols + NN_DROPOUT_GROUP - 1) / NN_DROPOUT_GROUP * NN_DROPOUT_GROUP_BLOCKS;
}

/* Index i = row * kb_dropout_blocks(cols) + b: Philox block b of the row,
 * rng_block(seed, RNG_STREAM_DROPOUT, key(row), layer << 24 | b), decides
 * units 128 (b / 16) + 16 k + b % 16, k < 8 (elementwise.h's mapping): kept
 * iff the unit's 16-bit draw >= thr = nn_dropout_threshold(p), mask = scale
 * or 0. */
static inline HPCML_HD void kb_dropout_group(size_t i, float *x, float *mask, int cols,
                                             uint64_t seed, const uint64_t *row_keys,
                                             uint64_t key_base, int layer, uint32_t thr,
                                             float scale)
{
    const size_t blocks = kb_dropout_blocks(cols);
    const size_t r = i / blocks;
    const int b = (int)(i % blocks);
    const int u0 = b / NN_DROPOUT_GROUP_BLOCKS * NN_DROPOUT_GROUP + b % NN_DROPOUT_GROUP_BLOCKS;
    const uint64_t key = row_keys ? row_keys[r] : key_base + (uint64_t)r;
    rng_u32x4 ctr = {{(uint32_t)key, (uint32_t)(key >> 32), (uint32_t)RNG_STREAM_DROPOUT,
                      nn_dropout_lane(layer, u0)}};
    const rng_u32x4 w = rng_philox4x32_10_inline(ctr, (uint32_t)seed, (uint32_t)(seed >> 32));
    for (int k = 0; k < 8; k++) {
        const int u = u0 + k * NN_DROPOUT_GROUP_BLOCKS;
        if (u >= cols) break;
        const size_t at = r * (size_t)cols + (size_t)u;
        const float m = nn_dropout_draw(w.v, u) >= thr ? scale : 0.0f;
        mask[at] = m;
        x[at] *= m;
    }
}

/* Row r of softmax cross-entropy: probabilities, and with labels the row's
 * weighted loss and weight (double, summed afterwards). Returns 1 for a
 * label outside [0, classes) (the row then counts with weight 0). */
static inline HPCML_HD int kb_softmax_ce_row(size_t r, const float *logits, const int32_t *labels,
                                             const float *class_weights, int classes, float *prob,
                                             double *row_loss, double *row_weight)
{
    int y = labels ? labels[r] : -1;
    int bad = 0;
    if (labels && (y < 0 || y >= classes)) {
        bad = 1;
        y = -1;
    }
    const float l =
        nn_softmax_ce_row(logits + r * (size_t)classes, classes, y, prob + r * (size_t)classes);
    if (labels) {
        const double w = y < 0 ? 0.0 : class_weights ? (double)class_weights[y] : 1.0;
        row_loss[r] = w * (double)l;
        row_weight[r] = w;
    }
    return bad;
}

/* dlogits[i] for i = row * classes + c; a bad label gives NaN (the forward
 * reported it already). */
static inline HPCML_HD void kb_softmax_ce_grad(size_t i, const float *prob, const int32_t *labels,
                                               const float *class_weights, int classes, float scale,
                                               float *dlogits)
{
    const size_t r = i / (size_t)classes;
    const int c = (int)(i % (size_t)classes);
    const int y = labels[r];
    const float ws =
        y >= 0 && y < classes ? scale * (class_weights ? class_weights[y] : 1.0f) : nanf("");
    dlogits[i] = nn_softmax_ce_grad(prob[i], c == y, ws);
}

static inline HPCML_HD void kb_sgd(size_t i, float *param, const float *grad, float *buf,
                                   const nn_step_params *sp)
{
    nn_sgd_update(&param[i], grad[i], buf ? &buf[i] : NULL, sp->lr, sp->momentum, sp->dampening,
                  sp->weight_decay, sp->nesterov, sp->first_step);
}

static inline HPCML_HD void kb_adam(size_t i, float *param, const float *grad, float *m, float *v,
                                    const nn_step_params *sp)
{
    nn_adam_update(&param[i], grad[i], &m[i], &v[i], sp->beta1, sp->beta2, sp->step_size,
                   sp->bc2_sqrt, sp->eps, sp->l2, sp->decay);
}

/* Column sums in KB_COLSUM_LANES interleaved lanes (lane j adds rows j,
 * j + LANES, ...), then the lanes in order: the kernel's summation order. */
#define KB_COLSUM_LANES 8
static inline HPCML_HD float kb_colsum_lane(int c, int lane, const float *a, int rows, int cols)
{
    float s = 0.0f;
    for (int r = lane; r < rows; r += KB_COLSUM_LANES)
        s += a[(size_t)r * cols + c];
    return s;
}

static inline HPCML_HD float kb_colsum_finish(const float *lanes, float beta, float out_c)
{
    float t = 0.0f;
    for (int i = 0; i < KB_COLSUM_LANES; i++)
        t += lanes[i];
    return (beta == 0.0f ? 0.0f : beta * out_c) + t;
}

#endif
