/* predictions_file.h — a split's predictions as one HDF5 file, written
 * collectively with parallel HDF5 (each rank writes its rows as a
 * hyperslab) to a temp name that rank 0 renames when it is complete.
 *
 *   /row_id     int64   [rows]           the row ids of the dataset split
 *   /label      int32   [rows]           the true class
 *   /prob       float32 [rows][classes]  softmax probabilities
 *   /score      float32 [rows]           binary: prob of class 1 (else max prob)
 *   /predicted  int32   [rows]           binary: score >= threshold; else arg-max
 *   /id/<column> fixed-length strings [rows]  hpcml-predict's id columns
 *               (predict.id_columns, the input's text; "" for a null), one
 *               dataset per column named as h5_group_name writes it, with
 *               attributes name (the column's name) and order (its place)
 *   attributes: hpcml_format = "hpcml-predictions", format_version = 1,
 *               split, threshold */
#ifndef HPCML_IO_PREDICTIONS_FILE_H
#define HPCML_IO_PREDICTIONS_FILE_H

#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>

/* Collective. This rank's rows go to [offset, offset + rows) of total. */
int predictions_write(const char *path, MPI_Comm comm, const char *split, uint64_t total,
                      uint64_t offset, uint64_t rows, int classes, const int64_t *row_id,
                      const int32_t *label, const float *prob, double threshold);

/* Streaming (hpcml-predict): the file is created collectively with its
 * final row count, each rank writes its rows batch by batch with
 * independent I/O, and the file is closed collectively. No temp name or
 * rename here: the caller stages path and renames it. */
typedef struct {
    hid_t file;
    hid_t ds[5]; /* row_id, label, prob, score, predicted */
    hid_t *id_ds;
    size_t *id_width;
    int n_ids, classes;
    double threshold;
    char path[4200];
} predictions_stream;

/* Collective. id_width[k]: the longest text of id column k in bytes (over
 * all ranks; 0 is stored as 1). */
int predictions_stream_create(predictions_stream *w, const char *path, MPI_Comm comm,
                              const char *split, uint64_t total, int classes, double threshold,
                              int n_ids, const char *const *id_names, const int64_t *id_width);
/* Local. Rows [offset, offset + rows); ids: per id column, rows texts of
 * id_width[k] bytes each (NUL padded). */
int predictions_stream_write(predictions_stream *w, uint64_t offset, uint64_t rows,
                             const int64_t *row_id, const int32_t *label, const float *prob,
                             char *const *ids);
/* Collective; agrees. Closes everything (also after an error). */
int predictions_stream_close(predictions_stream *w, MPI_Comm comm);

#endif
