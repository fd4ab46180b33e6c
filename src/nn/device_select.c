/* device_select.c — which GPU a rank takes, from the launcher's
 * environment (plain logic, no CUDA). See gpu.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gpu.h"

int nn_gpu_math_from_name(const char *name, nn_gpu_math *math)
{
    static const char *const names[] = {"fp32", "tf32", "bf16"};
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, names[i]) == 0) {
            *math = (nn_gpu_math)i;
            return 0;
        }
    return -1;
}

/* A non-negative decimal integer from the environment, or -1. */
static int env_index(const char *var)
{
    const char *s = getenv(var);
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < 0 || v > 1 << 20) return -1;
    return (int)v;
}

int nn_gpu_local_rank_from_env(int *local_size)
{
    static const char *const rank_vars[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID",
                                            "MPI_LOCALRANKID"};
    static const char *const size_vars[] = {"OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE",
                                            "MPI_LOCALNRANKS"};
    int rank = -1, size = -1;
    for (int i = 0; i < 3 && rank < 0; i++) {
        rank = env_index(rank_vars[i]);
        if (rank >= 0) size = env_index(size_vars[i]);
    }
    if (local_size) *local_size = size;
    return rank;
}

int nn_gpu_pick_device(int local_rank, int n_devices)
{
    if (n_devices <= 0) return -1;
    return (local_rank < 0 ? 0 : local_rank) % n_devices;
}
