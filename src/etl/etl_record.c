/* etl_record.c — parsing records into the table's column arrays: null
 * markers, numbers, categories, labels, keys; a bad field named by
 * FILE:LINE:COLUMN. See etl_record.h. */
#include "etl/etl_record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/preempt.h"
#include "core/rng.h"
#include "core/status.h"
#include "etl/etl_text.h"
#include "etl/parse_number.h"

/* Read size past the end of a rank's range, to finish its last record. */
#define TAIL_READ_BYTES (64 << 10)

void etl_parser_init(etl_parser *p, const etl_options *o, const etl_schema *s, const etl_inputs *in,
                     etl_table *t)
{
    memset(p, 0, sizeof *p);
    p->o = o, p->s = s, p->in = in, p->t = t;
    for (const char *const *m = o->null_markers; *m && p->n_nulls < ETL_MAX_MARKERS; m++) {
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
        p->nulls[p->n_nulls++] = (etl_marker){txt, len, 0};
        p->null_first[(unsigned char)txt[0]] = 1;
        if (len > p->max_null_len) p->max_null_len = len;
    }
    for (int i = 0; i < o->n_positive && p->n_labels < 2 * ETL_MAX_MARKERS; i++)
        p->labels[p->n_labels++] =
            (etl_marker){o->positive_labels[i], strlen(o->positive_labels[i]), 1};
    for (int i = 0; i < o->n_negative && p->n_labels < 2 * ETL_MAX_MARKERS; i++)
        p->labels[p->n_labels++] =
            (etl_marker){o->negative_labels[i], strlen(o->negative_labels[i]), 0};
    csv_record_init(&p->rec);
}

/* Same rule as csv_is_null (spaces and tabs around the text are ignored). */
static int is_null_slow(const etl_parser *p, const csv_field *f)
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
static inline int is_null(const etl_parser *p, const csv_field *f)
{
    unsigned char c0 = f->len ? (unsigned char)f->ptr[0] : 0;
    if (f->len && !p->null_first[c0] && c0 != ' ' && c0 != '\t') return 0;
    return is_null_slow(p, f);
}

static int label_of(const etl_parser *p, const char *s, size_t len)
{
    for (int i = 0; i < p->n_labels; i++)
        if (p->labels[i].len == len && memcmp(p->labels[i].text, s, len) == 0)
            return p->labels[i].cls;
    return -1;
}

/* Bad field: error (the message names FILE:LINE:COLUMN) or drop and count. */
static int bad_field(etl_parser *p, const char *buf, int file, int64_t row, size_t field,
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
    etl_excerpt(ex, sizeof ex, f->ptr, f->len);
    return HPCML_FAIL(HPCML_EDATA, "%s:%zu:%zu: column '%s': '%s' %s", p->in->files[file].path,
                      line, col, p->s->cols[field].name, ex, what);
}

int etl_parser_flush(etl_parser *p)
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
static int table_room(etl_parser *p)
{
    etl_table *t = p->t;
    if (p->fn && t->n >= p->max_rows) HPCML_TRY(etl_parser_flush(p));
    if (t->n == t->cap)
        HPCML_TRY(etl_table_grow(t, p->s, p->bytes_done, p->bytes_total, p->fn ? p->max_rows : 0));
    return HPCML_OK;
}

static int parse_record(etl_parser *p, const char *buf, int file)
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
            if (!etl_valid_utf8(f->ptr, f->len)) {
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
int etl_parse_piece(etl_parser *p, const etl_piece *pc, int64_t start, int64_t stop,
                    size_t first_line, char **bufp, size_t *capp)
{
    const csv_input_file *f = &p->in->files[pc->file];
    hpcml_pause_point("etl.read"); /* test hook: the input's size is planned by now */
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
                } else if (etl_starts_with(buf + rec->offset, rec->end - rec->offset,
                                           o->skip_prefix)) {
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
        len += got;
        if (got == 0 && !f->gz && r.pos < f->size_bytes) { /* cut while read: not bad data */
            rc = csv_reader_shrunk(&r, f->size_bytes);
            break;
        }
        if (got == 0) eof = 1;
    }
    csv_reader_close(&r);
    p->bytes_done = done_before + (base + (int64_t)cur.pos - start);
    /* The bytes of the records this piece owns, from its first record start
     * to the end of its last record: over all ranks each input byte once
     * (reads past the range and boundary scans are not input). */
    p->t->bytes_read += base + (int64_t)cur.pos - start;
    *bufp = buf;
    *capp = cap;
    return rc;
}

void etl_parser_free(etl_parser *p)
{
    csv_record_free(&p->rec);
}
