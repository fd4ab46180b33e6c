/* test_infer_cpu.c — the CPU evaluation forward (nn/infer_cpu.c) against a
 * naive loop over its formula, bit for bit, on every code path this CPU
 * has (plain C always; AVX2 + FMA and AVX-512 where present), on odd shapes:
 * row counts around the tile (0, 1, 31, 32, 33, 100), output counts around
 * the register blocks, one layer, wide and narrow layers, each activation.
 * Then through mlp_infer: the same bits whatever the chunking (a row's
 * logits depend on that row alone), close to the sgemm forward, and no
 * backward after it. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "nn/infer_cpu.h"
#include "nn/mlp.h"

/* The formula of infer_cpu.h, one row and one output at a time. */
static void ref_infer(const nn_mlp_view *net, const float *x, int rows, float *logits)
{
    int widest = 1;
    for (int l = 0; l <= net->n_layers; l++)
        if (net->width[l] > widest) widest = net->width[l];
    float *a = malloc(sizeof(float) * (size_t)widest), *z = malloc(sizeof(float) * (size_t)widest);
    for (int r = 0; r < rows; r++) {
        memcpy(a, x + (size_t)r * net->width[0], sizeof(float) * (size_t)net->width[0]);
        for (int l = 0; l < net->n_layers; l++) {
            const int K = net->width[l], N = net->width[l + 1];
            const float *W = net->params + net->w_off[l], *b = net->params + net->b_off[l];
            for (int o = 0; o < N; o++) {
                float acc = b[o];
                for (int k = 0; k < K; k++)
                    acc = fmaf(a[k], W[(size_t)o * K + k], acc);
                z[o] = l < net->n_layers - 1 ? nn_act_forward(net->act, acc) : acc;
            }
            float *t = a;
            a = z;
            z = t;
        }
        memcpy(logits + (size_t)r * net->width[net->n_layers], a,
               sizeof(float) * (size_t)net->width[net->n_layers]);
    }
    free(a);
    free(z);
}

typedef struct {
    int n_layers;
    int width[8];
} shape;

static float *random_floats(size_t n, uint64_t seed, double scale)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(scale * (2.0 * rng_uniform(seed, RNG_STREAM_INIT, i, 0) - 1.0));
    return p;
}

static const char *isa_name[] = {"best", "generic", "avx2", "avx512"};

static void test_against_reference(const shape *s, nn_activation act, int rows, int with_nan)
{
    size_t w_off[8], b_off[8], n = 0;
    for (int l = 0; l < s->n_layers; l++) {
        w_off[l] = n;
        n += (size_t)s->width[l] * (size_t)s->width[l + 1];
        b_off[l] = n;
        n += (size_t)s->width[l + 1];
    }
    float *params = random_floats(n, 11 + (uint64_t)rows, 0.5);
    const int F = s->width[0], C = s->width[s->n_layers];
    float *x = random_floats((size_t)rows * F, 13 + (uint64_t)rows, 2.0);
    if (with_nan && rows > 0) { /* ReLU maps NaN and -0 to +0 on every path */
        x[0] = NAN;
        x[(size_t)rows * F - 1] = -0.0f;
    }
    const nn_mlp_view net = {s->n_layers, s->width, params, w_off, b_off, act};
    float *want = malloc(sizeof(float) * ((size_t)rows * C + 1));
    float *got = malloc(sizeof(float) * ((size_t)rows * C + 1));
    ref_infer(&net, x, rows, want);
    int paths = 0;
    for (int isa = NN_INFER_ISA_BEST; isa <= NN_INFER_ISA_AVX512; isa++) {
        if (!nn_infer_isa_supported((nn_infer_isa)isa)) {
            CHECK(nn_cpu_mlp_infer_isa((nn_infer_isa)isa, &net, x, rows, got) != 0);
            continue;
        }
        paths++;
        memset(got, 0xff, sizeof(float) * ((size_t)rows * C + 1));
        CHECK(nn_cpu_mlp_infer_isa((nn_infer_isa)isa, &net, x, rows, got) == 0);
        CHECK_MSG(memcmp(got, want, sizeof(float) * (size_t)rows * C) == 0,
                  "path %s, %d layers %d -> ... -> %d, act %d, %d rows: not the reference's bits",
                  isa_name[isa], s->n_layers, F, C, (int)act, rows);
        uint32_t guard;
        memcpy(&guard, got + (size_t)rows * C, sizeof guard);
        CHECK_MSG(guard == 0xffffffffu, "path %s wrote past the logits", isa_name[isa]);
    }
    CHECK(paths >= 2); /* best and generic at least */
    free(params);
    free(x);
    free(want);
    free(got);
}

static void test_shapes(void)
{
    static const shape shapes[] = {
        {3, {36, 256, 128, 2}},      /* the demo's network */
        {1, {7, 2}},                 /* no hidden layer */
        {2, {1, 1, 2}},              /* narrowest */
        {2, {37, 13, 3}},            /* one full AVX-512 block + 1, AVX2 2 blocks + 1 */
        {3, {5, 300, 25, 2}},        /* wide hidden, 25 = 2 x 12 + 1 = 4 x 6 + 1 */
        {4, {64, 12, 24, 11, 2}},    /* exact blocks and an 11 tail */
        {2, {513, 7, 2}},            /* wide input, narrow hidden */
        {3, {16, 6, 5, 4}},          /* below every block */
    };
    static const int rows[] = {0, 1, 31, 32, 33, 100};
    static const nn_activation acts[] = {NN_ACT_RELU, NN_ACT_GELU, NN_ACT_NONE};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        for (size_t a = 0; a < 3; a++)
            for (size_t r = 0; r < sizeof rows / sizeof *rows; r++)
                test_against_reference(&shapes[i], acts[a], rows[r], 0);
    test_against_reference(&shapes[0], NN_ACT_RELU, 45, 1);
    test_against_reference(&shapes[3], NN_ACT_RELU, 3, 1);
}

/* mlp_infer: any chunking gives the same bits; close to mlp_forward's sgemm
 * path; mlp_loss_forward works after it, mlp_backward does not. */
static void test_mlp_infer(void)
{
    mlp_shape sh = {.n_inputs = 30, .n_hidden = 2, .hidden = {64, 17}, .n_classes = 3,
                    .act = NN_ACT_RELU, .dropout_p = 0.2f};
    enum { ROWS = 203, MAXB = 64 };
    mlp m;
    CHECK(mlp_create(&m, &nn_backend_cpu, &sh, MAXB) == 0);
    CHECK(mlp_init_params(&m, 5, NN_INIT_TORCH_DEFAULT) == 0);
    float *x = random_floats((size_t)ROWS * 30, 99, 3.0);
    float *whole = malloc(sizeof(float) * ROWS * 3), *parts = malloc(sizeof(float) * ROWS * 3);
    float *viagemm = malloc(sizeof(float) * ROWS * 3);
    /* chunks of MAXB from row 0, then chunks of 7 starting at row 0 and at odd offsets */
    for (int r0 = 0; r0 < ROWS; r0 += MAXB) {
        int n = ROWS - r0 < MAXB ? ROWS - r0 : MAXB;
        CHECK(mlp_infer(&m, x + (size_t)r0 * 30, n) == 0);
        memcpy(whole + (size_t)r0 * 3, mlp_logits(&m), sizeof(float) * (size_t)n * 3);
        CHECK(mlp_forward(&m, x + (size_t)r0 * 30, n, NULL) == 0);
        memcpy(viagemm + (size_t)r0 * 3, mlp_logits(&m), sizeof(float) * (size_t)n * 3);
    }
    for (int r0 = 0; r0 < ROWS;) {
        int n = 1 + r0 % 7;
        if (n > ROWS - r0) n = ROWS - r0;
        CHECK(mlp_infer(&m, x + (size_t)r0 * 30, n) == 0);
        memcpy(parts + (size_t)r0 * 3, mlp_logits(&m), sizeof(float) * (size_t)n * 3);
        r0 += n;
    }
    CHECK(memcmp(whole, parts, sizeof(float) * ROWS * 3) == 0);
    double worst = 0;
    for (int i = 0; i < ROWS * 3; i++) {
        double d = fabs((double)whole[i] - (double)viagemm[i]) / (1.0 + fabs((double)viagemm[i]));
        if (d > worst) worst = d;
    }
    CHECK_NEAR(worst, 0.0, 1e-5);
    CHECK(mlp_infer(&m, x, 10) == 0);
    double ls = -1, ws = -1;
    int32_t y[10] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
    CHECK(mlp_loss_forward(&m, y, NULL, 10, &ls, &ws) == 0);
    CHECK(ws == 10.0 && ls > 0.0);
    CHECK(mlp_backward(&m, x, 10, m.dlogits, 0) != 0); /* nothing kept to differentiate */
    CHECK(mlp_infer(&m, x, MAXB + 1) != 0);             /* past the workspace */
    CHECK(mlp_infer(&m, x, 0) == 0);
    free(x);
    free(whole);
    free(parts);
    free(viagemm);
    mlp_destroy(&m);
}

int main(void)
{
    test_shapes();
    test_mlp_infer();
    CHECK_DONE();
}
