/* h5_util.c — see h5_util.h. */
#include "io/h5_util.h"

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
