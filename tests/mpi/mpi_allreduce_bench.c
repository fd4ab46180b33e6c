/* mpi_allreduce_bench.c — benchmark helper: time MPI_Allreduce (float sum, in
 * place, as hpcml-train's gradient sync) for message sizes from 4 B to 4 MiB,
 * to fit the alpha-beta model of docs/scaling.md on a given machine.
 *
 *   mpirun -np P mpi_allreduce_bench [REPS]
 *       rank 0 prints "ranks,bytes,median_us" lines, REPS (default 200)
 *       timed calls per size after 20 warm-up calls; the median over REPS. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int reps = argc > 1 ? atoi(argv[1]) : 200;
    if (reps < 1) reps = 1;
    const int max_n = 1 << 20; /* floats: 4 MiB */
    float *buf = malloc(sizeof(float) * (size_t)max_n);
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!buf || !t) MPI_Abort(MPI_COMM_WORLD, 4);
    for (int i = 0; i < max_n; i++)
        buf[i] = 1e-6f * (float)(i % 1000);
    if (rank == 0) printf("ranks,bytes,median_us\n");
    for (int n = 1; n <= max_n; n *= 4) {
        for (int k = 0; k < 20; k++)
            MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        for (int k = 0; k < reps; k++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = hpcml_mono_s();
            MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            t[k] = hpcml_mono_s() - t0;
        }
        qsort(t, (size_t)reps, sizeof(double), cmp_double);
        double med = t[reps / 2], worst;
        /* the slowest rank's median: what a training step waits for */
        MPI_Reduce(&med, &worst, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        if (rank == 0) printf("%d,%ld,%.2f\n", size, (long)n * 4, worst * 1e6);
    }
    free(buf);
    free(t);
    MPI_Finalize();
    return 0;
}
