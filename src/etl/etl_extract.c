/* etl_extract.c — planning the input, cutting it among ranks, parsing
 * records into column arrays. See etl_extract.h; the splitting rule is
 * described in csv_tokenize.h and docs/etl.md. */
#include "etl/etl_extract.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/status.h"
#include "etl/parse_number.h"
#include "io/path_guard.h"

const char *const etl_drop_names[ETL_DROP_N] = {
    "kept",           "malformed_csv", "ragged_row",   "bad_value", "bad_label",   "null_label",
    "null_violation", "impute_drop",   "out_of_range", "duplicate", "undersampled"};

#define HEAD_INITIAL_BYTES (64u << 10)
/* Read size past the end of a rank's range, to finish its last record. */
#define TAIL_READ_BYTES (64 << 10)

/* ---- small text helpers ---------------------------------------------------- */

/* Printable, quoted excerpt of a field for messages. */
static void excerpt(char *out, size_t n, const char *s, size_t len)
{
    size_t w = 0;
    size_t limit = len > 40 ? 40 : len;
    for (size_t i = 0; i < limit && w + 5 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            out[w++] = (char)c;
        else
            w += (size_t)snprintf(out + w, n - w, "\\x%02x", c);
    }
    if (len > limit && w + 4 < n) w += (size_t)snprintf(out + w, n - w, "...");
    out[w < n ? w : n - 1] = '\0';
}

/* Valid UTF-8 without NUL bytes (text fields and column names). */
static int valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            if (c == 0) return 0;
            p++;
            continue;
        }
        int k;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0)
            k = 1, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0)
            k = 2, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0)
            k = 3, cp = c & 0x07;
        else
            return 0;
        if (end - p <= k) return 0;
        for (int i = 1; i <= k; i++) {
            if ((p[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += k + 1;
    }
    return 1;
}

static const char *csv_error_text(csv_error_kind k)
{
    switch (k) {
    case CSV_ERR_UNTERMINATED_QUOTE: return "unterminated quoted field";
    case CSV_ERR_AFTER_QUOTE: return "text after a closing quote";
    case CSV_ERR_STRAY_QUOTE: return "quote character inside an unquoted field";
    case CSV_ERR_NOMEM: return "out of memory";
    default: return "malformed CSV";
    }
}

static int starts_with(const char *buf, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return n > 0 && len >= n && memcmp(buf, prefix, n) == 0;
}

/* ---- heads: junk lines, header, data start ---------------------------------- */

enum { HEAD_NEED_MORE = -100 };

typedef struct {
    int64_t data_start, head_lines;
    char *names; /* names separated by '\0' */
    size_t names_len;
    int n_names;
} file_head;

static int parse_head(const etl_options *o, const char *path, const char *buf, size_t len,
                      int final, file_head *h)
{
    size_t pos = 0, line = 1;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    else if (!final && len < 3)
        return HEAD_NEED_MORE;
    for (int64_t k = 0; k < o->skip_lines; k++) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl) {
            if (!final) return HEAD_NEED_MORE;
            pos = len;
            break;
        }
        pos = (size_t)(nl - buf) + 1;
        line++;
    }
    if (!o->header) {
        h->data_start = (int64_t)pos;
        h->head_lines = (int64_t)line - 1;
        return HPCML_OK;
    }
    csv_dialect d = o->dialect;
    d.skip_bom = false;
    csv_cursor cur;
    csv_cursor_init(&cur, line);
    cur.pos = pos;
    cur.final = final;
    csv_record rec;
    csv_record_init(&rec);
    csv_error err;
    int rc;
    for (;;) {
        rc = csv_next_record(&d, buf, len, &cur, &rec, &err);
        if (rc == CSV_PARTIAL) {
            rc = HEAD_NEED_MORE;
            break;
        }
        if (rc == CSV_END) {
            rc = HPCML_FAIL(HPCML_EDATA, "%s: no header line (the file is empty%s)", path,
                            o->skip_lines ? " after etl.skip_lines" : "");
            break;
        }
        if (rc != HPCML_OK) {
            rc = HPCML_FAIL(rc, "%s:%zu:%zu: in the header: %s", path, err.line, err.column,
                            csv_error_text(err.kind));
            break;
        }
        if (rec.empty || starts_with(buf + rec.offset, rec.end - rec.offset, o->skip_prefix))
            continue;
        size_t total = 0;
        for (size_t i = 0; i < rec.nfields; i++) {
            if (!valid_utf8(rec.fields[i].ptr, rec.fields[i].len)) {
                char ex[200];
                excerpt(ex, sizeof ex, rec.fields[i].ptr, rec.fields[i].len);
                rc = HPCML_FAIL(HPCML_EDATA,
                                "%s:%zu: header column %zu is not valid UTF-8 text: '%s'", path,
                                rec.line, i + 1, ex);
                break;
            }
            total += rec.fields[i].len + 1;
        }
        if (rc != HPCML_OK) break;
        h->names = malloc(total ? total : 1);
        if (!h->names) {
            rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory reading a header");
            break;
        }
        size_t w = 0;
        for (size_t i = 0; i < rec.nfields; i++) {
            memcpy(h->names + w, rec.fields[i].ptr, rec.fields[i].len);
            w += rec.fields[i].len;
            h->names[w++] = '\0';
        }
        h->names_len = w;
        h->n_names = (int)rec.nfields;
        h->data_start = (int64_t)cur.pos;
        h->head_lines = (int64_t)cur.line - 1;
        rc = HPCML_OK;
        break;
    }
    csv_record_free(&rec);
    return rc;
}

static int read_head(const etl_options *o, const csv_input_file *f, file_head *h)
{
    memset(h, 0, sizeof *h);
    size_t cap = HEAD_INITIAL_BYTES, len = 0;
    char *buf = NULL;
    csv_reader r;
    HPCML_TRY(csv_reader_open(&r, f->path, f->gz, 0));
    int rc;
    for (;;) {
        char *nb = realloc(buf, cap);
        if (!nb) {
            rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory reading the head of %s", f->path);
            break;
        }
        buf = nb;
        size_t got = 0;
        rc = csv_reader_read(&r, buf + len, cap - len, &got);
        if (rc != HPCML_OK) break;
        len += got;
        int final = len < cap;
        rc = parse_head(o, f->path, buf, len, final, h);
        if (rc != HEAD_NEED_MORE) break;
        cap *= 2;
    }
    csv_reader_close(&r);
    free(buf);
    return rc;
}

static int split_names(char *buf, size_t len, int n, char ***names)
{
    *names = calloc((size_t)n + 1, sizeof **names);
    HPCML_ALLOC_CHECK(*names, ((size_t)n + 1) * sizeof **names);
    size_t p = 0;
    for (int i = 0; i < n && p < len; i++) {
        (*names)[i] = buf + p;
        p += strlen(buf + p) + 1;
    }
    return HPCML_OK;
}

static int bcast_files(MPI_Comm comm, int rank, csv_input_file **files, int *n_files)
{
    int64_t n = *n_files;
    size_t text = 0;
    if (rank == 0)
        for (int i = 0; i < *n_files; i++)
            text += strlen((*files)[i].path) + 1;
    int64_t hdr[2] = {n, (int64_t)text};
    HPCML_MPI_CHECK(MPI_Bcast(hdr, 2, MPI_INT64_T, 0, comm));
    n = hdr[0];
    text = (size_t)hdr[1];
    char *buf = malloc(text + 1);
    int64_t *meta = malloc(((size_t)n * 2 + 1) * sizeof *meta);
    if (!buf || !meta) {
        HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    }
    if (rank == 0) {
        size_t w = 0;
        for (int i = 0; i < n; i++) {
            size_t l = strlen((*files)[i].path) + 1;
            memcpy(buf + w, (*files)[i].path, l);
            w += l;
            meta[2 * i] = (*files)[i].size_bytes;
            meta[2 * i + 1] = (*files)[i].gz;
        }
    }
    HPCML_MPI_CHECK(MPI_Bcast(buf, (int)text, MPI_CHAR, 0, comm));
    HPCML_MPI_CHECK(MPI_Bcast(meta, (int)(2 * n), MPI_INT64_T, 0, comm));
    if (rank != 0) {
        *files = calloc((size_t)n + 1, sizeof **files);
        if (!*files) {
            HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
            hpcml_mpi_abort(comm, HPCML_EINTERNAL);
        }
        size_t p = 0;
        for (int i = 0; i < n; i++) {
            (*files)[i].path = strdup(buf + p);
            p += strlen(buf + p) + 1;
            (*files)[i].size_bytes = meta[2 * i];
            (*files)[i].gz = (int)meta[2 * i + 1];
        }
        *n_files = (int)n;
    }
    free(buf);
    free(meta);
    return HPCML_OK;
}

/* Rank 0, before any input is read: no output of this run (the dataset,
 * its side files) may be an input or hpcml-gen's manifest of an input
 * folder, under any name (path_guard.h). */
static int check_outputs(const etl_options *o, const etl_inputs *in)
{
    char side[3][4300];
    static const char *const what[3] = {"quality.json", "profile.json", "trace.json"};
    const char *outs[4] = {o->output, side[0], side[1], side[2]};
    static const char *const out_what[4] = {"etl.output", "etl.output's quality.json",
                                            "etl.output's profile.json", "etl.output's trace.json"};
    for (int k = 0; k < 3; k++)
        etl_side_path(o->output, what[k], side[k], sizeof side[k]);
    for (int k = 0; k < 4; k++) {
        for (int f = 0; f < in->n_files; f++)
            HPCML_TRY(fs_refuse_overwrite(outs[k], out_what[k], in->files[f].path,
                                          "an input of etl.input"));
        for (int m = 0; m < in->manifest.n_manifests; m++)
            HPCML_TRY(fs_refuse_overwrite(outs[k], out_what[k], in->manifest.manifests[m],
                                          "hpcml-gen's manifest of the input"));
    }
    return HPCML_OK;
}

int etl_inputs_plan(MPI_Comm comm, const etl_options *o, etl_inputs *in)
{
    memset(in, 0, sizeof *in);
    int rank = hpcml_mpi_rank(comm), P = hpcml_mpi_size(comm);
    int rc = HPCML_OK;
    if (rank == 0) rc = csv_source_expand(o->inputs, o->n_inputs, &in->files, &in->n_files);
    if (rank == 0 && rc == HPCML_OK)
        rc = etl_manifest_check_inputs(o->check_manifest, o->inputs, o->n_inputs, in->files,
                                       in->n_files, &in->manifest);
    if (rank == 0 && rc == HPCML_OK) rc = check_outputs(o, in);
    HPCML_TRY(hpcml_mpi_agree(comm, rc));
    HPCML_TRY(bcast_files(comm, rank, &in->files, &in->n_files));
    int nf = in->n_files;

    /* Heads: file i is read by rank i mod P. */
    in->data_start = calloc((size_t)nf, sizeof *in->data_start);
    in->head_lines = calloc((size_t)nf, sizeof *in->head_lines);
    file_head *heads = calloc((size_t)nf, sizeof *heads);
    if (!in->data_start || !in->head_lines || !heads)
        rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory planning %d files", nf);
    for (int i = rank; i < nf && rc == HPCML_OK; i += P)
        rc = read_head(o, &in->files[i], &heads[i]);
    rc = hpcml_mpi_agree(comm, rc);
    if (rc != HPCML_OK) {
        if (heads)
            for (int i = 0; i < nf; i++)
                free(heads[i].names);
        free(heads);
        return rc;
    }

    /* Share (data_start, head_lines, n_names, names_len) and the names. */
    int64_t *meta = calloc((size_t)nf * 4 + 1, sizeof *meta);
    if (!meta) {
        HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    }
    for (int i = rank; i < nf; i += P) {
        meta[4 * i] = heads[i].data_start;
        meta[4 * i + 1] = heads[i].head_lines;
        meta[4 * i + 2] = heads[i].n_names;
        meta[4 * i + 3] = (int64_t)heads[i].names_len;
    }
    HPCML_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, meta, nf * 4, MPI_INT64_T, MPI_SUM, comm));
    for (int i = 0; i < nf; i++) {
        in->data_start[i] = meta[4 * i];
        in->head_lines[i] = meta[4 * i + 1];
    }

    if (o->header && nf > 0) {
        /* Every file's header must equal the first one: compare hashes of
         * the names everywhere, then fetch the first file's names from its
         * reader (rank 0) and, on a mismatch, the offending file's. */
        uint64_t *hashes = calloc((size_t)nf, sizeof *hashes);
        if (!hashes) {
            HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
            hpcml_mpi_abort(comm, HPCML_EINTERNAL);
        }
        for (int i = rank; i < nf; i += P)
            hashes[i] =
                rng_hash_bytes(heads[i].names, heads[i].names_len, 1) ^ (uint64_t)heads[i].n_names;
        HPCML_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, hashes, nf, MPI_UINT64_T, MPI_BXOR, comm));
        int bad = -1;
        for (int i = 1; i < nf && bad < 0; i++)
            if (hashes[i] != hashes[0]) bad = i;
        free(hashes);
        in->n_names = (int)meta[2];
        size_t len0 = (size_t)meta[3];
        in->names_buf = malloc(len0 + 1);
        if (!in->names_buf) {
            HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
            hpcml_mpi_abort(comm, HPCML_EINTERNAL);
        }
        if (rank == 0) memcpy(in->names_buf, heads[0].names, len0);
        HPCML_MPI_CHECK(MPI_Bcast(in->names_buf, (int)len0, MPI_CHAR, 0, comm));
        HPCML_TRY(split_names(in->names_buf, len0, in->n_names, &in->names));
        if (bad >= 0) {
            int owner = bad % P;
            size_t lenb = (size_t)meta[4 * bad + 3];
            char *other = malloc(lenb + 1);
            if (!other) hpcml_mpi_abort(comm, HPCML_EINTERNAL);
            if (rank == owner) memcpy(other, heads[bad].names, lenb);
            HPCML_MPI_CHECK(MPI_Bcast(other, (int)lenb, MPI_CHAR, owner, comm));
            char **onames;
            HPCML_TRY(split_names(other, lenb, (int)meta[4 * bad + 2], &onames));
            char got[500], want[500];
            etl_format_names(got, sizeof got, onames, (int)meta[4 * bad + 2]);
            etl_format_names(want, sizeof want, in->names, in->n_names);
            rc = HPCML_FAIL(HPCML_EDATA,
                            "%s: the header differs from the one of %s: found %s, expected %s",
                            in->files[bad].path, in->files[0].path, got, want);
            free(onames);
            free(other);
        }
    } else if (!o->header) {
        size_t total = 0;
        for (int i = 0; i < o->n_column_names; i++)
            total += strlen(o->column_names[i]) + 1;
        in->names_buf = malloc(total + 1);
        if (!in->names_buf)
            rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
        else {
            size_t w = 0;
            for (int i = 0; i < o->n_column_names; i++) {
                size_t l = strlen(o->column_names[i]) + 1;
                memcpy(in->names_buf + w, o->column_names[i], l);
                w += l;
            }
            in->n_names = o->n_column_names;
            rc = split_names(in->names_buf, total, in->n_names, &in->names);
        }
    }
    for (int i = 0; i < nf; i++)
        free(heads[i].names);
    free(heads);
    free(meta);
    return hpcml_mpi_agree(comm, rc);
}

void etl_inputs_free(etl_inputs *in)
{
    etl_manifest_check_free(&in->manifest);
    csv_source_free(in->files, in->n_files);
    free(in->data_start);
    free(in->head_lines);
    free(in->names);
    free(in->names_buf);
    memset(in, 0, sizeof *in);
}

/* ---- the table -------------------------------------------------------------- */

static int table_init(etl_table *t, const etl_schema *s, int n_files)
{
    memset(t, 0, sizeof *t);
    t->n_cols = s->n_cols;
    t->num = calloc((size_t)s->n_cols, sizeof *t->num);
    t->cat = calloc((size_t)s->n_cols, sizeof *t->cat);
    t->strtab = calloc((size_t)s->n_cols, sizeof *t->strtab);
    t->nulls = calloc((size_t)s->n_cols, sizeof *t->nulls);
    t->bad_values = calloc((size_t)s->n_cols, sizeof *t->bad_values);
    t->file_rows = calloc((size_t)n_files + 1, sizeof *t->file_rows);
    HPCML_CHECK(t->num && t->cat && t->strtab && t->nulls && t->bad_values && t->file_rows,
                HPCML_EINTERNAL, "out of memory for %d columns", s->n_cols);
    for (int c = 0; c < s->n_cols; c++)
        if (s->cols[c].type == ETL_COL_CATEGORY || s->cols[c].keep_text)
            HPCML_TRY(etl_strtab_init(&t->strtab[c]));
    return HPCML_OK;
}

/* Column arrays are large (rows x 8 bytes each): they grow to an estimate
 * of the final row count (bytes of this rank's range / bytes per row so
 * far) rather than by repeated doubling, and live on transparent huge pages
 * where the kernel offers them, which saves most of the page faults of
 * first touch. */
void *etl_big_realloc(void *ptr, size_t old_bytes, size_t new_bytes)
{
    if (new_bytes < ((size_t)4 << 20)) return realloc(ptr, new_bytes);
    void *p = NULL;
    if (posix_memalign(&p, (size_t)2 << 20, new_bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, new_bytes, MADV_HUGEPAGE);
#endif
    if (ptr && old_bytes) memcpy(p, ptr, old_bytes < new_bytes ? old_bytes : new_bytes);
    free(ptr);
    return p;
}

#define GROW(ptr, cap, elems)                                                                      \
    do {                                                                                           \
        void *np_ = etl_big_realloc((ptr), (size_t)t->cap * (elems) * sizeof *(ptr),               \
                                    (size_t)(cap) * (elems) * sizeof *(ptr));                      \
        HPCML_ALLOC_CHECK(np_, (size_t)(cap) * (elems) * sizeof *(ptr));                           \
        (ptr) = np_;                                                                               \
    } while (0)

static int table_grow(etl_table *t, const etl_schema *s, int64_t bytes_done, int64_t bytes_total,
                      int64_t limit)
{
    int64_t cap = t->cap ? t->cap * 2 : 65536;
    if (t->n > 0 && bytes_done > 0 && bytes_total > bytes_done) {
        int64_t estimate =
            (int64_t)((double)t->n * (double)bytes_total / (double)bytes_done * 1.05) + 4096;
        if (estimate > cap) cap = estimate;
    }
    if (limit > 0 && cap > limit) cap = limit > t->n ? limit : t->n + 1;
    for (int c = 0; c < s->n_cols; c++) {
        etl_col_type ty = s->cols[c].type;
        if (ty == ETL_COL_FLOAT || ty == ETL_COL_INT) GROW(t->num[c], cap, 1);
        if (ty == ETL_COL_CATEGORY || s->cols[c].keep_text) GROW(t->cat[c], cap, 1);
    }
    GROW(t->label, cap, 1);
    if (s->n_key_cols) GROW(t->key_hash, cap, 2);
    if (s->split_key_col >= 0) GROW(t->split_key, cap, 1);
    GROW(t->file, cap, 1);
    GROW(t->line, cap, 1);
    GROW(t->drop, cap, 1);
    t->cap = cap;
    return HPCML_OK;
}

void etl_table_free(etl_table *t)
{
    for (int c = 0; c < t->n_cols; c++) {
        if (t->num) free(t->num[c]);
        if (t->cat) free(t->cat[c]);
        if (t->strtab && t->strtab[c].slots) etl_strtab_free(&t->strtab[c]);
    }
    free(t->num);
    free(t->cat);
    free(t->strtab);
    free(t->label);
    free(t->key_hash);
    free(t->split_key);
    free(t->file);
    free(t->line);
    free(t->drop);
    free(t->split);
    free(t->nulls);
    free(t->bad_values);
    free(t->file_rows);
    memset(t, 0, sizeof *t);
}

void etl_row_where(const etl_inputs *in, const etl_table *t, int64_t i, char *out, size_t n)
{
    snprintf(out, n, "%s:%lld", in->files[t->file[i]].path, (long long)t->line[i]);
}

/* ---- pieces: this rank's share of the logical input stream -------------------- */

typedef struct {
    int file;
    int64_t begin, end; /* byte offsets in the file (decompressed for .gz) */
    int atomic;         /* whole file, read to its end */
} piece;

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

static int make_pieces(const etl_options *o, const etl_inputs *in, int rank, int P, piece **out,
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
            if (a < b) (*out)[n++] = (piece){f, ds + (a - c), ds + (b - c), 0};
            c += w;
        } else {
            int64_t w = fl->size_bytes;
            if (owner_of(c + w / 2, total, P) == rank) (*out)[n++] = (piece){f, ds, INT64_MAX, 1};
            c += w;
        }
    }
    *n_out = n;
    return HPCML_OK;
}

/* ---- boundary resolution ------------------------------------------------------- */

/* The segmented scan element: quote parity and line feeds of the chunks of
 * one file, accumulated over consecutive ranks. */
typedef struct {
    int64_t file; /* -1: this rank contributes nothing */
    int64_t parity;
    int64_t newlines;
} seg_elem;

static void seg_combine(void *invec, void *inoutvec, int *len, MPI_Datatype *dt)
{
    (void)dt;
    seg_elem *a = invec, *b = inoutvec; /* a: lower ranks, b: higher ranks */
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

/* Scans [begin, end) of a plain file in blocks, composing csv_chunk_scan. */
static int scan_range(const etl_options *o, const char *path, int64_t begin, int64_t end, char *buf,
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

/* ---- parsing records ------------------------------------------------------------ */

#define MAX_MARKERS 64

typedef struct {
    const char *text;
    size_t len;
    int cls; /* labels: the class */
} marker;

typedef struct {
    const etl_options *o;
    const etl_schema *s;
    const etl_inputs *in;
    etl_table *t;
    /* Null markers with their lengths, and which first bytes can start
     * one: most fields are rejected by one table look-up. */
    marker nulls[MAX_MARKERS];
    int n_nulls;
    int null_empty; /* "" is a marker */
    unsigned char null_first[256];
    size_t max_null_len;
    marker labels[2 * MAX_MARKERS];
    int n_labels;
    csv_record rec;
    int64_t bytes_done, bytes_total; /* of this rank's ranges, for the row estimate */
    /* etl_extract_batches: fn gets the table every max_rows rows */
    int64_t max_rows, rows_handed;
    etl_batch_fn fn;
    void *ctx;
} parser;

/* Hands the rows to the batch function and empties the table (rows and
 * category interning; the counters go on accumulating). */
static int hand_batch(parser *p)
{
    etl_table *t = p->t;
    if (!p->fn || t->n == 0) return HPCML_OK;
    HPCML_TRY(p->fn(p->ctx, t));
    p->rows_handed += t->n;
    t->n = 0;
    for (int c = 0; c < p->s->n_cols; c++)
        if (p->s->cols[c].type == ETL_COL_CATEGORY || p->s->cols[c].keep_text) {
            etl_strtab_free(&t->strtab[c]);
            HPCML_TRY(etl_strtab_init(&t->strtab[c]));
        }
    return HPCML_OK;
}

/* Room for one more row: hands a full batch over, or grows the table. */
static int table_room(parser *p)
{
    etl_table *t = p->t;
    if (p->fn && t->n >= p->max_rows) HPCML_TRY(hand_batch(p));
    if (t->n == t->cap)
        HPCML_TRY(table_grow(t, p->s, p->bytes_done, p->bytes_total, p->fn ? p->max_rows : 0));
    return HPCML_OK;
}

static void parser_init(parser *p, const etl_options *o, const etl_schema *s, const etl_inputs *in,
                        etl_table *t)
{
    memset(p, 0, sizeof *p);
    p->o = o, p->s = s, p->in = in, p->t = t;
    for (const char *const *m = o->null_markers; *m && p->n_nulls < MAX_MARKERS; m++) {
        const char *txt = *m;
        size_t len = strlen(txt);
        while (len && (*txt == ' ' || *txt == '\t'))
            txt++, len--;
        while (len && (txt[len - 1] == ' ' || txt[len - 1] == '\t'))
            len--;
        if (len == 0) {
            p->null_empty = 1;
            continue;
        }
        p->nulls[p->n_nulls++] = (marker){txt, len, 0};
        p->null_first[(unsigned char)txt[0]] = 1;
        if (len > p->max_null_len) p->max_null_len = len;
    }
    for (int i = 0; i < o->n_positive && p->n_labels < 2 * MAX_MARKERS; i++)
        p->labels[p->n_labels++] =
            (marker){o->positive_labels[i], strlen(o->positive_labels[i]), 1};
    for (int i = 0; i < o->n_negative && p->n_labels < 2 * MAX_MARKERS; i++)
        p->labels[p->n_labels++] =
            (marker){o->negative_labels[i], strlen(o->negative_labels[i]), 0};
    csv_record_init(&p->rec);
}

/* Same rule as csv_is_null (spaces and tabs around the text are ignored). */
static int is_null_slow(const parser *p, const csv_field *f)
{
    const char *s = f->ptr;
    size_t len = f->len;
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0) return p->null_empty;
    if (len > p->max_null_len) return 0;
    for (int i = 0; i < p->n_nulls; i++)
        if (p->nulls[i].len == len && memcmp(p->nulls[i].text, s, len) == 0) return 1;
    return 0;
}

/* Most fields are rejected by their first byte, inline. */
static inline int is_null(const parser *p, const csv_field *f)
{
    unsigned char c0 = f->len ? (unsigned char)f->ptr[0] : 0;
    if (f->len && !p->null_first[c0] && c0 != ' ' && c0 != '\t') return 0;
    return is_null_slow(p, f);
}

static int label_of(const parser *p, const char *s, size_t len)
{
    for (int i = 0; i < p->n_labels; i++)
        if (p->labels[i].len == len && memcmp(p->labels[i].text, s, len) == 0)
            return p->labels[i].cls;
    return -1;
}

/* Bad field: error (the message names FILE:LINE:COLUMN) or drop and count. */
static int bad_field(parser *p, const char *buf, int file, int64_t row, size_t field,
                     etl_drop reason, const char *what)
{
    etl_table *t = p->t;
    t->drop[row] = (uint8_t)reason;
    if (field < (size_t)t->n_cols) t->bad_values[field]++;
    if (p->o->drop_bad_values) return HPCML_OK;
    size_t line = 0, col = 0;
    csv_field_position(buf, &p->rec, field, &line, &col);
    const csv_field *f = &p->rec.fields[field];
    char ex[200];
    excerpt(ex, sizeof ex, f->ptr, f->len);
    return HPCML_FAIL(HPCML_EDATA, "%s:%zu:%zu: column '%s': '%s' %s", p->in->files[file].path,
                      line, col, p->s->cols[field].name, ex, what);
}

static int parse_record(parser *p, const char *buf, int file)
{
    etl_table *t = p->t;
    const etl_schema *s = p->s;
    const csv_record *rec = &p->rec;
    HPCML_TRY(table_room(p));
    int64_t i = t->n++;
    t->file[i] = file;
    t->line[i] = (int64_t)rec->line;
    t->drop[i] = ETL_KEEP;
    t->label[i] = -1;
    t->file_rows[file]++;
    if (rec->nfields != (size_t)s->n_cols) {
        t->drop[i] = ETL_DROP_RAGGED;
        /* Leave the row's columns unset: every later pass skips dropped rows. */
        if (p->o->drop_bad_values) return HPCML_OK;
        return HPCML_FAIL(HPCML_EDATA, "%s:%zu: expected %d fields, found %zu",
                          p->in->files[file].path, rec->line, s->n_cols, rec->nfields);
    }
    for (int c = 0; c < s->n_cols; c++) {
        const etl_column_spec *col = &s->cols[c];
        const csv_field *f = &rec->fields[c];
        switch (col->type) {
        case ETL_COL_FLOAT:
        case ETL_COL_INT: {
            double v;
            if (is_null(p, f)) {
                t->num[c][i] = NAN;
                t->nulls[c]++;
                break;
            }
            int ok;
            if (col->type == ETL_COL_FLOAT) {
                ok = parse_double(f->ptr, f->len, &v) == HPCML_OK;
            } else {
                int64_t iv = 0;
                ok = parse_int64(f->ptr, f->len, &iv) == HPCML_OK;
                v = (double)iv;
            }
            if (!ok) {
                t->num[c][i] = NAN;
                return bad_field(p, buf, file, i, (size_t)c, ETL_DROP_BAD_VALUE,
                                 col->type == ETL_COL_FLOAT ? "is not a number"
                                                            : "is not an integer");
            }
            t->num[c][i] = v;
            break;
        }
        case ETL_COL_CATEGORY: {
            if (is_null(p, f)) {
                t->cat[c][i] = -1;
                t->nulls[c]++;
                break;
            }
            if (!valid_utf8(f->ptr, f->len)) {
                t->cat[c][i] = -1;
                return bad_field(p, buf, file, i, (size_t)c, ETL_DROP_BAD_VALUE,
                                 "is not valid UTF-8 text");
            }
            int32_t id = etl_strtab_intern(&t->strtab[c], f->ptr, f->len);
            HPCML_CHECK(id >= 0, HPCML_EINTERNAL, "out of memory interning categories");
            t->cat[c][i] = id;
            break;
        }
        case ETL_COL_LABEL: {
            if (is_null(p, f)) {
                t->nulls[c]++;
                if (t->drop[i] == ETL_KEEP) t->drop[i] = ETL_DROP_NULL_LABEL;
                break;
            }
            int cls = label_of(p, f->ptr, f->len);
            if (cls < 0)
                return bad_field(
                    p, buf, file, i, (size_t)c, ETL_DROP_BAD_LABEL,
                    "is not a known label (etl.positive_labels / etl.negative_labels)");
            t->label[i] = (int8_t)cls;
            break;
        }
        case ETL_COL_ID:
            if (is_null(p, f)) t->nulls[c]++;
            break;
        case ETL_COL_IGNORE: break;
        }
        if (col->keep_text && col->type != ETL_COL_CATEGORY) {
            int32_t id = etl_strtab_intern(&t->strtab[c], f->ptr, f->len);
            HPCML_CHECK(id >= 0, HPCML_EINTERNAL, "out of memory keeping texts");
            t->cat[c][i] = id;
        }
    }
    if (s->n_key_cols) {
        uint64_t h1 = 0x1234, h2 = 0x9876;
        for (int k = 0; k < s->n_key_cols; k++) {
            const csv_field *f = &rec->fields[s->key_cols[k]];
            h1 = rng_mix64(h1 ^ rng_hash_bytes(f->ptr, f->len, 2 * (uint64_t)k + 11));
            h2 = rng_mix64(h2 ^ rng_hash_bytes(f->ptr, f->len, 2 * (uint64_t)k + 12));
        }
        t->key_hash[2 * i] = h1;
        t->key_hash[2 * i + 1] = h2;
    }
    if (s->split_key_col >= 0) {
        const csv_field *f = &rec->fields[s->split_key_col];
        t->split_key[i] = rng_hash_bytes(f->ptr, f->len, p->o->split_seed);
    }
    return HPCML_OK;
}

/* Parses the records of one piece that start in [start, stop) (stop =
 * INT64_MAX: to the end of the file), numbering lines from first_line. */
static int parse_piece(parser *p, const piece *pc, int64_t start, int64_t stop, size_t first_line,
                       char **bufp, size_t *capp)
{
    const csv_input_file *f = &p->in->files[pc->file];
    csv_reader r;
    HPCML_TRY(csv_reader_open(&r, f->path, f->gz, start));
    int rc = HPCML_OK;
    char *buf = *bufp;
    size_t cap = *capp, len = 0;
    int64_t base = start; /* file offset of buf[0] */
    int eof = 0;
    csv_cursor cur;
    csv_cursor_init(&cur, first_line);
    cur.final = false;
    csv_error err;
    const etl_options *o = p->o;
    csv_dialect d = o->dialect;
    d.skip_bom = false;
    int64_t done_before = p->bytes_done;
    for (;;) {
        if (base + (int64_t)cur.pos >= stop) break;
        int need_more = 0;
        if (cur.pos >= len && !eof) {
            need_more = 1;
        } else {
            cur.final = eof;
            int k = csv_next_record(&d, buf, len, &cur, &p->rec, &err);
            if (k == CSV_END) {
                if (eof) break;
                need_more = 1;
            } else if (k == CSV_PARTIAL) {
                need_more = 1;
            } else if (k == HPCML_OK) {
                const csv_record *rec = &p->rec;
                if (rec->empty) {
                    p->t->blank_lines++;
                } else if (starts_with(buf + rec->offset, rec->end - rec->offset, o->skip_prefix)) {
                    p->t->skipped_lines++;
                } else {
                    p->bytes_done = done_before + (base + (int64_t)cur.pos - start);
                    rc = parse_record(p, buf, pc->file);
                    if (rc != HPCML_OK) break;
                }
            } else if (k == HPCML_EDATA) {
                /* A syntax error: the row counts (numbering stays the same on
                 * any rank count: the tokenizer resynchronizes by parity). */
                etl_table *t = p->t;
                if ((rc = table_room(p)) != HPCML_OK) break;
                int64_t i = t->n++;
                t->file[i] = pc->file;
                t->line[i] = (int64_t)err.line;
                t->drop[i] = ETL_DROP_MALFORMED;
                t->label[i] = -1;
                t->file_rows[pc->file]++;
                if (!o->drop_bad_values) {
                    rc = HPCML_FAIL(HPCML_EDATA, "%s:%zu:%zu: %s (field %zu)", f->path, err.line,
                                    err.column, csv_error_text(err.kind), err.field);
                    break;
                }
            } else {
                rc = HPCML_FAIL(HPCML_EINTERNAL, "%s: out of memory tokenizing", f->path);
                break;
            }
        }
        if (!need_more) continue;
        /* Keep the unfinished record, read more after it (grow when full). */
        if (cur.pos > 0) {
            memmove(buf, buf + cur.pos, len - cur.pos);
            len -= cur.pos;
            base += (int64_t)cur.pos;
            cur.pos = 0;
        }
        if (len == cap) {
            size_t ncap = cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory: a record longer than %zu bytes",
                                cap);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        /* Read up to the end of the range and then in small steps: only the
         * last record crosses it. */
        size_t want = cap - len;
        if (stop != INT64_MAX) {
            int64_t left = stop - (base + (int64_t)len);
            int64_t step = left > 0 ? left + TAIL_READ_BYTES : TAIL_READ_BYTES;
            if ((int64_t)want > step) want = (size_t)step;
        }
        size_t got = 0;
        rc = csv_reader_read(&r, buf + len, want, &got);
        if (rc != HPCML_OK) break;
        p->t->bytes_read += (int64_t)got;
        len += got;
        if (got == 0) eof = 1;
    }
    csv_reader_close(&r);
    p->bytes_done = done_before + (base + (int64_t)cur.pos - start);
    *bufp = buf;
    *capp = cap;
    return rc;
}

static int extract(MPI_Comm comm, const etl_options *o, const etl_schema *s, const etl_inputs *in,
                   etl_table *t, int64_t max_rows, etl_batch_fn fn, void *ctx)
{
    int rank = hpcml_mpi_rank(comm), P = hpcml_mpi_size(comm);
    piece *pieces = NULL;
    int n_pieces = 0;
    int rc = table_init(t, s, in->n_files);
    if (rc == HPCML_OK) rc = make_pieces(o, in, rank, P, &pieces, &n_pieces);
    size_t cap = (size_t)o->read_buffer_bytes;
    if (cap < 4096) cap = 4096;
    char *buf = rc == HPCML_OK ? malloc(cap) : NULL;
    if (rc == HPCML_OK && !buf) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory: read buffer");

    /* 1. Scan the chunks at the ends of this rank's range that are cut
     * mid-file, for the quote parity and line count handed to later ranks. */
    csv_chunk_info first_info, last_info;
    int first_cut = 0, last_cut = 0;
    seg_elem mine = {-1, 0, 0};
    if (rc == HPCML_OK && n_pieces > 0) {
        const piece *fp = &pieces[0], *lp = &pieces[n_pieces - 1];
        first_cut = !fp->atomic && fp->begin > in->data_start[fp->file];
        last_cut = !lp->atomic && lp->end < in->files[lp->file].size_bytes;
        if (first_cut) {
            int64_t ce = fp->end < in->files[fp->file].size_bytes ? fp->end - 1 : fp->end;
            rc = scan_range(o, in->files[fp->file].path, fp->begin - 1, ce, buf, cap, &first_info,
                            &t->bytes_read);
        }
        if (rc == HPCML_OK && last_cut) {
            if (n_pieces == 1 && first_cut) {
                last_info = first_info;
            } else {
                rc = scan_range(o, in->files[lp->file].path, lp->begin, lp->end - 1, buf, cap,
                                &last_info, &t->bytes_read);
            }
            mine = (seg_elem){lp->file, last_info.quote_parity, (int64_t)last_info.newlines};
        }
    }
    /* Every rank takes part in the scan, whatever its status. */
    MPI_Datatype seg_type;
    MPI_Op seg_op;
    seg_elem before = {-1, 0, 0};
    MPI_Type_contiguous(3, MPI_INT64_T, &seg_type);
    MPI_Type_commit(&seg_type);
    MPI_Op_create(seg_combine, 0, &seg_op);
    int mpi_rc = MPI_Exscan(&mine, &before, 1, seg_type, seg_op, comm);
    MPI_Op_free(&seg_op);
    MPI_Type_free(&seg_type);
    if (rank == 0) before = (seg_elem){-1, 0, 0}; /* undefined on rank 0 */
    if (mpi_rc != MPI_SUCCESS && rc == HPCML_OK)
        rc = HPCML_FAIL(HPCML_EINTERNAL, "MPI_Exscan of chunk boundaries failed");
    rc = hpcml_mpi_agree(comm, rc);
    if (rc != HPCML_OK) {
        free(buf);
        free(pieces);
        return rc;
    }

    /* 2. Parse each piece from its first record start. */
    parser p;
    parser_init(&p, o, s, in, t);
    p.max_rows = max_rows > 0 ? max_rows : 1;
    p.fn = fn;
    p.ctx = ctx;
    for (int k = 0; k < n_pieces; k++) {
        const piece *pc = &pieces[k];
        const csv_input_file *f = &in->files[pc->file];
        /* gzip: assume 4:1 compression for the estimate */
        p.bytes_total +=
            pc->atomic ? (f->gz ? 4 : 1) * (f->size_bytes - (f->gz ? 0 : in->data_start[pc->file]))
                       : pc->end - pc->begin;
    }
    for (int k = 0; k < n_pieces && rc == HPCML_OK; k++) {
        const piece *pc = &pieces[k];
        int64_t ds = in->data_start[pc->file];
        int64_t start = pc->atomic ? ds : pc->begin;
        size_t line = (size_t)in->head_lines[pc->file] + 1;
        if (k == 0 && first_cut) {
            unsigned parity = 0;
            size_t nl = 0;
            if (before.file == pc->file)
                parity = (unsigned)before.parity, nl = (size_t)before.newlines;
            size_t off = csv_chunk_resolve(&first_info, parity);
            if (off == CSV_NO_START) continue; /* no record starts in this piece */
            start = pc->begin - 1 + (int64_t)off;
            if (start >= pc->end) continue;
            line += nl + first_info.newlines_before[parity & 1u];
        }
        int64_t stop =
            pc->atomic || pc->end >= in->files[pc->file].size_bytes ? INT64_MAX : pc->end;
        rc = parse_piece(&p, pc, start, stop, line, &buf, &cap);
    }
    if (rc == HPCML_OK) rc = hand_batch(&p);
    csv_record_free(&p.rec);
    free(buf);
    free(pieces);
    rc = hpcml_mpi_agree(comm, rc);
    if (rc != HPCML_OK) return rc;

    /* 3. Global row numbers and totals. */
    int64_t n = t->n + p.rows_handed, first = 0, total = 0;
    HPCML_MPI_CHECK(MPI_Exscan(&n, &first, 1, MPI_INT64_T, MPI_SUM, comm));
    HPCML_MPI_CHECK(MPI_Allreduce(&n, &total, 1, MPI_INT64_T, MPI_SUM, comm));
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

/* ---- the --infer-schema sample --------------------------------------------------- */

int etl_read_sample(const etl_options *o, const etl_inputs *in, int64_t max_rows, char ***cells,
                    int64_t *n_rows)
{
    *cells = NULL;
    *n_rows = 0;
    HPCML_CHECK(in->n_files > 0, HPCML_EUSAGE, "no input files");
    const csv_input_file *f = &in->files[0];
    csv_reader r;
    HPCML_TRY(csv_reader_open(&r, f->path, f->gz, in->data_start[0]));
    size_t cap = 1u << 20, len = 0;
    char *buf = malloc(cap);
    int nc = in->n_names;
    char **out = calloc((size_t)max_rows * (size_t)nc + 1, sizeof *out);
    int rc = HPCML_OK;
    if (!buf || !out) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory reading a sample");
    csv_record rec;
    csv_record_init(&rec);
    csv_cursor cur;
    csv_cursor_init(&cur, (size_t)in->head_lines[0] + 1);
    csv_dialect d = o->dialect;
    d.skip_bom = false;
    int eof = 0;
    csv_error err;
    while (rc == HPCML_OK && *n_rows < max_rows) {
        cur.final = eof;
        int k =
            cur.pos >= len && !eof ? CSV_PARTIAL : csv_next_record(&d, buf, len, &cur, &rec, &err);
        if (k == CSV_END && eof) break;
        if (k == CSV_PARTIAL || k == CSV_END) {
            memmove(buf, buf + cur.pos, len - cur.pos);
            len -= cur.pos;
            cur.pos = 0;
            if (len == cap) {
                char *nb = realloc(buf, cap * 2);
                if (!nb) {
                    rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory reading a sample");
                    break;
                }
                buf = nb;
                cap *= 2;
            }
            size_t got = 0;
            rc = csv_reader_read(&r, buf + len, cap - len, &got);
            len += got;
            if (got == 0) eof = 1;
            continue;
        }
        if (k != HPCML_OK) {
            rc = HPCML_FAIL(HPCML_EDATA, "%s:%zu:%zu: %s", f->path, err.line, err.column,
                            csv_error_text(err.kind));
            break;
        }
        if (rec.empty || starts_with(buf + rec.offset, rec.end - rec.offset, o->skip_prefix))
            continue;
        for (int c = 0; c < nc && (size_t)c < rec.nfields; c++) {
            char *cell = malloc(rec.fields[c].len + 1);
            if (!cell) {
                rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory reading a sample");
                break;
            }
            memcpy(cell, rec.fields[c].ptr, rec.fields[c].len);
            cell[rec.fields[c].len] = '\0';
            out[*n_rows * nc + c] = cell;
        }
        (*n_rows)++;
    }
    csv_record_free(&rec);
    csv_reader_close(&r);
    free(buf);
    *cells = out;
    return rc;
}
