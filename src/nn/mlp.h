/* mlp.h — the multi-layer perceptron classifier, computed through a backend.
 *
 *   x -> Linear -> act -> dropout -> ... -> Linear -> logits -> softmax
 *
 * Parameters live in one contiguous buffer (and gradients in another of the
 * same layout), layer by layer: W_l then b_l, W_l row-major [out][in] like
 * PyTorch's nn.Linear.weight, so the flat buffer equals
 * torch.cat([p.flatten() for p in nn.Sequential(Linear, act, ...,
 * Linear).parameters()]) and optimizer steps, allreduce and checkpoints each
 * touch one buffer. Dropout (inverted, probability p) follows every hidden
 * activation, never the input or the logits.
 *
 * A training step, data-parallel over ranks (each holding some rows of the
 * global batch; x, labels in backend memory):
 *   mlp_forward(m, x, rows, &keys)                 train mode: dropout on
 *   mlp_loss_forward(m, y, w, rows, &ls, &ws)      probs + weighted loss sum
 *   be->allreduce_sum_f64({ls, ws}, 2, ctx)        global sums, W = ws
 *   mlp_loss_backward(m, y, w, rows, 1 / W)        m->dlogits
 *   mlp_backward(m, x, rows, m->dlogits, 0)        m->grads
 *   be->allreduce_sum(m->grads, m->n_params, be->comm_ctx)
 *   optimizer step on m->params (optim.h)
 * The mean loss is ls / W (global sums), as CrossEntropyLoss(weight=w). */
#ifndef HPCML_NN_MLP_H
#define HPCML_NN_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "nn/backend.h"

/* Initialization, from (seed, RNG_STREAM_INIT, flat parameter index): the
 * value of a parameter depends only on the seed, the shape and its index.
 * Numbers are part of the config contract: append, never renumber. */
typedef enum {
    /* He/Kaiming normal (fan_in, gain sqrt 2): W ~ N(0, 2 / fan_in) from
     * rng_normal(seed, RNG_STREAM_INIT, index, 0); biases 0. */
    NN_INIT_HE_NORMAL = 0,
    /* PyTorch's nn.Linear default (kaiming_uniform with a = sqrt 5): W and b
     * ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) from rng_uniform(seed,
     * RNG_STREAM_INIT, index, 0). */
    NN_INIT_TORCH_DEFAULT = 1
} nn_init_scheme;

#define MLP_MAX_HIDDEN 64

typedef struct {
    int n_inputs;
    int n_hidden;               /* number of hidden layers, 0..MLP_MAX_HIDDEN */
    int hidden[MLP_MAX_HIDDEN]; /* their widths */
    int n_classes;              /* >= 2 */
    nn_activation act;
    float dropout_p; /* 0 <= p < 1 */
} mlp_shape;

typedef struct {
    const nn_backend *be;
    mlp_shape shape;
    int n_layers;   /* Linear layers = n_hidden + 1 */
    int *width;     /* n_layers + 1 entries: width[0] inputs ... width[n_layers] classes */
    int max_batch;
    size_t n_params;
    size_t *w_off, *b_off; /* per layer, offsets (floats) into params and grads */
    float *params, *grads; /* backend memory, n_params each */
    /* Workspace for max_batch rows, backend memory. */
    float **z;    /* per layer: pre-activation; z[n_layers - 1] are the logits */
    float **h;    /* per hidden layer: act(z) * mask, the next layer's input */
    float **mask; /* per hidden layer: dropout mask (0 or 1/(1-p)) of the last train
                   * forward; not written when mlp_mask_free */
    float *prob;    /* [max_batch][classes] softmax of the last mlp_loss_forward */
    float *dlogits; /* [max_batch][classes] from mlp_loss_backward */
    float *dbuf[2]; /* back-propagation ping-pong, [max_batch][widest hidden] */
    int last_rows, last_dropout; /* what the last forward did, checked by backward */
    int last_infer;              /* 1 after mlp_infer: nothing to back-propagate */
} mlp;

/* Allocate parameters, gradients and workspace for up to max_batch rows.
 * Parameters start at zero: call mlp_init_params or mlp_set_params. */
int mlp_create(mlp *m, const nn_backend *be, const mlp_shape *shape, int max_batch);
void mlp_destroy(mlp *m); /* safe on a zeroed or destroyed mlp */

/* Parameter count of a shape, without creating a model. */
size_t mlp_shape_param_count(const mlp_shape *shape);

int mlp_init_params(mlp *m, uint64_t seed, nn_init_scheme scheme);
int mlp_get_params(const mlp *m, float *host);       /* n_params floats out */
int mlp_set_params(mlp *m, const float *host);       /* n_params floats in */

/* Forward rows (<= max_batch) of x[rows][n_inputs]. dropout == NULL is
 * evaluation mode; otherwise dropout of probability shape.dropout_p is
 * applied with the masks keyed by *dropout (backend.h). Logits land in
 * mlp_logits(m), row-major [rows][classes]. */
int mlp_forward(mlp *m, const float *x, int rows, const nn_dropout_rows *dropout);
/* Evaluation-mode forward for scoring: logits of rows (<= max_batch) of
 * x[rows][n_inputs] into mlp_logits(m), through the backend's mlp_infer
 * where it has one (the CPU's: each row's logits depend on that row alone,
 * bit for bit, whatever rows and the row's place; infer_cpu.h), else
 * mlp_forward(m, x, rows, NULL). Every score hpcml reports (the trainer's
 * evaluation, predictions.h5, hpcml-predict) comes from here. Keeps no
 * pre-activations: mlp_backward after it fails; mlp_loss_forward works. */
int mlp_infer(mlp *m, const float *x, int rows);
/* Whether forward leaves m->mask unwritten: ReLU layers on a backend with
 * relu_dropout_backward back-propagate through dropout from h alone. (A test
 * that wants the masks draws them with the backend's dropout_forward.) */
int mlp_mask_free(const mlp *m);
static inline const float *mlp_logits(const mlp *m) { return m->z[m->n_layers - 1]; }

/* Softmax of the last forward's logits into m->prob; with labels also the
 * weighted loss sum and weight sum (backend softmax_ce_forward). labels ==
 * NULL gives probabilities only (prediction). */
int mlp_loss_forward(mlp *m, const int32_t *labels, const float *class_weights, int rows,
                     double *loss_sum, double *weight_sum);
/* m->dlogits = scale * w_y * (prob - onehot(y)); scale is 1 / (global sum
 * of the batch's class weights) for the weighted mean loss. */
int mlp_loss_backward(mlp *m, const int32_t *labels, const float *class_weights, int rows,
                      float scale);

/* Back-propagate dlogits[rows][classes] (usually m->dlogits) through the
 * state of the last mlp_forward (same x, same rows) into m->grads,
 * overwriting them, or adding to them when accumulate != 0. */
int mlp_backward(mlp *m, const float *x, int rows, const float *dlogits, int accumulate);

/* mlp_backward that calls ready(lo, hi, ctx) as soon as the gradients
 * grads[lo, hi) of a layer (its weights and bias) are final, last layer
 * first, so their allreduce can start while earlier layers are still being
 * differentiated. A non-zero return of ready ends the pass with it. */
typedef int (*mlp_grad_ready_fn)(size_t lo, size_t hi, void *ctx);
int mlp_backward_notify(mlp *m, const float *x, int rows, const float *dlogits, int accumulate,
                        mlp_grad_ready_fn ready, void *ctx);

#endif
