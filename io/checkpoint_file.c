/* checkpoint_file.c — HDF5 checkpoint files with a content checksum. See
 * checkpoint_file.h. */
#include "io/checkpoint_file.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/rng.h"
#include "core/status.h"
#include "core/version.h"
#include "io/h5_util.h"

#define CHECKSUM_ALGORITHM "fnv1a64-mix64/v1"

static size_t type_size(ckpt_type t)
{
    return t == CKPT_F32 ? 4 : 8;
}

static hid_t mem_type(ckpt_type t)
{
    return t == CKPT_F32 ? H5T_NATIVE_FLOAT : t == CKPT_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
}

static hid_t file_type(ckpt_type t)
{
    return t == CKPT_F32 ? H5T_IEEE_F32LE : t == CKPT_F64 ? H5T_IEEE_F64LE : H5T_STD_I64LE;
}

static uint64_t item_count(const ckpt_item *it)
{
    uint64_t n = 1;
    for (int d = 0; d < it->rank; d++)
        n *= it->dims[d];
    return n;
}

uint64_t ckpt_items_checksum(const ckpt_item *items, int n_items)
{
    uint64_t h = 0x6870636d6c636b70ull; /* "hpcmlckp" */
    for (int i = 0; i < n_items; i++) {
        const ckpt_item *it = &items[i];
        int64_t header[4] = {(int64_t)it->type, (int64_t)it->rank,
                             it->rank > 0 ? (int64_t)it->dims[0] : 0,
                             it->rank > 1 ? (int64_t)it->dims[1] : 0};
        h = rng_hash_bytes(it->name, strlen(it->name), h);
        h = rng_hash_bytes(header, sizeof header, h);
        h = rng_hash_bytes(it->data, (size_t)item_count(it) * type_size(it->type), h);
    }
    return h;
}

/* Create the groups of name's parents ("/a/b/c" -> /a, /a/b) if missing. */
static int make_parents(hid_t file, const char *name, hid_t gcpl)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", name);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (H5Lexists(file, buf, H5P_DEFAULT) <= 0) {
            hid_t g = H5Gcreate2(file, buf, H5P_DEFAULT, gcpl, H5P_DEFAULT);
            if (g < 0) return -1;
            H5Gclose(g);
        }
        *p = '/';
    }
    return 0;
}

static int write_string_attr(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(value) + 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a >= 0 && H5Awrite(a, t, value) >= 0 ? 0 : -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

static int write_scalar_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a >= 0 && H5Awrite(a, mtype, v) >= 0 ? 0 : -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

static int write_items(hid_t file, const ckpt_item *items, int n_items)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(gcpl, 0);
    H5Pset_obj_track_times(dcpl, 0);
    int rc = 0;
    for (int i = 0; i < n_items && rc == 0; i++) {
        const ckpt_item *it = &items[i];
        hsize_t dims[2] = {it->dims[0], it->dims[1]};
        hid_t sp = it->rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(it->rank, dims, NULL);
        rc = make_parents(file, it->name, gcpl);
        hid_t ds = rc == 0 ? H5Dcreate2(file, it->name, file_type(it->type), sp, H5P_DEFAULT, dcpl,
                                        H5P_DEFAULT)
                           : -1;
        if (ds < 0 || (item_count(it) > 0 && H5Dwrite(ds, mem_type(it->type), H5S_ALL, H5S_ALL,
                                                      H5P_DEFAULT, it->data) < 0))
            rc = -1;
        if (ds >= 0) H5Dclose(ds);
        H5Sclose(sp);
    }
    H5Pclose(dcpl);
    H5Pclose(gcpl);
    if (rc != 0) return rc;
    int32_t version = HPCML_CHECKPOINT_VERSION;
    uint64_t sum = ckpt_items_checksum(items, n_items);
    if (write_string_attr(file, "hpcml_format", HPCML_CHECKPOINT_MAGIC) != 0 ||
        write_scalar_attr(file, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &version) != 0 ||
        write_scalar_attr(file, "checksum", H5T_STD_U64LE, H5T_NATIVE_UINT64, &sum) != 0 ||
        write_string_attr(file, "checksum_algorithm", CHECKSUM_ALGORITHM) != 0 ||
        write_string_attr(file, "hpcml_version", hpcml_version_string()) != 0)
        return -1;
    return 0;
}

/* Write n bytes to a new file tmp; errno of the failure in *err. */
static int write_bytes(const char *tmp, const void *buf, size_t n, int *err)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return *err = errno, -1;
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            *err = errno;
            close(fd);
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    if (close(fd) != 0) return *err = errno, -1;
    return 0;
}

/* The checkpoint is built in memory (HDF5's core driver, no backing store) and
 * written with plain write(): a full file system or a file-size limit is then a
 * write() error with its reason, never an HDF5 file that cannot be closed (which
 * left an open file behind that crashed MPI_Finalize). */
int ckpt_file_write(const char *path, const ckpt_item *items, int n_items)
{
    char tmp[4200];
    atomic_tmp_name(tmp, sizeof tmp, path, (long)getpid());
    h5_quiet q;
    h5_quiet_begin(&q);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0); /* the root group too */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 1 << 20, 0);
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    H5Pclose(fapl);
    int bad = file < 0 ? -1 : write_items(file, items, n_items);
    void *image = NULL;
    ssize_t size = -1;
    if (!bad && H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0) size = H5Fget_file_image(file, NULL, 0);
    if (size > 0 && (image = malloc((size_t)size)) != NULL &&
        H5Fget_file_image(file, image, (size_t)size) != size)
        size = -1;
    if (file >= 0 && H5Fclose(file) < 0) bad = -1;
    h5_quiet_end(&q);
    if (bad || size <= 0 || !image) {
        free(image);
        return HPCML_FAIL(HPCML_EIO, "cannot build checkpoint %s in memory (%s)", path,
                          image || size <= 0 ? "HDF5 error" : "out of memory");
    }
    int err = 0;
    bad = write_bytes(tmp, image, (size_t)size, &err);
    free(image);
    if (bad) {
        unlink(tmp);
        return HPCML_FAIL(HPCML_EIO, "cannot write checkpoint %s (%zd bytes): %s", tmp, size,
                          err ? strerror(err) : "short write with no system error");
    }
    int rc = atomic_rename_durable(tmp, path);
    if (rc != HPCML_OK) unlink(tmp);
    return rc;
}

static int read_attr(hid_t obj, const char *name, hid_t mtype, void *v)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    int rc = H5Aread(a, mtype, v) >= 0 ? 0 : -1;
    H5Aclose(a);
    return rc;
}

/* The magic and the format version of an open checkpoint (see
 * ckpt_file_version for the codes). */
static int check_header(hid_t file, const char *path, int *version)
{
    char magic[64] = {0};
    hid_t a = H5Aopen(file, "hpcml_format", H5P_DEFAULT);
    if (a >= 0) {
        hid_t t = H5Aget_type(a);
        if (H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t) &&
            H5Tget_size(t) < sizeof magic)
            H5Aread(a, t, magic);
        H5Tclose(t);
        H5Aclose(a);
    }
    HPCML_CHECK(strcmp(magic, HPCML_CHECKPOINT_MAGIC) == 0, HPCML_EDATA,
                "%s is not an hpcml checkpoint", path);
    int32_t v = -1;
    HPCML_CHECK(read_attr(file, "format_version", H5T_NATIVE_INT32, &v) == 0, HPCML_EDATA,
                "%s: no format_version (corrupt)", path);
    *version = (int)v;
    /* Intact but of a format this build does not know: not corrupt, so
     * never skipped or deleted as such (the caller stops). */
    HPCML_CHECK(v >= HPCML_CHECKPOINT_VERSION_MIN && v <= HPCML_CHECKPOINT_VERSION, HPCML_EUSAGE,
                "%s: checkpoint format version %d; this hpcml (%s) reads versions %d to %d: "
                "resume it with the hpcml that wrote it",
                path, (int)v, hpcml_version_string(), HPCML_CHECKPOINT_VERSION_MIN,
                HPCML_CHECKPOINT_VERSION);
    return HPCML_OK;
}

static int read_items(hid_t file, const char *path, ckpt_item *items, int n_items, int verify)
{
    int version;
    HPCML_TRY(check_header(file, path, &version));
    uint64_t stored = 0;
    HPCML_CHECK(read_attr(file, "checksum", H5T_NATIVE_UINT64, &stored) == 0, HPCML_EDATA,
                "%s: no checksum", path);
    for (int i = 0; i < n_items; i++) {
        ckpt_item *it = &items[i];
        hid_t ds =
            H5Lexists(file, it->name, H5P_DEFAULT) > 0 ? H5Dopen2(file, it->name, H5P_DEFAULT) : -1;
        HPCML_CHECK(ds >= 0, HPCML_EUSAGE,
                    "%s has no %s: it was written for another model or optimizer", path, it->name);
        hid_t sp = H5Dget_space(ds);
        hsize_t dims[2] = {0, 0};
        int rank = H5Sget_simple_extent_ndims(sp);
        if (rank > 0 && rank <= 2) H5Sget_simple_extent_dims(sp, dims, NULL);
        H5Sclose(sp);
        int same = rank == it->rank;
        for (int d = 0; same && d < rank; d++)
            same = dims[d] == it->dims[d];
        int ok = same && (item_count(it) == 0 || H5Dread(ds, mem_type(it->type), H5S_ALL, H5S_ALL,
                                                         H5P_DEFAULT, it->data) >= 0);
        H5Dclose(ds);
        HPCML_CHECK(same, HPCML_EUSAGE,
                    "%s: %s has shape (%llu, %llu), this model needs (%llu, %llu)", path, it->name,
                    (unsigned long long)dims[0], (unsigned long long)dims[1],
                    (unsigned long long)it->dims[0], (unsigned long long)it->dims[1]);
        HPCML_CHECK(ok, HPCML_EDATA, "%s: cannot read %s (truncated?)", path, it->name);
    }
    if (!verify) return HPCML_OK;
    uint64_t sum = ckpt_items_checksum(items, n_items);
    HPCML_CHECK(sum == stored, HPCML_EDATA,
                "%s: checksum mismatch (stored %016llx, contents %016llx): corrupt", path,
                (unsigned long long)stored, (unsigned long long)sum);
    return HPCML_OK;
}

/* H5Fopen read-only; a file that exists but is no HDF5 file is HPCML_EDATA
 * (corrupt), one that cannot be opened HPCML_EIO. Inside h5_quiet. */
static int open_ckpt(const char *path, hid_t *file)
{
    *file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*file >= 0) return HPCML_OK;
    FILE *fp = fopen(path, "rb");
    if (fp) fclose(fp);
    return fp ? HPCML_FAIL(HPCML_EDATA, "%s: not a readable HDF5 file (truncated?)", path)
              : HPCML_FAIL(HPCML_EIO, "cannot open checkpoint %s", path);
}

static int read_file(const char *path, ckpt_item *items, int n_items, int verify)
{
    h5_quiet q;
    h5_quiet_begin(&q);
    hid_t file;
    int rc = open_ckpt(path, &file);
    if (rc == HPCML_OK) {
        rc = read_items(file, path, items, n_items, verify);
        H5Fclose(file);
    }
    h5_quiet_end(&q);
    return rc;
}

int ckpt_file_read(const char *path, ckpt_item *items, int n_items)
{
    return read_file(path, items, n_items, 1);
}

int ckpt_file_peek(const char *path, ckpt_item *items, int n_items)
{
    return read_file(path, items, n_items, 0);
}

int ckpt_file_version(const char *path, int *version)
{
    *version = -1;
    h5_quiet q;
    h5_quiet_begin(&q);
    hid_t file;
    int rc = open_ckpt(path, &file);
    if (rc == HPCML_OK) {
        rc = check_header(file, path, version);
        H5Fclose(file);
    }
    h5_quiet_end(&q);
    return rc;
}

int ckpt_file_item_shape(const char *path, const char *name, int *rank, uint64_t dims[2])
{
    *rank = -1;
    dims[0] = dims[1] = 0;
    h5_quiet q;
    h5_quiet_begin(&q);
    hid_t file;
    int rc = open_ckpt(path, &file);
    if (rc == HPCML_OK) {
        hid_t ds = H5Lexists(file, name, H5P_DEFAULT) > 0 ? H5Dopen2(file, name, H5P_DEFAULT) : -1;
        if (ds >= 0) {
            hid_t sp = H5Dget_space(ds);
            hsize_t d[2] = {0, 0};
            int r = H5Sget_simple_extent_ndims(sp);
            if (r >= 0 && r <= 2) {
                if (r > 0) H5Sget_simple_extent_dims(sp, d, NULL);
                *rank = r;
                dims[0] = d[0];
                dims[1] = d[1];
            }
            H5Sclose(sp);
            H5Dclose(ds);
        }
        H5Fclose(file);
    }
    h5_quiet_end(&q);
    return rc;
}
