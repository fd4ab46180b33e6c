/* h5_dataset_write.h — writing dataset.h5 (io/dataset_layout.h).
 *
 * Two steps:
 *   1. parallel (collective over comm): h5_dataset_write_create makes the file
 *      with the MPI-IO driver and the /train, /val, /test groups with X, y
 *      and row_id at their final sizes; every rank then writes its
 *      contiguous block of rows of each split with collective H5Dwrite calls
 *      (H5FD_MPIO_COLLECTIVE: ROMIO/OMPIO aggregate the ranks' blocks into
 *      large stripe-aligned writes): X in blocks of a few chunks, each
 *      encoded into one reused buffer, y and row_id at once;
 *      h5_dataset_write_close closes it.
 *   2. serial (rank 0): h5_meta_* write /meta, the root attributes and the
 *      vocabularies into the closed file with the default (sec2) driver.
 *      /meta is small and full of variable-length strings, which parallel
 *      HDF5 cannot write collectively; one writer is simpler and no slower.
 *
 * Layout choices (docs/etl.md): X is chunked chunk_rows x n_features
 * (default 16384 rows: ~2 MB for 30 features, large enough for full-speed
 * I/O and a natural unit for the trainer's row-block reads); y and row_id
 * use the same chunk height. The row dimension is extensible
 * (H5S_UNLIMITED) only so that a split with 0 rows can still be chunked.
 * H5Pset_alignment(512 KiB, 1 MiB) puts every X chunk (>= 512 KiB) on a
 * 1 MiB boundary, the usual Lustre stripe and GPFS block size, so no two
 * ranks' aggregators write into one stripe (no lock ping-pong); the small
 * y/row_id chunks and metadata stay unaligned so alignment wastes little.
 * No compression (parallel writes of filtered chunks cost more than they
 * save on 4-byte floats), no fill values (every element is written), and no
 * object time stamps, so the same input gives the same file contents. */
#ifndef HPCML_IO_H5_DATASET_WRITE_H
#define HPCML_IO_H5_DATASET_WRITE_H

#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>

typedef struct h5_dataset_writer h5_dataset_writer;

/* Collective. rows[s] is the global row count of split s. */
int h5_dataset_write_create(MPI_Comm comm, const char *path, const int64_t rows[3],
                            int64_t n_features, int64_t chunk_rows, h5_dataset_writer **out);
/* Collective (every rank calls it the same number of times for every split;
 * n_rows may be 0): rows [first_row, first_row + n_rows) of split s of X,
 * row-major float32. A rank may write its rows in several blocks, so that
 * the caller encodes them into one reused buffer. */
int h5_dataset_write_x(h5_dataset_writer *f, int split, int64_t first_row, int64_t n_rows,
                       const float *X);
/* Collective, like h5_dataset_write_x: the same rows of y and row_id. */
int h5_dataset_write_labels(h5_dataset_writer *f, int split, int64_t first_row, int64_t n_rows,
                            const int32_t *y, const int64_t *row_id);
/* Collective; frees f whatever happens. When closing fails (*poisoned = 1)
 * HDF5 still holds the file and would try again, and crash, inside
 * MPI_Finalize: the caller removes what it can and ends with MPI_Abort. */
int h5_dataset_write_close(h5_dataset_writer *f, int *poisoned);

/* ---- serial /meta writing (one process, default driver) ------------------ */

int h5_meta_open(const char *path, hid_t *file);
int h5_meta_close(hid_t file);
/* Groups along path are created as needed ("/meta/columns/Amount"). */
int h5_meta_group(hid_t file, const char *path);
int h5_meta_strings(hid_t file, const char *path, const char *const *strings, int64_t n);
int h5_meta_string(hid_t file, const char *path, const char *text);
int h5_meta_f64(hid_t file, const char *path, const double *v, int64_t n);
int h5_meta_i64(hid_t file, const char *path, const int64_t *v, int64_t n);
int h5_meta_attr_str(hid_t file, const char *obj, const char *name, const char *text);
int h5_meta_attr_f64(hid_t file, const char *obj, const char *name, double v);
int h5_meta_attr_i64(hid_t file, const char *obj, const char *name, int64_t v);
int h5_meta_attr_i32(hid_t file, const char *obj, const char *name, int32_t v);

#endif
