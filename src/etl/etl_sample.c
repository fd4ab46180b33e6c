/* etl_sample.c — the records --infer-schema looks at. See etl_sample.h. */
#include "etl/etl_sample.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "etl/etl_text.h"

#define CHUNK_RECORDS 100 /* records per chunk aimed at: max_rows / this chunks */
#define MAX_CHUNKS    256 /* ... at most, or one per file when there are more files */
#define PROBE_RECORDS 20  /* records parsed to choose a mid-file chunk's start */
#define CHUNK_BUF_MAX (64u << 20)

typedef struct {
    int file;
    int64_t begin, end; /* data offsets: records that start in [begin, end) */
    int first;          /* begin is the file's data start: a record starts there */
} chunk_plan;

/* A growable byte string: what a rank sends to rank 0. */
typedef struct {
    char *p;
    size_t n, cap;
} blob;

static int blob_put(blob *b, const void *x, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n)
            cap *= 2;
        char *np = realloc(b->p, cap);
        HPCML_ALLOC_CHECK(np, cap);
        b->p = np, b->cap = cap;
    }
    memcpy(b->p + b->n, x, n);
    b->n += n;
    return HPCML_OK;
}

static int plan_chunks(const etl_inputs *in, int64_t max_rows, chunk_plan **out, int *n_out,
                       int64_t *quota, int *n_gz)
{
    int nf = in->n_files;
    int64_t want = max_rows / CHUNK_RECORDS;
    if (want < 1) want = 1;
    if (want > MAX_CHUNKS) want = MAX_CHUNKS;
    int64_t width_total = 0;
    *n_gz = 0;
    for (int f = 0; f < nf; f++) {
        if (in->files[f].gz) {
            (*n_gz)++;
            continue;
        }
        int64_t w = in->files[f].size_bytes - in->data_start[f];
        width_total += w > 0 ? w : 0;
    }
    int64_t *k = calloc((size_t)nf + 1, sizeof *k);
    HPCML_ALLOC_CHECK(k, ((size_t)nf + 1) * sizeof *k);
    int64_t total = 0;
    for (int f = 0; f < nf; f++) {
        int64_t w = in->files[f].size_bytes - in->data_start[f];
        k[f] = 1;
        if (!in->files[f].gz && width_total > 0 && w > 0) {
            int64_t share = llround((double)want * (double)w / (double)width_total);
            if (share > k[f]) k[f] = share;
            if (k[f] > w) k[f] = w;
        }
        total += k[f];
    }
    *out = calloc((size_t)total + 1, sizeof **out);
    if (!*out) {
        free(k);
        HPCML_ALLOC_CHECK(NULL, ((size_t)total + 1) * sizeof **out);
    }
    int c = 0;
    for (int f = 0; f < nf; f++) {
        int64_t ds = in->data_start[f], w = in->files[f].size_bytes - ds;
        if (w < 0) w = 0;
        for (int64_t j = 0; j < k[f]; j++) {
            chunk_plan *ch = &(*out)[c++];
            ch->file = f;
            ch->first = j == 0;
            ch->begin = ds + (int64_t)((__int128)w * j / k[f]);
            ch->end = in->files[f].gz ? INT64_MAX : ds + (int64_t)((__int128)w * (j + 1) / k[f]);
        }
    }
    free(k);
    *n_out = c;
    *quota = (max_rows + c - 1) / c;
    if (*quota < 1) *quota = 1;
    return HPCML_OK;
}

/* Records from pos that parse with n_names fields, among the first
 * PROBE_RECORDS of buf (a chunk start is judged by them). */
static int probe(const csv_dialect *d, const char *buf, size_t len, size_t pos, int n_names,
                 csv_record *rec)
{
    if (pos == CSV_NO_START) return -1;
    csv_cursor cur;
    csv_cursor_init(&cur, 1);
    cur.pos = pos;
    cur.final = false;
    csv_error err;
    int good = 0;
    for (int i = 0; i < PROBE_RECORDS; i++) {
        int k = csv_next_record(d, buf, len, &cur, rec, &err);
        if (k == CSV_END || k == CSV_PARTIAL) break;
        if (k == HPCML_OK && !rec->empty && rec->nfields == (size_t)n_names) good++;
    }
    return good;
}

/* Reads one chunk into b: [int64 rows][int64 ended] then per row and column
 * [int32 length, -1 = missing][bytes]. */
static int read_chunk(const etl_options *o, const etl_inputs *in, const chunk_plan *ch,
                      int64_t quota, blob *b)
{
    const csv_input_file *f = &in->files[ch->file];
    int nc = in->n_names;
    size_t head = b->n;
    int64_t hdr[2] = {0, 0};
    HPCML_TRY(blob_put(b, hdr, sizeof hdr));
    csv_reader r;
    HPCML_TRY(csv_reader_open(&r, f->path, f->gz, ch->begin));
    size_t cap = 64u << 10, len = 0;
    char *buf = malloc(cap);
    csv_record rec;
    csv_record_init(&rec);
    int rc = buf ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory reading a sample");
    csv_dialect d = o->dialect;
    d.skip_bom = false;
    int eof = 0, ended = 0;
    int64_t base = ch->begin, rows = 0;
    while (rc == HPCML_OK && len < cap && !eof) {
        size_t got = 0;
        rc = csv_reader_read(&r, buf + len, cap - len, &got);
        len += got;
        if (got == 0) eof = 1;
    }
    csv_cursor cur;
    csv_cursor_init(&cur, 1);
    if (rc == HPCML_OK && !ch->first) {
        csv_chunk_info info;
        csv_chunk_scan(&d, buf, len, &info);
        size_t s0 = info.first_start[0], s1 = info.first_start[1];
        int g0 = probe(&d, buf, len, s0, nc, &rec), g1 = probe(&d, buf, len, s1, nc, &rec);
        if (g0 < 0 && g1 < 0)
            cur.pos = len, eof = 1; /* no record starts in the window */
        else
            cur.pos = g1 > g0 ? s1 : s0;
    }
    csv_error err;
    while (rc == HPCML_OK && rows < quota) {
        if (base + (int64_t)cur.pos >= ch->end) {
            ended = 1;
            break;
        }
        cur.final = eof;
        int k =
            cur.pos >= len && !eof ? CSV_PARTIAL : csv_next_record(&d, buf, len, &cur, &rec, &err);
        if (k == CSV_END && eof) {
            ended = 1;
            break;
        }
        if (k == CSV_PARTIAL || k == CSV_END) {
            memmove(buf, buf + cur.pos, len - cur.pos);
            len -= cur.pos;
            base += (int64_t)cur.pos;
            cur.pos = 0;
            if (len == cap) {
                if (cap >= CHUNK_BUF_MAX) break; /* one record longer than this: leave it */
                char *nb = realloc(buf, cap * 2);
                if (!nb) {
                    rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory reading a sample");
                    break;
                }
                buf = nb, cap *= 2;
            }
            size_t got = 0;
            rc = csv_reader_read(&r, buf + len, cap - len, &got);
            len += got;
            if (got == 0) eof = 1;
            continue;
        }
        if (k != HPCML_OK || rec.empty || rec.nfields != (size_t)nc ||
            etl_starts_with(buf + rec.offset, rec.end - rec.offset, o->skip_prefix))
            continue; /* the ETL reports such records; the sample skips them */
        for (int c = 0; c < nc && rc == HPCML_OK; c++) {
            int32_t l = (int32_t)rec.fields[c].len;
            rc = blob_put(b, &l, sizeof l);
            if (rc == HPCML_OK) rc = blob_put(b, rec.fields[c].ptr, rec.fields[c].len);
        }
        rows++;
    }
    csv_record_free(&rec);
    csv_reader_close(&r);
    free(buf);
    hdr[0] = rows;
    hdr[1] = ended;
    memcpy(b->p + head, hdr, sizeof hdr);
    return rc;
}

/* Rank 0: the chunks' records in chunk order (the blobs hold each rank's
 * chunks c = rank, rank + P, ... in order). */
static int merge(etl_sample *s, const char *all, const int *counts, const int *displs, int P,
                 int n_chunks)
{
    const char **at = calloc((size_t)P, sizeof *at);
    HPCML_ALLOC_CHECK(at, (size_t)P * sizeof *at);
    int64_t cap = 0;
    s->whole = 1;
    for (int pass = 0; pass < 2; pass++) {
        for (int r = 0; r < P; r++)
            at[r] = all + displs[r];
        for (int c = 0; c < n_chunks; c++) {
            const char *p = at[c % P];
            int64_t hdr[2];
            memcpy(hdr, p, sizeof hdr);
            p += sizeof hdr;
            if (pass == 0) {
                cap += hdr[0];
                if (!hdr[1]) s->whole = 0;
            }
            for (int64_t i = 0; i < hdr[0]; i++) {
                for (int col = 0; col < s->n_cols; col++) {
                    int32_t l;
                    memcpy(&l, p, sizeof l);
                    p += sizeof l;
                    if (pass == 1) {
                        char *cell = malloc((size_t)l + 1);
                        if (!cell) {
                            free(at);
                            return HPCML_FAIL(HPCML_EINTERNAL, "out of memory merging a sample");
                        }
                        memcpy(cell, p, (size_t)l);
                        cell[l] = '\0';
                        s->cells[s->n_rows * s->n_cols + col] = cell;
                    }
                    p += l;
                }
                if (pass == 1) s->n_rows++;
            }
            at[c % P] = p;
        }
        if (pass == 0) {
            s->cells = calloc((size_t)cap * (size_t)s->n_cols + 1, sizeof *s->cells);
            if (!s->cells) {
                free(at);
                HPCML_ALLOC_CHECK(NULL, (size_t)cap * (size_t)s->n_cols * sizeof *s->cells);
            }
        }
    }
    (void)counts;
    free(at);
    return HPCML_OK;
}

int etl_sample_collect(MPI_Comm comm, const etl_options *o, const etl_inputs *in, int64_t max_rows,
                       etl_sample *s)
{
    memset(s, 0, sizeof *s);
    s->n_cols = in->n_names;
    s->n_files = in->n_files;
    int rank = hpcml_mpi_rank(comm), P = hpcml_mpi_size(comm);
    chunk_plan *plan = NULL;
    int n_chunks = 0;
    blob b = {0};
    int rc = in->n_files > 0 ? HPCML_OK : HPCML_FAIL(HPCML_EUSAGE, "no input files");
    if (rc == HPCML_OK) rc = plan_chunks(in, max_rows, &plan, &n_chunks, &s->quota, &s->n_gz);
    s->n_chunks = n_chunks;
    for (int c = rank; c < n_chunks && rc == HPCML_OK; c += P)
        rc = read_chunk(o, in, &plan[c], s->quota, &b);
    free(plan);
    if (rc == HPCML_OK && b.n > INT_MAX)
        rc = HPCML_FAIL(HPCML_EDATA,
                        "the sample of rank %d is larger than 2 GiB: lower "
                        "etl.infer_sample_rows",
                        rank);
    rc = hpcml_mpi_agree(comm, rc);
    if (rc != HPCML_OK) {
        free(b.p);
        return rc;
    }
    int mine = (int)b.n;
    int *counts = NULL, *displs = NULL;
    char *all = NULL;
    if (rank == 0) {
        counts = calloc((size_t)P, sizeof *counts);
        displs = calloc((size_t)P, sizeof *displs);
        HPCML_ALLOC_ABORT(comm, counts && displs ? counts : NULL, "gathering a sample");
    }
    HPCML_MPI_CHECK_ABORT(comm, MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, comm));
    if (rank == 0) {
        int64_t total = 0;
        for (int r = 0; r < P; r++)
            displs[r] = (int)total, total += counts[r];
        if (total > INT_MAX) {
            HPCML_FAIL(HPCML_EDATA, "the sample is larger than 2 GiB: lower etl.infer_sample_rows");
            hpcml_mpi_abort(comm, HPCML_EDATA);
        }
        all = malloc((size_t)total + 1);
        HPCML_ALLOC_ABORT(comm, all, "gathering a sample");
    }
    HPCML_MPI_CHECK_ABORT(comm,
                          MPI_Gatherv(b.p, mine, MPI_CHAR, all, counts, displs, MPI_CHAR, 0, comm));
    free(b.p);
    if (rank == 0) rc = merge(s, all, counts, displs, P, n_chunks);
    free(all);
    free(counts);
    free(displs);
    return hpcml_mpi_agree(comm, rc);
}

void etl_sample_free(etl_sample *s)
{
    if (s->cells)
        for (int64_t k = 0; k < s->n_rows * s->n_cols; k++)
            free(s->cells[k]);
    free(s->cells);
    memset(s, 0, sizeof *s);
}
