/* elementwise.h — the per-element math of the compute backends.
 *
 * Every formula that acts on one element (an activation and its derivative,
 * a dropout keep decision, one optimizer update, one row of softmax
 * cross-entropy) lives here once, as a small static inline function, so the
 * CPU backend's loops and a CUDA backend's kernels compute bit-for-bit the
 * same thing. HPCML_HD marks them for both sides: it expands to nothing in C
 * and to __host__ __device__ under nvcc. Only float32 math functions that
 * CUDA also provides (expf, logf, erff, sqrtf) are used. */
#ifndef HPCML_NN_ELEMENTWISE_H
#define HPCML_NN_ELEMENTWISE_H

#include <math.h>
#include <stdint.h>

#include "core/hd.h"


/* Activations of the hidden layers. The numbers are part of the config and
 * checkpoint contracts: append, never renumber. */
typedef enum {
    NN_ACT_NONE = 0, /* identity */
    NN_ACT_RELU = 1,
    NN_ACT_GELU = 2 /* exact (erf) GELU, as torch.nn.GELU() with approximate='none' */
} nn_activation;

/* ---- activations -------------------------------------------------------
 * GELU is the exact form x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), the
 * default of PyTorch's nn.GELU, so weights trained here and there agree; the
 * tanh approximation is not offered. Its derivative is
 * Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi). */
#define NN_INV_SQRT2_F 0.70710678118654752440f
#define NN_INV_SQRT_2PI_F 0.39894228040143267794f

static inline HPCML_HD float nn_act_forward(nn_activation act, float z) {
    switch (act) {
    case NN_ACT_RELU: return z > 0.0f ? z : 0.0f;
    case NN_ACT_GELU: return 0.5f * z * (1.0f + erff(z * NN_INV_SQRT2_F));
    default: return z;
    }
}

/* d act / d z at the pre-activation z. ReLU's derivative at exactly 0 is
 * taken as 0, as PyTorch does. */
static inline HPCML_HD float nn_act_derivative(nn_activation act, float z) {
    switch (act) {
    case NN_ACT_RELU: return z > 0.0f ? 1.0f : 0.0f;
    case NN_ACT_GELU:
        return 0.5f * (1.0f + erff(z * NN_INV_SQRT2_F)) +
               z * NN_INV_SQRT_2PI_F * expf(-0.5f * z * z);
    default: return 1.0f;
    }
}

/* ---- inverted dropout ----------------------------------------------------
 * A unit is kept when its uniform draw u in [0, 1) satisfies u >= p, so it is
 * kept with probability 1 - p; kept units are scaled by 1 / (1 - p) so the
 * expected activation is unchanged and evaluation needs no rescaling. The
 * returned value is the mask entry: 0 or 1 / (1 - p). */
static inline HPCML_HD float nn_dropout_scale(float u01, float p) {
    return u01 >= p ? 1.0f / (1.0f - p) : 0.0f;
}

/* Where a unit's draw comes from. Each Philox block (four 32-bit words)
 * gives eight 16-bit draws, and the units of a row are dealt to the blocks
 * in groups of NN_DROPOUT_GROUP = 128: unit j, with g = j / 128 and
 * r = j % 128, takes block rng_block(seed, RNG_STREAM_DROPOUT, row_key,
 * nn_dropout_lane(layer, j)), whose lane word is 16 g + r % 16, and in it
 * word r / 32, low half when (r / 16) is even, high half otherwise. So 16
 * blocks decide 128 consecutive units, and 16 consecutive units read the same
 * half word of 16 consecutive blocks: one vector operation on the CPU, one
 * coalesced store per warp on a GPU. The lane word packs the layer (8 bits)
 * and the block (24 bits): a layer may have at most NN_DROPOUT_MAX_UNITS
 * units and a model at most NN_DROPOUT_MAX_LAYERS hidden layers. */
#define NN_DROPOUT_GROUP 128
#define NN_DROPOUT_GROUP_BLOCKS 16
#define NN_DROPOUT_MAX_LAYERS 256
#define NN_DROPOUT_MAX_UNITS (1 << 27)
static inline HPCML_HD uint32_t nn_dropout_lane(int layer, int unit) {
    const uint32_t u = (uint32_t)unit;
    const uint32_t block =
        u / NN_DROPOUT_GROUP * NN_DROPOUT_GROUP_BLOCKS + u % NN_DROPOUT_GROUP_BLOCKS;
    return ((uint32_t)layer << 24) | block;
}
static inline HPCML_HD int nn_dropout_word(int unit) {
    return unit % NN_DROPOUT_GROUP / 32;
}
static inline HPCML_HD int nn_dropout_shift(int unit) {
    return unit % NN_DROPOUT_GROUP / NN_DROPOUT_GROUP_BLOCKS % 2 * 16;
}
/* The unit's 16-bit draw k from its block's words w[0..3]. */
static inline HPCML_HD uint32_t nn_dropout_draw(const uint32_t w[4], int unit) {
    return (w[nn_dropout_word(unit)] >> nn_dropout_shift(unit)) & 0xffffu;
}

/* The keep decision on the draw k as an integer compare. The uniform is
 * u = k * 2^-16 exactly, so u >= p <=> k >= p * 2^16 <=> k >= ceil(p * 2^16):
 * p * 2^16 is exact in float (a power-of-two scaling) and so is ceilf, and for
 * 0 <= p < 1 the threshold is an integer in [0, 2^16]. Keep a unit iff
 * k >= nn_dropout_threshold(p), which equals nn_dropout_scale(k * 2^-16, p)
 * != 0 for every k. The keep probability is 1 - ceil(p * 2^16) / 2^16, within
 * 2^-16 of 1 - p. */
static inline HPCML_HD uint32_t nn_dropout_threshold(float p) {
    return (uint32_t)ceilf(p * 0x1.0p16f);
}
static inline HPCML_HD float nn_dropout_u01(uint32_t draw) {
    return (float)draw * 0x1.0p-16f;
}

/* ---- softmax cross-entropy of one row ------------------------------------
 * Writes the softmax probabilities of the row's C logits to prob and returns
 * -log p_y computed as log-sum-exp minus z_y (stable: the row maximum is
 * subtracted first). With y < 0 (no label) it returns 0 and only writes
 * prob. */
static inline HPCML_HD float nn_softmax_ce_row(const float *z, int classes, int y, float *prob) {
    float zmax = z[0];
    for (int c = 1; c < classes; c++) zmax = z[c] > zmax ? z[c] : zmax;
    float sum = 0.0f;
    for (int c = 0; c < classes; c++) {
        float e = expf(z[c] - zmax);
        prob[c] = e;
        sum += e;
    }
    float inv = 1.0f / sum;
    for (int c = 0; c < classes; c++) prob[c] *= inv;
    if (y < 0) return 0.0f;
    return logf(sum) - (z[y] - zmax);
}

/* d loss_total / d z_c for one row: scale * w_y * (p_c - [c == y]). */
static inline HPCML_HD float nn_softmax_ce_grad(float prob, int is_target, float w_scaled) {
    return w_scaled * (prob - (is_target ? 1.0f : 0.0f));
}

/* ---- optimizer updates of one parameter --------------------------------
 * PyTorch's torch.optim.SGD: g = grad + wd * p; with momentum mu the buffer
 * is b = g on the first step and b = mu * b + (1 - dampening) * g after;
 * the step direction is g + mu * b (Nesterov) or b; p -= lr * direction. */
static inline HPCML_HD void nn_sgd_update(float *p, float grad, float *buf, float lr,
                                          float momentum, float dampening, float weight_decay,
                                          int nesterov, int first_step) {
    float g = grad + weight_decay * *p;
    if (momentum != 0.0f) {
        float b = first_step ? g : momentum * *buf + (1.0f - dampening) * g;
        *buf = b;
        g = nesterov ? g + momentum * b : b;
    }
    *p -= lr * g;
}

/* PyTorch's torch.optim.Adam / AdamW for one parameter. The host computes
 * the step's scalars once:
 *   step_size = lr / (1 - beta1^t), bc2_sqrt = sqrt(1 - beta2^t),
 *   l2 = weight_decay for Adam (added to the gradient), 0 for AdamW,
 *   decay = 1 - lr * weight_decay for AdamW (applied to p first), 1 for Adam.
 * eps is added after the bias correction of sqrt(v), as in PyTorch:
 *   p -= step_size * m / (sqrt(v) / bc2_sqrt + eps). */
static inline HPCML_HD void nn_adam_update(float *p, float grad, float *m, float *v, float beta1,
                                           float beta2, float step_size, float bc2_sqrt, float eps,
                                           float l2, float decay) {
    float x = *p * decay;
    float g = grad + l2 * x;
    float mm = beta1 * *m + (1.0f - beta1) * g;
    float vv = beta2 * *v + (1.0f - beta2) * g * g;
    *m = mm;
    *v = vv;
    *p = x - step_size * mm / (sqrtf(vv) / bc2_sqrt + eps);
}

#endif
