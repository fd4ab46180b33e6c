/* backend_cpu.c — the CPU compute backend: OpenBLAS for GEMM, plain C loops
 * over elementwise.h for everything else (written so the compiler can
 * vectorize them), host memory, and a single-process allreduce. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/status.h"
#include "nn/backend.h"

static int cpu_alloc(void **ptr, size_t bytes) {
    HPCML_CHECK(ptr != NULL, HPCML_EINTERNAL, "cpu_alloc: NULL out pointer");
    *ptr = NULL;
    if (bytes == 0) return HPCML_OK;
    /* 64-byte aligned for vector loads; aligned_alloc needs a multiple of it. */
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded);
    HPCML_ALLOC_CHECK(p, rounded);
    memset(p, 0, rounded);
    *ptr = p;
    return HPCML_OK;
}

static void cpu_free(void *ptr) { free(ptr); }

static int cpu_copy(void *dst, const void *src, size_t bytes) {
    if (bytes) memmove(dst, src, bytes);
    return HPCML_OK;
}

static int cpu_zero(void *ptr, size_t bytes) {
    if (bytes) memset(ptr, 0, bytes);
    return HPCML_OK;
}

static int cpu_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    HPCML_CHECK(m >= 0 && n >= 0 && k >= 0, HPCML_EINTERNAL, "sgemm: negative size %d %d %d", m,
                n, k);
    if (m == 0 || n == 0) return HPCML_OK;
    if (k == 0) { /* a rank with no rows this step: C = beta C, defined here, not left to BLAS */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                float *cij = &c[(size_t)i * ldc + j];
                *cij = beta == 0.0f ? 0.0f : beta * *cij;
            }
        return HPCML_OK;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return HPCML_OK;
}

static int cpu_colsum(const float *a, int rows, int cols, float beta, float *out) {
    if (beta == 0.0f) {
        memset(out, 0, (size_t)cols * sizeof(float));
    } else if (beta != 1.0f) {
        for (int c = 0; c < cols; c++) out[c] *= beta;
    }
    for (int r = 0; r < rows; r++) {
        const float *row = a + (size_t)r * cols;
        for (int c = 0; c < cols; c++) out[c] += row[c];
    }
    return HPCML_OK;
}

static int cpu_scale(float *x, size_t n, float alpha) {
    for (size_t i = 0; i < n; i++) x[i] *= alpha;
    return HPCML_OK;
}

static int cpu_sumsq(const float *x, size_t n, double *sumsq_host) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    *sumsq_host = s;
    return HPCML_OK;
}

static int cpu_bias_act_forward(float *z, const float *bias, int rows, int cols,
                                nn_activation act, float *a) {
    for (int r = 0; r < rows; r++) {
        float *zr = z + (size_t)r * cols;
        float *ar = a + (size_t)r * cols;
        for (int c = 0; c < cols; c++) {
            float v = zr[c] + bias[c];
            zr[c] = v;
            ar[c] = nn_act_forward(act, v);
        }
    }
    return HPCML_OK;
}

static int cpu_act_backward(const float *z, const float *da, size_t n, nn_activation act,
                            float *dz) {
    for (size_t i = 0; i < n; i++) dz[i] = da[i] * nn_act_derivative(act, z[i]);
    return HPCML_OK;
}

static int cpu_dropout_forward(float *x, float *mask, int rows, int cols, float p, int layer,
                               const nn_dropout_rows *keys) {
    HPCML_CHECK(p >= 0.0f && p < 1.0f, HPCML_EUSAGE, "dropout probability %g not in [0, 1)",
                (double)p);
    HPCML_CHECK(layer >= 0 && layer < NN_DROPOUT_MAX_LAYERS && cols <= NN_DROPOUT_MAX_UNITS,
                HPCML_EUSAGE, "dropout: layer %d or width %d out of range", layer, cols);
    if (p == 0.0f) {
        for (size_t i = 0; i < (size_t)rows * cols; i++) mask[i] = 1.0f;
        return HPCML_OK;
    }
    for (int r = 0; r < rows; r++) {
        uint64_t key = keys->row_keys ? keys->row_keys[r] : keys->row_key_base + (uint64_t)r;
        float *xr = x + (size_t)r * cols;
        float *mr = mask + (size_t)r * cols;
        for (int j = 0; j < cols; j += 4) {
            rng_u32x4 b = rng_block(keys->seed, RNG_STREAM_DROPOUT, key, nn_dropout_lane(layer, j));
            for (int q = 0; q < 4 && j + q < cols; q++)
                mr[j + q] = nn_dropout_scale(rng_u01f_from_word(b.v[q]), p);
        }
        for (int j = 0; j < cols; j++) xr[j] *= mr[j];
    }
    return HPCML_OK;
}

static int cpu_dropout_backward(const float *dy, const float *mask, size_t n, float *dx) {
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * mask[i];
    return HPCML_OK;
}

static int cpu_softmax_ce_forward(const float *logits, const int32_t *labels,
                                  const float *class_weights, int rows, int classes, float *prob,
                                  double *loss_sum, double *weight_sum) {
    double ls = 0.0, ws = 0.0;
    for (int r = 0; r < rows; r++) {
        int y = labels ? labels[r] : -1;
        HPCML_CHECK(!labels || (y >= 0 && y < classes), HPCML_EDATA,
                    "label %d of row %d not in [0, %d)", y, r, classes);
        float l = nn_softmax_ce_row(logits + (size_t)r * classes, classes, y,
                                    prob + (size_t)r * classes);
        if (labels) {
            double w = class_weights ? (double)class_weights[y] : 1.0;
            ls += w * (double)l;
            ws += w;
        }
    }
    if (loss_sum) *loss_sum = ls;
    if (weight_sum) *weight_sum = ws;
    return HPCML_OK;
}

static int cpu_softmax_ce_backward(const float *prob, const int32_t *labels,
                                   const float *class_weights, int rows, int classes, float scale,
                                   float *dlogits) {
    for (int r = 0; r < rows; r++) {
        int y = labels[r];
        HPCML_CHECK(y >= 0 && y < classes, HPCML_EDATA, "label %d of row %d not in [0, %d)", y, r,
                    classes);
        float ws = scale * (class_weights ? class_weights[y] : 1.0f);
        const float *pr = prob + (size_t)r * classes;
        float *dr = dlogits + (size_t)r * classes;
        for (int c = 0; c < classes; c++) dr[c] = nn_softmax_ce_grad(pr[c], c == y, ws);
    }
    return HPCML_OK;
}

static int cpu_sgd_step(float *param, const float *grad, float *momentum_buf, size_t n,
                        const nn_step_params *sp) {
    HPCML_CHECK(sp->momentum == 0.0f || momentum_buf != NULL, HPCML_EINTERNAL,
                "sgd_step: momentum without a buffer");
    const float lr = sp->lr, mu = sp->momentum, damp = sp->dampening, wd = sp->weight_decay;
    const int nest = sp->nesterov, first = sp->first_step;
    if (mu == 0.0f) {
        for (size_t i = 0; i < n; i++) nn_sgd_update(&param[i], grad[i], NULL, lr, 0.0f, damp,
                                                     wd, nest, first);
        return HPCML_OK;
    }
    for (size_t i = 0; i < n; i++)
        nn_sgd_update(&param[i], grad[i], &momentum_buf[i], lr, mu, damp, wd, nest, first);
    return HPCML_OK;
}

static int cpu_adam_step(float *param, const float *grad, float *m, float *v, size_t n,
                         const nn_step_params *sp) {
    const float b1 = sp->beta1, b2 = sp->beta2, ss = sp->step_size, bc2 = sp->bc2_sqrt;
    const float eps = sp->eps, l2 = sp->l2, decay = sp->decay;
    for (size_t i = 0; i < n; i++)
        nn_adam_update(&param[i], grad[i], &m[i], &v[i], b1, b2, ss, bc2, eps, l2, decay);
    return HPCML_OK;
}

int nn_allreduce_single(float *buf, size_t n, void *ctx) {
    (void)buf;
    (void)n;
    (void)ctx;
    return HPCML_OK;
}

int nn_allreduce_single_f64(double *buf_host, size_t n, void *ctx) {
    (void)buf_host;
    (void)n;
    (void)ctx;
    return HPCML_OK;
}

const nn_backend nn_backend_cpu = {
    .name = "cpu",
    .device_memory = 0,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .copy_to_device = cpu_copy,
    .copy_to_host = cpu_copy,
    .copy = cpu_copy,
    .zero = cpu_zero,
    .sgemm = cpu_sgemm,
    .colsum = cpu_colsum,
    .scale = cpu_scale,
    .sumsq = cpu_sumsq,
    .bias_act_forward = cpu_bias_act_forward,
    .act_backward = cpu_act_backward,
    .dropout_forward = cpu_dropout_forward,
    .dropout_backward = cpu_dropout_backward,
    .softmax_ce_forward = cpu_softmax_ce_forward,
    .softmax_ce_backward = cpu_softmax_ce_backward,
    .sgd_step = cpu_sgd_step,
    .adam_step = cpu_adam_step,
    .allreduce_sum = nn_allreduce_single,
    .allreduce_sum_f64 = nn_allreduce_single_f64,
    .comm_ctx = NULL,
};

const nn_backend *nn_backend_by_name(const char *name) {
    static const nn_backend *const registry[] = {&nn_backend_cpu};
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}
