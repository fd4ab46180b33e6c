/* data_source.c — the data sources by name. See data_source.h. */
#include "train/data_source.h"

#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"

extern const data_source_ops data_memory_sharded, data_memory_replicated, data_streaming;

static const data_source_ops *const registry[] = {
    &data_memory_sharded,
    &data_memory_replicated,
    &data_streaming,
};

const data_source_ops *data_source_by_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof registry / sizeof registry[0]; i++)
        if (strcmp(name, registry[i]->name) == 0) return registry[i];
    return NULL;
}

const char *data_source_choose(int streaming, int ranks, double train_bytes,
                               int64_t replicate_max_mb)
{
    if (streaming) return "streaming";
    return ranks > 1 && train_bytes / 1048576.0 <= (double)replicate_max_mb ? "memory-replicated"
                                                                           : "memory-sharded";
}

int data_source_open(data_source *src, const char *name, const data_source_args *a)
{
    memset(src, 0, sizeof *src);
    src->ops = data_source_by_name(name);
    int rc = src->ops ? HPCML_OK
                      : HPCML_FAIL(HPCML_EINTERNAL, "no data source named \"%s\"", name);
    rc = hpcml_mpi_agree(a->comm, rc);
    if (rc != HPCML_OK) return rc;
    return src->ops->open(src, a);
}

void data_source_close(data_source *src)
{
    if (src->ops) src->ops->close(src);
    memset(src, 0, sizeof *src);
}
