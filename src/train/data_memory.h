/* data_memory.h — what the two memory data sources share (data_memory.c):
 * the /train rows held in memory (epoch_data.h), the epoch's rows in step
 * order and the batch weights. Only data_memory_sharded.c and
 * data_memory_replicated.c include this. */
#ifndef HPCML_TRAIN_DATA_MEMORY_H
#define HPCML_TRAIN_DATA_MEMORY_H

#include "train/data_source.h"
#include "train/epoch_data.h"

typedef struct {
    epoch_data ed;
    const sampler *smp;
    MPI_Comm comm;
    int size;
    const float *class_weights;
    double *bw; /* the global class-weight sum of each of the epoch's batches */
} memory_source;

/* Collective: allocate (replicated: all of /train on this rank, else its
 * shard) and read the rows; agreed status. */
int memory_open(data_source *src, const data_source_args *a, int replicated);
/* Collective: the epoch's batch weights from the fetched labels (one
 * allreduce per epoch instead of one per step). Aborts the job on an MPI
 * error (every rank is inside the epoch). */
void memory_batch_weights(memory_source *m);

int memory_batch(data_source *src, uint64_t step, const float **x, const int32_t **y, double *w);
int memory_peek(const data_source *src, uint64_t step, const float **x, const int32_t **y);
void memory_epoch_end(data_source *src);
data_order memory_order(const data_source *src);
void memory_close(data_source *src);

#endif
