/* backend_registry.c — the compute backends by name (IOR's aiori table):
 * one row per backend, nothing else decides. See backend.h. */
#include <stddef.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/gpu.h"

static const nn_backend *cpu_backend(void)
{
    return &nn_backend_cpu;
}

static const struct {
    const char *name;
    const nn_backend *(*get)(void); /* NULL when not built (a plugin that is absent) */
} registry[] = {
    {"cpu", cpu_backend},
    {"cuda", nn_gpu_backend}, /* the plugin, opened on first use */
};

const nn_backend *nn_backend_by_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof registry / sizeof registry[0]; i++)
        if (strcmp(name, registry[i].name) == 0) return registry[i].get();
    return NULL;
}
