/* etl_ranges.c — cutting the logical input stream into one byte range per
 * rank, and the boundary scan that finds each range's first record. See
 * etl_ranges.h, csv_tokenize.h for the rule. */
#include "etl/etl_ranges.h"

#include <stdlib.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"

static int splittable(const etl_options *o, const csv_input_file *f)
{
    return !f->gz && o->split_mode != ETL_SPLIT_FILES;
}

/* Rank r's range of the stream is [T*r/P, T*(r+1)/P). */
static int64_t range_lo(int64_t total, int r, int P)
{
    return (int64_t)((__int128)total * r / P);
}

static int owner_of(int64_t x, int64_t total, int P)
{
    if (total <= 0) return 0;
    int lo = 0, hi = P - 1; /* largest r with range_lo(r) <= x */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (range_lo(total, mid, P) <= x)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int etl_make_pieces(const etl_options *o, const etl_inputs *in, int rank, int P, etl_piece **out,
                    int *n_out)
{
    int64_t total = 0;
    for (int f = 0; f < in->n_files; f++) {
        const csv_input_file *fl = &in->files[f];
        total += splittable(o, fl)
                     ? (fl->size_bytes > in->data_start[f] ? fl->size_bytes - in->data_start[f] : 0)
                     : fl->size_bytes;
    }
    int64_t lo = range_lo(total, rank, P), hi = range_lo(total, rank + 1, P);
    *out = calloc((size_t)in->n_files + 1, sizeof **out);
    HPCML_ALLOC_CHECK(*out, ((size_t)in->n_files + 1) * sizeof **out);
    int n = 0;
    int64_t c = 0;
    for (int f = 0; f < in->n_files; f++) {
        const csv_input_file *fl = &in->files[f];
        int64_t ds = in->data_start[f];
        if (splittable(o, fl)) {
            int64_t w = fl->size_bytes > ds ? fl->size_bytes - ds : 0;
            int64_t a = c > lo ? c : lo, b = c + w < hi ? c + w : hi;
            if (a < b) (*out)[n++] = (etl_piece){f, ds + (a - c), ds + (b - c), 0};
            c += w;
        } else {
            int64_t w = fl->size_bytes;
            if (owner_of(c + w / 2, total, P) == rank)
                (*out)[n++] = (etl_piece){f, ds, INT64_MAX, 1};
            c += w;
        }
    }
    *n_out = n;
    return HPCML_OK;
}

/* ---- boundary resolution ------------------------------------------------------- */

static void seg_combine(void *invec, void *inoutvec, int *len, MPI_Datatype *dt)
{
    (void)dt;
    etl_seg *a = invec, *b = inoutvec; /* a: lower ranks, b: higher ranks */
    for (int i = 0; i < *len; i++) {
        if (a[i].file < 0) continue;
        if (b[i].file < 0)
            b[i] = a[i];
        else if (a[i].file == b[i].file) {
            b[i].parity ^= a[i].parity;
            b[i].newlines += a[i].newlines;
        }
    }
}

int etl_seg_exscan(MPI_Comm comm, const etl_seg *mine, etl_seg *before)
{
    MPI_Datatype seg_type;
    MPI_Op seg_op;
    *before = (etl_seg){-1, 0, 0};
    /* Inside a collective phase: a rank that returned early would leave the
     * others waiting in the scan, so a failed MPI call ends the job. */
    HPCML_MPI_CHECK_ABORT(comm, MPI_Type_contiguous(3, MPI_INT64_T, &seg_type));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Type_commit(&seg_type));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Op_create(seg_combine, 0, &seg_op));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Exscan((void *)mine, before, 1, seg_type, seg_op, comm));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Op_free(&seg_op));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Type_free(&seg_type));
    if (hpcml_mpi_rank(comm) == 0) *before = (etl_seg){-1, 0, 0}; /* undefined on rank 0 */
    return HPCML_OK;
}

/* Scans [begin, end) of a plain file in blocks, composing csv_chunk_scan. */
int etl_scan_range(const etl_options *o, const char *path, int64_t begin, int64_t end, char *buf,
                   size_t cap, csv_chunk_info *acc, int64_t *bytes)
{
    acc->quote_parity = 0;
    acc->newlines = 0;
    acc->first_start[0] = acc->first_start[1] = CSV_NO_START;
    acc->newlines_before[0] = acc->newlines_before[1] = 0;
    csv_reader r;
    HPCML_TRY(csv_reader_open(&r, path, 0, begin));
    int rc = HPCML_OK;
    int64_t pos = begin;
    while (pos < end) {
        size_t want = (size_t)(end - pos) < cap ? (size_t)(end - pos) : cap;
        size_t got = 0;
        rc = csv_reader_read(&r, buf, want, &got);
        if (rc != HPCML_OK) break;
        if (got == 0) {
            rc = HPCML_FAIL(HPCML_EIO, "%s: the file shrank while being read", path);
            break;
        }
        *bytes += (int64_t)got;
        csv_chunk_info blk;
        csv_chunk_scan(&o->dialect, buf, got, &blk);
        for (int h = 0; h < 2; h++) {
            if (acc->first_start[h] != CSV_NO_START) continue;
            unsigned hb = (unsigned)h ^ acc->quote_parity;
            if (blk.first_start[hb] != CSV_NO_START) {
                acc->first_start[h] = (size_t)(pos - begin) + blk.first_start[hb];
                acc->newlines_before[h] = acc->newlines + blk.newlines_before[hb];
            }
        }
        acc->quote_parity ^= blk.quote_parity;
        acc->newlines += blk.newlines;
        pos += (int64_t)got;
    }
    csv_reader_close(&r);
    return rc;
}
