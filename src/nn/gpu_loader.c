/* gpu_loader.c — gpu.h when CUDA is built: the CUDA backend is a plugin,
 * libhpcml_cuda.so, opened with dlopen the first time a GPU function is
 * called, never at program start.
 *
 * Why a plugin: the CUDA runtime, cuBLAS/cuBLASLt and NCCL are large shared
 * libraries. Linked into the programs, the loader maps and relocates them in
 * every process, GPU or not: about 210 MB more resident memory per rank and
 * 0.1 s more start-up, measured on hpcml-train --version. A CPU job on a
 * 128-core node would pay 27 GB for nothing. Now a CPU run never opens them;
 * train.device = "auto" or "cuda" does, once.
 *
 * Where the plugin is looked for, first hit wins:
 *   1. $HPCML_CUDA_PLUGIN (a path),
 *   2. <directory of the executable>/HPCML_PLUGIN_RELDIR/libhpcml_cuda.so: an
 *      install (`cmake --install`: bin/ and lib/hpcml/, CMake computes the
 *      relative path from GNUInstallDirs), wherever the prefix was moved,
 *   3. <directory of the executable>/../lib/libhpcml_cuda.so (the build tree),
 *   4. <directory of the executable>/libhpcml_cuda.so,
 *   5. libhpcml_cuda.so through the dynamic loader's search (LD_LIBRARY_PATH).
 * The executable's directory comes from /proc/self/exe, so neither PATH nor a
 * symlink to the program changes which plugin a program opens.
 * The plugin resolves hpcml's own functions (the error record, the log) from
 * the executable, which exports them (ENABLE_EXPORTS), so there is one error
 * record, and it binds its own symbols locally (-Bsymbolic). Without the
 * plugin every function below behaves like the no-CUDA build (gpu_stub.c)
 * and says why: "auto" falls back to the CPU, "cuda" is refused. */
#if HPCML_WITH_CUDA
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/status.h"
#include "nn/gpu.h"

#define PLUGIN_NAME "libhpcml_cuda.so"
#ifndef HPCML_PLUGIN_RELDIR
#define HPCML_PLUGIN_RELDIR "../lib/hpcml"
#endif

static struct {
    void *handle;
    char error[1280]; /* why it did not load: the reasons tried (below 1024) and a hint */
    const nn_backend *backend;
    int (*nccl_built)(void);
    int (*device_count)(char *, size_t);
    int (*open)(int, nn_gpu_math);
    void (*close)(void);
    int (*describe)(char *, size_t);
    int (*pci_bus_id)(char *, size_t);
    int (*synchronize)(void);
    int (*nccl_unique_id)(unsigned char *);
    int (*nccl_open)(const unsigned char *, int, int, void **);
    void (*nccl_close)(void *);
    int (*nccl_allreduce)(float *, size_t, void *);
} plugin;

static pthread_once_t plugin_once = PTHREAD_ONCE_INIT;

static void *try_open(const char *path, char *tried, size_t tried_len)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        size_t used = strlen(tried);
        snprintf(tried + used, tried_len - used, "%s%s", used ? "; " : "", dlerror());
    }
    return h;
}

/* dlsym into a typed pointer (a void * to function pointer conversion, which
 * POSIX dlsym requires to work). */
#define RESOLVE(field, symbol)                                                                     \
    do {                                                                                           \
        void *sym_ = dlsym(plugin.handle, symbol);                                                 \
        if (!sym_) {                                                                               \
            snprintf(plugin.error, sizeof plugin.error, "%s lacks %s", PLUGIN_NAME, symbol);       \
            return 0;                                                                              \
        }                                                                                          \
        memcpy(&plugin.field, &sym_, sizeof sym_);                                                 \
    } while (0)

static int resolve_all(void)
{
    void *table = dlsym(plugin.handle, "nn_backend_cuda");
    if (!table) {
        snprintf(plugin.error, sizeof plugin.error, "%s lacks nn_backend_cuda", PLUGIN_NAME);
        return 0;
    }
    plugin.backend = table;
    RESOLVE(nccl_built, "nn_gpu_nccl_built");
    RESOLVE(device_count, "nn_gpu_device_count");
    RESOLVE(open, "nn_gpu_open");
    RESOLVE(close, "nn_gpu_close");
    RESOLVE(describe, "nn_gpu_describe");
    RESOLVE(pci_bus_id, "nn_gpu_pci_bus_id");
    RESOLVE(synchronize, "nn_gpu_synchronize");
    RESOLVE(nccl_unique_id, "nn_gpu_nccl_unique_id");
    RESOLVE(nccl_open, "nn_gpu_nccl_open");
    RESOLVE(nccl_close, "nn_gpu_nccl_close");
    RESOLVE(nccl_allreduce, "nn_gpu_nccl_allreduce");
    return 1;
}

static void load_plugin(void)
{
    char tried[1024] = "";
    const char *env = getenv("HPCML_CUDA_PLUGIN");
    if (env && *env) {
        plugin.handle = try_open(env, tried, sizeof tried);
    } else {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) *slash = '\0';
            /* install, build tree, beside the program: the first that exists */
            static const char *const dirs[] = {"/" HPCML_PLUGIN_RELDIR "/", "/../lib/", "/"};
            char path[PATH_MAX + 64];
            for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && !plugin.handle; i++) {
                snprintf(path, sizeof path, "%s%s%s", exe, dirs[i], PLUGIN_NAME);
                if (access(path, F_OK) == 0) plugin.handle = try_open(path, tried, sizeof tried);
            }
        }
        if (!plugin.handle) plugin.handle = try_open(PLUGIN_NAME, tried, sizeof tried);
    }
    if (!plugin.handle) {
        snprintf(plugin.error, sizeof plugin.error,
                 "cannot load the CUDA backend plugin (%s; set HPCML_CUDA_PLUGIN to its path)",
                 tried);
        return;
    }
    if (!resolve_all()) {
        dlclose(plugin.handle);
        plugin.handle = NULL;
    }
}

static int loaded(void)
{
    pthread_once(&plugin_once, load_plugin);
    return plugin.handle != NULL;
}

const nn_backend *nn_gpu_backend(void)
{
    return loaded() ? plugin.backend : NULL;
}

int nn_gpu_built(void)
{
    return 1;
}

int nn_gpu_nccl_built(void)
{
    return loaded() ? plugin.nccl_built() : 0;
}

int nn_gpu_device_count(char *why, size_t why_len)
{
    if (loaded()) return plugin.device_count(why, why_len);
    if (why && why_len) snprintf(why, why_len, "%s", plugin.error);
    return 0;
}

int nn_gpu_open(int device, nn_gpu_math math)
{
    if (!loaded()) return HPCML_FAIL(HPCML_EUSAGE, "%s", plugin.error);
    return plugin.open(device, math);
}

void nn_gpu_close(void)
{
    /* never loads the plugin just to close nothing */
    if (plugin.handle) plugin.close();
}

int nn_gpu_describe(char *buf, size_t len)
{
    if (plugin.handle) return plugin.describe(buf, len);
    if (buf && len) snprintf(buf, len, "none (CUDA backend not loaded)");
    return HPCML_OK;
}

int nn_gpu_pci_bus_id(char *buf, size_t len)
{
    if (!loaded()) {
        if (buf && len) buf[0] = '\0';
        return HPCML_FAIL(HPCML_EUSAGE, "%s", plugin.error);
    }
    return plugin.pci_bus_id(buf, len);
}

int nn_gpu_synchronize(void)
{
    return plugin.handle ? plugin.synchronize() : HPCML_OK;
}

int nn_gpu_nccl_unique_id(unsigned char id[NN_GPU_NCCL_ID_BYTES])
{
    if (!loaded()) return HPCML_FAIL(HPCML_EUSAGE, "%s", plugin.error);
    return plugin.nccl_unique_id(id);
}

int nn_gpu_nccl_open(const unsigned char id[NN_GPU_NCCL_ID_BYTES], int nranks, int rank,
                     void **comm)
{
    *comm = NULL;
    if (!loaded()) return HPCML_FAIL(HPCML_EUSAGE, "%s", plugin.error);
    return plugin.nccl_open(id, nranks, rank, comm);
}

void nn_gpu_nccl_close(void *comm)
{
    if (plugin.handle) plugin.nccl_close(comm);
}

int nn_gpu_nccl_allreduce(float *buf, size_t n, void *ctx)
{
    if (!plugin.handle) return HPCML_FAIL(HPCML_EINTERNAL, "NCCL allreduce without the plugin");
    return plugin.nccl_allreduce(buf, n, ctx);
}
#else
/* Without CUDA, gpu_stub.c defines gpu.h. */
typedef int hpcml_gpu_loader_unused;
#endif
