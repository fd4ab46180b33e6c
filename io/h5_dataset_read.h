/* h5_dataset_read.h — read the ETL's dataset.h5 (io/dataset_layout.h) with
 * parallel HDF5: every rank reads only the rows it asks for, as one
 * hyperslab in one collective MPI-IO transfer.
 *
 * Every function here is collective over the communicator given to
 * h5_dataset_open (all ranks call it, in the same order, with their own row
 * range, which may be empty). Errors are the same on every rank for
 * everything decided by the file's metadata (missing datasets, wrong
 * version); callers still agree on the status afterwards (hpcml_mpi.h). */
#ifndef HPCML_IO_H5_DATASET_READ_H
#define HPCML_IO_H5_DATASET_READ_H

#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>

typedef struct {
    hid_t file; /* < 0 when closed */
    MPI_Comm comm;
    char path[4096];
    int64_t n_features;
    int64_t n_classes;
    uint64_t rows[3]; /* per split (SPLIT_TRAIN, SPLIT_VAL, SPLIT_TEST) */
    int has_row_id[3];
} h5_dataset;

/* Open path for reading with the MPI-IO driver and check the contract
 * (magic, format_version, X/y shapes). Bad contents are HPCML_EDATA, an
 * unreadable file HPCML_EIO. */
int h5_dataset_open(h5_dataset *d, const char *path, MPI_Comm comm);

/* Rows [lo, hi) of split into x[(hi - lo) * n_features], y[hi - lo] and,
 * when row_id is not NULL, row_id[hi - lo] (the row's position in the split
 * when the file has no /split/row_id). Collective; lo == hi is fine. Labels
 * outside [0, n_classes) are HPCML_EDATA. */
int h5_dataset_read_rows(h5_dataset *d, int split, uint64_t lo, uint64_t hi, float *x, int32_t *y,
                         int64_t *row_id);

/* The dataset's identity for checkpoints (hpcml-train refuses to resume on
 * another dataset): a hash of its shapes and of /meta's source_sha256,
 * feature_names, class_counts, scale_offset and scale_mul (not /meta/config,
 * which names the output path) — hpcml-etl is deterministic, so the same
 * inputs and settings give the same identity, and other data (or another
 * split: the scaling is fitted on the train split) another one. Collective (every rank reads the
 * same small items). */
int h5_dataset_identity(h5_dataset *d, uint64_t *id);

/* /meta/class_weights (n_classes float64) into w; *found = 0 when the file
 * has none. Collective. */
int h5_dataset_class_weights(h5_dataset *d, double *w, int *found);

void h5_dataset_close(h5_dataset *d); /* collective; safe when closed */

/* A second, serial handle on one split of an opened dataset, for reads by
 * one rank alone (not collective, no MPI): streaming mode's reader thread
 * reads row ranges with it while the training thread computes. HDF5 is not
 * thread-safe: while a thread uses this handle no other thread may call
 * HDF5. */
typedef struct {
    hid_t file, x, y;
    char path[4096];
    int split;
    int64_t n_features, n_classes;
    uint64_t rows;
} h5_rows_file;

int h5_rows_open(h5_rows_file *f, const h5_dataset *d, int split);
/* Rows [lo, hi) into x[(hi - lo) * n_features], y[hi - lo]; labels are
 * checked as in h5_dataset_read_rows. */
int h5_rows_read(h5_rows_file *f, uint64_t lo, uint64_t hi, float *x, int32_t *y);
void h5_rows_close(h5_rows_file *f); /* safe when closed */

#endif
