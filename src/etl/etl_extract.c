/* etl_extract.c — the extract phase: this rank's byte ranges
 * (etl_ranges.h), the boundary exchange, parsing (etl_record.h), global row
 * numbers. See etl_extract.h; the splitting rule is described in
 * csv_tokenize.h and docs/etl.md. */
#include "etl/etl_extract.h"

#include <stdlib.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "etl/etl_ranges.h"
#include "etl/etl_record.h"
#include "etl/etl_table.h"

static int extract(MPI_Comm comm, const etl_options *o, const etl_schema *s, const etl_inputs *in,
                   etl_table *t, int64_t max_rows, etl_batch_fn fn, void *ctx)
{
    int rank = hpcml_mpi_rank(comm), P = hpcml_mpi_size(comm);
    etl_piece *pieces = NULL;
    int n_pieces = 0;
    int rc = etl_table_init(t, s, in->n_files);
    if (rc == HPCML_OK) rc = etl_make_pieces(o, in, rank, P, &pieces, &n_pieces);
    size_t cap = (size_t)o->read_buffer_bytes;
    if (cap < 4096) cap = 4096;
    char *buf = rc == HPCML_OK ? etl_big_realloc(NULL, 0, cap) : NULL; /* huge pages */
    if (rc == HPCML_OK && !buf) /* the size is the user's choice: a config error */
        rc = HPCML_FAIL(HPCML_EUSAGE,
                        "cannot allocate the read buffer of %zu MiB on this node "
                        "(etl.read_buffer_mb = %lld): set a smaller etl.read_buffer_mb",
                        cap >> 20, (long long)(o->read_buffer_bytes >> 20));

    /* 1. Scan the chunks at the ends of this rank's range that are cut
     * mid-file, for the quote parity and line count handed to later ranks. */
    csv_chunk_info first_info, last_info;
    int64_t scanned = 0; /* boundary scans read bytes that parsing reads again: not counted */
    int first_cut = 0, last_cut = 0;
    etl_seg mine = {-1, 0, 0};
    if (rc == HPCML_OK && n_pieces > 0) {
        const etl_piece *fp = &pieces[0], *lp = &pieces[n_pieces - 1];
        first_cut = !fp->atomic && fp->begin > in->data_start[fp->file];
        last_cut = !lp->atomic && lp->end < in->files[lp->file].size_bytes;
        if (first_cut) {
            int64_t ce = fp->end < in->files[fp->file].size_bytes ? fp->end - 1 : fp->end;
            rc = etl_scan_range(o, in->files[fp->file].path, fp->begin - 1, ce, buf, cap,
                                &first_info, &scanned);
        }
        if (rc == HPCML_OK && last_cut) {
            if (n_pieces == 1 && first_cut) {
                last_info = first_info;
            } else {
                rc = etl_scan_range(o, in->files[lp->file].path, lp->begin, lp->end - 1, buf, cap,
                                    &last_info, &scanned);
            }
            mine = (etl_seg){lp->file, last_info.quote_parity, (int64_t)last_info.newlines};
        }
    }
    /* Every rank takes part in the scan, whatever its status. */
    etl_seg before;
    int scan_rc = etl_seg_exscan(comm, &mine, &before);
    if (scan_rc != HPCML_OK && rc == HPCML_OK) rc = scan_rc;
    rc = hpcml_mpi_agree(comm, rc);
    if (rc != HPCML_OK) {
        free(buf);
        free(pieces);
        return rc;
    }

    /* 2. Parse each piece from its first record start. */
    etl_parser p;
    etl_parser_init(&p, o, s, in, t);
    p.max_rows = max_rows > 0 ? max_rows : 1;
    p.fn = fn;
    p.ctx = ctx;
    for (int k = 0; k < n_pieces; k++) {
        const etl_piece *pc = &pieces[k];
        const csv_input_file *f = &in->files[pc->file];
        /* gzip: assume 4:1 compression for the estimate */
        p.bytes_total +=
            pc->atomic ? (f->gz ? 4 : 1) * (f->size_bytes - (f->gz ? 0 : in->data_start[pc->file]))
                       : pc->end - pc->begin;
    }
    for (int k = 0; k < n_pieces && rc == HPCML_OK; k++) {
        const etl_piece *pc = &pieces[k];
        int64_t ds = in->data_start[pc->file];
        int64_t start = pc->atomic ? ds : pc->begin;
        size_t line = (size_t)in->head_lines[pc->file] + 1;
        if (k == 0 && first_cut) {
            unsigned parity = 0;
            size_t nl = 0;
            if (before.file == pc->file)
                parity = (unsigned)before.parity, nl = (size_t)before.newlines;
            size_t off = csv_chunk_resolve(&first_info, parity);
            if (off == CSV_NO_START) continue; /* no record starts in this etl_piece */
            start = pc->begin - 1 + (int64_t)off;
            if (start >= pc->end) continue;
            line += nl + first_info.newlines_before[parity & 1u];
        }
        int64_t stop =
            pc->atomic || pc->end >= in->files[pc->file].size_bytes ? INT64_MAX : pc->end;
        rc = etl_parse_piece(&p, pc, start, stop, line, &buf, &cap);
    }
    if (rc == HPCML_OK) rc = etl_parser_flush(&p);
    int64_t handed = p.rows_handed;
    etl_parser_free(&p);
    free(buf);
    free(pieces);
    rc = hpcml_mpi_agree(comm, rc);
    if (rc != HPCML_OK) return rc;

    /* 3. Global row numbers and totals. */
    int64_t n = t->n + handed, first = 0, total = 0;
    HPCML_MPI_CHECK_ABORT(comm, MPI_Exscan(&n, &first, 1, MPI_INT64_T, MPI_SUM, comm));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Allreduce(&n, &total, 1, MPI_INT64_T, MPI_SUM, comm));
    t->first_row = rank == 0 ? 0 : first;
    t->total_rows = total;
    return HPCML_OK;
}

int etl_extract(MPI_Comm comm, const etl_options *o, const etl_schema *s, const etl_inputs *in,
                etl_table *t)
{
    return extract(comm, o, s, in, t, 0, NULL, NULL);
}

int etl_extract_batches(MPI_Comm comm, const etl_options *o, const etl_schema *s,
                        const etl_inputs *in, int64_t max_rows, etl_batch_fn fn, void *ctx,
                        etl_table *t)
{
    return extract(comm, o, s, in, t, max_rows, fn, ctx);
}
