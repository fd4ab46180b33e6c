/* predictions_file.h — a split's predictions as one HDF5 file, written
 * collectively with parallel HDF5 (each rank writes its rows as a
 * hyperslab) to a temp name that rank 0 renames when it is complete.
 *
 *   /row_id     int64   [rows]           the row ids of the dataset split
 *   /label      int32   [rows]           the true class
 *   /prob       float32 [rows][classes]  softmax probabilities
 *   /score      float32 [rows]           binary: prob of class 1 (else max prob)
 *   /predicted  int32   [rows]           binary: score >= threshold; else arg-max
 *   attributes: hpcml_format = "hpcml-predictions", format_version = 1,
 *               split, threshold */
#ifndef HPCML_IO_PREDICTIONS_FILE_H
#define HPCML_IO_PREDICTIONS_FILE_H

#include <mpi.h>
#include <stdint.h>

/* Collective. This rank's rows go to [offset, offset + rows) of total. */
int predictions_write(const char *path, MPI_Comm comm, const char *split, uint64_t total,
                      uint64_t offset, uint64_t rows, int classes, const int64_t *row_id,
                      const int32_t *label, const float *prob, double threshold);

#endif
