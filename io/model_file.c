/* model_file.c — model.h5 writing and reading. See model_file.h and model_layout.h. */
#include "io/model_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/sha256.h"
#include "core/status.h"
#include "core/version.h"
#include "io/h5_dataset_write.h"
#include "io/h5_util.h"
#include "io/model_layout.h"

/* ---- the checksum (model_layout.h) --------------------------------------------- */

/* sha256/v1: the weights, the threshold and the two config texts. */
static void checksum_v1(sha256 *sha, const mlp_shape *shape, const float *params,
                        double threshold, const char *train_config, const char *etl_config)
{
    /* params is the mlp flat layout: W_0, b_0, W_1, b_1, ... which is the
     * order the checksum takes them in. Little-endian hosts only (x86, arm64). */
    sha256_update(sha, params, mlp_shape_param_count(shape) * sizeof(float));
    sha256_update(sha, &threshold, sizeof threshold);
    sha256_update(sha, train_config, strlen(train_config));
    sha256_update(sha, etl_config, strlen(etl_config));
}

static void sha_tag(sha256 *sha, char tag, const char *name)
{
    sha256_update(sha, &tag, 1);
    sha256_update(sha, name, strlen(name) + 1);
}

static void sha_u64(sha256 *sha, uint64_t v)
{
    sha256_update(sha, &v, sizeof v);
}

/* One dataset's or attribute's value in the canonical form of
 * model_layout.h: class, shape, then integers as int64/uint64, floats as
 * float64, strings as (length, bytes), anything else as its native bytes.
 * -1 when it cannot be read. */
static int sha_value(sha256 *sha, hid_t obj, int is_attr)
{
    hid_t ft = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    hid_t sp = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hid_t mt = -1;
    if (ft < 0 || sp < 0) {
        if (ft >= 0) H5Tclose(ft);
        if (sp >= 0) H5Sclose(sp);
        return -1;
    }
    H5T_class_t cls = H5Tget_class(ft);
    int nd = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[H5S_MAX_RANK];
    if (nd > 0) H5Sget_simple_extent_dims(sp, dims, NULL);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    sha_u64(sha, (uint64_t)cls);
    sha_u64(sha, (uint64_t)(nd < 0 ? 0 : nd));
    for (int k = 0; k < nd; k++)
        sha_u64(sha, (uint64_t)dims[k]);
    int vlen = cls == H5T_STRING && H5Tis_variable_str(ft) > 0;
    size_t esize = 8;
    if (cls == H5T_INTEGER)
        mt = H5Tcopy(H5Tget_sign(ft) == H5T_SGN_NONE ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64);
    else if (cls == H5T_FLOAT)
        mt = H5Tcopy(H5T_NATIVE_DOUBLE);
    else if (vlen)
        mt = h5_vlen_string(), esize = sizeof(char *);
    else if (cls == H5T_STRING)
        mt = H5Tcopy(ft), esize = H5Tget_size(ft);
    else
        mt = H5Tget_native_type(ft, H5T_DIR_ASCEND), esize = mt >= 0 ? H5Tget_size(mt) : 0;
    int rc = mt >= 0 && n >= 0 ? 0 : -1;
    char *buf = rc == 0 ? calloc((size_t)n * esize + 1, 1) : NULL;
    if (rc == 0 && !buf) rc = -1;
    if (rc == 0 && n > 0)
        rc = (is_attr ? H5Aread(obj, mt, buf) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf)) >= 0
                 ? 0
                 : -1;
    if (rc == 0 && cls == H5T_STRING) {
        for (hssize_t i = 0; i < n; i++) {
            const char *str = vlen ? ((char **)(void *)buf)[i] : buf + (size_t)i * esize;
            size_t len = !str ? 0 : vlen ? strlen(str) : strnlen(str, esize);
            sha_u64(sha, (uint64_t)len);
            if (len) sha256_update(sha, str, len);
        }
        if (vlen)
            for (hssize_t i = 0; i < n; i++)
                if (((char **)(void *)buf)[i]) H5free_memory(((char **)(void *)buf)[i]);
    } else if (rc == 0) {
        sha256_update(sha, buf, (size_t)n * esize);
    }
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    H5Tclose(ft);
    H5Sclose(sp);
    return rc;
}

typedef struct {
    sha256 *sha;
    int rc;
} sha_walk;

static herr_t sha_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    sha_walk *w = data;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    sha_tag(w->sha, 'A', name);
    if (a < 0 || sha_value(w->sha, a, 1) != 0) w->rc = -1;
    if (a >= 0) H5Aclose(a);
    return w->rc == 0 ? 0 : -1;
}

static int sha_object(sha256 *sha, hid_t loc, const char *path);

static herr_t sha_link(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    sha_walk *w = data;
    if (info->type != H5L_TYPE_HARD) {
        sha_tag(w->sha, 'L', name); /* soft and external links: the name only */
        return 0;
    }
    if (sha_object(w->sha, g, name) != 0) w->rc = -1;
    return w->rc == 0 ? 0 : -1;
}

/* An object under loc: tag and name, its attributes by name, then a
 * dataset's value or a group's members by name, recursively. */
static int sha_object(sha256 *sha, hid_t loc, const char *path)
{
    hid_t o = H5Oopen(loc, path, H5P_DEFAULT);
    if (o < 0) return -1;
    H5I_type_t type = H5Iget_type(o);
    sha_tag(sha, type == H5I_GROUP ? 'G' : type == H5I_DATASET ? 'D' : 'O', path);
    sha_walk w = {sha, 0};
    hsize_t idx = 0;
    if (H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, sha_attr, &w) < 0) w.rc = -1;
    if (w.rc == 0 && type == H5I_DATASET) w.rc = sha_value(sha, o, 0);
    idx = 0;
    if (w.rc == 0 && type == H5I_GROUP &&
        H5Literate(o, H5_INDEX_NAME, H5_ITER_INC, &idx, sha_link, &w) < 0)
        w.rc = -1;
    H5Oclose(o);
    return w.rc;
}

/* The checksum of format_version (model_layout.h); -1 when an object it
 * covers cannot be read. */
static int checksum_hex(hid_t f, int version, const mlp_shape *shape, const float *params,
                        double threshold, const char *train_config, const char *etl_config,
                        char hex[65])
{
    sha256 sha;
    sha256_init(&sha);
    checksum_v1(&sha, shape, params, threshold, train_config, etl_config);
    int rc = 0;
    if (version >= 2) {
        static const char *const covered[] = {"/meta", "/class_names", "/class_weights"};
        for (size_t k = 0; k < sizeof covered / sizeof *covered && rc == 0; k++)
            rc = sha_object(&sha, f, covered[k]);
    }
    sha256_final_hex(&sha, hex);
    return rc;
}

static int shape_widths(const mlp_shape *s, int64_t *w)
{
    int n = s->n_hidden + 1;
    w[0] = s->n_inputs;
    for (int i = 0; i < s->n_hidden; i++)
        w[i + 1] = s->hidden[i];
    w[n] = s->n_classes;
    return n;
}

/* ---- small HDF5 readers ---------------------------------------------------------- */




static int attr_str(hid_t obj, const char *name, char **out)
{
    *out = h5_attr_string(obj, name);
    return *out ? 0 : -1;
}

/* A 1-d dataset's length, or -1. */
static int64_t ds_len(hid_t loc, const char *path)
{
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0) return -1;
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    int nd = H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    H5Dclose(d);
    if (nd == 0) return 1;
    return nd == 1 ? (int64_t)dims[0] : nd == 2 ? (int64_t)(dims[0] * dims[1]) : -1;
}

static int ds_read(hid_t loc, const char *path, hid_t mtype, void *out)
{
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0) return -1;
    int rc = H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0 ? 0 : -1;
    H5Dclose(d);
    return rc;
}

/* Variable-length strings [n] into malloc'd copies. */
static int ds_strings(hid_t loc, const char *path, int64_t n, char ***out)
{
    *out = NULL;
    if (ds_len(loc, path) != n) return -1;
    char **raw = calloc((size_t)n + 1, sizeof *raw);
    char **copy = calloc((size_t)n + 1, sizeof *copy);
    hid_t mt = h5_vlen_string();
    int rc = raw && copy && ds_read(loc, path, mt, raw) == 0 ? 0 : -1;
    for (int64_t i = 0; i < n && rc == 0; i++)
        if (!raw[i] || !(copy[i] = strdup(raw[i]))) rc = -1;
    for (int64_t i = 0; raw && i < n; i++)
        if (raw[i]) H5free_memory(raw[i]);
    free(raw);
    H5Tclose(mt);
    if (rc != 0) {
        for (int64_t i = 0; copy && i < n; i++)
            free(copy[i]);
        free(copy);
        return -1;
    }
    *out = copy;
    return 0;
}

static int ds_string(hid_t loc, const char *path, char **out)
{
    char **v = NULL;
    *out = NULL;
    if (ds_strings(loc, path, 1, &v) != 0) return -1;
    *out = v[0];
    free(v);
    return 0;
}

static void free_strings(char **v, int64_t n)
{
    for (int64_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- writing ---------------------------------------------------------------------- */

static int write_f32(hid_t f, const char *path, int rank, const hsize_t *dims, const float *v)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = H5Dcreate2(f, path, H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int rc = d >= 0 && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0
                 ? HPCML_OK
                 : HPCML_FAIL(HPCML_EIO, "cannot write %s", path);
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return rc;
}

static int copy_meta(hid_t dst, const char *dataset, char **etl_config)
{
    h5_quiet q;
    h5_quiet_begin(&q);
    hid_t src = H5Fopen(dataset, H5F_ACC_RDONLY, H5P_DEFAULT);
    h5_quiet_end(&q);
    HPCML_CHECK(src >= 0, HPCML_EIO, "%s: cannot open the dataset to copy its /meta", dataset);
    int rc = HPCML_OK;
    if (H5Lexists(src, "/meta", H5P_DEFAULT) <= 0 || ds_string(src, "/meta/config", etl_config))
        rc = HPCML_FAIL(HPCML_EDATA, "%s: no /meta group with a config: not an hpcml dataset",
                        dataset);
    if (rc == HPCML_OK && H5Ocopy(src, "/meta", dst, "/meta", H5P_DEFAULT, H5P_DEFAULT) < 0)
        rc = HPCML_FAIL(HPCML_EIO, "%s: cannot copy /meta into the model file", dataset);
    H5Fclose(src);
    return rc;
}

static int write_contents(hid_t f, const model_write_args *a, char **etl_config)
{
    HPCML_TRY(copy_meta(f, a->dataset, etl_config));
    int64_t widths[MLP_MAX_HIDDEN + 2];
    int nl = shape_widths(a->shape, widths);
    const char *act = a->shape->act == NN_ACT_GELU ? "gelu" : "relu";
    int rc = HPCML_OK;
#define W(call)                                                                                    \
    do {                                                                                           \
        if (rc == HPCML_OK) rc = (call);                                                           \
    } while (0)
    W(h5_meta_group(f, "/model"));
    W(h5_meta_i64(f, "/model/widths", widths, nl + 1));
    W(h5_meta_attr_str(f, "/model", "activation", act));
    W(h5_meta_attr_i64(f, "/model", "n_layers", nl));
    size_t off = 0;
    for (int k = 0; k < nl && rc == HPCML_OK; k++) {
        char name[64];
        hsize_t wd[2] = {(hsize_t)widths[k + 1], (hsize_t)widths[k]};
        snprintf(name, sizeof name, "/model/layer%d.weight", k);
        W(write_f32(f, name, 2, wd, a->params + off));
        off += (size_t)(wd[0] * wd[1]);
        snprintf(name, sizeof name, "/model/layer%d.bias", k);
        W(write_f32(f, name, 1, wd, a->params + off));
        off += (size_t)wd[0];
    }
    /* The class names, as the dataset has them. */
    char **classes = NULL;
    int64_t nc = widths[nl];
    if (rc == HPCML_OK && ds_strings(f, "/meta/class_names", nc, &classes) != 0)
        rc = HPCML_FAIL(HPCML_EDATA, "%s: /meta/class_names does not have %lld entries", a->dataset,
                        (long long)nc);
    W(h5_meta_strings(f, "/class_names", (const char *const *)classes, nc));
    double *cw = calloc((size_t)nc + 1, sizeof *cw);
    if (!cw && rc == HPCML_OK) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    for (int64_t c = 0; cw && c < nc; c++)
        cw[c] = a->class_weights ? a->class_weights[c] : 1.0;
    W(h5_meta_f64(f, "/class_weights", cw, nc));
    free(cw);
    free_strings(classes, nc);
    W(h5_meta_string(f, "/train_config", a->train_config));
    /* The label column's name from /meta/columns: the group of type "label". */
    W(h5_meta_attr_str(f, "/", "hpcml_format", HPCML_MODEL_MAGIC));
    W(h5_meta_attr_i32(f, "/", "format_version", HPCML_MODEL_VERSION));
    W(h5_meta_attr_str(f, "/", "hpcml_version", hpcml_version_string()));
    W(h5_meta_attr_f64(f, "/", "threshold", a->threshold));
    W(h5_meta_attr_str(f, "/", "weights", a->weights));
    W(h5_meta_attr_i64(f, "/", "epoch", a->epoch));
    char hex[65];
    if (rc == HPCML_OK &&
        checksum_hex(f, HPCML_MODEL_VERSION, a->shape, a->params, a->threshold, a->train_config,
                     *etl_config, hex) != 0)
        rc = HPCML_FAIL(HPCML_EIO, "cannot read back the model's /meta for its checksum");
    if (rc == HPCML_OK) {
        W(h5_meta_attr_str(f, "/", "checksum", hex));
        W(h5_meta_attr_str(f, "/", "checksum_algorithm", HPCML_MODEL_CHECKSUM_ALGORITHM));
    }
#undef W
    return rc;
}

static int find_label_column(hid_t f, char **label);

int model_file_dataset_has_meta(const char *dataset)
{
    h5_quiet q;
    h5_quiet_begin(&q);
    hid_t src = H5Fopen(dataset, H5F_ACC_RDONLY, H5P_DEFAULT);
    int ok = src >= 0 && H5Lexists(src, "/meta", H5P_DEFAULT) > 0 &&
             H5Lexists(src, "/meta/config", H5P_DEFAULT) > 0 &&
             H5Lexists(src, "/meta/columns", H5P_DEFAULT) > 0;
    if (src >= 0) H5Fclose(src);
    h5_quiet_end(&q);
    return ok;
}

int model_file_write(const char *path, const model_write_args *a)
{
    char tmp[4300];
    atomic_tmp_name(tmp, sizeof tmp, path, (long)getpid());
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0);
    h5_quiet q;
    h5_quiet_begin(&q);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    h5_quiet_end(&q);
    H5Pclose(fcpl);
    HPCML_CHECK(f >= 0, HPCML_EIO, "cannot create %s", tmp);
    char *etl_config = NULL;
    h5_quiet_begin(&q);
    int rc = write_contents(f, a, &etl_config);
    if (rc == HPCML_OK) {
        char *label = NULL;
        if (find_label_column(f, &label) == 0) rc = h5_meta_attr_str(f, "/", "label_column", label);
        free(label);
    }
    h5_quiet_end(&q);
    free(etl_config);
    if (H5Fclose(f) < 0 && rc == HPCML_OK) rc = HPCML_FAIL(HPCML_EIO, "cannot close %s", tmp);
    if (rc == HPCML_OK) rc = atomic_rename_durable(tmp, path);
    if (rc != HPCML_OK) unlink(tmp);
    return rc;
}

/* ---- reading ---------------------------------------------------------------------- */

typedef struct {
    char **names;
    int n, cap;
} name_list;

static herr_t collect_name(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g;
    (void)info;
    name_list *l = data;
    if (l->n == l->cap) {
        int nc = l->cap ? 2 * l->cap : 16;
        char **nb = realloc(l->names, (size_t)nc * sizeof *nb);
        if (!nb) return -1;
        l->names = nb;
        l->cap = nc;
    }
    l->names[l->n] = strdup(name);
    return l->names[l->n++] ? 0 : -1;
}

static int list_groups(hid_t f, const char *path, name_list *l)
{
    memset(l, 0, sizeof *l);
    hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
    if (g < 0) return -1;
    hsize_t idx = 0;
    int rc = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, l) >= 0 ? 0 : -1;
    H5Gclose(g);
    return rc;
}

static int find_label_column(hid_t f, char **label)
{
    name_list l;
    *label = NULL;
    if (list_groups(f, "/meta/columns", &l) != 0) return -1;
    for (int i = 0; i < l.n && !*label; i++) {
        char p[4200];
        snprintf(p, sizeof p, "/meta/columns/%s", l.names[i]);
        hid_t g = H5Gopen2(f, p, H5P_DEFAULT);
        char *type = NULL, *name = NULL;
        if (g >= 0 && attr_str(g, "type", &type) == 0 && !strcmp(type, "label") &&
            attr_str(g, "name", &name) == 0) {
            *label = name;
            name = NULL;
        }
        free(type);
        free(name);
        if (g >= 0) H5Gclose(g);
    }
    free_strings(l.names, l.n);
    return *label ? 0 : -1;
}

static int col_type_of(const char *s)
{
    for (int t = 0; t <= ETL_COL_IGNORE; t++)
        if (!strcmp(etl_col_type_names[t], s)) return t;
    return -1;
}

#define BAD(...) HPCML_FAIL(HPCML_EDATA, __VA_ARGS__)

/* The feature columns of /meta/columns, ordered by first_feature. */
static int read_columns(model_file *m)
{
    name_list l;
    HPCML_CHECK(list_groups(m->file, "/meta/columns", &l) == 0, HPCML_EDATA,
                "%s: no /meta/columns: not a complete hpcml model", m->path);
    int rc = HPCML_OK;
    m->col_names = calloc((size_t)l.n + 1, sizeof *m->col_names);
    m->col_types = calloc((size_t)l.n + 1, sizeof *m->col_types);
    int64_t *first = calloc((size_t)l.n + 1, sizeof *first);
    if (!m->col_names || !m->col_types || !first) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    for (int i = 0; i < l.n && rc == HPCML_OK; i++) {
        char p[4200];
        snprintf(p, sizeof p, "/meta/columns/%s", l.names[i]);
        hid_t g = H5Gopen2(m->file, p, H5P_DEFAULT);
        char *type = NULL, *name = NULL;
        int64_t ff = -1, nf = 0;
        int t = -1;
        if (g < 0 || attr_str(g, "type", &type) || attr_str(g, "name", &name) ||
            h5_attr_i64(g, "first_feature", &ff) ||
            h5_attr_i64(g, "n_features", &nf) || (t = col_type_of(type)) < 0)
            rc = BAD("%s: %s lacks its name, type or feature attributes", m->path, p);
        if (g >= 0) H5Gclose(g);
        free(type);
        if (rc == HPCML_OK && nf > 0) {
            int k = m->n_cols++;
            /* insertion by first_feature */
            while (k > 0 && first[k - 1] > ff) {
                first[k] = first[k - 1];
                m->col_names[k] = m->col_names[k - 1];
                m->col_types[k] = m->col_types[k - 1];
                k--;
            }
            first[k] = ff;
            m->col_names[k] = name;
            m->col_types[k] = (etl_col_type)t;
        } else {
            free(name);
        }
    }
    free(first);
    free_strings(l.names, l.n);
    return rc;
}

/* The HDF5 signature, at offset 0 or after a user block (512, 1024, ... bytes). */
static int has_hdf5_signature(const unsigned char *b, size_t len)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    for (size_t off = 0; off + 8 <= len; off = off ? off * 2 : 512)
        if (memcmp(b + off, sig, 8) == 0) return 1;
    return 0;
}

int model_file_read_bytes(const char *path, unsigned char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return HPCML_FAIL(HPCML_EIO, "%s: cannot read the model file: %s", path, strerror(errno));
    int rc = HPCML_OK;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode))
        rc = HPCML_FAIL(HPCML_EIO, "%s: cannot read the model file: not a regular file", path);
    size_t n = rc == HPCML_OK ? (size_t)sb.st_size : 0;
    unsigned char *b = rc == HPCML_OK ? malloc(n + 1) : NULL;
    if (rc == HPCML_OK && !b)
        rc = HPCML_FAIL(HPCML_EINTERNAL, "%s: out of memory reading the model file (%zu bytes)",
                        path, n);
    /* One open file: a model replaced by rename while it is read is read
     * whole, either the old one or the new one. */
    if (rc == HPCML_OK && fread(b, 1, n, f) != n)
        rc = HPCML_FAIL(HPCML_EIO, "%s: cannot read the model file: %s", path,
                        ferror(f) ? strerror(errno) : "shorter than its size");
    fclose(f);
    if (rc != HPCML_OK) {
        free(b);
        return rc;
    }
    *buf = b;
    *len = n;
    return HPCML_OK;
}

static int open_checked(const char *path, const unsigned char *image, size_t len, model_file *m)
{
    HPCML_CHECK(has_hdf5_signature(image, len), HPCML_EDATA,
                "%s: not an HDF5 file (corrupt, truncated, or not a model.h5 written by "
                "hpcml-train)",
                path);
    /* The file's bytes, opened in memory (the core driver): every rank
     * reads the same model, whatever happens to path meanwhile. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && (H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 ||
                      H5Pset_file_image(fapl, (void *)image, len) < 0)) {
        H5Pclose(fapl);
        fapl = -1;
    }
    HPCML_CHECK(fapl >= 0, HPCML_EINTERNAL, "%s: cannot set up an in-memory HDF5 file", path);
    /* HDF5 refuses an image under the name of an existing file: a name
     * that cannot exist (nothing can be created in /proc/self). */
    m->file = H5Fopen("/proc/self/hpcml-model-image.h5", H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    HPCML_CHECK(m->file >= 0, HPCML_EDATA, "%s: cannot open as HDF5 (corrupt or truncated)", path);
    char *magic = NULL;
    int64_t version = -1;
    int rc = HPCML_OK;
    if (attr_str(m->file, "hpcml_format", &magic) != 0 || strcmp(magic, HPCML_MODEL_MAGIC) != 0)
        rc = BAD("%s: not an hpcml model (hpcml_format is %s%s%s, expected \"%s\")", path,
                 magic ? "\"" : "", magic ? magic : "missing", magic ? "\"" : "",
                 HPCML_MODEL_MAGIC);
    else if (h5_attr_i64(m->file, "format_version", &version) != 0 ||
             version < HPCML_MODEL_VERSION_OLDEST || version > HPCML_MODEL_VERSION)
        rc = BAD("%s: model format_version %d; this hpcml reads versions %d to %d "
                 "(write the model again with this version's hpcml-train --package)",
                 path, (int)version, HPCML_MODEL_VERSION_OLDEST, HPCML_MODEL_VERSION);
    m->format_version = (int)version;
    free(magic);
    return rc;
}

int model_file_open(const char *path, model_file *m)
{
    unsigned char *image;
    size_t len;
    memset(m, 0, sizeof *m);
    m->file = -1;
    HPCML_TRY(model_file_read_bytes(path, &image, &len));
    int rc = model_file_open_image(path, image, len, m);
    free(image);
    return rc;
}

int model_file_open_image(const char *path, const unsigned char *image, size_t len, model_file *m)
{
    memset(m, 0, sizeof *m);
    m->file = -1;
    snprintf(m->path, sizeof m->path, "%s", path);
    h5_quiet q;
    h5_quiet_begin(&q);
    int rc = open_checked(path, image, len, m);
    int64_t widths[MLP_MAX_HIDDEN + 2];
    int64_t nw = rc == HPCML_OK ? ds_len(m->file, "/model/widths") : -1;
    char *act = NULL;
    if (rc == HPCML_OK && nw >= 2 && nw <= MLP_MAX_HIDDEN + 1 &&
        ds_read(m->file, "/model/widths", H5T_NATIVE_INT64, widths) != 0)
        nw = -1;
    if (rc == HPCML_OK) {
        hid_t g = H5Gopen2(m->file, "/model", H5P_DEFAULT);
        if (nw < 2 || nw > MLP_MAX_HIDDEN + 1 || g < 0 || attr_str(g, "activation", &act) != 0)
            rc = BAD("%s: /model/widths or the activation is missing", path);
        if (g >= 0) H5Gclose(g);
    }
    if (rc == HPCML_OK) {
        mlp_shape *s = &m->shape;
        s->n_inputs = (int)widths[0];
        s->n_hidden = (int)nw - 2;
        for (int i = 0; i < s->n_hidden; i++)
            s->hidden[i] = (int)widths[i + 1];
        s->n_classes = (int)widths[nw - 1];
        s->act = !strcmp(act, "gelu") ? NN_ACT_GELU : NN_ACT_RELU;
        m->n_classes = s->n_classes;
        m->n_features = s->n_inputs;
        m->n_params = mlp_shape_param_count(s);
        m->params = malloc(m->n_params * sizeof *m->params + 1);
        if (!m->params) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
        size_t off = 0;
        for (int k = 0; k + 1 < nw && rc == HPCML_OK; k++) {
            char name[64];
            size_t nwt = (size_t)(widths[k + 1] * widths[k]), nb = (size_t)widths[k + 1];
            snprintf(name, sizeof name, "/model/layer%d.weight", k);
            if (ds_len(m->file, name) != (int64_t)nwt ||
                ds_read(m->file, name, H5T_NATIVE_FLOAT, m->params + off) != 0)
                rc = BAD("%s: %s is missing or has the wrong shape", path, name);
            off += nwt;
            snprintf(name, sizeof name, "/model/layer%d.bias", k);
            if (rc == HPCML_OK && (ds_len(m->file, name) != (int64_t)nb ||
                                   ds_read(m->file, name, H5T_NATIVE_FLOAT, m->params + off) != 0))
                rc = BAD("%s: %s is missing or has the wrong shape", path, name);
            off += nb;
        }
    }
    free(act);
    if (rc == HPCML_OK &&
        (h5_attr_f64(m->file, "threshold", &m->threshold) != 0 ||
         ds_strings(m->file, "/class_names", m->n_classes, &m->class_names) != 0 ||
         ds_string(m->file, "/train_config", &m->train_config) != 0 ||
         ds_string(m->file, "/meta/config", &m->etl_config) != 0 ||
         attr_str(m->file, "label_column", &m->label_column) != 0))
        rc = BAD("%s: the threshold, class names, label column or config texts are missing", path);
    if (rc == HPCML_OK) {
        char *stored = NULL, hex[65];
        if (checksum_hex(m->file, m->format_version, &m->shape, m->params, m->threshold,
                         m->train_config, m->etl_config, hex) != 0)
            rc = BAD("%s: an object under /meta, /class_names or /class_weights cannot be read: "
                     "the model file is corrupt",
                     path);
        else if (attr_str(m->file, "checksum", &stored) != 0 || strcmp(stored, hex) != 0)
            rc = BAD("%s: checksum mismatch (stored %s, computed %s): the model file is corrupt",
                     path, stored ? stored : "none", hex);
        free(stored);
    }
    if (rc == HPCML_OK) {
        m->class_weights = calloc((size_t)m->n_classes + 1, sizeof *m->class_weights);
        if (!m->class_weights) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
        else if (ds_len(m->file, "/class_weights") != m->n_classes ||
                 ds_read(m->file, "/class_weights", H5T_NATIVE_DOUBLE, m->class_weights))
            rc = BAD("%s: /class_weights is missing or does not have %d entries", path,
                     m->n_classes);
    }
    if (rc == HPCML_OK) rc = read_columns(m);
    h5_quiet_end(&q);
    if (rc != HPCML_OK) model_file_close(m);
    return rc;
}

/* A numeric column's quantiles (scale = "quantile", etl_quantile.h): the
 * file's scale attribute must agree with the schema of the config it
 * carries, so the features are made the way the model was trained on. */
static int read_quantiles(const model_file *m, hid_t g, const char *p, const etl_column_spec *col,
                          etl_col_fit *f)
{
    if (col->type != ETL_COL_FLOAT && col->type != ETL_COL_INT) return HPCML_OK;
    char *scale = NULL;
    int quantile = attr_str(g, "scale", &scale) == 0 && !strcmp(scale, "quantile");
    free(scale);
    HPCML_CHECK(quantile == (col->scale == ETL_SCALE_QUANTILE), HPCML_EDATA,
                "%s: %s: scale attribute and the stored config disagree about scale = \"quantile\"",
                m->path, p);
    if (!quantile) return HPCML_OK;
    char qp[4300];
    snprintf(qp, sizeof qp, "%s/quantiles", p);
    int64_t nq = ds_len(m->file, qp);
    HPCML_CHECK(nq >= 0, HPCML_EDATA, "%s: %s has scale = \"quantile\" but no quantiles", m->path,
                p);
    f->quantiles = calloc((size_t)nq + 1, sizeof *f->quantiles);
    HPCML_ALLOC_CHECK(f->quantiles, ((size_t)nq + 1) * sizeof *f->quantiles);
    f->n_quantiles = nq;
    int ok = nq == 0 || ds_read(m->file, qp, H5T_NATIVE_DOUBLE, f->quantiles) == 0;
    HPCML_CHECK(ok, HPCML_EDATA, "%s: cannot read %s", m->path, qp);
    for (int64_t k = 1; k < nq; k++)
        HPCML_CHECK(f->quantiles[k] >= f->quantiles[k - 1], HPCML_EDATA,
                    "%s: %s is not sorted (entry %lld)", m->path, qp, (long long)k);
    return HPCML_OK;
}

int model_file_load_fit(const model_file *m, const etl_schema *s, etl_fit *fit)
{
    memset(fit, 0, sizeof *fit);
    fit->n_cols = s->n_cols;
    fit->n_features = m->n_features;
    fit->cols = calloc((size_t)s->n_cols + 1, sizeof *fit->cols);
    fit->feature_names = calloc((size_t)m->n_features + 1, sizeof *fit->feature_names);
    fit->scale_offset = calloc((size_t)m->n_features + 1, sizeof *fit->scale_offset);
    fit->scale_mul = calloc((size_t)m->n_features + 1, sizeof *fit->scale_mul);
    HPCML_CHECK(fit->cols && fit->feature_names && fit->scale_offset && fit->scale_mul,
                HPCML_EINTERNAL, "out of memory");
    h5_quiet q;
    h5_quiet_begin(&q);
    int rc = HPCML_OK;
    char **fnames = NULL;
    if (ds_len(m->file, "/meta/scale_offset") != m->n_features ||
        ds_len(m->file, "/meta/scale_mul") != m->n_features ||
        ds_read(m->file, "/meta/scale_offset", H5T_NATIVE_DOUBLE, fit->scale_offset) ||
        ds_read(m->file, "/meta/scale_mul", H5T_NATIVE_DOUBLE, fit->scale_mul) ||
        ds_strings(m->file, "/meta/feature_names", m->n_features, &fnames))
        rc = BAD("%s: /meta/scale_offset, scale_mul or feature_names do not have %d entries",
                 m->path, m->n_features);
    if (rc == HPCML_OK) {
        for (int j = 0; j < m->n_features; j++)
            fit->feature_names[j] = fnames[j];
        free(fnames);
    }
    name_list l = {0};
    if (rc == HPCML_OK && list_groups(m->file, "/meta/columns", &l) != 0)
        rc = BAD("%s: no /meta/columns", m->path);
    for (int i = 0; i < l.n && rc == HPCML_OK; i++) {
        char p[4200];
        snprintf(p, sizeof p, "/meta/columns/%s", l.names[i]);
        hid_t g = H5Gopen2(m->file, p, H5P_DEFAULT);
        char *name = NULL;
        int64_t ff = -1, nf = 0;
        if (g < 0 || attr_str(g, "name", &name) ||
            h5_attr_i64(g, "first_feature", &ff) ||
            h5_attr_i64(g, "n_features", &nf))
            rc = BAD("%s: %s lacks its attributes", m->path, p);
        int c = -1;
        for (int k = 0; rc == HPCML_OK && k < s->n_cols; k++)
            if (!strcmp(s->cols[k].name, name)) c = k;
        if (rc == HPCML_OK && nf > 0 && c >= 0) {
            etl_col_fit *f = &fit->cols[c];
            f->first_feature = (int)ff;
            f->n_features = (int)nf;
            if (ff < 0 || ff + nf > m->n_features)
                rc = BAD("%s: %s: features [%lld, %lld) outside the model's %d", m->path, p,
                         (long long)ff, (long long)(ff + nf), m->n_features);
            if (rc == HPCML_OK &&
                (h5_attr_f64(g, "impute_value", &f->impute_value) ||
                 h5_attr_f64(g, "mean", &f->mean) ||
                 h5_attr_f64(g, "std", &f->std) ||
                 h5_attr_f64(g, "min", &f->min) ||
                 h5_attr_f64(g, "max", &f->max)))
                rc = BAD("%s: %s lacks its fitted statistics", m->path, p);
            if (rc == HPCML_OK) {
                f->offset = fit->scale_offset[ff];
                f->mul = fit->scale_mul[ff];
            }
            if (rc == HPCML_OK) rc = read_quantiles(m, g, p, &s->cols[c], f);
            if (rc == HPCML_OK && s->cols[c].type == ETL_COL_CATEGORY) {
                char vp[4300], cp[4300];
                snprintf(vp, sizeof vp, "%s/vocabulary", p);
                snprintf(cp, sizeof cp, "%s/vocabulary_counts", p);
                int64_t nv = ds_len(m->file, vp);
                char **words = NULL;
                int64_t *counts = calloc((size_t)(nv > 0 ? nv : 1), sizeof *counts);
                etl_vocab_entry *ents = calloc((size_t)(nv > 0 ? nv : 1), sizeof *ents);
                if (nv < 1 || !counts || !ents || ds_strings(m->file, vp, nv, &words) ||
                    (ds_len(m->file, cp) == nv &&
                     ds_read(m->file, cp, H5T_NATIVE_INT64, counts) != 0))
                    rc = BAD("%s: %s has no vocabulary", m->path, p);
                for (int64_t k = 1; rc == HPCML_OK && k < nv; k++)
                    ents[k - 1] = (etl_vocab_entry){words[k], (uint32_t)strlen(words[k]), counts[k]};
                if (rc == HPCML_OK) rc = etl_vocab_from_entries(ents, (int32_t)(nv - 1), &f->vocab);
                if (rc == HPCML_OK && f->n_features != 1 && f->n_features != f->vocab.n + 1)
                    rc = BAD("%s: %s: %d features for a vocabulary of %d", m->path, p,
                             f->n_features, f->vocab.n);
                free_strings(words, nv);
                free(counts);
                free(ents);
            }
        }
        free(name);
        if (g >= 0) H5Gclose(g);
    }
    free_strings(l.names, l.n);
    h5_quiet_end(&q);
    if (rc != HPCML_OK) etl_fit_free(fit);
    return rc;
}

void model_file_close(model_file *m)
{
    if (m->file >= 0) H5Fclose(m->file);
    m->file = -1;
    free(m->params);
    free_strings(m->class_names, m->n_classes);
    free(m->label_column);
    free(m->train_config);
    free(m->etl_config);
    free(m->class_weights);
    free_strings(m->col_names, m->n_cols);
    free(m->col_types);
    memset(m, 0, sizeof *m);
    m->file = -1;
}
