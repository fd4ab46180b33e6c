/* optim.h — optimizers over a flat parameter buffer, gradient clipping and
 * learning-rate schedules.
 *
 * The optimizers follow PyTorch's definitions exactly (torch.optim.SGD with
 * momentum/dampening/Nesterov/weight_decay, Adam with L2 weight decay, AdamW
 * with decoupled decay, both with bias correction and eps added after it);
 * the per-element updates are in elementwise.h and run through the backend.
 * Schedules are pure functions of the step number. */
#ifndef HPCML_NN_OPTIM_H
#define HPCML_NN_OPTIM_H

#include <stddef.h>

#include "nn/backend.h"

/* Numbers are part of the config and checkpoint contracts. */
typedef enum { NN_OPT_SGD = 0, NN_OPT_ADAM = 1, NN_OPT_ADAMW = 2 } nn_optim_kind;

typedef struct {
    nn_optim_kind kind;
    double weight_decay; /* SGD, Adam: L2 added to the gradient; AdamW: decoupled */
    double momentum;     /* SGD */
    double dampening;    /* SGD (PyTorch default 0) */
    int nesterov;        /* SGD: needs momentum > 0 and dampening == 0 */
    double beta1, beta2, eps; /* Adam/AdamW (PyTorch defaults 0.9, 0.999, 1e-8) */
} nn_optim_config;

/* PyTorch's defaults for kind: SGD momentum 0; Adam(W) betas (0.9, 0.999),
 * eps 1e-8; weight decay 0 for SGD and Adam, 0.01 for AdamW. */
nn_optim_config nn_optim_defaults(nn_optim_kind kind);

typedef struct {
    nn_optim_config cfg;
    const nn_backend *be;
    size_t n;
    float *m; /* SGD momentum buffer or Adam first moment (backend memory; NULL if unused) */
    float *v; /* Adam second moment (NULL for SGD) */
    long step; /* steps taken; the next step is step + 1 (Adam's t) */
} nn_optim;

/* State for n parameters, zeroed, step 0. */
int optim_create(nn_optim *o, const nn_backend *be, size_t n, const nn_optim_config *cfg);
void optim_destroy(nn_optim *o);

/* One step with learning rate lr: params -= update(grads). */
int optim_step(nn_optim *o, float *params, const float *grads, double lr);

/* The nn_step_params the backend receives for the next step (exposed for
 * tests and for backends that batch steps). */
nn_step_params optim_step_params(const nn_optim *o, double lr);

/* Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_: norm =
 * ||grads||_2 (over all n entries; call after the allreduce so every rank
 * sees the same norm); if max_norm > 0, grads *= min(1, max_norm / (norm +
 * 1e-6)). *norm_out gets the norm before clipping. */
int optim_clip_grad_norm(const nn_backend *be, float *grads, size_t n, double max_norm,
                         double *norm_out);

/* ---- learning-rate schedules -------------------------------------------
 * lr(t) for optimizer step t = 0, 1, 2, ... (t = o->step before the step):
 *   warm-up: for t < warmup_steps, lr = base_lr * (t + 1) / warmup_steps
 *            (linear, reaching base_lr at the end; combines with any kind);
 *   constant: base_lr;
 *   step:     base_lr * gamma^floor(epoch / step_epochs), epoch = floor(t /
 *             steps_per_epoch) (as torch StepLR stepped once per epoch);
 *   cosine:   min_lr + (base_lr - min_lr) * (1 + cos(pi * u)) / 2 with u =
 *             (t - warmup_steps) / (total_steps - warmup_steps) clipped to
 *             [0, 1]: the decay starts where the warm-up ends and reaches
 *             min_lr at total_steps (per-step CosineAnnealingLR). */
typedef enum { NN_LR_CONSTANT = 0, NN_LR_STEP = 1, NN_LR_COSINE = 2 } nn_lr_kind;

typedef struct {
    nn_lr_kind kind;
    double base_lr;
    long warmup_steps;    /* 0: no warm-up */
    long steps_per_epoch; /* step schedule */
    long step_epochs;     /* step schedule: decay every this many epochs */
    double gamma;         /* step schedule factor */
    long total_steps;     /* cosine: steps over the whole run */
    double min_lr;        /* cosine floor */
} nn_lr_schedule;

double lr_schedule_at(const nn_lr_schedule *s, long t);

/* The linear scaling rule (Goyal et al. 2017): lr * global_batch / base_batch. */
double lr_linear_scaling(double lr, long global_batch, long base_batch);

#endif
