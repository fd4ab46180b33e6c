/* gemm_rate.c — the sgemm-bound rate of one training step: times the 8 GEMMs
 * of a step of the MLP (3 forward, 3 weight gradients, 2 input gradients)
 * alone, with the shapes hpcml-train uses, and prints samples/s that pure
 * GEMM time would allow. Built and run by benchmarks/train_vs_torch.sh.
 * With --forward, the forward GEMMs alone (one per layer): the sgemm-bound
 * rate of scoring (benchmarks/forward_vs_ort.sh, predict_vs_pandas.sh).
 *
 * --iters N --reps R (defaults 200, 7): R timed repetitions of N steps; the
 * JSON has the best (step_gemm_s, gflops, gemm_bound_samples_per_s) and the
 * median repetition (median_step_s, median_samples_per_s).
 *
 * usage: gemm_rate [--forward] [--iters N] [--reps R] ROWS_PER_RANK THREADS IN H1 [H2 ...] CLASSES */
#include <string.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *randbuf(size_t n)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return p;
}

int main(int argc, char **argv)
{
    int forward_only = 0, iters = 200, reps = 7;
    while (argc > 2 && !strncmp(argv[1], "--", 2)) {
        if (!strcmp(argv[1], "--forward")) {
            forward_only = 1;
        } else if (!strcmp(argv[1], "--iters") || !strcmp(argv[1], "--reps")) {
            *(argv[1][2] == 'i' ? &iters : &reps) = atoi(argv[2]);
            argv++;
            argc--;
        } else {
            break;
        }
        argv++;
        argc--;
    }
    if (iters < 1 || reps < 1 || reps > 1000) {
        fprintf(stderr, "gemm_rate: --iters and --reps take 1 or more (reps <= 1000)\n");
        return 1;
    }
    if (argc < 5) {
        fprintf(stderr, "usage: %s ROWS THREADS IN H1 [H2 ...] CLASSES\n", argv[0]);
        return 1;
    }
    const int rows = atoi(argv[1]);
    openblas_set_num_threads(atoi(argv[2]));
    const int L = argc - 4; /* layers */
    int w[64];
    for (int i = 0; i <= L; i++)
        w[i] = atoi(argv[3 + i]);
    float *W[64], *G[64], *A[65], *D[65];
    double flops = 0;
    for (int l = 0; l < L; l++) {
        W[l] = randbuf((size_t)w[l + 1] * w[l]);
        G[l] = randbuf((size_t)w[l + 1] * w[l]);
        flops += 2.0 * rows * w[l] * w[l + 1] * (forward_only ? 1 : l == 0 ? 2 : 3);
    }
    for (int l = 0; l <= L; l++) {
        A[l] = randbuf((size_t)rows * w[l]);
        D[l] = randbuf((size_t)rows * w[l]);
    }
    double best = 1e30, times[1000];
    for (int rep = 0; rep < reps; rep++) {
        double t0 = now_s();
        for (int it = 0; it < iters; it++) {
            for (int l = 0; l < L; l++) /* forward: A[l+1] = A[l] W^T */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, w[l + 1], w[l], 1.0f,
                            A[l], w[l], W[l], w[l], 0.0f, A[l + 1], w[l + 1]);
            for (int l = L - 1; l >= 0 && !forward_only; l--) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, w[l + 1], w[l], rows, 1.0f,
                            D[l + 1], w[l + 1], A[l], w[l], 0.0f, G[l], w[l]);
                if (l > 0)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, w[l], w[l + 1],
                                1.0f, D[l + 1], w[l + 1], W[l], w[l], 0.0f, D[l], w[l]);
            }
        }
        double dt = (now_s() - t0) / iters;
        if (dt < best) best = dt;
        int i = rep; /* insertion sort: times[] ascending */
        for (; i > 0 && times[i - 1] > dt; i--)
            times[i] = times[i - 1];
        times[i] = dt;
    }
    const double med = times[(reps - 1) / 2];
    printf("{\"rows\": %d, \"gemms_per_step\": %d, \"step_gemm_s\": %.6g, \"gflops\": %.2f, "
           "\"gemm_bound_samples_per_s\": %.0f, \"median_step_s\": %.6g, "
           "\"median_samples_per_s\": %.0f}\n",
           rows, forward_only ? L : 3 * L - 1, best, flops / best * 1e-9, rows / best, med,
           rows / med);
    return 0;
}
