/* test_gpu_kernel_body.c — the CUDA kernels' per-thread code (cuda/
 * kernel_body.h, HPCML_HD functions) run over every index on the CPU and
 * compared with the CPU backend: bit-for-bit for the bias + activation
 * forward and backward, dropout masks and outputs, softmax probabilities,
 * the weighted loss sums, the softmax cross-entropy gradient and the SGD /
 * Adam / AdamW updates; column sums (another summation order) within float
 * rounding. Also the device-choice logic of nn/gpu.h (launcher variables,
 * local rank modulo devices, math-mode names). No GPU needed: this is what
 * can be checked of the kernels on machines without one. */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "cuda/kernel_body.h"
#include "nn/backend.h"
#include "nn/gpu.h"

static const nn_backend *cpu = &nn_backend_cpu;

static float *rand_floats(size_t n, uint64_t seed, double lo, double hi)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(lo + (hi - lo) * rng_uniform(seed, 99, i, 0));
    return p;
}

static float *dup(const float *p, size_t n)
{
    float *q = malloc(n * sizeof *q);
    memcpy(q, p, n * sizeof *q);
    return q;
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

static void test_bias_act(void)
{
    const int R = 37, C = 29;
    const size_t n = (size_t)R * C;
    float *z0 = rand_floats(n, 1, -3, 3), *bias = rand_floats(C, 2, -1, 1);
    z0[5] = 0.0f;
    z0[6] = -0.0f;
    const nn_activation acts[] = {NN_ACT_NONE, NN_ACT_RELU, NN_ACT_GELU};
    for (int k = 0; k < 3; k++) {
        float *zc = dup(z0, n), *ac = malloc(n * sizeof *ac);
        float *zk = dup(z0, n), *ak = malloc(n * sizeof *ak);
        CHECK(cpu->bias_act_forward(zc, bias, R, C, acts[k], ac) == 0);
        for (size_t i = 0; i < n; i++)
            kb_bias_act(i, zk, bias, C, acts[k], ak);
        CHECK_MSG(same_bits(zc, zk, n) && same_bits(ac, ak, n), "bias+act %d", (int)acts[k]);
        /* backward, out of place and in place */
        float *da = rand_floats(n, 3, -1, 1);
        float *dc = malloc(n * sizeof *dc), *dk = malloc(n * sizeof *dk);
        CHECK(cpu->act_backward(zc, da, n, acts[k], dc) == 0);
        for (size_t i = 0; i < n; i++)
            kb_act_backward(i, zk, da, acts[k], dk);
        CHECK_MSG(same_bits(dc, dk, n), "act backward %d", (int)acts[k]);
        float *dk2 = dup(da, n);
        for (size_t i = 0; i < n; i++)
            kb_act_backward(i, zk, dk2, acts[k], dk2);
        CHECK_MSG(same_bits(dc, dk2, n), "act backward in place %d", (int)acts[k]);
        /* dropout + activation backward fused, against the CPU's two passes */
        float *mask = rand_floats(n, 15, 0, 1);
        for (size_t i = 0; i < n; i++)
            mask[i] = mask[i] < 0.3f ? 0.0f : 1.0f / 0.7f;
        float *d2 = dup(da, n), *dk3 = dup(da, n);
        CHECK(cpu->dropout_backward(d2, mask, n, d2) == 0);
        CHECK(cpu->act_backward(zc, d2, n, acts[k], d2) == 0);
        for (size_t i = 0; i < n; i++)
            kb_dropout_act_backward(i, zk, dk3, mask, acts[k], dk3);
        CHECK_MSG(same_bits(d2, dk3, n), "dropout+act backward fused %d", (int)acts[k]);
        float *dc4 = dup(da, n); /* the CPU's own fused pass, in place */
        CHECK(cpu->dropout_act_backward(zc, dc4, mask, n, acts[k], dc4) == 0);
        CHECK_MSG(same_bits(d2, dc4, n), "CPU dropout+act backward fused %d", (int)acts[k]);
        if (acts[k] == NN_ACT_RELU) { /* from the layer's output alone: the same bits */
            float *h = malloc(n * sizeof *h), *dc5 = dup(da, n);
            for (size_t i = 0; i < n; i++) h[i] = ac[i] * mask[i];
            CHECK(cpu->relu_dropout_backward(h, dc5, n, 1.0f / 0.7f, dc5) == 0);
            CHECK_MSG(same_bits(d2, dc5, n), "CPU ReLU+dropout backward from h");
            free(h), free(dc5);
        }
        free(mask), free(d2), free(dk3), free(dc4);
        free(zc), free(ac), free(zk), free(ak), free(da), free(dc), free(dk), free(dk2);
    }
    free(z0), free(bias);
}

static void test_dropout(void)
{
    /* widths around the CPU's 16-unit vectors, 128-unit groups and a ragged tail */
    const int widths[] = {1, 3, 16, 17, 127, 128, 130, 300};
    const float ps[] = {0.1f, 0.5f, 0.3f};
    for (int w = 0; w < (int)(sizeof widths / sizeof widths[0]); w++) {
        for (int k = 0; k < 3; k++) {
            const int R = 9, C = widths[w], layer = 2 + k;
            const size_t n = (size_t)R * C;
            const float p = ps[k];
            float *xc = rand_floats(n, 4, -2, 2), *xk = dup(xc, n);
            float *mc = malloc(n * sizeof *mc), *mk = malloc(n * sizeof *mk);
            uint64_t keys[9];
            for (int r = 0; r < R; r++)
                keys[r] = 1000003u * (uint64_t)r + ((uint64_t)7 << 33);
            nn_dropout_rows rows = {
                .seed = 0x123456789abcULL, .row_keys = k == 2 ? keys : NULL, .row_key_base = 77};
            CHECK(cpu->dropout_forward(xc, mc, R, C, p, layer, &rows) == 0);
            const uint32_t thr = nn_dropout_threshold(p);
            const float scale = 1.0f / (1.0f - p);
            for (size_t i = 0; i < (size_t)R * kb_dropout_blocks(C); i++)
                kb_dropout_group(i, xk, mk, C, rows.seed, rows.row_keys, rows.row_key_base, layer,
                                 thr, scale);
            CHECK_MSG(same_bits(mc, mk, n) && same_bits(xc, xk, n), "dropout width %d p %g", C,
                      (double)p);
            free(xc), free(xk), free(mc), free(mk);
        }
    }
}

static void test_softmax_ce(void)
{
    const int R = 53;
    for (int C = 2; C <= 7; C += 5) {
        for (int weighted = 0; weighted < 2; weighted++) {
            const size_t n = (size_t)R * C;
            float *logits = rand_floats(n, 5 + C, -6, 6);
            float *cw = weighted ? rand_floats(C, 6, 0.2, 3) : NULL;
            int32_t *y = malloc(R * sizeof *y);
            for (int r = 0; r < R; r++)
                y[r] = (int32_t)rng_below(8, 9, (uint64_t)r, 0, C);
            float *pc = malloc(n * sizeof *pc), *pk = malloc(n * sizeof *pk);
            double lc = 0, wc = 0, lk = 0, wk = 0;
            CHECK(cpu->softmax_ce_forward(logits, y, cw, R, C, pc, &lc, &wc) == 0);
            double *rl = malloc(R * sizeof *rl), *rw = malloc(R * sizeof *rw);
            int bad = 0;
            for (int r = 0; r < R; r++)
                bad |= kb_softmax_ce_row((size_t)r, logits, y, cw, C, pk, rl, rw);
            for (int r = 0; r < R; r++) { /* the CPU's order: the bits must agree */
                lk += rl[r];
                wk += rw[r];
            }
            CHECK(!bad);
            CHECK_MSG(same_bits(pc, pk, n), "softmax probabilities C=%d", C);
            CHECK_MSG(lc == lk && wc == wk, "loss sums %.17g/%.17g vs %.17g/%.17g", lc, wc, lk, wk);
            /* gradient */
            const float scale = (float)(1.0 / (wc + 1.5));
            float *gc = malloc(n * sizeof *gc), *gk = malloc(n * sizeof *gk);
            CHECK(cpu->softmax_ce_backward(pc, y, cw, R, C, scale, gc) == 0);
            for (size_t i = 0; i < n; i++)
                kb_softmax_ce_grad(i, pk, y, cw, C, scale, gk);
            CHECK_MSG(same_bits(gc, gk, n), "softmax CE gradient C=%d", C);
            /* prediction only (no labels) and a bad label */
            float *pk2 = malloc(n * sizeof *pk2);
            for (int r = 0; r < R; r++)
                CHECK(kb_softmax_ce_row((size_t)r, logits, NULL, cw, C, pk2, NULL, NULL) == 0);
            CHECK(same_bits(pc, pk2, n));
            y[4] = C;
            CHECK(kb_softmax_ce_row(4, logits, y, cw, C, pk, rl, rw) == 1 && rw[4] == 0.0);
            kb_softmax_ce_grad(4 * (size_t)C, pk, y, cw, C, scale, gk);
            CHECK(isnan(gk[4 * C]));
            free(logits), free(cw), free(y), free(pc), free(pk), free(pk2), free(rl), free(rw);
            free(gc), free(gk);
        }
    }
}

static void test_optimizers(void)
{
    const size_t n = 1001;
    float *p0 = rand_floats(n, 10, -1, 1), *g = rand_floats(n, 11, -0.1, 0.1);
    /* SGD: plain, momentum (first step and later), Nesterov, dampening */
    const float mus[] = {0.0f, 0.9f, 0.9f, 0.5f};
    for (int k = 0; k < 4; k++) {
        nn_step_params sp;
        memset(&sp, 0, sizeof sp);
        sp.lr = 0.05f;
        sp.weight_decay = 0.01f;
        sp.momentum = mus[k];
        sp.dampening = k == 3 ? 0.2f : 0.0f;
        sp.nesterov = k == 2;
        float *pc = dup(p0, n), *pk = dup(p0, n);
        float *bc = rand_floats(n, 12, -0.1, 0.1), *bk = dup(bc, n);
        for (int step = 0; step < 3; step++) {
            sp.first_step = step == 0;
            CHECK(cpu->sgd_step(pc, g, bc, n, &sp) == 0);
            for (size_t i = 0; i < n; i++)
                kb_sgd(i, pk, g, mus[k] != 0.0f ? bk : NULL, &sp);
        }
        CHECK_MSG(same_bits(pc, pk, n) && same_bits(bc, bk, n), "sgd case %d", k);
        free(pc), free(pk), free(bc), free(bk);
    }
    /* Adam (L2) and AdamW (decoupled): three steps with their scalars */
    for (int w = 0; w < 2; w++) {
        float *pc = dup(p0, n), *pk = dup(p0, n);
        float *mc = calloc(n, sizeof *mc), *vc = calloc(n, sizeof *vc);
        float *mk = calloc(n, sizeof *mk), *vk = calloc(n, sizeof *vk);
        for (int t = 1; t <= 3; t++) {
            nn_step_params sp;
            memset(&sp, 0, sizeof sp);
            sp.beta1 = 0.9f;
            sp.beta2 = 0.999f;
            sp.eps = 1e-8f;
            sp.step_size = (float)(1e-3 / (1.0 - pow(0.9, t)));
            sp.bc2_sqrt = (float)sqrt(1.0 - pow(0.999, t));
            sp.l2 = w ? 0.0f : 0.01f;
            sp.decay = w ? (float)(1.0 - 1e-3 * 0.01) : 1.0f;
            CHECK(cpu->adam_step(pc, g, mc, vc, n, &sp) == 0);
            for (size_t i = 0; i < n; i++)
                kb_adam(i, pk, g, mk, vk, &sp);
        }
        CHECK_MSG(same_bits(pc, pk, n) && same_bits(mc, mk, n) && same_bits(vc, vk, n), "adam%s",
                  w ? "w" : "");
        free(pc), free(pk), free(mc), free(vc), free(mk), free(vk);
    }
    free(p0), free(g);
}

static void test_colsum(void)
{
    const int R = 301, C = 45;
    float *a = rand_floats((size_t)R * C, 13, -1, 1);
    const float betas[] = {0.0f, 1.0f, 0.5f};
    for (int k = 0; k < 3; k++) {
        float *oc = rand_floats(C, 14, -1, 1), *ok = dup(oc, C), *ok0 = dup(oc, C);
        CHECK(cpu->colsum(a, R, C, betas[k], oc) == 0);
        for (int c = 0; c < C; c++) {
            float lanes[KB_COLSUM_LANES];
            for (int l = 0; l < KB_COLSUM_LANES; l++)
                lanes[l] = kb_colsum_lane(c, l, a, R, C);
            ok[c] = kb_colsum_finish(lanes, betas[k], ok[c]);
        }
        /* the classic bound of a float sum of R + 1 terms: R eps sum |terms| */
        double worst = 0;
        for (int c = 0; c < C; c++) {
            double abs_sum = fabs((double)betas[k] * ok0[c]);
            for (int r = 0; r < R; r++)
                abs_sum += fabs((double)a[(size_t)r * C + c]);
            worst = fmax(worst, fabs((double)oc[c] - (double)ok[c]) / (R * FLT_EPSILON * abs_sum));
        }
        CHECK_MSG(worst <= 1.0, "colsum beta %g: %g of the rounding bound", (double)betas[k],
                  worst);
        free(oc), free(ok), free(ok0);
    }
    free(a);
}

static void test_device_choice(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_LOCAL_RANK",
                          "OMPI_COMM_WORLD_LOCAL_SIZE",
                          "SLURM_LOCALID",
                          "SLURM_NTASKS_PER_NODE",
                          "MPI_LOCALRANKID",
                          "MPI_LOCALNRANKS"};
    for (int i = 0; i < 6; i++)
        unsetenv(vars[i]);
    int size = 0;
    CHECK_EQ_INT(nn_gpu_local_rank_from_env(&size), -1);
    CHECK_EQ_INT(size, -1);
    setenv("SLURM_LOCALID", "3", 1);
    setenv("SLURM_NTASKS_PER_NODE", "4", 1);
    CHECK_EQ_INT(nn_gpu_local_rank_from_env(&size), 3);
    CHECK_EQ_INT(size, 4);
    setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1", 1); /* Open MPI's wins */
    CHECK_EQ_INT(nn_gpu_local_rank_from_env(&size), 1);
    CHECK_EQ_INT(size, -1);
    setenv("OMPI_COMM_WORLD_LOCAL_RANK", "x1", 1); /* unparsable: the next variable */
    CHECK_EQ_INT(nn_gpu_local_rank_from_env(NULL), 3);
    for (int i = 0; i < 6; i++)
        unsetenv(vars[i]);
    setenv("MPI_LOCALRANKID", "5", 1);
    CHECK_EQ_INT(nn_gpu_local_rank_from_env(NULL), 5);
    unsetenv("MPI_LOCALRANKID");

    CHECK_EQ_INT(nn_gpu_pick_device(0, 4), 0);
    CHECK_EQ_INT(nn_gpu_pick_device(5, 4), 1);
    CHECK_EQ_INT(nn_gpu_pick_device(3, 1), 0); /* --gpus-per-task=1: each sees one */
    CHECK_EQ_INT(nn_gpu_pick_device(-1, 2), 0);
    CHECK_EQ_INT(nn_gpu_pick_device(0, 0), -1);

    nn_gpu_math m = NN_GPU_MATH_FP32;
    CHECK(nn_gpu_math_from_name("bf16", &m) == 0 && m == NN_GPU_MATH_BF16);
    CHECK(nn_gpu_math_from_name("tf32", &m) == 0 && m == NN_GPU_MATH_TF32);
    CHECK(nn_gpu_math_from_name("fp16", &m) == -1 && m == NN_GPU_MATH_TF32);

    /* the registry: "cuda" exactly when built with it */
    CHECK((nn_backend_by_name("cuda") != NULL) == (nn_gpu_built() != 0));
    CHECK(nn_backend_by_name("cpu") == &nn_backend_cpu);
}

int main(void)
{
    test_bias_act();
    test_dropout();
    test_softmax_ce();
    test_optimizers();
    test_colsum();
    test_device_choice();
    CHECK_DONE();
}
