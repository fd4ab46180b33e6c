/* h5_util.c — see h5_util.h. */
#include "io/h5_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void h5_quiet_begin(h5_quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void h5_quiet_end(const h5_quiet *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

void h5_select_rows(hid_t fsp, hid_t msp, uint64_t lo, uint64_t rows, hsize_t cols)
{
    if (rows > 0) {
        hsize_t start[2] = {lo, 0}, count[2] = {rows, cols};
        H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL);
    } else {
        H5Sselect_none(fsp);
        H5Sselect_none(msp);
    }
}

void h5_group_name(const char *name, char *out, size_t n)
{
    size_t w = 0;
    for (const char *p = name; *p && w + 4 < n; p++) {
        if (*p == '/')
            w += (size_t)snprintf(out + w, n - w, "%%2F");
        else if (*p == '%')
            w += (size_t)snprintf(out + w, n - w, "%%25");
        else
            out[w++] = *p;
    }
    out[w] = '\0';
    if (!strcmp(out, ".")) snprintf(out, n, "%%2E");
}

char *h5_attr_string(hid_t obj, const char *name)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t t = H5Aget_type(a);
    char *out = NULL;
    if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
        hid_t mt = H5Tcopy(t);
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            if (H5Aread(a, mt, &s) >= 0 && s) {
                out = strdup(s);
                H5free_memory(s);
            }
        } else {
            size_t len = H5Tget_size(t);
            out = calloc(len + 1, 1);
            if (out && H5Aread(a, mt, out) < 0) {
                free(out);
                out = NULL;
            }
        }
        H5Tclose(mt);
    }
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
    return out;
}

static int attr_scalar(hid_t obj, const char *name, hid_t type, void *v)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    int rc = H5Aread(a, type, v) >= 0 ? 0 : -1;
    H5Aclose(a);
    return rc;
}

int h5_attr_i64(hid_t obj, const char *name, int64_t *v)
{
    return attr_scalar(obj, name, H5T_NATIVE_INT64, v);
}

int h5_attr_f64(hid_t obj, const char *name, double *v)
{
    return attr_scalar(obj, name, H5T_NATIVE_DOUBLE, v);
}

hid_t h5_vlen_string(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}
