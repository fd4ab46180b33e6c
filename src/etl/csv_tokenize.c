/* csv_tokenize.c — the CSV record reader and the parallel split scan
 * (see csv_tokenize.h for the format and the splitting scheme). */
#include "etl/csv_tokenize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/status.h"

static const char UTF8_BOM[3] = {'\xEF', '\xBB', '\xBF'};

void csv_dialect_default(csv_dialect *d)
{
    memset(d, 0, sizeof *d);
    d->delimiter[0] = ',';
    d->quote = '"';
    d->trim_spaces = false;
    d->skip_bom = true;
}

int csv_dialect_check(const csv_dialect *d, const char **why)
{
    size_t n = strnlen(d->delimiter, sizeof d->delimiter);
    const char *msg = NULL;
    if (n == 0)
        msg = "the delimiter is empty";
    else if (n > CSV_DELIMITER_MAX)
        msg = "the delimiter is longer than 15 bytes";
    else if (strchr(d->delimiter, '\n') || strchr(d->delimiter, '\r'))
        msg = "the delimiter holds a line end";
    else if (d->quote != '\0' && strchr(d->delimiter, d->quote))
        msg = "the delimiter holds the quote character";
    else if (d->quote == '\n' || d->quote == '\r')
        msg = "the quote character is a line end";
    if (why) *why = msg;
    return msg ? HPCML_EUSAGE : HPCML_OK;
}

void csv_record_init(csv_record *rec)
{
    memset(rec, 0, sizeof *rec);
}

void csv_record_free(csv_record *rec)
{
    free(rec->fields);
    free(rec->scratch);
    memset(rec, 0, sizeof *rec);
}

void csv_cursor_init(csv_cursor *cur, size_t start_line)
{
    cur->pos = 0;
    cur->line = start_line;
    cur->final = true;
}

/* ---- scanning state of one record ----------------------------------------- */

typedef struct {
    const char *buf;
    size_t len;
    const char *delim;
    size_t dlen;
    char d0;
    char quote;
    bool trim;
    bool final;
    size_t line;       /* line number at the scan position */
    size_t line_start; /* offset where that line begins (for columns) */
} scan;

static inline bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static inline bool delim_at(const scan *s, size_t p)
{
    return s->buf[p] == s->d0 &&
           (s->dlen == 1 || (s->len - p >= s->dlen && memcmp(s->buf + p, s->delim, s->dlen) == 0));
}

/* A proper prefix of the delimiter fills the rest of a non-final buffer. */
static inline bool delim_prefix_at_end(const scan *s, size_t p)
{
    return !s->final && s->len - p < s->dlen && memcmp(s->buf + p, s->delim, s->len - p) == 0;
}

static inline size_t skip_spaces(const scan *s, size_t p)
{
    while (p < s->len && is_space(s->buf[p]) && !delim_at(s, p))
        p++;
    return p;
}

/* Counts the line feeds in [from, to) into the scan's line position. */
static void count_lines(scan *s, size_t from, size_t to)
{
    const char *p = s->buf + from, *end = s->buf + to;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        s->line++;
        p++;
        s->line_start = (size_t)(p - s->buf);
    }
}

/* The record start after `start` by the parity rule: one past the first
 * line feed with an even number of quotes in [start, it), or len if none
 * (*found false). *newlines gets the line feeds in between. */
static size_t boundary_after(const char *buf, size_t len, char quote, size_t start,
                             size_t *newlines, bool *found)
{
    unsigned parity = 0;
    size_t nl = 0;
    for (size_t i = start; i < len; i++) {
        char c = buf[i];
        if (c == '\n') {
            nl++;
            if (parity == 0) {
                *newlines = nl;
                *found = true;
                return i + 1;
            }
        } else if (c == quote && quote != '\0') {
            parity ^= 1u;
        }
    }
    *newlines = nl;
    *found = false;
    return len;
}

static int push_field(csv_record *rec, const char *ptr, size_t len, size_t offset, bool quoted)
{
    if (rec->nfields == rec->fields_cap) {
        size_t cap = rec->fields_cap ? 2 * rec->fields_cap : 32;
        csv_field *f = realloc(rec->fields, cap * sizeof *f);
        if (f == NULL) return HPCML_EINTERNAL;
        rec->fields = f;
        rec->fields_cap = cap;
    }
    csv_field *f = &rec->fields[rec->nfields++];
    f->ptr = ptr;
    f->len = len;
    f->offset = offset;
    f->quoted = quoted;
    return HPCML_OK;
}

static int scratch_append(csv_record *rec, const char *bytes, size_t n)
{
    if (rec->scratch_cap - rec->scratch_len < n) {
        size_t cap = rec->scratch_cap ? rec->scratch_cap : 256;
        while (cap - rec->scratch_len < n)
            cap *= 2;
        char *p = realloc(rec->scratch, cap);
        if (p == NULL) return HPCML_EINTERNAL;
        rec->scratch = p;
        rec->scratch_cap = cap;
    }
    memcpy(rec->scratch + rec->scratch_len, bytes, n);
    rec->scratch_len += n;
    return HPCML_OK;
}

/* Fields unescaped into scratch carry ptr == NULL while the record is read
 * (scratch may move as it grows); they lie there back to back in field order. */
static void resolve_scratch_fields(csv_record *rec)
{
    size_t off = 0;
    for (size_t i = 0; i < rec->nfields; i++) {
        if (rec->fields[i].ptr == NULL) {
            rec->fields[i].ptr = rec->scratch + off;
            off += rec->fields[i].len;
        }
    }
}

/* ---- the record reader ---------------------------------------------------- */

#if defined(__SSE2__)
/* Bit i set when p[i] is a line feed, the delimiter's first byte or the
 * quote (quote '\0' matches nothing in an unquoted field: a NUL byte there
 * is only a false stop, which the byte loop steps over). */
static inline unsigned stop_mask16(const char *p, char d0, char quote)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
                               _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(d0)),
                                            _mm_cmpeq_epi8(v, _mm_set1_epi8(quote))));
    return (unsigned)_mm_movemask_epi8(hit);
}
#endif

static int fail(scan *s, csv_cursor *cur, csv_record *rec, csv_error *err, csv_error_kind kind,
                size_t at, size_t line, size_t line_start, size_t field_index, const char *expected)
{
    /* Resynchronize first: an incomplete buffer may yet complete the record. */
    size_t newlines;
    bool found;
    size_t next = boundary_after(s->buf, s->len, s->quote, rec->offset, &newlines, &found);
    if (!found && !s->final) return CSV_PARTIAL;
    err->kind = kind;
    err->line = line;
    err->column = at - line_start + 1;
    err->field = field_index + 1;
    err->offset = at;
    err->expected = expected;
    rec->end = next;
    rec->nlines = newlines + (found ? 0 : 1);
    cur->pos = next;
    cur->line = rec->line + newlines;
    return HPCML_EDATA;
}

static int fail_nomem(csv_error *err, size_t at, size_t line, size_t field_index)
{
    err->kind = CSV_ERR_NOMEM;
    err->line = line;
    err->column = 0;
    err->field = field_index + 1;
    err->offset = at;
    err->expected = "memory for the record";
    return HPCML_EINTERNAL;
}

static const char EXPECT_CLOSING_QUOTE[] = "a closing quote before the end of the input";
static const char EXPECT_AFTER_QUOTE[] =
    "the delimiter or the end of the line after a closing quote";
static const char EXPECT_NO_QUOTE[] =
    "no quote inside an unquoted field (quote the whole field and double its quotes)";

#if defined(__SSE2__)
/* One unquoted field [start, stop) of a plain record, trimmed as the
 * general reader trims: leading spaces, then (last field) the CR of a CRLF,
 * then trailing spaces. The field holds no delimiter byte, so a delimiter
 * that is itself a space or tab cannot be trimmed away. */
static inline int push_plain(csv_record *rec, const char *buf, size_t start, size_t stop, bool last,
                             bool trim)
{
    if (trim)
        while (start < stop && is_space(buf[start]))
            start++;
    if (last && stop > start && buf[stop - 1] == '\r') stop--;
    if (trim)
        while (stop > start && is_space(buf[stop - 1]))
            stop--;
    return push_field(rec, buf + start, stop - start, start, false);
}

/* The common record in one pass: a one-byte delimiter, no quote character
 * before the line feed, not an empty line, the line feed within buf (and 16
 * readable bytes from every block start). 16 bytes at a time, the
 * delimiters before the line feed become fields, exactly as the general
 * reader would split and trim them. Returns 1 with rec and cur advanced, or
 * 0 when the general reader must take the record (cur untouched; rec may
 * hold fields, which the general reader resets). */
static int simple_record(const csv_dialect *d, const char *buf, size_t len, size_t p,
                         csv_cursor *cur, csv_record *rec)
{
    if (buf[p] == '\n' || buf[p] == '\r') return 0;
    const __m128i vd = _mm_set1_epi8(d->delimiter[0]), vn = _mm_set1_epi8('\n');
    const __m128i vq = _mm_set1_epi8(d->quote);
    const bool quoting = d->quote != '\0';
    rec->nfields = 0;
    size_t start = p, eol;
    for (size_t base = p;; base += 16) {
        if (len - base < 16) return 0;
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + base));
        unsigned nl = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vn));
        unsigned before = nl ? (1u << __builtin_ctz(nl)) - 1 : 0xFFFFu;
        if (quoting && ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq)) & before)) return 0;
        unsigned dm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vd)) & before;
        while (dm) {
            size_t at = base + (size_t)__builtin_ctz(dm);
            if (push_plain(rec, buf, start, at, false, d->trim_spaces) != HPCML_OK) return 0;
            start = at + 1;
            dm &= dm - 1;
        }
        if (nl) {
            eol = base + (size_t)__builtin_ctz(nl);
            break;
        }
    }
    if (push_plain(rec, buf, start, eol, true, d->trim_spaces) != HPCML_OK) return 0;
    rec->scratch_len = 0;
    rec->offset = p;
    rec->line = cur->line;
    rec->empty = false;
    rec->end = eol + 1;
    rec->nlines = 1;
    cur->pos = eol + 1;
    cur->line++;
    return 1;
}
#endif

int csv_next_record(const csv_dialect *d, const char *buf, size_t len, csv_cursor *cur,
                    csv_record *rec, csv_error *err)
{
#if defined(__SSE2__)
    if (d->delimiter[1] == '\0' && !(cur->pos == 0 && d->skip_bom) && cur->pos < len &&
        simple_record(d, buf, len, cur->pos, cur, rec))
        return HPCML_OK;
#endif
    return csv_next_record_general(d, buf, len, cur, rec, err);
}

int csv_next_record_general(const csv_dialect *d, const char *buf, size_t len, csv_cursor *cur,
                            csv_record *rec, csv_error *err)
{
    scan s = {
        .buf = buf,
        .len = len,
        .delim = d->delimiter,
        .dlen = strlen(d->delimiter),
        .d0 = d->delimiter[0],
        .quote = d->quote,
        .trim = d->trim_spaces,
        .final = cur->final,
        .line = cur->line,
    };
    size_t p = cur->pos;
    if (p == 0 && d->skip_bom) {
        size_t n = len < 3 ? len : 3;
        if (memcmp(buf, UTF8_BOM, n) == 0) {
            if (n < 3 && !s.final) return CSV_PARTIAL;
            if (n == 3) p = 3;
        }
    }
    if (p >= len) return s.final ? CSV_END : CSV_PARTIAL;

    rec->nfields = 0;
    rec->scratch_len = 0;
    rec->offset = p;
    rec->line = cur->line;
    rec->empty = false;
    s.line_start = p;

    size_t end; /* one past the record's line end */
    if (buf[p] == '\n' || buf[p] == '\r') {
        /* An empty line: LF, CRLF, or a CR that ends the input. */
        if (buf[p] == '\n')
            end = p + 1;
        else if (p + 1 < len && buf[p + 1] == '\n')
            end = p + 2;
        else if (p + 1 == len && s.final)
            end = len;
        else if (p + 1 == len)
            return CSV_PARTIAL;
        else
            end = 0;
        if (end != 0) {
            rec->empty = true;
            rec->end = end;
            rec->nlines = 1;
            cur->pos = end;
            cur->line = s.line + (buf[end - 1] == '\n');
            return HPCML_OK;
        }
        /* a bare CR starts an ordinary field */
    }

    for (size_t fi = 0;; fi++) {
        if (s.trim) p = skip_spaces(&s, p);
        size_t fstart = p;

        if (s.quote != '\0' && p < len && buf[p] == s.quote) {
            size_t open = p, open_line = s.line, open_line_start = s.line_start;
            p++;
            size_t seg = p;
            bool escaped = false;
            size_t field_len = 0;
            for (;;) {
                const char *qp = memchr(buf + p, s.quote, len - p);
                size_t qpos = qp ? (size_t)(qp - buf) : len;
                count_lines(&s, p, qpos);
                if (qp == NULL) {
                    if (!s.final) return CSV_PARTIAL;
                    return fail(&s, cur, rec, err, CSV_ERR_UNTERMINATED_QUOTE, open, open_line,
                                open_line_start, fi, EXPECT_CLOSING_QUOTE);
                }
                if (qpos + 1 == len && !s.final) return CSV_PARTIAL; /* doubled or closing? */
                if (qpos + 1 < len && buf[qpos + 1] == s.quote) {
                    /* A doubled quote: copy what came before it and one quote. */
                    if (scratch_append(rec, buf + seg, qpos + 1 - seg) != HPCML_OK)
                        return fail_nomem(err, qpos, s.line, fi);
                    field_len += qpos + 1 - seg;
                    escaped = true;
                    p = qpos + 2;
                    seg = p;
                    continue;
                }
                /* The closing quote. */
                if (escaped) {
                    if (scratch_append(rec, buf + seg, qpos - seg) != HPCML_OK)
                        return fail_nomem(err, qpos, s.line, fi);
                    field_len += qpos - seg;
                    if (push_field(rec, NULL, field_len, fstart, true) != HPCML_OK)
                        return fail_nomem(err, qpos, s.line, fi);
                } else {
                    if (push_field(rec, buf + open + 1, qpos - open - 1, fstart, true) != HPCML_OK)
                        return fail_nomem(err, qpos, s.line, fi);
                }
                p = qpos + 1;
                break;
            }
            if (s.trim) p = skip_spaces(&s, p);
            if (p == len) {
                if (!s.final) return CSV_PARTIAL;
                end = len;
                break;
            }
            if (delim_at(&s, p)) {
                p += s.dlen;
                continue;
            }
            if (buf[p] == '\n') {
                end = p + 1;
                break;
            }
            if (buf[p] == '\r' && p + 1 < len && buf[p + 1] == '\n') {
                end = p + 2;
                break;
            }
            if (buf[p] == '\r' && p + 1 == len) {
                if (!s.final) return CSV_PARTIAL;
                end = len;
                break;
            }
            if (delim_prefix_at_end(&s, p)) return CSV_PARTIAL;
            return fail(&s, cur, rec, err, CSV_ERR_AFTER_QUOTE, p, s.line, s.line_start, fi,
                        EXPECT_AFTER_QUOTE);
        }

        /* An unquoted field runs to the delimiter or the line end. */
        size_t start = p;
        const char d0 = s.d0, quote = s.quote;
        while (p < len) {
#if defined(__SSE2__)
            /* 16 bytes at a time to the next line feed, delimiter start or quote. */
            if (len - p >= 16) {
                unsigned m = stop_mask16(buf + p, d0, quote);
                if (m == 0) {
                    p += 16;
                    continue;
                }
                p += (size_t)__builtin_ctz(m);
            }
#endif
            char c = buf[p];
            if (c == '\n') break;
            if (c == d0 && delim_at(&s, p)) break;
            if (c == quote && quote != '\0')
                return fail(&s, cur, rec, err, CSV_ERR_STRAY_QUOTE, p, s.line, s.line_start, fi,
                            EXPECT_NO_QUOTE);
            p++;
        }
        size_t stop = p;
        bool last;
        if (p == len) {
            if (!s.final) return CSV_PARTIAL;
            last = true;
            end = len;
        } else if (buf[p] == '\n') {
            last = true;
            end = p + 1;
        } else {
            last = false;
            p += s.dlen;
        }
        if (last && stop > start && buf[stop - 1] == '\r') stop--;
        if (s.trim)
            while (stop > start && is_space(buf[stop - 1]))
                stop--;
        if (push_field(rec, buf + start, stop - start, fstart, false) != HPCML_OK)
            return fail_nomem(err, start, s.line, fi);
        if (last) break;
    }

    resolve_scratch_fields(rec);
    rec->end = end;
    rec->nlines = s.line - rec->line + 1;
    cur->pos = end;
    cur->line = s.line + (buf[end - 1] == '\n');
    return HPCML_OK;
}

void csv_error_format(const csv_error *err, char *out, size_t out_size)
{
    static const char *const what[] = {
        [CSV_ERR_NONE] = "no error",
        [CSV_ERR_UNTERMINATED_QUOTE] = "unterminated quoted field",
        [CSV_ERR_AFTER_QUOTE] = "unexpected character after a closing quote",
        [CSV_ERR_STRAY_QUOTE] = "quote inside an unquoted field",
        [CSV_ERR_NOMEM] = "out of memory",
    };
    const char *kind = (unsigned)err->kind <= CSV_ERR_NOMEM ? what[err->kind] : "error";
    snprintf(out, out_size, "line %zu, column %zu (field %zu): %s; expected %s", err->line,
             err->column, err->field, kind, err->expected ? err->expected : "valid CSV");
}

void csv_field_position(const char *buf, const csv_record *rec, size_t i, size_t *line,
                        size_t *column)
{
    size_t target = i < rec->nfields ? rec->fields[i].offset : rec->offset;
    size_t l = rec->line, line_start = rec->offset;
    for (size_t p = rec->offset; p < target; p++) {
        if (buf[p] == '\n') {
            l++;
            line_start = p + 1;
        }
    }
    *line = l;
    *column = target - line_start + 1;
}

/* ---- parallel splitting --------------------------------------------------- */

void csv_chunk_scan(const csv_dialect *d, const char *chunk, size_t len, csv_chunk_info *info)
{
    const char quote = d->quote;
    unsigned parity = 0;
    size_t nl = 0;
    info->first_start[0] = info->first_start[1] = CSV_NO_START;
    info->newlines_before[0] = info->newlines_before[1] = 0;
    size_t i = 0;
    /* Until both hypotheses have their first start; a line feed is a record
     * boundary under hypothesis h exactly when h equals the local parity. */
    for (;
         i < len && (info->first_start[0] == CSV_NO_START || info->first_start[1] == CSV_NO_START);
         i++) {
        char c = chunk[i];
        if (c == '\n') {
            nl++;
            if (info->first_start[parity] == CSV_NO_START) {
                info->first_start[parity] = i + 1;
                info->newlines_before[parity] = nl;
            }
        } else if (c == quote && quote != '\0') {
            parity ^= 1u;
        }
    }
    /* Then only the totals. */
    if (quote != '\0') {
        for (; i < len; i++) {
            char c = chunk[i];
            nl += c == '\n';
            parity ^= (unsigned)(c == quote);
        }
    } else {
        for (; i < len; i++)
            nl += chunk[i] == '\n';
    }
    info->quote_parity = parity;
    info->newlines = nl;
}

size_t csv_find_record_start(const csv_dialect *d, const char *buf, size_t len, size_t from)
{
    if (from == 0) return 0;
    if (from > len) return len;
    unsigned parity = 0;
    if (d->quote != '\0') {
        for (size_t i = 0; i < from - 1; i++)
            parity ^= (unsigned)(buf[i] == d->quote);
    }
    for (size_t i = from - 1; i < len; i++) {
        char c = buf[i];
        if (c == '\n' && parity == 0) return i + 1;
        if (c == d->quote && d->quote != '\0') parity ^= 1u;
    }
    return len;
}

/* ---- null markers --------------------------------------------------------- */

bool csv_is_null(const char *field, size_t len, const char *const *markers)
{
    while (len > 0 && is_space(field[0]))
        field++, len--;
    while (len > 0 && is_space(field[len - 1]))
        len--;
    for (; markers && *markers; markers++) {
        size_t n = strlen(*markers);
        if (n == len && memcmp(field, *markers, n) == 0) return true;
    }
    return false;
}

const char *csv_error_text(csv_error_kind k)
{
    switch (k) {
    case CSV_ERR_UNTERMINATED_QUOTE: return "unterminated quoted field";
    case CSV_ERR_AFTER_QUOTE: return "text after a closing quote";
    case CSV_ERR_STRAY_QUOTE: return "quote character inside an unquoted field";
    case CSV_ERR_NOMEM: return "out of memory";
    default: return "malformed CSV";
    }
}

/* ---- delimiter detection --------------------------------------------------- */

static const char *const SNIFF_CANDIDATES[] = {",", ";", "\t", "|", ", ", "; ", "\t ", "| "};
#define SNIFF_N (sizeof SNIFF_CANDIDATES / sizeof SNIFF_CANDIDATES[0])

/* Fields per record under one candidate, or 0 when it does not fit. */
static size_t sniff_try(const csv_dialect *d, const char *buf, size_t len, const char *skip_prefix,
                        size_t max_records, csv_record *rec, size_t *n_records)
{
    csv_cursor cur;
    csv_cursor_init(&cur, 1);
    cur.final = false;
    csv_error err;
    size_t fields = 0, n = 0, plen = skip_prefix ? strlen(skip_prefix) : 0;
    *n_records = 0;
    while (n < max_records) {
        int k = csv_next_record_general(d, buf, len, &cur, rec, &err);
        if (k == CSV_END || k == CSV_PARTIAL) break;
        if (k != HPCML_OK) return 0;
        if (rec->empty) continue;
        if (plen && rec->end - rec->offset >= plen &&
            memcmp(buf + rec->offset, skip_prefix, plen) == 0)
            continue;
        if (n == 0)
            fields = rec->nfields;
        else if (rec->nfields != fields)
            return 0;
        n++;
    }
    *n_records = n;
    return n > 0 && fields >= 2 ? fields : 0;
}

void csv_sniff_delimiter(const csv_dialect *d, const char *buf, size_t len, const char *skip_prefix,
                         size_t max_records, csv_sniff *out)
{
    memset(out, 0, sizeof *out);
    csv_record rec;
    csv_record_init(&rec);
    for (size_t i = 0; i < SNIFF_N; i++) {
        csv_dialect t = *d;
        snprintf(t.delimiter, sizeof t.delimiter, "%s", SNIFF_CANDIDATES[i]);
        t.skip_bom = false;
        if (csv_dialect_check(&t, NULL) != HPCML_OK) continue;
        size_t n = 0, fields = sniff_try(&t, buf, len, skip_prefix, max_records, &rec, &n);
        if (fields == 0) continue;
        size_t cur_len = strlen(out->delimiter), len_i = strlen(SNIFF_CANDIDATES[i]);
        if (fields > out->fields || (fields == out->fields && len_i > cur_len)) {
            snprintf(out->delimiter, sizeof out->delimiter, "%s", SNIFF_CANDIDATES[i]);
            out->fields = fields;
            out->records = n;
        }
    }
    csv_record_free(&rec);
}

const char *csv_likely_delimiter(const char *text, size_t len)
{
    const char *best = NULL;
    size_t best_n = 0;
    for (size_t i = 0; i < 4; i++) { /* the one-byte candidates */
        size_t n = 0;
        for (size_t k = 0; k < len; k++)
            n += text[k] == SNIFF_CANDIDATES[i][0];
        if (n > best_n) best = SNIFF_CANDIDATES[i], best_n = n;
    }
    return best;
}
