/* test_nn_gradcheck.c — the CPU backend's and the MLP's analytic gradients
 * against central finite differences of an independent double-precision
 * reference written here (its own loops, libm's double erf/exp/log), so a
 * mistake shared by the forward and backward code of src/nn cannot hide.
 *
 * Covered: each activation's derivative (ReLU away from its kink, GELU,
 * identity), weighted softmax cross-entropy, dropout with its (fixed) mask,
 * the linear layers, the whole MLP for every activation with and without
 * dropout; plus GEMM/column-sum against naive loops, dropout mask
 * properties (keep rate, scale, independence from batch position, i.e. from
 * the rank count), gradient accumulation, and the data-parallel identity
 * (sum of per-shard gradients scaled by the global weight = full-batch
 * gradient). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "nn/backend.h"
#include "nn/mlp.h"

static const nn_backend *be = &nn_backend_cpu;

/* ---- double reference -------------------------------------------------- */

static double ref_act(nn_activation act, double z) {
    switch (act) {
    case NN_ACT_RELU: return z > 0 ? z : 0;
    case NN_ACT_GELU: return 0.5 * z * (1.0 + erf(z / sqrt(2.0)));
    default: return z;
    }
}

/* Weighted mean softmax cross-entropy of logits[rows][C] (log-sum-exp). */
static double ref_ce(const double *logits, const int32_t *y, const float *cw, int rows, int C) {
    double ls = 0, ws = 0;
    for (int r = 0; r < rows; r++) {
        const double *z = logits + (size_t)r * C;
        double mx = z[0];
        for (int c = 1; c < C; c++) mx = fmax(mx, z[c]);
        double s = 0;
        for (int c = 0; c < C; c++) s += exp(z[c] - mx);
        double w = cw ? cw[y[r]] : 1.0;
        ls += w * (log(s) + mx - z[y[r]]);
        ws += w;
    }
    return ls / ws;
}

typedef struct {
    int L;
    const int *width; /* L + 1 */
    nn_activation act;
    const double *mask_or_null[MLP_MAX_HIDDEN]; /* per hidden layer, [rows][width] */
} ref_net;

/* Loss of the MLP with parameters theta (same flat layout as mlp.h). When
 * min_abs_z is given, it receives the smallest |pre-activation| of the
 * hidden layers (how close ReLU is to its kink). */
static double ref_mlp_loss(const ref_net *n, const double *theta, const float *x, int rows,
                           const int32_t *y, const float *cw, double *min_abs_z) {
    int maxw = 0;
    for (int l = 0; l <= n->L; l++) maxw = n->width[l] > maxw ? n->width[l] : maxw;
    double *in = malloc(sizeof(double) * rows * maxw), *out = malloc(sizeof(double) * rows * maxw);
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < n->width[0]; i++) in[r * n->width[0] + i] = x[r * n->width[0] + i];
    size_t off = 0;
    double mz = INFINITY;
    for (int l = 0; l < n->L; l++) {
        int nin = n->width[l], nout = n->width[l + 1];
        const double *W = theta + off, *b = theta + off + (size_t)nout * nin;
        off += (size_t)nout * nin + nout;
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < nout; o++) {
                double z = b[o];
                for (int i = 0; i < nin; i++) z += in[r * nin + i] * W[o * nin + i];
                if (l < n->L - 1) {
                    mz = fmin(mz, fabs(z));
                    z = ref_act(n->act, z);
                    if (n->mask_or_null[l]) z *= n->mask_or_null[l][r * nout + o];
                }
                out[r * nout + o] = z;
            }
        double *t = in;
        in = out;
        out = t;
    }
    double loss = ref_ce(in, y, cw, rows, n->width[n->L]);
    free(in);
    free(out);
    if (min_abs_z) *min_abs_z = mz;
    return loss;
}

static void fill_uniform(float *a, size_t n, uint64_t seed, uint64_t base, double lo, double hi) {
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(lo + (hi - lo) * rng_uniform(seed, 99, base + i, 0));
}

/* |a - b| <= atol + rtol * |b|, reporting the worst ratio. */
static int close_enough(double a, double b, double atol, double rtol, double *worst) {
    double excess = fabs(a - b) / (atol + rtol * fabs(b));
    if (excess > *worst) *worst = excess;
    return excess <= 1.0;
}

/* ---- kernels ------------------------------------------------------------ */

static void test_sgemm_colsum(void) {
    enum { M = 5, N = 4, K = 3 };
    float A[K * M], B[N * K], C[M * N], R[M * N];
    fill_uniform(A, K * M, 1, 0, -1, 1);
    fill_uniform(B, N * K, 1, 100, -1, 1);
    fill_uniform(C, M * N, 1, 200, -1, 1);
    /* C = 2 * A^T B^T + 0.5 C with A stored [K][M], B stored [N][K] */
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += (double)A[k * M + i] * B[j * K + k];
            R[i * N + j] = (float)(2 * s + 0.5 * C[i * N + j]);
        }
    CHECK(be->sgemm(1, 1, M, N, K, 2.0f, A, M, B, K, 0.5f, C, N) == 0);
    for (int i = 0; i < M * N; i++) CHECK_NEAR(C[i], R[i], 1e-5);

    float out[N] = {1, 2, 3, 4};
    float col[N];
    for (int c = 0; c < N; c++) {
        col[c] = 2.0f * out[c];
        for (int r = 0; r < M; r++) col[c] += C[r * N + c];
    }
    CHECK(be->colsum(C, M, N, 2.0f, out) == 0);
    for (int c = 0; c < N; c++) CHECK_NEAR(out[c], col[c], 1e-5);
}

static void test_activation_derivatives(void) {
    const nn_activation acts[] = {NN_ACT_RELU, NN_ACT_GELU, NN_ACT_NONE};
    double worst = 0;
    for (int a = 0; a < 3; a++) {
        float z[401], da[401], dz[401], out[401], zb[401];
        for (int i = 0; i < 401; i++) {
            z[i] = -6.0f + 0.03f * (float)i + 0.0013f; /* never exactly 0: no ReLU kink */
            da[i] = 1.0f;
        }
        memcpy(zb, z, sizeof z);
        float zero_bias[1] = {0};
        /* forward through the backend (one column per row) against double */
        CHECK(be->bias_act_forward(zb, zero_bias, 401, 1, acts[a], out) == 0);
        CHECK(be->act_backward(z, da, 401, acts[a], dz) == 0);
        for (int i = 0; i < 401; i++) {
            double zd = z[i], h = 1e-6;
            CHECK(close_enough(out[i], ref_act(acts[a], zd), 1e-6, 1e-6, &worst));
            double num = (ref_act(acts[a], zd + h) - ref_act(acts[a], zd - h)) / (2 * h);
            CHECK_MSG(close_enough(dz[i], num, 1e-6, 1e-5, &worst), "act %d z %g: %g vs %g",
                      (int)acts[a], zd, (double)dz[i], num);
        }
    }
    /* known values: GELU(1) = Phi(1) = 0.841344746..., GELU'(0) = 0.5 */
    CHECK_NEAR(nn_act_forward(NN_ACT_GELU, 1.0f), 0.8413447460685429, 1e-6);
    CHECK_NEAR(nn_act_derivative(NN_ACT_GELU, 0.0f), 0.5, 1e-7);
    CHECK_NEAR(nn_act_derivative(NN_ACT_RELU, 0.0f), 0.0, 0);
    printf("activations: worst error / tolerance %.3g\n", worst);
}

static void test_softmax_ce(void) {
    enum { R = 6, C = 4 };
    float logits[R * C], prob[R * C], dl[R * C];
    int32_t y[R] = {0, 3, 1, 1, 2, 3};
    float cw[C] = {0.5f, 2.0f, 1.0f, 3.0f};
    fill_uniform(logits, R * C, 2, 0, -4, 4);
    logits[5] = 40.0f; /* a large logit: the max subtraction must keep it finite */
    double worst = 0;
    for (int weighted = 0; weighted < 2; weighted++) {
        const float *w = weighted ? cw : NULL;
        double ls, ws;
        CHECK(be->softmax_ce_forward(logits, y, w, R, C, prob, &ls, &ws) == 0);
        CHECK(be->softmax_ce_backward(prob, y, w, R, C, (float)(1.0 / ws), dl) == 0);
        double zd[R * C];
        for (int i = 0; i < R * C; i++) zd[i] = logits[i];
        double ref = ref_ce(zd, y, w, R, C);
        CHECK(close_enough(ls / ws, ref, 1e-7, 1e-6, &worst));
        double expect_ws = 0;
        for (int r = 0; r < R; r++) expect_ws += w ? w[y[r]] : 1.0;
        CHECK_NEAR(ws, expect_ws, 1e-12);
        for (int i = 0; i < R * C; i++) {
            double h = 1e-6, keep = zd[i];
            zd[i] = keep + h;
            double fp = ref_ce(zd, y, w, R, C);
            zd[i] = keep - h;
            double fm = ref_ce(zd, y, w, R, C);
            zd[i] = keep;
            CHECK_MSG(close_enough(dl[i], (fp - fm) / (2 * h), 1e-7, 1e-5, &worst),
                      "dlogit %d: %g vs %g", i, (double)dl[i], (fp - fm) / (2 * h));
        }
        for (int r = 0; r < R; r++) {
            double s = 0;
            for (int c = 0; c < C; c++) s += prob[r * C + c];
            CHECK_NEAR(s, 1.0, 1e-6);
        }
    }
    /* prediction only: probabilities, no labels needed */
    CHECK(be->softmax_ce_forward(logits, NULL, NULL, R, C, prob, NULL, NULL) == 0);
    CHECK_NEAR(prob[5], 1.0, 1e-6);
    /* a label outside [0, C) is bad data */
    int32_t bad[1] = {C};
    CHECK(be->softmax_ce_forward(logits, bad, NULL, 1, C, prob, NULL, NULL) == 2);
    printf("softmax-ce: worst error / tolerance %.3g\n", worst);
}

static void test_dropout_masks(void) {
    enum { R = 64, D = 37 };
    const float p = 0.3f;
    float *x = malloc(sizeof(float) * R * D), *mask = malloc(sizeof(float) * R * D);
    for (int i = 0; i < R * D; i++) x[i] = 1.0f;
    nn_dropout_rows keys = {.seed = 42, .row_keys = NULL, .row_key_base = 1000};
    CHECK(be->dropout_forward(x, mask, R, D, p, 1, &keys) == 0);
    int kept = 0, bad = 0;
    for (int i = 0; i < R * D; i++) {
        if (mask[i] != 0.0f) kept++;
        if (mask[i] != 0.0f && fabsf(mask[i] - 1.0f / (1.0f - p)) > 1e-7f) bad++;
        if (x[i] != mask[i]) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    double rate = (double)kept / (R * D); /* 2368 draws: sd of the rate ~ 0.0094 */
    CHECK_MSG(fabs(rate - (1 - p)) < 0.05, "keep rate %g", rate);
    /* the integer threshold is the float rule for every 16-bit draw */
    const float ps[] = {0.0f, 0.1f, 0.3f, 0.5f, 0x1.0p-16f, 0.99999f, 1.0f - 0x1.0p-24f};
    for (size_t t = 0; t < sizeof ps / sizeof ps[0]; t++) {
        const uint32_t thr = nn_dropout_threshold(ps[t]);
        int wrong = 0;
        for (uint32_t k = 0; k < 65536; k++)
            wrong += (k >= thr) != (nn_dropout_scale(nn_dropout_u01(k), ps[t]) != 0.0f);
        CHECK_MSG(wrong == 0, "threshold of p %g: %d draws decided differently", (double)ps[t],
                  wrong);
    }

    /* Rows 10..19 forwarded alone, with explicit keys, as another rank with
     * fewer rows would: the same masks. */
    uint64_t ids[10];
    float x2[10 * D], m2[10 * D];
    for (int r = 0; r < 10; r++) ids[r] = 1000 + 10 + r;
    for (int i = 0; i < 10 * D; i++) x2[i] = 1.0f;
    nn_dropout_rows keys2 = {.seed = 42, .row_keys = ids};
    CHECK(be->dropout_forward(x2, m2, 10, D, p, 1, &keys2) == 0);
    CHECK(memcmp(m2, mask + 10 * D, sizeof m2) == 0);
    /* another layer or seed: different masks */
    CHECK(be->dropout_forward(x2, m2, 10, D, p, 2, &keys2) == 0);
    CHECK(memcmp(m2, mask + 10 * D, sizeof m2) != 0);
    keys2.seed = 43;
    CHECK(be->dropout_forward(x2, m2, 10, D, p, 1, &keys2) == 0);
    CHECK(memcmp(m2, mask + 10 * D, sizeof m2) != 0);
    /* the mask is exactly the documented Philox word */
    rng_u32x4 b = rng_block(42, RNG_STREAM_DROPOUT, 1000 + 3, nn_dropout_lane(1, 9));
    CHECK(mask[3 * D + 9] == nn_dropout_scale(nn_dropout_u01(nn_dropout_draw(b.v, 9)), p));
    /* unit 9 is block 9's word 0, low half; unit 9 + 16 the high half, unit 9 + 32 word 1 */
    CHECK(nn_dropout_lane(1, 9) == (1u << 24 | 9u) && nn_dropout_lane(1, 9 + 128) == (1u << 24 | 25u));
    CHECK(nn_dropout_draw(b.v, 9) == (b.v[0] & 0xffff) && nn_dropout_draw(b.v, 25) == b.v[0] >> 16);
    CHECK(nn_dropout_draw(b.v, 41) == (b.v[1] & 0xffff));
    /* backward multiplies by the mask */
    float dy[D], dx[D];
    for (int j = 0; j < D; j++) dy[j] = (float)j;
    CHECK(be->dropout_backward(dy, mask, D, dx) == 0);
    for (int j = 0; j < D; j++) CHECK(dx[j] == dy[j] * mask[j]);
    /* p out of range is a usage error */
    CHECK(be->dropout_forward(x, mask, 1, D, 1.0f, 0, &keys) == 1);
    free(x);
    free(mask);
}

/* Every mask entry equals the documented Philox word, for each Philox
 * variant of the CPU backend (portable C, AVX2, AVX-512; HPCML_CPU_ISA caps
 * the choice, a variant the CPU lacks falls back to a narrower one), with
 * widths that use whole 128-unit groups and a ragged tail. */
static void test_dropout_variants(void) {
    enum { R = 5, D = 300 };
    const float p = 0.45f;
    const char *isas[] = {"generic", "avx2", NULL};
    float *x = malloc(sizeof(float) * R * D), *mask = malloc(sizeof(float) * R * D);
    for (size_t v = 0; v < sizeof isas / sizeof isas[0]; v++) {
        if (isas[v])
            setenv("HPCML_CPU_ISA", isas[v], 1);
        else
            unsetenv("HPCML_CPU_ISA");
        for (int i = 0; i < R * D; i++) x[i] = 2.0f;
        nn_dropout_rows keys = {.seed = 0x123456789abcull, .row_keys = NULL, .row_key_base = 77};
        CHECK(be->dropout_forward(x, mask, R, D, p, 3, &keys) == 0);
        int bad = 0;
        for (int r = 0; r < R; r++)
            for (int j = 0; j < D; j++) {
                rng_u32x4 b = rng_block(keys.seed, RNG_STREAM_DROPOUT, 77 + (uint64_t)r,
                                        nn_dropout_lane(3, j));
                float want = nn_dropout_scale(nn_dropout_u01(nn_dropout_draw(b.v, j)), p);
                if (mask[r * D + j] != want || x[r * D + j] != 2.0f * want) bad++;
            }
        CHECK_MSG(bad == 0, "dropout variant %s: %d wrong entries", isas[v] ? isas[v] : "widest",
                  bad);
    }
    unsetenv("HPCML_CPU_ISA");
    free(x);
    free(mask);
}

/* ---- the whole model ---------------------------------------------------- */

static void test_mlp_gradients(nn_activation act, float dropout_p, int weighted) {
    static const int hidden[2] = {7, 6};
    enum { IN = 5, CLS = 3, ROWS = 8 };
    mlp_shape shape = {.n_inputs = IN, .n_hidden = 2, .n_classes = CLS, .act = act,
                       .dropout_p = dropout_p};
    memcpy(shape.hidden, hidden, sizeof hidden);
    mlp m;
    CHECK(mlp_create(&m, be, &shape, ROWS) == 0);
    CHECK_EQ_INT(m.n_params, mlp_shape_param_count(&shape));
    CHECK_EQ_INT(m.n_params, (7 * 5 + 7) + (6 * 7 + 6) + (3 * 6 + 3));

    float x[ROWS * IN];
    int32_t y[ROWS] = {0, 1, 2, 2, 1, 0, 2, 1};
    float cw[CLS] = {1.5f, 0.5f, 2.5f};
    const float *w = weighted ? cw : NULL;
    nn_dropout_rows keys = {.seed = 7, .row_key_base = 500};
    ref_net ref = {.L = m.n_layers, .width = m.width, .act = act};

    /* Pick inputs whose hidden pre-activations keep off ReLU's kink by far
     * more than the finite-difference step moves them. */
    double min_z = 0;
    double *theta = malloc(sizeof(double) * m.n_params);
    float *params = malloc(sizeof(float) * m.n_params);
    for (uint64_t seed = 1; seed < 50; seed++) {
        fill_uniform(x, ROWS * IN, seed, 0, -2, 2);
        CHECK(mlp_init_params(&m, seed, NN_INIT_TORCH_DEFAULT) == 0); /* nonzero biases */
        CHECK(mlp_get_params(&m, params) == 0);
        for (size_t i = 0; i < m.n_params; i++) theta[i] = params[i];
        ref_mlp_loss(&ref, theta, x, ROWS, y, w, &min_z);
        if (act != NN_ACT_RELU || min_z > 1e-3) break;
    }
    CHECK_MSG(act != NN_ACT_RELU || min_z > 1e-3, "no seed kept ReLU off its kink");

    double ls, ws;
    CHECK(mlp_forward(&m, x, ROWS, dropout_p > 0 ? &keys : NULL) == 0);
    CHECK(mlp_loss_forward(&m, y, w, ROWS, &ls, &ws) == 0);
    CHECK(mlp_loss_backward(&m, y, w, ROWS, (float)(1.0 / ws)) == 0);
    CHECK(mlp_backward(&m, x, ROWS, m.dlogits, 0) == 0);
    float *grads = malloc(sizeof(float) * m.n_params);
    CHECK(be->copy_to_host(grads, m.grads, sizeof(float) * m.n_params) == 0);

    /* the reference uses the very masks the forward drew (fixed: they
     * depend on the keys, not on the parameters) */
    double *masks[MLP_MAX_HIDDEN] = {0};
    for (int l = 0; l < m.n_layers - 1 && dropout_p > 0; l++) {
        size_t n = (size_t)ROWS * m.width[l + 1];
        float *mf = malloc(sizeof(float) * n);
        masks[l] = malloc(sizeof(double) * n);
        if (mlp_mask_free(&m)) { /* the forward kept no mask: draw the same one again */
            float *ones = malloc(sizeof(float) * n);
            for (size_t i = 0; i < n; i++) ones[i] = 1.0f;
            CHECK(be->dropout_forward(ones, mf, ROWS, m.width[l + 1], dropout_p, l, &keys) == 0);
            free(ones);
        } else {
            CHECK(be->copy_to_host(mf, m.mask[l], sizeof(float) * n) == 0);
        }
        int zeros = 0;
        for (size_t i = 0; i < n; i++) {
            masks[l][i] = mf[i];
            zeros += mf[i] == 0.0f;
        }
        CHECK(zeros > 0 && zeros < (int)n); /* the mask really drops some units */
        ref.mask_or_null[l] = masks[l];
        free(mf);
    }

    double worst = 0;
    double loss_ref = ref_mlp_loss(&ref, theta, x, ROWS, y, w, NULL);
    CHECK(close_enough(ls / ws, loss_ref, 1e-6, 1e-5, &worst));
    for (size_t i = 0; i < m.n_params; i++) {
        const double h = 1e-6, keep = theta[i];
        theta[i] = keep + h;
        double fp = ref_mlp_loss(&ref, theta, x, ROWS, y, w, NULL);
        theta[i] = keep - h;
        double fm = ref_mlp_loss(&ref, theta, x, ROWS, y, w, NULL);
        theta[i] = keep;
        double num = (fp - fm) / (2 * h);
        CHECK_MSG(close_enough(grads[i], num, 5e-7, 2e-5, &worst),
                  "act %d p %g param %zu: analytic %.9g numeric %.9g", (int)act,
                  (double)dropout_p, i, (double)grads[i], num);
    }
    printf("mlp act %d dropout %.1f weighted %d: worst error / tolerance %.3g\n", (int)act,
           (double)dropout_p, weighted, worst);

    /* accumulate: a second backward adds the same gradient */
    CHECK(mlp_backward(&m, x, ROWS, m.dlogits, 1) == 0);
    float *g2 = malloc(sizeof(float) * m.n_params);
    CHECK(be->copy_to_host(g2, m.grads, sizeof(float) * m.n_params) == 0);
    for (size_t i = 0; i < m.n_params; i++) CHECK_NEAR(g2[i], 2.0f * grads[i], 1e-6);

    /* Data parallel: two shards of 3 and 5 rows, each scaled by the GLOBAL
     * weight sum and summed, give the full-batch gradient; the shard's
     * dropout keys continue the global row numbering. */
    float *sum = calloc(m.n_params, sizeof(float));
    int starts[2] = {0, 3}, counts[2] = {3, 5};
    for (int s = 0; s < 2; s++) {
        nn_dropout_rows k = {.seed = 7, .row_key_base = 500 + (uint64_t)starts[s]};
        const float *xs = x + starts[s] * IN;
        double ls_s, ws_s;
        CHECK(mlp_forward(&m, xs, counts[s], dropout_p > 0 ? &k : NULL) == 0);
        CHECK(mlp_loss_forward(&m, y + starts[s], w, counts[s], &ls_s, &ws_s) == 0);
        CHECK(mlp_loss_backward(&m, y + starts[s], w, counts[s], (float)(1.0 / ws)) == 0);
        CHECK(mlp_backward(&m, xs, counts[s], m.dlogits, 0) == 0);
        CHECK(be->copy_to_host(g2, m.grads, sizeof(float) * m.n_params) == 0);
        for (size_t i = 0; i < m.n_params; i++) sum[i] += g2[i];
    }
    for (size_t i = 0; i < m.n_params; i++) CHECK_NEAR(sum[i], grads[i], 1e-6);

    /* evaluation mode: no dropout, matches the mask-free reference */
    if (dropout_p > 0) {
        ref_net ref_eval = {.L = m.n_layers, .width = m.width, .act = act};
        CHECK(mlp_forward(&m, x, ROWS, NULL) == 0);
        CHECK(mlp_loss_forward(&m, y, w, ROWS, &ls, &ws) == 0);
        CHECK_NEAR(ls / ws, ref_mlp_loss(&ref_eval, theta, x, ROWS, y, w, NULL), 1e-5);
    }
    /* a shard with no rows (a rank past the end of an uneven last batch)
     * contributes exact zeros */
    double ls0 = -1, ws0 = -1;
    CHECK(mlp_forward(&m, x, 0, dropout_p > 0 ? &keys : NULL) == 0);
    CHECK(mlp_loss_forward(&m, y, w, 0, &ls0, &ws0) == 0);
    CHECK(ls0 == 0.0 && ws0 == 0.0);
    CHECK(mlp_loss_backward(&m, y, w, 0, 1.0f) == 0);
    CHECK(mlp_backward(&m, x, 0, m.dlogits, 0) == 0);
    CHECK(be->copy_to_host(g2, m.grads, sizeof(float) * m.n_params) == 0);
    int nonzero = 0;
    for (size_t i = 0; i < m.n_params; i++) nonzero += g2[i] != 0.0f;
    CHECK_EQ_INT(nonzero, 0);
    /* backward must follow a forward of the same rows */
    CHECK(mlp_backward(&m, x, ROWS - 1, m.dlogits, 0) != 0);

    for (int l = 0; l < MLP_MAX_HIDDEN; l++) free(masks[l]);
    free(sum);
    free(g2);
    free(grads);
    free(params);
    free(theta);
    mlp_destroy(&m);
}

static void test_init(void) {
    mlp_shape shape = {.n_inputs = 200, .n_hidden = 1, .hidden = {300}, .n_classes = 2,
                       .act = NN_ACT_RELU};
    mlp m;
    CHECK(mlp_create(&m, be, &shape, 1) == 0);
    CHECK(mlp_init_params(&m, 11, NN_INIT_HE_NORMAL) == 0);
    float *p = malloc(sizeof(float) * m.n_params);
    CHECK(mlp_get_params(&m, p) == 0);
    double s2 = 0;
    size_t nw = 300 * 200;
    for (size_t i = 0; i < nw; i++) s2 += (double)p[i] * p[i];
    /* variance 2 / fan_in within 2% (60000 draws: sd of s2/n ~ 0.6%) */
    CHECK_MSG(fabs(s2 / nw / (2.0 / 200) - 1) < 0.02, "He variance ratio %g", s2 / nw / 0.01);
    for (int i = 0; i < 300; i++) CHECK(p[m.b_off[0] + i] == 0.0f);
    CHECK(p[5] == (float)(sqrt(2.0 / 200) * rng_normal(11, RNG_STREAM_INIT, 5, 0)));
    CHECK(mlp_init_params(&m, 11, NN_INIT_TORCH_DEFAULT) == 0);
    CHECK(mlp_get_params(&m, p) == 0);
    double bound0 = 1 / sqrt(200.0), bound1 = 1 / sqrt(300.0);
    int out = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        double bound = i < m.w_off[1] ? bound0 : bound1;
        out += fabs(p[i]) > bound;
    }
    CHECK_EQ_INT(out, 0);
    free(p);
    mlp_destroy(&m);
    /* bad shapes are usage errors */
    mlp_shape bad = shape;
    bad.n_classes = 1;
    CHECK(mlp_create(&m, be, &bad, 1) == 1);
    bad = shape;
    bad.dropout_p = 1.0f;
    CHECK(mlp_create(&m, be, &bad, 1) == 1);
    mlp_destroy(&m); /* safe on the zeroed model a failed create leaves */
}

int main(void) {
    test_sgemm_colsum();
    test_activation_derivatives();
    test_softmax_ce();
    test_dropout_masks();
    test_dropout_variants();
    const nn_activation acts[] = {NN_ACT_RELU, NN_ACT_GELU, NN_ACT_NONE};
    for (int a = 0; a < 3; a++)
        for (int d = 0; d < 2; d++) test_mlp_gradients(acts[a], d ? 0.4f : 0.0f, (a + d) % 2 == 0);
    test_mlp_gradients(NN_ACT_RELU, 0.4f, 0);
    test_init();
    CHECK_DONE();
}
