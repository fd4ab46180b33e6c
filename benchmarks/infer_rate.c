/* infer_rate.c — hpcml's evaluation forward (src/nn/infer_cpu.c, the CPU
 * backend's mlp_infer) against the sgemm bound, on one core and in CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so the share does not move with the machine's
 * load as wall times do: the forward GEMMs alone (cblas_sgemm per layer,
 * 2,048-row calls, one thread, no bias or activation) and mlp_infer over the
 * same rows, alternated REPS times; prints the median of each and the share.
 * Built and run by benchmarks/forward_vs_ort.sh:
 *
 *   cc -O2 -ffp-contract=off -Isrc benchmarks/infer_rate.c src/nn/infer_cpu.c \
 *      src/core/status.c -lopenblas -lm -o infer_rate
 *   infer_rate ROWS REPS IN H1 [H2 ...] CLASSES
 *
 * (ReLU hidden layers; weights and inputs random: the arithmetic does not
 * depend on the values.) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nn/infer_cpu.h"

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 6 || argc - 4 > 16) {
        fprintf(stderr, "usage: %s ROWS REPS IN H1 [H2 ...] CLASSES\n", argv[0]);
        return 1;
    }
    const int rows = atoi(argv[1]), reps = atoi(argv[2]), L = argc - 4;
    if (rows < 1 || reps < 1 || reps > 100) return 1;
    int w[17];
    size_t w_off[16], b_off[16], n = 0;
    for (int i = 0; i <= L; i++)
        w[i] = atoi(argv[3 + i]);
    for (int l = 0; l < L; l++) {
        w_off[l] = n;
        n += (size_t)w[l] * (size_t)w[l + 1];
        b_off[l] = n;
        n += (size_t)w[l + 1];
    }
    float *p = malloc(n * sizeof *p), *x = malloc((size_t)rows * (size_t)w[0] * sizeof *x);
    float *logits = malloc((size_t)rows * (size_t)w[L] * sizeof *logits), *A[17];
    for (size_t i = 0; i < n; i++)
        p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    for (size_t i = 0; i < (size_t)rows * (size_t)w[0]; i++)
        x[i] = (float)rand() / (float)RAND_MAX;
    for (int l = 1; l <= L; l++)
        A[l] = malloc((size_t)2048 * (size_t)w[l] * sizeof(float));
    const nn_mlp_view net = {L, w, p, w_off, b_off, NN_ACT_RELU};
    openblas_set_num_threads(1);
    double flops = 0, tg[100], ti[100];
    for (int l = 0; l < L; l++)
        flops += 2.0 * rows * w[l] * w[l + 1];
    for (int rep = 0; rep < reps; rep++) {
        double t0 = cpu_s();
        for (int r0 = 0; r0 < rows; r0 += 2048) {
            const int m = rows - r0 < 2048 ? rows - r0 : 2048;
            for (int l = 0; l < L; l++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, w[l + 1], w[l], 1.0f,
                            l ? A[l] : x + (size_t)r0 * (size_t)w[0], w[l], p + w_off[l], w[l],
                            0.0f, A[l + 1], w[l + 1]);
        }
        tg[rep] = cpu_s() - t0;
        t0 = cpu_s();
        for (int r0 = 0; r0 < rows; r0 += 2048) /* as dist_metrics_predict: 2,048-row calls */
            if (nn_cpu_mlp_infer(&net, x + (size_t)r0 * (size_t)w[0],
                                 rows - r0 < 2048 ? rows - r0 : 2048,
                                 logits + (size_t)r0 * (size_t)w[L]) != 0)
                return 1;
        ti[rep] = cpu_s() - t0;
    }
    qsort(tg, (size_t)reps, sizeof *tg, cmp);
    qsort(ti, (size_t)reps, sizeof *ti, cmp);
    const double g = tg[(reps - 1) / 2], f = ti[(reps - 1) / 2];
    printf("{\"rows\": %d, \"sgemm_cpu_s\": %.6g, \"sgemm_gflops\": %.2f, \"infer_cpu_s\": %.6g, "
           "\"infer_gflops\": %.2f, \"share_of_sgemm_bound\": %.3f}\n",
           rows, g, flops / g * 1e-9, f, flops / f * 1e-9, g / f);
    return 0;
}
