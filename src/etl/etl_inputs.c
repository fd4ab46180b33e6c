/* etl_inputs.c — planning the input: the file list, each file's head (junk
 * lines, skip_prefix lines, the header) and where its data begins, the
 * column names every file must agree on. See etl_inputs.h. */
#include "etl/etl_inputs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/status.h"
#include "etl/etl_text.h"
#include "io/path_guard.h"

#define HEAD_INITIAL_BYTES (64u << 10)

enum { HEAD_NEED_MORE = -100 };

typedef struct {
    int64_t data_start, head_lines;
    char *names; /* names separated by '\0' */
    size_t names_len;
    int n_names;
} file_head;

/* A file whose lines end in a bare CR (classic Mac OS) reads as one long
 * line: say so rather than parse it. True when a CR that is not followed by
 * a LF comes before the first LF of the head. */
static int cr_line_ends(const char *buf, size_t len)
{
    const char *lf = memchr(buf, '\n', len);
    size_t n = lf ? (size_t)(lf - buf) : len;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\r' && i + 1 < len && buf[i + 1] != '\n') return 1;
    return 0;
}

static int refuse_cr_line_ends(const char *path, const char *buf, size_t len)
{
    if (!cr_line_ends(buf, len)) return HPCML_OK;
    return HPCML_FAIL(HPCML_EDATA,
                      "%s: the file uses CR line ends (a carriage return with no line feed ends "
                      "its first line); convert them to LF or CRLF, e.g. tr '\\r' '\\n'",
                      path);
}

/* A header that parses to one column holding a likely delimiter: the file
 * uses another delimiter than etl.delimiter. */
static int one_column_header(const etl_options *o, const char *path, size_t line, const char *name,
                             size_t len)
{
    const char *d = csv_likely_delimiter(name, len);
    if (!d) return HPCML_OK;
    char ex[200];
    etl_excerpt(ex, sizeof ex, name, len);
    HPCML_FAIL(HPCML_EDATA, "%s:%zu: the header is one column, '%s', split by '%s' it is not", path,
               line, ex, o->dialect.delimiter);
    return hpcml_error_context(
        "the file looks '%s'-separated: set etl.delimiter = \"%s\" (or leave "
        "etl.delimiter unset to detect it)",
        *d == '\t' ? "\\t" : d, *d == '\t' ? "\\t" : d);
}

static int parse_head(const etl_options *o, const char *path, const char *buf, size_t len,
                      int final, file_head *h)
{
    size_t pos = 0, line = 1;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    else if (!final && len < 3)
        return HEAD_NEED_MORE;
    HPCML_TRY(refuse_cr_line_ends(path, buf + pos, len - pos));
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
            const char *nl = memchr(buf + pos, '\n', len - pos);
            size_t hl = nl ? (size_t)(nl - (buf + pos)) : len - pos;
            csv_sniff sn;
            csv_dialect sd = o->dialect;
            csv_sniff_delimiter(&sd, buf + pos, hl + (nl != NULL), NULL, 1, &sn);
            if (sn.delimiter[0] && strcmp(sn.delimiter, o->dialect.delimiter) != 0)
                hpcml_error_context("the header parses as %zu columns split by '%s': set "
                                    "etl.delimiter = \"%s\" (or leave etl.delimiter unset to "
                                    "detect it)",
                                    sn.fields, *sn.delimiter == '\t' ? "\\t" : sn.delimiter,
                                    *sn.delimiter == '\t' ? "\\t" : sn.delimiter);
            break;
        }
        if (rec.empty || etl_starts_with(buf + rec.offset, rec.end - rec.offset, o->skip_prefix))
            continue;
        size_t total = 0;
        for (size_t i = 0; i < rec.nfields; i++) {
            if (!etl_valid_utf8(rec.fields[i].ptr, rec.fields[i].len)) {
                char ex[200];
                etl_excerpt(ex, sizeof ex, rec.fields[i].ptr, rec.fields[i].len);
                rc = HPCML_FAIL(HPCML_EDATA,
                                "%s:%zu: header column %zu is not valid UTF-8 text: '%s'", path,
                                rec.line, i + 1, ex);
                break;
            }
            total += rec.fields[i].len + 1;
        }
        if (rc != HPCML_OK) break;
        if (rec.nfields == 1 && (rc = one_column_header(o, path, rec.line, rec.fields[0].ptr,
                                                        rec.fields[0].len)) != HPCML_OK)
            break;
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
    HPCML_MPI_CHECK_ABORT(comm, MPI_Bcast(hdr, 2, MPI_INT64_T, 0, comm));
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
    HPCML_MPI_CHECK_ABORT(comm, MPI_Bcast(buf, (int)text, MPI_CHAR, 0, comm));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Bcast(meta, (int)(2 * n), MPI_INT64_T, 0, comm));
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

/* Rank 0: the delimiter of the first file's first records (etl.delimiter
 * unset). The head is read up to SNIFF_BYTES; junk lines are skipped. */
#define SNIFF_BYTES   (256u << 10)
#define SNIFF_RECORDS 200

static int sniff_delimiter(const etl_options *o, const csv_input_file *f, csv_sniff *sn)
{
    memset(sn, 0, sizeof *sn);
    char *buf = malloc(SNIFF_BYTES);
    HPCML_ALLOC_CHECK(buf, SNIFF_BYTES);
    csv_reader r;
    int rc = csv_reader_open(&r, f->path, f->gz, 0);
    if (rc != HPCML_OK) {
        free(buf);
        return rc;
    }
    size_t len = 0;
    while (rc == HPCML_OK && len < SNIFF_BYTES) {
        size_t got = 0;
        rc = csv_reader_read(&r, buf + len, SNIFF_BYTES - len, &got);
        if (got == 0) break;
        len += got;
    }
    csv_reader_close(&r);
    if (rc == HPCML_OK) {
        size_t pos = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        for (int64_t k = 0; k < o->skip_lines && pos < len; k++) {
            const char *nl = memchr(buf + pos, '\n', len - pos);
            pos = nl ? (size_t)(nl - buf) + 1 : len;
        }
        rc = refuse_cr_line_ends(f->path, buf + pos, len - pos);
        /* A head that ends the file holds a complete last record. */
        int whole = len < SNIFF_BYTES;
        if (whole && len > pos && buf[len - 1] != '\n') {
            char *nb = realloc(buf, len + 1);
            if (nb) buf = nb, buf[len++] = '\n';
        }
        if (rc == HPCML_OK)
            csv_sniff_delimiter(&o->dialect, buf + pos, len - pos, o->skip_prefix, SNIFF_RECORDS,
                                sn);
    }
    free(buf);
    return rc;
}

/* etl.delimiter unset: rank 0 detects it, every rank takes it. */
static int detect_delimiter(MPI_Comm comm, etl_options *o, const etl_inputs *in)
{
    int rank = hpcml_mpi_rank(comm);
    csv_sniff sn;
    memset(&sn, 0, sizeof sn);
    int rc = HPCML_OK;
    if (rank == 0 && in->n_files > 0) rc = sniff_delimiter(o, &in->files[0], &sn);
    HPCML_TRY(hpcml_mpi_agree(comm, rc));
    HPCML_MPI_CHECK_ABORT(comm, MPI_Bcast(sn.delimiter, sizeof sn.delimiter, MPI_CHAR, 0, comm));
    sn.delimiter[CSV_DELIMITER_MAX] = '\0';
    const char *shown = !strcmp(sn.delimiter, "\t") ? "\\t" : sn.delimiter;
    if (sn.delimiter[0]) {
        snprintf(o->dialect.delimiter, sizeof o->dialect.delimiter, "%s", sn.delimiter);
        if (rank == 0)
            log_info("etl.delimiter not set: detected '%s' (%zu fields in each of the first %zu "
                     "records of %s)",
                     shown, sn.fields, sn.records, in->files[0].path);
    } else if (rank == 0 && in->n_files > 0) {
        log_warn("etl.delimiter not set and not detected in the first records of %s (no "
                 "delimiter among , ; tab | splits them evenly): using ','",
                 in->files[0].path);
    }
    o->detect_delimiter = 0;
    o->delimiter_detected = sn.delimiter[0] != '\0';
    return HPCML_OK;
}

int etl_inputs_plan(MPI_Comm comm, etl_options *o, etl_inputs *in)
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
    if (o->detect_delimiter) HPCML_TRY(detect_delimiter(comm, o, in));

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
    HPCML_MPI_CHECK_ABORT(comm,
                          MPI_Allreduce(MPI_IN_PLACE, meta, nf * 4, MPI_INT64_T, MPI_SUM, comm));
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
        HPCML_MPI_CHECK_ABORT(
            comm, MPI_Allreduce(MPI_IN_PLACE, hashes, nf, MPI_UINT64_T, MPI_BXOR, comm));
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
        HPCML_MPI_CHECK_ABORT(comm, MPI_Bcast(in->names_buf, (int)len0, MPI_CHAR, 0, comm));
        if (split_names(in->names_buf, len0, in->n_names, &in->names) != HPCML_OK)
            hpcml_mpi_abort(comm, HPCML_EINTERNAL); /* between collectives: all ranks end */
        if (bad >= 0) {
            int owner = bad % P;
            size_t lenb = (size_t)meta[4 * bad + 3];
            char *other = malloc(lenb + 1);
            HPCML_ALLOC_ABORT(comm, other, "comparing headers");
            if (rank == owner) memcpy(other, heads[bad].names, lenb);
            HPCML_MPI_CHECK_ABORT(comm, MPI_Bcast(other, (int)lenb, MPI_CHAR, owner, comm));
            char **onames;
            if (split_names(other, lenb, (int)meta[4 * bad + 2], &onames) != HPCML_OK)
                hpcml_mpi_abort(comm, HPCML_EINTERNAL);
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
