/* gpu_step_equiv.c — CPU vs GPU: full training steps of the MLP (forward
 * with dropout, weighted softmax cross-entropy, backward, gradient
 * clipping, optimizer step) on the CPU backend and on the CUDA backend from
 * the same parameters and batch, compared after every step:
 *   - dropout masks bit-identical (same Philox counters on both sides);
 *   - loss sums and gradients within float tolerance (cuBLAS and the
 *     reductions add in another order; expf/erff differ by ulps), each step
 *     starting from the same parameters and optimizer state;
 *   - the optimizer step from the same gradients bit-identical;
 *   - the overlapped upload path (upload_async / upload_wait) delivers the
 *     batch exactly.
 * Adam with GELU and class weights, and SGD with Nesterov momentum and
 * ReLU. Needs a CUDA device: without one it prints why and exits 77, which
 * ctest reports as skipped (label gpu). `gpu_step_equiv --probe` only
 * answers whether a device is usable (prints the count, exit 0) or not
 * (77), for scripts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "core/status.h"
#include "nn/gpu.h"
#include "nn/mlp.h"
#include "nn/optim.h"

#define SKIP 77

static float *host_floats(size_t n)
{
    return calloc(n ? n : 1, sizeof(float));
}

/* max |a - b| / (tol_abs + tol_rel |b|) over n: <= 1 passes */
static double worst_ratio(const float *a, const float *b, size_t n, double tol_abs, double tol_rel)
{
    double w = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = fabs((double)a[i] - (double)b[i]) / (tol_abs + tol_rel * fabs((double)b[i]));
        if (!(r <= w)) w = r; /* NaN counts as worst */
    }
    return w;
}

static void to_host(const nn_backend *be, float *dst, const float *src, size_t n)
{
    CHECK(be->copy_to_host(dst, src, n * sizeof(float)) == 0);
}

/* Optimizer state (momentum / moments) of the CPU copied to the GPU. */
static void sync_state(const nn_optim *c, nn_optim *g, float *tmp)
{
    const size_t bytes = c->n * sizeof(float);
    if (c->m) {
        CHECK(c->be->copy_to_host(tmp, c->m, bytes) == 0);
        CHECK(g->be->copy_to_device(g->m, tmp, bytes) == 0);
    }
    if (c->v) {
        CHECK(c->be->copy_to_host(tmp, c->v, bytes) == 0);
        CHECK(g->be->copy_to_device(g->v, tmp, bytes) == 0);
    }
}

static int same_state(const nn_optim *c, const nn_optim *g)
{
    const size_t bytes = c->n * sizeof(float);
    float *a = malloc(bytes ? bytes : 1), *b = malloc(bytes ? bytes : 1);
    int same = 1;
    const float *bufs[2][2] = {{c->m, g->m}, {c->v, g->v}};
    for (int k = 0; k < 2; k++) {
        if (!bufs[k][0]) continue;
        CHECK(c->be->copy_to_host(a, bufs[k][0], bytes) == 0);
        CHECK(g->be->copy_to_host(b, bufs[k][1], bytes) == 0);
        same = same && memcmp(a, b, bytes) == 0;
    }
    free(a), free(b);
    return same;
}

typedef struct {
    const char *name;
    nn_activation act;
    nn_optim_kind opt;
    int classes, weighted;
    float dropout;
} scenario;

static void run_scenario(const scenario *sc)
{
    const nn_backend *cpu = &nn_backend_cpu, *gpu = nn_backend_by_name("cuda");
    const int B = 96, F = 13, steps = 4;
    mlp_shape shape = {.n_inputs = F,
                       .n_hidden = 2,
                       .hidden = {64, 33},
                       .n_classes = sc->classes,
                       .act = sc->act,
                       .dropout_p = sc->dropout};
    mlp mc, mg;
    CHECK(mlp_create(&mc, cpu, &shape, B) == 0);
    CHECK(mlp_create(&mg, gpu, &shape, B) == 0);
    CHECK(mlp_init_params(&mc, 5, NN_INIT_TORCH_DEFAULT) == 0);
    CHECK(mlp_init_params(&mg, 5, NN_INIT_TORCH_DEFAULT) == 0);
    nn_optim_config oc = nn_optim_defaults(sc->opt);
    if (sc->opt == NN_OPT_SGD) {
        oc.momentum = 0.9;
        oc.nesterov = 1;
        oc.weight_decay = 1e-3;
    }
    nn_optim oc_cpu, oc_gpu;
    CHECK(optim_create(&oc_cpu, cpu, mc.n_params, &oc) == 0);
    CHECK(optim_create(&oc_gpu, gpu, mg.n_params, &oc) == 0);

    const size_t P = mc.n_params, C = (size_t)sc->classes;
    float *x = host_floats((size_t)B * F), *w = host_floats(C);
    int32_t *y = calloc(B, sizeof *y);
    for (int c = 0; c < sc->classes; c++)
        w[c] = 0.5f + (float)c;
    float *x_d, *w_d;
    int32_t *y_d;
    CHECK(gpu->alloc((void **)&x_d, (size_t)B * F * sizeof(float)) == 0);
    CHECK(gpu->alloc((void **)&y_d, (size_t)B * sizeof(int32_t)) == 0);
    CHECK(gpu->alloc((void **)&w_d, C * sizeof(float)) == 0);
    CHECK(gpu->copy_to_device(w_d, w, C * sizeof(float)) == 0);
    const float *cw_c = sc->weighted ? w : NULL, *cw_g = sc->weighted ? w_d : NULL;

    float *a = host_floats(P), *b = host_floats(P);
    float *ma = host_floats((size_t)B * 64), *mb = host_floats((size_t)B * 64);
    float *xb = host_floats((size_t)B * F);
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < B * F; i++)
            x[i] = (float)rng_normal(9, 1, (uint64_t)(s * B * F + i), 0);
        for (int r = 0; r < B; r++)
            y[r] = (int32_t)rng_below(9, 2, (uint64_t)(s * B + r), 0, C);
        CHECK(gpu->upload_async(x_d, x, (size_t)B * F * sizeof(float)) == 0);
        CHECK(gpu->upload_async(y_d, y, (size_t)B * sizeof(int32_t)) == 0);
        CHECK(gpu->upload_wait() == 0);
        to_host(gpu, xb, x_d, (size_t)B * F);
        CHECK_MSG(memcmp(xb, x, (size_t)B * F * sizeof(float)) == 0, "%s: upload", sc->name);

        /* Each step starts from the same state on both sides (the CPU's), so
         * differences do not compound: parameters and optimizer state. */
        CHECK(mlp_get_params(&mc, a) == 0);
        CHECK(mlp_set_params(&mg, a) == 0);
        sync_state(&oc_cpu, &oc_gpu, a);

        nn_dropout_rows keys = {.seed = 77, .row_keys = NULL, .row_key_base = (uint64_t)s * B};
        double lc, wc, lg, wg;
        CHECK(mlp_forward(&mc, x, B, &keys) == 0);
        CHECK(mlp_forward(&mg, x_d, B, &keys) == 0);
        if (sc->dropout > 0) {
            if (mlp_mask_free(&mc)) { /* the CPU kept no mask: draw the same one again */
                float *ones = malloc((size_t)B * 64 * sizeof(float));
                for (size_t i = 0; i < (size_t)B * 64; i++) ones[i] = 1.0f;
                CHECK(cpu->dropout_forward(ones, ma, B, 64, sc->dropout, 0, &keys) == 0);
                free(ones);
            } else {
                to_host(cpu, ma, mc.mask[0], (size_t)B * 64);
            }
            to_host(gpu, mb, mg.mask[0], (size_t)B * 64);
            CHECK_MSG(memcmp(ma, mb, (size_t)B * 64 * sizeof(float)) == 0,
                      "%s step %d: dropout masks differ", sc->name, s);
        }
        CHECK(mlp_loss_forward(&mc, y, cw_c, B, &lc, &wc) == 0);
        CHECK(mlp_loss_forward(&mg, y_d, cw_g, B, &lg, &wg) == 0);
        CHECK_MSG(fabs(lc - lg) <= 1e-5 * fabs(lc) && wc == wg,
                  "%s step %d: loss %.9g/%.9g vs %.9g/%.9g", sc->name, s, lc, wc, lg, wg);
        const float scale = (float)(1.0 / wc);
        CHECK(mlp_loss_backward(&mc, y, cw_c, B, scale) == 0);
        CHECK(mlp_loss_backward(&mg, y_d, cw_g, B, scale) == 0);
        CHECK(mlp_backward(&mc, x, B, mc.dlogits, 0) == 0);
        CHECK(mlp_backward(&mg, x_d, B, mg.dlogits, 0) == 0);
        to_host(cpu, a, mc.grads, P);
        to_host(gpu, b, mg.grads, P);
        double gr = worst_ratio(b, a, P, 1e-6, 1e-4);
        CHECK_MSG(gr <= 1.0, "%s step %d: gradients differ (%.3g of tolerance)", sc->name, s, gr);
        double nc, ng;
        CHECK(optim_clip_grad_norm(cpu, mc.grads, P, 0.5, &nc) == 0);
        CHECK(optim_clip_grad_norm(gpu, mg.grads, P, 0.5, &ng) == 0);
        CHECK_MSG(fabs(nc - ng) <= 1e-5 * nc, "%s step %d: grad norm %.9g vs %.9g", sc->name, s, nc,
                  ng);
        /* The optimizer from the same gradients: elementwise.h's update with
         * IEEE + - * / sqrt and no contracted FMA, so the same bits. (From
         * the GPU's own gradients, Adam would magnify the sign of gradients
         * that are rounding noise around 0.) */
        to_host(cpu, a, mc.grads, P);
        CHECK(gpu->copy_to_device(mg.grads, a, P * sizeof(float)) == 0);
        CHECK(optim_step(&oc_cpu, mc.params, mc.grads, 1e-2) == 0);
        CHECK(optim_step(&oc_gpu, mg.params, mg.grads, 1e-2) == 0);
        CHECK(mlp_get_params(&mc, a) == 0);
        CHECK(mlp_get_params(&mg, b) == 0);
        const double pr = worst_ratio(b, a, P, 1.0, 0.0); /* max |difference| */
        CHECK_MSG(memcmp(a, b, P * sizeof(float)) == 0,
                  "%s step %d: optimizer step not bit-identical (max difference %g)", sc->name, s,
                  pr);
        CHECK_MSG(same_state(&oc_cpu, &oc_gpu), "%s step %d: optimizer state differs", sc->name, s);
        printf("%s step %d: loss %.7f (cpu) %.7f (gpu), gradients at %.3g of the tolerance, "
               "optimizer step %s\n",
               sc->name, s, lc / wc, lg / wg, gr,
               memcmp(a, b, P * sizeof(float)) == 0 ? "bit-identical" : "DIFFERENT");
    }
    /* evaluation mode, probabilities */
    CHECK(mlp_forward(&mc, x, B, NULL) == 0);
    CHECK(mlp_forward(&mg, x_d, B, NULL) == 0);
    CHECK(mlp_loss_forward(&mc, NULL, NULL, B, NULL, NULL) == 0);
    CHECK(mlp_loss_forward(&mg, NULL, NULL, B, NULL, NULL) == 0);
    to_host(cpu, a, mc.prob, (size_t)B * C);
    to_host(gpu, b, mg.prob, (size_t)B * C);
    CHECK_MSG(worst_ratio(b, a, (size_t)B * C, 1e-6, 1e-4) <= 1.0, "%s: eval probabilities",
              sc->name);
    /* a bad label is reported, not read out of bounds */
    y[3] = sc->classes;
    CHECK(gpu->copy_to_device(y_d, y, (size_t)B * sizeof(int32_t)) == 0);
    double l, wt;
    CHECK(mlp_loss_forward(&mg, y_d, NULL, B, &l, &wt) == 2);

    gpu->free(x_d), gpu->free(y_d), gpu->free(w_d);
    free(x), free(w), free(y), free(a), free(b), free(ma), free(mb), free(xb);
    optim_destroy(&oc_cpu), optim_destroy(&oc_gpu);
    mlp_destroy(&mc), mlp_destroy(&mg);
}

int main(int argc, char **argv)
{
    char why[512] = "";
    const int n = nn_gpu_device_count(why, sizeof why);
    if (n <= 0) {
        printf("SKIP: no usable CUDA device: %s\n", why);
        return SKIP;
    }
    if (argc > 1 && strcmp(argv[1], "--probe") == 0) {
        printf("%d\n", n);
        return 0;
    }
    if (nn_gpu_open(0, NN_GPU_MATH_FP32) != 0) {
        fprintf(stderr, "nn_gpu_open: %s\n", hpcml_error_message());
        return 1;
    }
    char desc[256];
    nn_gpu_describe(desc, sizeof desc);
    printf("device: %s\n", desc);
    const scenario scs[] = {
        {"adam+gelu+weights", NN_ACT_GELU, NN_OPT_ADAM, 3, 1, 0.3f},
        {"sgd-nesterov+relu", NN_ACT_RELU, NN_OPT_SGD, 2, 0, 0.5f},
        {"adamw+relu", NN_ACT_RELU, NN_OPT_ADAMW, 2, 1, 0.0f},
    };
    for (int i = 0; i < 3; i++)
        run_scenario(&scs[i]);
    nn_gpu_close();
    CHECK_DONE();
}
