/* mlp.c — the MLP classifier's shape, initialization, forward and backward,
 * all numerical work done through the backend table. */
#include "nn/mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/status.h"

static int shape_check(const mlp_shape *s)
{
    HPCML_CHECK(s->n_inputs > 0, HPCML_EUSAGE, "mlp: %d inputs", s->n_inputs);
    HPCML_CHECK(s->n_classes >= 2, HPCML_EUSAGE, "mlp: %d classes (need >= 2)", s->n_classes);
    HPCML_CHECK(s->n_hidden >= 0 && s->n_hidden <= MLP_MAX_HIDDEN &&
                    s->n_hidden < NN_DROPOUT_MAX_LAYERS,
                HPCML_EUSAGE, "mlp: %d hidden layers (at most %d)", s->n_hidden, MLP_MAX_HIDDEN);
    for (int i = 0; i < s->n_hidden; i++)
        HPCML_CHECK(s->hidden[i] > 0 && s->hidden[i] <= NN_DROPOUT_MAX_UNITS, HPCML_EUSAGE,
                    "mlp: hidden layer %d has width %d", i, s->hidden[i]);
    HPCML_CHECK(s->act == NN_ACT_NONE || s->act == NN_ACT_RELU || s->act == NN_ACT_GELU,
                HPCML_EUSAGE, "mlp: unknown activation %d", (int)s->act);
    HPCML_CHECK(s->dropout_p >= 0.0f && s->dropout_p < 1.0f, HPCML_EUSAGE,
                "mlp: dropout %g not in [0, 1)", (double)s->dropout_p);
    return HPCML_OK;
}

static int layer_in(const mlp_shape *s, int l)
{
    return l == 0 ? s->n_inputs : s->hidden[l - 1];
}
static int layer_out(const mlp_shape *s, int l)
{
    return l == s->n_hidden ? s->n_classes : s->hidden[l];
}

size_t mlp_shape_param_count(const mlp_shape *s)
{
    size_t n = 0;
    for (int l = 0; l <= s->n_hidden; l++)
        n += (size_t)layer_out(s, l) * (size_t)layer_in(s, l) + (size_t)layer_out(s, l);
    return n;
}

static int be_alloc_floats(const nn_backend *be, float **p, size_t n)
{
    return be->alloc((void **)p, n * sizeof(float));
}

int mlp_create(mlp *m, const nn_backend *be, const mlp_shape *shape, int max_batch)
{
    memset(m, 0, sizeof *m);
    HPCML_TRY(shape_check(shape));
    HPCML_CHECK(max_batch > 0, HPCML_EUSAGE, "mlp: max batch %d", max_batch);
    m->be = be;
    m->shape = *shape;
    m->n_layers = shape->n_hidden + 1;
    m->max_batch = max_batch;
    const int L = m->n_layers;

    int rc = HPCML_OK;
    m->width = calloc((size_t)L + 1, sizeof *m->width);
    m->w_off = calloc((size_t)L, sizeof *m->w_off);
    m->b_off = calloc((size_t)L, sizeof *m->b_off);
    m->z = calloc((size_t)L, sizeof *m->z);
    m->h = calloc((size_t)L, sizeof *m->h); /* L-1 used; L keeps calloc(0) away */
    m->mask = calloc((size_t)L, sizeof *m->mask);
    if (!m->width || !m->w_off || !m->b_off || !m->z || !m->h || !m->mask) {
        rc = HPCML_FAIL(HPCML_EINTERNAL, "mlp: out of memory for %d layers", L);
        goto fail;
    }
    int widest_hidden = 1;
    for (int l = 0; l < L; l++) {
        m->width[l] = layer_in(shape, l);
        if (l > 0 && m->width[l] > widest_hidden) widest_hidden = m->width[l];
    }
    m->width[L] = shape->n_classes;

    size_t off = 0;
    for (int l = 0; l < L; l++) {
        m->w_off[l] = off;
        off += (size_t)m->width[l + 1] * (size_t)m->width[l];
        m->b_off[l] = off;
        off += (size_t)m->width[l + 1];
    }
    m->n_params = off;

    const size_t B = (size_t)max_batch;
    HPCML_TRY_GOTO(rc, be_alloc_floats(be, &m->params, m->n_params), fail);
    HPCML_TRY_GOTO(rc, be_alloc_floats(be, &m->grads, m->n_params), fail);
    for (int l = 0; l < L; l++) {
        HPCML_TRY_GOTO(rc, be_alloc_floats(be, &m->z[l], B * (size_t)m->width[l + 1]), fail);
        if (l < L - 1) {
            HPCML_TRY_GOTO(rc, be_alloc_floats(be, &m->h[l], B * (size_t)m->width[l + 1]), fail);
            HPCML_TRY_GOTO(rc, be_alloc_floats(be, &m->mask[l], B * (size_t)m->width[l + 1]), fail);
        }
    }
    HPCML_TRY_GOTO(rc, be_alloc_floats(be, &m->prob, B * (size_t)shape->n_classes), fail);
    HPCML_TRY_GOTO(rc, be_alloc_floats(be, &m->dlogits, B * (size_t)shape->n_classes), fail);
    for (int i = 0; i < 2; i++)
        HPCML_TRY_GOTO(rc, be_alloc_floats(be, &m->dbuf[i], B * (size_t)widest_hidden), fail);
    return HPCML_OK;
fail:
    mlp_destroy(m);
    return rc;
}

void mlp_destroy(mlp *m)
{
    const nn_backend *be = m->be;
    if (be) {
        for (int l = 0; l < m->n_layers; l++) {
            if (m->z) be->free(m->z[l]);
            if (m->h) be->free(m->h[l]);
            if (m->mask) be->free(m->mask[l]);
        }
        be->free(m->params);
        be->free(m->grads);
        be->free(m->prob);
        be->free(m->dlogits);
        be->free(m->dbuf[0]);
        be->free(m->dbuf[1]);
    }
    free(m->width);
    free(m->w_off);
    free(m->b_off);
    free(m->z);
    free(m->h);
    free(m->mask);
    memset(m, 0, sizeof *m);
}

int mlp_init_params(mlp *m, uint64_t seed, nn_init_scheme scheme)
{
    HPCML_CHECK(scheme == NN_INIT_HE_NORMAL || scheme == NN_INIT_TORCH_DEFAULT, HPCML_EUSAGE,
                "mlp: unknown init scheme %d", (int)scheme);
    float *host = malloc(m->n_params * sizeof(float));
    HPCML_ALLOC_CHECK(host, m->n_params * sizeof(float));
    for (int l = 0; l < m->n_layers; l++) {
        const double fan_in = (double)m->width[l];
        const size_t nw = (size_t)m->width[l + 1] * (size_t)m->width[l];
        const size_t nb = (size_t)m->width[l + 1];
        if (scheme == NN_INIT_HE_NORMAL) {
            const double std = sqrt(2.0 / fan_in);
            for (size_t i = m->w_off[l]; i < m->w_off[l] + nw; i++)
                host[i] = (float)(std * rng_normal(seed, RNG_STREAM_INIT, i, 0));
            for (size_t i = m->b_off[l]; i < m->b_off[l] + nb; i++)
                host[i] = 0.0f;
        } else {
            const double bound = 1.0 / sqrt(fan_in);
            for (size_t i = m->w_off[l]; i < m->b_off[l] + nb; i++) /* W then b: contiguous */
                host[i] = (float)(bound * (2.0 * rng_uniform(seed, RNG_STREAM_INIT, i, 0) - 1.0));
        }
    }
    int rc = mlp_set_params(m, host);
    free(host);
    return rc;
}

int mlp_get_params(const mlp *m, float *host)
{
    return m->be->copy_to_host(host, m->params, m->n_params * sizeof(float));
}

int mlp_set_params(mlp *m, const float *host)
{
    return m->be->copy_to_device(m->params, host, m->n_params * sizeof(float));
}

int mlp_mask_free(const mlp *m)
{
    return m->shape.act == NN_ACT_RELU && m->be->relu_dropout_backward != NULL;
}

int mlp_forward(mlp *m, const float *x, int rows, const nn_dropout_rows *dropout)
{
    HPCML_CHECK(rows >= 0 && rows <= m->max_batch, HPCML_EINTERNAL,
                "mlp_forward: %d rows, workspace holds %d", rows, m->max_batch);
    const nn_backend *be = m->be;
    const int use_dropout = dropout != NULL && m->shape.dropout_p > 0.0f;
    const float *in = x;
    for (int l = 0; l < m->n_layers; l++) {
        const int nin = m->width[l], nout = m->width[l + 1];
        const int hidden = l < m->n_layers - 1;
        /* z = in W^T, then + b and the activation */
        HPCML_TRY(be->sgemm(0, 1, rows, nout, nin, 1.0f, in, nin, m->params + m->w_off[l], nin,
                            0.0f, m->z[l], nout));
        HPCML_TRY(be->bias_act_forward(m->z[l], m->params + m->b_off[l], rows, nout,
                                       hidden ? m->shape.act : NN_ACT_NONE,
                                       hidden ? m->h[l] : m->z[l]));
        if (hidden) {
            /* ReLU layers back-propagate from h alone (relu_dropout_backward):
             * no mask is written */
            float *mask = mlp_mask_free(m) ? NULL : m->mask[l];
            if (use_dropout)
                HPCML_TRY(be->dropout_forward(m->h[l], mask, rows, nout, m->shape.dropout_p, l,
                                              dropout));
            in = m->h[l];
        }
    }
    m->last_rows = rows;
    m->last_dropout = use_dropout;
    m->last_infer = 0;
    return HPCML_OK;
}

int mlp_infer(mlp *m, const float *x, int rows)
{
    HPCML_CHECK(rows >= 0 && rows <= m->max_batch, HPCML_EINTERNAL,
                "mlp_infer: %d rows, workspace holds %d", rows, m->max_batch);
    const nn_backend *be = m->be;
    if (!be->mlp_infer) return mlp_forward(m, x, rows, NULL);
    const nn_mlp_view net = {.n_layers = m->n_layers,
                             .width = m->width,
                             .params = m->params,
                             .w_off = m->w_off,
                             .b_off = m->b_off,
                             .act = m->shape.act};
    HPCML_TRY(be->mlp_infer(&net, x, rows, m->z[m->n_layers - 1]));
    m->last_rows = rows;
    m->last_dropout = 0;
    m->last_infer = 1;
    return HPCML_OK;
}

int mlp_loss_forward(mlp *m, const int32_t *labels, const float *class_weights, int rows,
                     double *loss_sum, double *weight_sum)
{
    HPCML_CHECK(rows == m->last_rows, HPCML_EINTERNAL,
                "mlp_loss_forward: %d rows after a forward of %d", rows, m->last_rows);
    return m->be->softmax_ce_forward(mlp_logits(m), labels, class_weights, rows, m->shape.n_classes,
                                     m->prob, loss_sum, weight_sum);
}

int mlp_loss_backward(mlp *m, const int32_t *labels, const float *class_weights, int rows,
                      float scale)
{
    HPCML_CHECK(rows == m->last_rows && labels != NULL, HPCML_EINTERNAL,
                "mlp_loss_backward: %d rows after a forward of %d", rows, m->last_rows);
    return m->be->softmax_ce_backward(m->prob, labels, class_weights, rows, m->shape.n_classes,
                                      scale, m->dlogits);
}

int mlp_backward(mlp *m, const float *x, int rows, const float *dlogits, int accumulate)
{
    return mlp_backward_notify(m, x, rows, dlogits, accumulate, NULL, NULL);
}

int mlp_backward_notify(mlp *m, const float *x, int rows, const float *dlogits, int accumulate,
                        mlp_grad_ready_fn ready, void *ctx)
{
    HPCML_CHECK(rows == m->last_rows && !m->last_infer, HPCML_EINTERNAL,
                "mlp_backward: %d rows after a%s forward of %d", rows,
                m->last_infer ? "n evaluation (mlp_infer)" : "", m->last_rows);
    const nn_backend *be = m->be;
    const float beta = accumulate ? 1.0f : 0.0f;
    const float *dz = dlogits;
    for (int l = m->n_layers - 1; l >= 0; l--) {
        const int nin = m->width[l], nout = m->width[l + 1];
        const float *in = l == 0 ? x : m->h[l - 1];
        /* dW = dz^T in ([out][rows] x [rows][in]), db = column sums of dz */
        HPCML_TRY(be->sgemm(1, 0, nout, nin, rows, 1.0f, dz, nout, in, nin, beta,
                            m->grads + m->w_off[l], nin));
        HPCML_TRY(be->colsum(dz, rows, nout, beta, m->grads + m->b_off[l]));
        if (ready) HPCML_TRY(ready(m->w_off[l], m->b_off[l] + (size_t)nout, ctx));
        if (l == 0) break;
        /* d in = dz W, then back through the previous layer's dropout and
         * activation, in place. dbuf alternates so dz (read) != dh (written). */
        float *dh = m->dbuf[l % 2];
        HPCML_TRY(be->sgemm(0, 0, rows, nin, nout, 1.0f, dz, nout, m->params + m->w_off[l], nin,
                            0.0f, dh, nin));
        const size_t n = (size_t)rows * (size_t)nin;
        if (m->last_dropout && mlp_mask_free(m)) {
            const float scale = 1.0f / (1.0f - m->shape.dropout_p); /* as dropout_forward's */
            HPCML_TRY(be->relu_dropout_backward(m->h[l - 1], dh, n, scale, dh));
        } else if (m->last_dropout && be->dropout_act_backward) {
            HPCML_TRY(
                be->dropout_act_backward(m->z[l - 1], dh, m->mask[l - 1], n, m->shape.act, dh));
        } else {
            if (m->last_dropout) HPCML_TRY(be->dropout_backward(dh, m->mask[l - 1], n, dh));
            HPCML_TRY(be->act_backward(m->z[l - 1], dh, n, m->shape.act, dh));
        }
        dz = dh;
    }
    return HPCML_OK;
}
