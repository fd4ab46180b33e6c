/* optim.c — optimizer state and steps over the backend, gradient clipping,
 * learning-rate schedules. */
#include "nn/optim.h"

#include <math.h>
#include <string.h>

#include "core/status.h"

nn_optim_config nn_optim_defaults(nn_optim_kind kind) {
    nn_optim_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.eps = 1e-8;
    c.weight_decay = kind == NN_OPT_ADAMW ? 0.01 : 0.0;
    return c;
}

static int config_check(const nn_optim_config *c) {
    HPCML_CHECK(c->kind == NN_OPT_SGD || c->kind == NN_OPT_ADAM || c->kind == NN_OPT_ADAMW,
                HPCML_EUSAGE, "optimizer: unknown kind %d", (int)c->kind);
    HPCML_CHECK(c->weight_decay >= 0.0, HPCML_EUSAGE, "optimizer: weight decay %g < 0",
                c->weight_decay);
    if (c->kind == NN_OPT_SGD) {
        HPCML_CHECK(c->momentum >= 0.0, HPCML_EUSAGE, "optimizer: momentum %g < 0", c->momentum);
        HPCML_CHECK(!c->nesterov || (c->momentum > 0.0 && c->dampening == 0.0), HPCML_EUSAGE,
                    "optimizer: Nesterov momentum requires momentum > 0 and dampening 0");
    } else {
        HPCML_CHECK(c->beta1 >= 0.0 && c->beta1 < 1.0 && c->beta2 >= 0.0 && c->beta2 < 1.0,
                    HPCML_EUSAGE, "optimizer: betas (%g, %g) not in [0, 1)", c->beta1, c->beta2);
        HPCML_CHECK(c->eps >= 0.0, HPCML_EUSAGE, "optimizer: eps %g < 0", c->eps);
    }
    return HPCML_OK;
}

int optim_create(nn_optim *o, const nn_backend *be, size_t n, const nn_optim_config *cfg) {
    memset(o, 0, sizeof *o);
    HPCML_TRY(config_check(cfg));
    o->cfg = *cfg;
    o->be = be;
    o->n = n;
    int rc = HPCML_OK;
    const int need_m = cfg->kind != NN_OPT_SGD || cfg->momentum != 0.0;
    const int need_v = cfg->kind != NN_OPT_SGD;
    if (need_m) HPCML_TRY_GOTO(rc, be->alloc((void **)&o->m, n * sizeof(float)), fail);
    if (need_v) HPCML_TRY_GOTO(rc, be->alloc((void **)&o->v, n * sizeof(float)), fail);
    return HPCML_OK;
fail:
    optim_destroy(o);
    return rc;
}

void optim_destroy(nn_optim *o) {
    if (o->be) {
        o->be->free(o->m);
        o->be->free(o->v);
    }
    memset(o, 0, sizeof *o);
}

nn_step_params optim_step_params(const nn_optim *o, double lr) {
    const nn_optim_config *c = &o->cfg;
    const long t = o->step + 1;
    nn_step_params sp;
    memset(&sp, 0, sizeof sp);
    sp.lr = (float)lr;
    sp.weight_decay = (float)c->weight_decay;
    sp.momentum = (float)c->momentum;
    sp.dampening = (float)c->dampening;
    sp.nesterov = c->nesterov;
    sp.first_step = t == 1;
    sp.beta1 = (float)c->beta1;
    sp.beta2 = (float)c->beta2;
    sp.eps = (float)c->eps;
    /* Bias corrections in double on the host, once per step, as PyTorch
     * computes them in Python floats. */
    sp.step_size = (float)(lr / (1.0 - pow(c->beta1, (double)t)));
    sp.bc2_sqrt = (float)sqrt(1.0 - pow(c->beta2, (double)t));
    if (c->kind == NN_OPT_ADAMW) {
        sp.l2 = 0.0f;
        sp.decay = (float)(1.0 - lr * c->weight_decay);
    } else {
        sp.l2 = (float)c->weight_decay;
        sp.decay = 1.0f;
    }
    return sp;
}

int optim_step(nn_optim *o, float *params, const float *grads, double lr) {
    nn_step_params sp = optim_step_params(o, lr);
    if (o->cfg.kind == NN_OPT_SGD)
        HPCML_TRY(o->be->sgd_step(params, grads, o->m, o->n, &sp));
    else
        HPCML_TRY(o->be->adam_step(params, grads, o->m, o->v, o->n, &sp));
    o->step++;
    return HPCML_OK;
}

int optim_clip_grad_norm(const nn_backend *be, float *grads, size_t n, double max_norm,
                         double *norm_out) {
    double sumsq = 0.0;
    HPCML_TRY(be->sumsq(grads, n, &sumsq));
    const double norm = sqrt(sumsq);
    if (norm_out) *norm_out = norm;
    HPCML_CHECK(isfinite(norm), HPCML_EDATA, "gradient norm is %g (diverged?)", norm);
    if (max_norm > 0.0) {
        const double coef = max_norm / (norm + 1e-6);
        if (coef < 1.0) HPCML_TRY(be->scale(grads, n, (float)coef));
    }
    return HPCML_OK;
}

double lr_schedule_at(const nn_lr_schedule *s, long t) {
    if (t < 0) t = 0;
    if (s->warmup_steps > 0 && t < s->warmup_steps)
        return s->base_lr * (double)(t + 1) / (double)s->warmup_steps;
    switch (s->kind) {
    case NN_LR_STEP: {
        if (s->steps_per_epoch <= 0 || s->step_epochs <= 0) return s->base_lr;
        long epoch = t / s->steps_per_epoch;
        return s->base_lr * pow(s->gamma, (double)(epoch / s->step_epochs));
    }
    case NN_LR_COSINE: {
        long span = s->total_steps - s->warmup_steps;
        if (span <= 0) return s->min_lr;
        double u = (double)(t - s->warmup_steps) / (double)span;
        if (u > 1.0) u = 1.0;
        return s->min_lr + (s->base_lr - s->min_lr) * 0.5 * (1.0 + cos(M_PI * u));
    }
    default: return s->base_lr;
    }
}

double lr_linear_scaling(double lr, long global_batch, long base_batch) {
    if (base_batch <= 0) return lr;
    return lr * (double)global_batch / (double)base_batch;
}
