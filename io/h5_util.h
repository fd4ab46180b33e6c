/* h5_util.h — small HDF5 helpers shared by the io/ readers and writers. */
#ifndef HPCML_IO_H5_UTIL_H
#define HPCML_IO_H5_UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

/* HDF5 prints its error stack on failure by default; hpcml reports its own
 * message instead. h5_quiet_begin silences it, h5_quiet_end restores the
 * previous handler. */
typedef struct {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

void h5_quiet_begin(h5_quiet *q);
void h5_quiet_end(const h5_quiet *q);

/* Select rows [lo, lo + rows) (all cols columns) of the file space fsp, or
 * nothing in both fsp and msp when rows == 0 (a rank with no rows still
 * takes part in a collective transfer). */
void h5_select_rows(hid_t fsp, hid_t msp, uint64_t lo, uint64_t rows, hsize_t cols);

/* The group name of a column: '/' written "%2F", '%' "%25", "." as "%2E"
 * (dataset.h5 /meta/columns/<name>, /meta/drift/<name>). */
void h5_group_name(const char *name, char *out, size_t n);

/* A variable-length UTF-8 string type (close it with H5Tclose). */
hid_t h5_vlen_string(void);

/* Attribute readers: a string attribute (fixed or variable length) as a
 * malloc'd copy, or NULL; a scalar read as int64 / float64, 0 or -1. */
char *h5_attr_string(hid_t obj, const char *name);
int h5_attr_i64(hid_t obj, const char *name, int64_t *v);
int h5_attr_f64(hid_t obj, const char *name, double *v);

#endif
