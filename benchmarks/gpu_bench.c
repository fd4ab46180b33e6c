/* gpu_bench.c — the CUDA backend's throughput, for whoever runs it on a GPU
 * node (nothing here has been run on a GPU yet: see docs/gpu.md).
 *
 * For each GEMM math mode asked for (default fp32 tf32 bf16) it measures:
 *   peak   a large square GEMM (N x N x N, N = 8192) through the backend's
 *          sgemm: the device's measured peak in that mode, TFLOP/s;
 *   mlp    the 8 GEMMs of one training step of the MLP (3 forward, 3
 *          weight gradients, 2 input gradients) at the given batch and
 *          widths: TFLOP/s and the share of the measured peak;
 *   step   whole training steps (forward with dropout, weighted softmax
 *          cross-entropy, backward, Adam) on the GPU: samples/s, and the
 *          same steps on the CPU backend in this process for the ratio.
 * Each figure is the median of REPS timed runs after a warm-up.
 *
 * usage: gpu_bench [--batch B] [--features F] [--hidden H1,H2,...]
 *                  [--reps R] [--modes fp32,tf32,bf16] [--no-cpu]
 * Built as build/tests/gpu_bench; ctest runs it (label gpu) and skips it
 * (exit 77) when no CUDA device is usable. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/rng.h"
#include "core/status.h"
#include "nn/gpu.h"
#include "nn/mlp.h"
#include "nn/optim.h"

#define SKIP     77
#define MAX_REPS 64

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        if ((expr) != HPCML_OK) {                                                                  \
            fprintf(stderr, "gpu_bench: %s failed: %s (%s)\n", #expr, hpcml_error_message(),       \
                    hpcml_error_where());                                                          \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static int sync_be(const nn_backend *be)
{
    return be->device_memory ? nn_gpu_synchronize() : HPCML_OK;
}

/* Median TFLOP/s of a square GEMM of side n. */
static double peak_tflops(const nn_backend *be, int n, int reps)
{
    float *a, *b, *c;
    const size_t bytes = (size_t)n * n * sizeof(float);
    TRY(be->alloc((void **)&a, bytes));
    TRY(be->alloc((void **)&b, bytes));
    TRY(be->alloc((void **)&c, bytes));
    double t[MAX_REPS];
    TRY(be->sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n)); /* warm-up */
    TRY(sync_be(be));
    for (int r = 0; r < reps; r++) {
        double t0 = hpcml_mono_s();
        TRY(be->sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n));
        TRY(sync_be(be));
        t[r] = 2.0 * n * (double)n * n / (hpcml_mono_s() - t0) / 1e12;
    }
    be->free(a), be->free(b), be->free(c);
    return median(t, reps);
}

typedef struct {
    mlp m;
    nn_optim opt;
    float *x, *cw;
    int32_t *y;
    int batch;
} bench_model;

static void model_init(bench_model *bm, const nn_backend *be, const mlp_shape *shape, int batch)
{
    TRY(mlp_create(&bm->m, be, shape, batch));
    TRY(mlp_init_params(&bm->m, 1, NN_INIT_HE_NORMAL));
    nn_optim_config oc = nn_optim_defaults(NN_OPT_ADAM);
    TRY(optim_create(&bm->opt, be, bm->m.n_params, &oc));
    const size_t nx = (size_t)batch * shape->n_inputs;
    float *x = malloc(nx * sizeof *x), *cw = malloc(shape->n_classes * sizeof *cw);
    int32_t *y = malloc((size_t)batch * sizeof *y);
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)rng_normal(3, 1, i, 0);
    for (int r = 0; r < batch; r++)
        y[r] = (int32_t)rng_below(3, 2, (uint64_t)r, 0, shape->n_classes);
    for (int c = 0; c < shape->n_classes; c++)
        cw[c] = 1.0f + 0.5f * (float)c;
    TRY(be->alloc((void **)&bm->x, nx * sizeof(float)));
    TRY(be->alloc((void **)&bm->y, (size_t)batch * sizeof(int32_t)));
    TRY(be->alloc((void **)&bm->cw, shape->n_classes * sizeof(float)));
    TRY(be->copy_to_device(bm->x, x, nx * sizeof(float)));
    TRY(be->copy_to_device(bm->y, y, (size_t)batch * sizeof(int32_t)));
    TRY(be->copy_to_device(bm->cw, cw, shape->n_classes * sizeof(float)));
    free(x), free(cw), free(y);
    bm->batch = batch;
}

static void model_free(bench_model *bm)
{
    const nn_backend *be = bm->m.be;
    be->free(bm->x), be->free(bm->y), be->free(bm->cw);
    optim_destroy(&bm->opt);
    mlp_destroy(&bm->m);
}

static void train_step(bench_model *bm, long step)
{
    mlp *m = &bm->m;
    nn_dropout_rows keys = {
        .seed = 5, .row_keys = NULL, .row_key_base = (uint64_t)step * bm->batch};
    double ls, ws;
    TRY(mlp_forward(m, bm->x, bm->batch, &keys));
    TRY(mlp_loss_forward(m, bm->y, bm->cw, bm->batch, &ls, &ws));
    TRY(mlp_loss_backward(m, bm->y, bm->cw, bm->batch, (float)(1.0 / ws)));
    TRY(mlp_backward(m, bm->x, bm->batch, m->dlogits, 0));
    TRY(optim_step(&bm->opt, m->params, m->grads, 1e-3));
}

/* Median samples/s of `steps` training steps. */
static double step_rate(bench_model *bm, int steps, int reps)
{
    const nn_backend *be = bm->m.be;
    double t[MAX_REPS];
    train_step(bm, 0);
    TRY(sync_be(be));
    for (int r = 0; r < reps; r++) {
        double t0 = hpcml_mono_s();
        for (int s = 0; s < steps; s++)
            train_step(bm, 1 + (long)r * steps + s);
        TRY(sync_be(be));
        t[r] = (double)steps * bm->batch / (hpcml_mono_s() - t0);
    }
    return median(t, reps);
}

/* Median TFLOP/s of the step's 8 GEMMs alone (shapes of mlp.c). */
static double mlp_gemm_tflops(bench_model *bm, int reps)
{
    mlp *m = &bm->m;
    const nn_backend *be = m->be;
    const int B = bm->batch;
    double flops = 0.0, t[MAX_REPS];
    for (int l = 0; l < m->n_layers; l++) {
        const double per = 2.0 * B * m->width[l] * m->width[l + 1];
        flops += l > 0 ? 3.0 * per : 2.0 * per; /* forward, dW, and dX above the input */
    }
    for (int r = -1; r < reps; r++) {
        TRY(sync_be(be));
        double t0 = hpcml_mono_s();
        const int inner = 20;
        for (int k = 0; k < inner; k++) {
            const float *in = bm->x;
            for (int l = 0; l < m->n_layers; l++) {
                const int nin = m->width[l], nout = m->width[l + 1];
                TRY(be->sgemm(0, 1, B, nout, nin, 1.0f, in, nin, m->params + m->w_off[l], nin, 0.0f,
                              m->z[l], nout));
                TRY(be->sgemm(1, 0, nout, nin, B, 1.0f, m->z[l], nout, in, nin, 0.0f,
                              m->grads + m->w_off[l], nin));
                if (l > 0)
                    TRY(be->sgemm(0, 0, B, nin, nout, 1.0f, m->z[l], nout, m->params + m->w_off[l],
                                  nin, 0.0f, m->dbuf[0], nin));
                if (l < m->n_layers - 1) in = m->h[l];
            }
        }
        TRY(sync_be(be));
        if (r >= 0) t[r] = inner * flops / (hpcml_mono_s() - t0) / 1e12;
    }
    return median(t, reps);
}

int main(int argc, char **argv)
{
    int batch = 4096, features = 64, reps = 5, cpu = 1;
    const char *hidden = "1024,512,256", *modes = "fp32,tf32,bf16";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--features") && i + 1 < argc)
            features = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hidden") && i + 1 < argc)
            hidden = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--modes") && i + 1 < argc)
            modes = argv[++i];
        else if (!strcmp(argv[i], "--no-cpu"))
            cpu = 0;
        else {
            fprintf(stderr,
                    "usage: %s [--batch B] [--features F] [--hidden H1,H2] [--reps R] "
                    "[--modes fp32,tf32,bf16] [--no-cpu]\n",
                    argv[0]);
            return 1;
        }
    }
    if (reps < 1) reps = 1;
    if (reps > MAX_REPS) reps = MAX_REPS;
    char why[512] = "";
    if (nn_gpu_device_count(why, sizeof why) <= 0) {
        printf("SKIP: no usable CUDA device: %s\n", why);
        return SKIP;
    }
    mlp_shape shape;
    memset(&shape, 0, sizeof shape);
    shape.n_inputs = features;
    shape.n_classes = 2;
    shape.act = NN_ACT_RELU;
    shape.dropout_p = 0.1f;
    for (const char *p = hidden; *p && shape.n_hidden < MLP_MAX_HIDDEN;) {
        shape.hidden[shape.n_hidden++] = atoi(p);
        p = strchr(p, ',');
        if (!p) break;
        p++;
    }
    char arch[256];
    int off = snprintf(arch, sizeof arch, "%d", features);
    for (int i = 0; i < shape.n_hidden; i++)
        off += snprintf(arch + off, sizeof arch - (size_t)off, "-%d", shape.hidden[i]);
    snprintf(arch + off, sizeof arch - (size_t)off, "-2");

    double cpu_rate = NAN;
    if (cpu) {
        bench_model bm;
        model_init(&bm, &nn_backend_cpu, &shape, batch);
        cpu_rate = step_rate(&bm, 3, reps < 3 ? reps : 3);
        model_free(&bm);
    }
    const nn_backend *gpu = nn_backend_by_name("cuda");
    char mcopy[64];
    snprintf(mcopy, sizeof mcopy, "%s", modes);
    for (char *tok = strtok(mcopy, ","); tok; tok = strtok(NULL, ",")) {
        nn_gpu_math math;
        if (nn_gpu_math_from_name(tok, &math) != 0) {
            fprintf(stderr, "gpu_bench: unknown mode %s\n", tok);
            return 1;
        }
        TRY(nn_gpu_open(0, math));
        char desc[256];
        TRY(nn_gpu_describe(desc, sizeof desc));
        const double peak = peak_tflops(gpu, 8192, reps);
        bench_model bm;
        model_init(&bm, gpu, &shape, batch);
        const double gemm = mlp_gemm_tflops(&bm, reps);
        const double rate = step_rate(&bm, 50, reps);
        model_free(&bm);
        nn_gpu_close();
        printf("gpu_bench %s | math %s | peak GEMM 8192^3 %.1f TFLOP/s | MLP %s batch %d: GEMMs "
               "%.1f TFLOP/s (%.0f%% of peak), step %.0f samples/s",
               desc, tok, peak, arch, batch, gemm, 100.0 * gemm / peak, rate);
        if (cpu) printf(" | cpu %.0f samples/s, gpu/cpu %.1fx", cpu_rate, rate / cpu_rate);
        printf(" (median of %d)\n", reps);
    }
    return 0;
}
