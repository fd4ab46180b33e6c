/* test_optim.c — optimizer steps against hand-computed values and closed
 * forms (PyTorch's definitions), gradient clipping, learning-rate
 * schedules. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "nn/backend.h"
#include "nn/optim.h"

static const nn_backend *be = &nn_backend_cpu;

/* Run `steps` steps on one parameter with a constant gradient g; returns the
 * parameter after each step in out[]. */
static void run_constant(const nn_optim_config *cfg, double p0, double g, double lr, int steps,
                         double *out) {
    nn_optim o;
    CHECK(optim_create(&o, be, 1, cfg) == 0);
    float p = (float)p0, gr = (float)g;
    for (int t = 0; t < steps; t++) {
        CHECK(optim_step(&o, &p, &gr, lr) == 0);
        out[t] = p;
    }
    CHECK_EQ_INT(o.step, steps);
    optim_destroy(&o);
}

static void test_sgd(void) {
    double p[4];
    nn_optim_config c = nn_optim_defaults(NN_OPT_SGD);
    /* plain: p -= lr g */
    run_constant(&c, 1.0, 1.0, 0.1, 2, p);
    CHECK_NEAR(p[0], 0.9, 1e-7);
    CHECK_NEAR(p[1], 0.8, 1e-7);
    /* weight decay 0.1: g = 1 + 0.1 p -> 1 - 0.1 * 1.1 = 0.89, 0.89 - 0.1 * 1.089 = 0.7811 */
    c.weight_decay = 0.1;
    run_constant(&c, 1.0, 1.0, 0.1, 2, p);
    CHECK_NEAR(p[0], 0.89, 1e-7);
    CHECK_NEAR(p[1], 0.7811, 1e-7);
    /* momentum 0.9: buf 1, 1.9, 2.71 -> p 0.9, 0.71, 0.439 */
    c = nn_optim_defaults(NN_OPT_SGD);
    c.momentum = 0.9;
    run_constant(&c, 1.0, 1.0, 0.1, 3, p);
    CHECK_NEAR(p[0], 0.9, 1e-7);
    CHECK_NEAR(p[1], 0.71, 1e-7);
    CHECK_NEAR(p[2], 0.439, 1e-7);
    /* Nesterov: buf 1, 1.9; direction g + 0.9 buf = 1.9, 2.71 -> p 0.81, 0.539 */
    c.nesterov = 1;
    run_constant(&c, 1.0, 1.0, 0.1, 2, p);
    CHECK_NEAR(p[0], 0.81, 1e-7);
    CHECK_NEAR(p[1], 0.539, 1e-7);
    /* dampening 0.5: the first buffer is g undampened (PyTorch), then 0.9 +
     * 0.5 = 1.4 -> p 0.9, 0.76 */
    c.nesterov = 0;
    c.dampening = 0.5;
    run_constant(&c, 1.0, 1.0, 0.1, 2, p);
    CHECK_NEAR(p[0], 0.9, 1e-7);
    CHECK_NEAR(p[1], 0.76, 1e-7);
    /* momentum + weight decay + Nesterov, against the recurrence in double */
    c = nn_optim_defaults(NN_OPT_SGD);
    c.momentum = 0.8;
    c.nesterov = 1;
    c.weight_decay = 0.05;
    run_constant(&c, 2.0, -0.5, 0.2, 4, p);
    double pr = 2.0, buf = 0;
    for (int t = 0; t < 4; t++) {
        double g = -0.5 + 0.05 * pr;
        buf = t == 0 ? g : 0.8 * buf + g;
        pr -= 0.2 * (g + 0.8 * buf);
        CHECK_NEAR(p[t], pr, 1e-6);
    }
    /* invalid: Nesterov without momentum */
    nn_optim o;
    c = nn_optim_defaults(NN_OPT_SGD);
    c.nesterov = 1;
    CHECK(optim_create(&o, be, 1, &c) == 1);
}

static void test_adam(void) {
    double p[5];
    nn_optim_config c = nn_optim_defaults(NN_OPT_ADAM);
    /* Constant gradient g: the bias-corrected moments are exactly g and g^2,
     * so each step moves lr * g / (|g| + eps). */
    run_constant(&c, 1.0, 2.0, 0.01, 5, p);
    for (int t = 0; t < 5; t++) CHECK_NEAR(p[t], 1.0 - (t + 1) * 0.01 * 2.0 / (2.0 + 1e-8), 1e-6);
    /* eps is added AFTER the bias correction: with g = 1e-8 the first step
     * is lr * g / (g + eps) = lr / 2 (eps before the correction would give
     * lr * g / (g + eps / sqrt(1 - beta2)) ~ lr / 32.6). */
    float pf = 0.0f, g = 1e-8f;
    nn_optim o;
    CHECK(optim_create(&o, be, 1, &c) == 0);
    CHECK(optim_step(&o, &pf, &g, 0.1) == 0);
    CHECK_NEAR(pf, -0.05, 1e-6);
    optim_destroy(&o);

    /* AdamW: p <- p (1 - lr wd) first, then the Adam step:
     * p_t = a^t p0 - s (1 - a^t) / (1 - a), a = 1 - lr wd, s = lr g / (|g| + eps). */
    c = nn_optim_defaults(NN_OPT_ADAMW);
    c.weight_decay = 0.1;
    run_constant(&c, 3.0, -1.0, 0.05, 5, p);
    double a = 1 - 0.05 * 0.1, s = 0.05 * -1.0 / (1.0 + 1e-8);
    /* float32 rounding of p ~ 3: a few ulp (2.4e-7 each) per step */
    for (int t = 1; t <= 5; t++)
        CHECK_NEAR(p[t - 1], pow(a, t) * 3.0 - s * (1 - pow(a, t)) / (1 - a), 4e-6);

    /* Adam with L2 weight decay and changing gradients, three parameters,
     * against PyTorch's recurrence written out in double. */
    c = nn_optim_defaults(NN_OPT_ADAM);
    c.weight_decay = 0.01;
    c.beta1 = 0.8;
    c.beta2 = 0.99;
    c.eps = 1e-6;
    CHECK(optim_create(&o, be, 3, &c) == 0);
    float pv[3] = {0.5f, -1.0f, 2.0f};
    double pd[3] = {0.5, -1.0, 2.0}, md[3] = {0}, vd[3] = {0};
    for (int t = 1; t <= 6; t++) {
        float gv[3] = {0.3f * t, -0.2f + 0.1f * t, 1.0f / t};
        double lr = 0.01 * t; /* a schedule may change lr each step */
        CHECK(optim_step(&o, pv, gv, lr) == 0);
        for (int i = 0; i < 3; i++) {
            double gi = (double)gv[i] + 0.01 * pd[i];
            md[i] = 0.8 * md[i] + 0.2 * gi;
            vd[i] = 0.99 * vd[i] + 0.01 * gi * gi;
            double denom = sqrt(vd[i]) / sqrt(1 - pow(0.99, t)) + 1e-6;
            pd[i] -= lr / (1 - pow(0.8, t)) * md[i] / denom;
            CHECK_NEAR(pv[i], pd[i], 2e-6);
        }
    }
    optim_destroy(&o);
}

static void test_clip(void) {
    float g[2] = {3, 4};
    double norm;
    CHECK(optim_clip_grad_norm(be, g, 2, 10.0, &norm) == 0);
    CHECK_NEAR(norm, 5.0, 1e-12);
    CHECK(g[0] == 3 && g[1] == 4); /* under the limit: untouched */
    CHECK(optim_clip_grad_norm(be, g, 2, 1.0, &norm) == 0);
    CHECK_NEAR(g[0], 0.6 * 5 / (5 + 1e-6), 1e-7);
    CHECK_NEAR(g[1], 0.8 * 5 / (5 + 1e-6), 1e-7);
    CHECK(optim_clip_grad_norm(be, g, 2, 0.0, &norm) == 0); /* 0: report only */
    CHECK_NEAR(norm, 1.0, 1e-6);
    float bad[1] = {NAN};
    CHECK(optim_clip_grad_norm(be, bad, 1, 1.0, &norm) == 2);
}

static void test_schedules(void) {
    nn_lr_schedule s = {.kind = NN_LR_CONSTANT, .base_lr = 0.1};
    CHECK_NEAR(lr_schedule_at(&s, 0), 0.1, 1e-15);
    CHECK_NEAR(lr_schedule_at(&s, 12345), 0.1, 1e-15);

    /* step: x0.1 every 2 epochs of 10 steps */
    s = (nn_lr_schedule){.kind = NN_LR_STEP, .base_lr = 0.1, .steps_per_epoch = 10,
                         .step_epochs = 2, .gamma = 0.1};
    CHECK_NEAR(lr_schedule_at(&s, 19), 0.1, 1e-15);
    CHECK_NEAR(lr_schedule_at(&s, 20), 0.01, 1e-15);
    CHECK_NEAR(lr_schedule_at(&s, 39), 0.01, 1e-15);
    CHECK_NEAR(lr_schedule_at(&s, 45), 0.001, 1e-15);

    /* warm-up over 5 steps, then step decay on the absolute epoch */
    s.warmup_steps = 5;
    CHECK_NEAR(lr_schedule_at(&s, 0), 0.02, 1e-15);
    CHECK_NEAR(lr_schedule_at(&s, 2), 0.06, 1e-15);
    CHECK_NEAR(lr_schedule_at(&s, 4), 0.1, 1e-15);
    CHECK_NEAR(lr_schedule_at(&s, 5), 0.1, 1e-15);
    CHECK_NEAR(lr_schedule_at(&s, 25), 0.01, 1e-15);

    /* cosine from 1.0 to 0.1 over steps 10..110 after a 10-step warm-up */
    s = (nn_lr_schedule){.kind = NN_LR_COSINE, .base_lr = 1.0, .warmup_steps = 10,
                         .total_steps = 110, .min_lr = 0.1};
    CHECK_NEAR(lr_schedule_at(&s, 0), 0.1, 1e-15);
    CHECK_NEAR(lr_schedule_at(&s, 9), 1.0, 1e-15);
    CHECK_NEAR(lr_schedule_at(&s, 10), 1.0, 1e-15);
    CHECK_NEAR(lr_schedule_at(&s, 60), 0.55, 1e-12);
    CHECK_NEAR(lr_schedule_at(&s, 35), 0.1 + 0.9 * 0.5 * (1 + cos(M_PI / 4)), 1e-12);
    CHECK_NEAR(lr_schedule_at(&s, 110), 0.1, 1e-12);
    CHECK_NEAR(lr_schedule_at(&s, 500), 0.1, 1e-12);
    /* cosine without warm-up and floor: the classic 0.5 (1 + cos(pi t / T)) */
    s = (nn_lr_schedule){.kind = NN_LR_COSINE, .base_lr = 0.4, .total_steps = 8};
    for (int t = 0; t <= 8; t++)
        CHECK_NEAR(lr_schedule_at(&s, t), 0.2 * (1 + cos(M_PI * t / 8)), 1e-12);

    CHECK_NEAR(lr_linear_scaling(0.1, 1024, 256), 0.4, 1e-15);
    CHECK_NEAR(lr_linear_scaling(0.1, 64, 256), 0.025, 1e-15);
}

static void test_step_params(void) {
    nn_optim_config c = nn_optim_defaults(NN_OPT_ADAMW);
    CHECK_NEAR(c.weight_decay, 0.01, 0);
    nn_optim o;
    CHECK(optim_create(&o, be, 4, &c) == 0);
    CHECK(o.m != NULL && o.v != NULL);
    o.step = 2; /* the third step: t = 3 */
    nn_step_params sp = optim_step_params(&o, 0.001);
    CHECK_NEAR(sp.step_size, 0.001 / (1 - pow(0.9, 3)), 1e-9);
    CHECK_NEAR(sp.bc2_sqrt, sqrt(1 - pow(0.999, 3)), 1e-8);
    CHECK_NEAR(sp.decay, 1 - 0.001 * 0.01, 6e-8); /* a float32 */
    CHECK(sp.l2 == 0.0f && !sp.first_step);
    optim_destroy(&o);
    c = nn_optim_defaults(NN_OPT_SGD);
    CHECK(optim_create(&o, be, 4, &c) == 0);
    CHECK(o.m == NULL && o.v == NULL); /* plain SGD keeps no state */
    optim_destroy(&o);
}

int main(void) {
    test_sgd();
    test_adam();
    test_clip();
    test_schedules();
    test_step_params();
    CHECK_DONE();
}
