/* model_file.h — model.h5 (io/model_layout.h): writing it from a trained
 * model, reading it back for scoring, and loading its fitted transform.
 *
 * Not collective: model_file_write runs on one rank (rank 0) with the
 * default HDF5 driver. Reading goes through the file's bytes in memory
 * (HDF5's core driver): hpcml-predict reads them on rank 0 and broadcasts
 * them, so every rank scores with the same model even when the file is
 * replaced meanwhile; the caller agrees on the status (hpcml_mpi.h).
 *
 * Errors: a file that is not HDF5, not an hpcml model, of another
 * format_version, truncated, or whose checksum does not match is
 * HPCML_EDATA (exit 2) with a message saying which; a file that cannot be
 * read at all (missing, permissions) is HPCML_EIO (exit 3). */
#ifndef HPCML_IO_MODEL_FILE_H
#define HPCML_IO_MODEL_FILE_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "etl/etl_schema.h"
#include "etl/etl_transform.h"
#include "nn/mlp.h"

typedef struct {
    const char *dataset;      /* the dataset.h5 whose /meta is copied */
    const mlp_shape *shape;   /* architecture */
    const float *params;      /* mlp flat layout, mlp_shape_param_count floats */
    double threshold;
    const char *train_config; /* effective config text of the training run */
    const double *class_weights; /* the loss's class weights in training; NULL: all 1 */
    const char *weights;      /* "best" | "last" | "checkpoint" */
    int64_t epoch;
} model_write_args;

/* Whether dataset has the /meta a model package copies (written by hpcml-etl). */
int model_file_dataset_has_meta(const char *dataset);

/* Writes path atomically (temp name, fsync, rename, fsync of the directory). */
int model_file_write(const char *path, const model_write_args *a);

typedef struct {
    char path[4096];
    hid_t file;
    int format_version;   /* 1: its checksum does not cover /meta (model_layout.h) */
    mlp_shape shape;
    size_t n_params;
    float *params;
    double threshold;
    int n_classes;
    char **class_names;   /* [n_classes] */
    char *label_column;
    char *train_config;
    char *etl_config;     /* /meta/config */
    int n_features;
    double *class_weights; /* [n_classes] the training loss's class weights (/class_weights) */
    /* The model's input columns (those with a /meta/columns group), in feature order. */
    int n_cols;
    char **col_names;
    etl_col_type *col_types;
} model_file;

/* Opens and checks path (format, version, checksum) and reads everything
 * but the fitted transform: model_file_read_bytes, then model_file_open_image. */
int model_file_open(const char *path, model_file *m);
/* The whole file at path, through one open file (*buf: malloc'd, the caller frees). */
int model_file_read_bytes(const char *path, unsigned char **buf, size_t *len);
/* model_file_open on the bytes of a model file (path: for messages only; the
 * bytes are copied, the caller may free them on return). */
int model_file_open_image(const char *path, const unsigned char *image, size_t len, model_file *m);
/* The fitted transform for schema s (the input's columns: a model column is
 * found by name; other columns get no features). Sets the feature layout of
 * the model, the imputation values, scaling and vocabularies. */
int model_file_load_fit(const model_file *m, const etl_schema *s, etl_fit *fit);
void model_file_close(model_file *m);

#endif
