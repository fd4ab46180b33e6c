/* fuzz_csv.c — libFuzzer target for the ETL's parsing core: the CSV tokenizer
 * (serial, streamed in pieces, and split into byte ranges) and the number
 * parsers (differentially against strtod/strtof/strtoll).
 *
 * Input: byte 0 picks the dialect and mode, the rest is the CSV text.
 * Every invariant failure aborts, which libFuzzer reports as a crash. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "etl/csv_tokenize.h"
#include "etl/parse_number.h"

#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    int rc;
    size_t offset, end, line, nfields;
    size_t err_line, err_column;
    int empty;
} event;

static size_t count_lf(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += p[i] == '\n';
    return c;
}

/* What one csv_next_record call returned, comparable across parses. */
static event make_event(int rc, const csv_record *rec, const csv_error *err)
{
    event e = {rc,
               rec->offset,
               rec->end,
               rec->line,
               rc == HPCML_OK ? rec->nfields : 0,
               rc == HPCML_EDATA ? err->line : 0,
               rc == HPCML_EDATA ? err->column : 0,
               rc == HPCML_OK && rec->empty};
    return e;
}

static bool same_event(const event *a, const event *b)
{ /* field by field: padding differs */
    return a->rc == b->rc && a->offset == b->offset && a->end == b->end && a->line == b->line &&
           a->nfields == b->nfields && a->err_line == b->err_line &&
           a->err_column == b->err_column && a->empty == b->empty;
}

/* e must be the serial parse's next event. */
static void expect_event(event e, const event *serial, size_t nserial, size_t *k)
{
    FUZZ_ASSERT(*k < nserial && same_event(&e, &serial[*k]));
    (*k)++;
}

static void check_numbers(const char *f, size_t len)
{
    if (len > 400) return;
    char z[401];
    memcpy(z, f, len);
    z[len] = '\0';
    if (memchr(f, '\0', len)) return; /* strtod would stop at the NUL */

    double d;
    char *end;
    if (parse_double(f, len, &d) == HPCML_OK) {
        double ref = strtod(z, &end);
        FUZZ_ASSERT(end == z + len);
        FUZZ_ASSERT(memcmp(&d, &ref, sizeof d) == 0);
    }
    float fl;
    if (parse_float(f, len, &fl) == HPCML_OK) {
        float ref = strtof(z, &end);
        FUZZ_ASSERT(end == z + len);
        FUZZ_ASSERT(memcmp(&fl, &ref, sizeof fl) == 0);
    }
    int64_t v;
    int rc = parse_int64(f, len, &v);
    errno = 0;
    long long ref = strtoll(z, &end, 10);
    bool plain = len > 0;
    for (size_t i = 0; i < len; i++) {
        bool sign = i == 0 && (f[i] == '+' || f[i] == '-') && len > 1;
        if (!sign && (f[i] < '0' || f[i] > '9')) plain = false;
    }
    if (rc == HPCML_OK) FUZZ_ASSERT(errno == 0 && end == z + len && ref == v);
    if (plain && errno == 0) FUZZ_ASSERT(rc == HPCML_OK);
    if (plain && errno == 0 && len < 16) FUZZ_ASSERT(parse_double(f, len, &d) == HPCML_OK);
}

/* The reader's fast path must agree with the general reader exactly. */
static void check_general(const csv_dialect *d, const char *buf, size_t n, csv_cursor before,
                          int rc, const csv_cursor *cur, const csv_record *rec,
                          const csv_error *err, csv_record *rec2)
{
    csv_error err2;
    int rc2 = csv_next_record_general(d, buf, n, &before, rec2, &err2);
    event a = make_event(rc, rec, err), b = make_event(rc2, rec2, &err2);
    FUZZ_ASSERT(rc2 == rc && same_event(&a, &b));
    FUZZ_ASSERT(before.pos == cur->pos && before.line == cur->line);
    if (rc != HPCML_OK) return;
    FUZZ_ASSERT(rec2->nlines == rec->nlines);
    for (size_t i = 0; i < rec->nfields; i++) {
        const csv_field *f = &rec->fields[i], *g = &rec2->fields[i];
        FUZZ_ASSERT(f->len == g->len && f->offset == g->offset && f->quoted == g->quoted);
        FUZZ_ASSERT(memcmp(f->ptr, g->ptr, f->len) == 0);
    }
}

/* Serial parse with invariants; records the events. */
static size_t parse_serial(const csv_dialect *d, const char *buf, size_t n, event *ev, bool numbers)
{
    csv_cursor cur;
    csv_cursor_init(&cur, 1);
    csv_record rec, rec2;
    csv_record_init(&rec);
    csv_record_init(&rec2);
    csv_error err;
    size_t nev = 0;
    for (;;) {
        size_t before = cur.pos, line_before = cur.line;
        csv_cursor cur_before = cur;
        int rc = csv_next_record(d, buf, n, &cur, &rec, &err);
        check_general(d, buf, n, cur_before, rc, &cur, &rec, &err, &rec2);
        if (rc == CSV_END) {
            FUZZ_ASSERT(cur.pos >= n || (before == 0 && n <= 3));
            break;
        }
        FUZZ_ASSERT(rc == HPCML_OK || rc == HPCML_EDATA);
        FUZZ_ASSERT(cur.pos > before && cur.pos <= n);
        FUZZ_ASSERT(rec.offset >= before && rec.offset < cur.pos && rec.end == cur.pos);
        /* line numbers follow the line feeds consumed */
        FUZZ_ASSERT(cur.line == line_before + count_lf(buf + before, cur.pos - before));
        /* the record ends where the parity rule says */
        FUZZ_ASSERT(csv_find_record_start(d, buf, n, rec.offset + 1) == rec.end);
        if (rc == HPCML_EDATA) {
            FUZZ_ASSERT(err.offset >= rec.offset && err.offset < n);
            FUZZ_ASSERT(err.line >= rec.line && err.column >= 1 && err.field >= 1);
            char msg[256];
            csv_error_format(&err, msg, sizeof msg);
        } else {
            FUZZ_ASSERT(rec.empty == (rec.nfields == 0));
            for (size_t i = 0; i < rec.nfields; i++) {
                const csv_field *f = &rec.fields[i];
                bool in_buf = f->ptr >= buf && f->ptr + f->len <= buf + n;
                bool in_scratch = rec.scratch && f->ptr >= rec.scratch &&
                                  f->ptr + f->len <= rec.scratch + rec.scratch_len;
                FUZZ_ASSERT(in_buf || in_scratch);
                FUZZ_ASSERT(f->offset >= rec.offset && f->offset < rec.end + 1);
                if (i) FUZZ_ASSERT(f->offset > rec.fields[i - 1].offset);
                if (!f->quoted) FUZZ_ASSERT(in_buf && memchr(f->ptr, '\n', f->len) == NULL);
                size_t line, col;
                csv_field_position(buf, &rec, i, &line, &col);
                FUZZ_ASSERT(line >= rec.line && line < rec.line + rec.nlines && col >= 1);
                if (numbers) check_numbers(f->ptr, f->len);
            }
        }
        ev[nev++] = make_event(rc, &rec, &err);
    }
    csv_record_free(&rec);
    csv_record_free(&rec2);
    return nev;
}

/* The split scheme of csv_tokenize.h over ranges [cuts[r], cuts[r+1]). */
static void check_split(const csv_dialect *d, const char *buf, size_t n, const size_t *cuts, int nr,
                        const event *serial, size_t nserial)
{
    csv_record rec;
    csv_record_init(&rec);
    csv_error err;
    unsigned parity = 0;
    size_t newlines = 0, k = 0;
    for (int r = 0; r < nr; r++) {
        size_t a = cuts[r], b = cuts[r + 1];
        size_t lo = a ? a - 1 : 0, hi = b ? b - 1 : 0;
        csv_chunk_info info;
        csv_chunk_scan(d, buf + lo, hi - lo, &info);
        FUZZ_ASSERT(info.newlines == count_lf(buf + lo, hi - lo));
        csv_cursor cur;
        csv_cursor_init(&cur, 1);
        bool owns = true;
        if (a > 0) {
            size_t s = csv_chunk_resolve(&info, parity);
            if (s == CSV_NO_START) {
                owns = false;
            } else {
                FUZZ_ASSERT(s >= 1 && s <= hi - lo);
                cur.pos = lo + s;
                cur.line = 1 + newlines + info.newlines_before[parity];
            }
        }
        while (owns && cur.pos < b) {
            int rc = csv_next_record(d, buf, n, &cur, &rec, &err);
            if (rc == CSV_END) break;
            expect_event(make_event(rc, &rec, &err), serial, nserial, &k);
        }
        parity ^= info.quote_parity;
        newlines += info.newlines;
    }
    FUZZ_ASSERT(k == nserial);
    csv_record_free(&rec);
}

/* The same document fed in growing pieces with final = false until the end. */
static void check_streaming(const csv_dialect *d, const char *buf, size_t n, const event *serial,
                            size_t nserial, uint32_t seed)
{
    csv_cursor cur;
    csv_cursor_init(&cur, 1);
    cur.final = false;
    csv_record rec;
    csv_record_init(&rec);
    csv_error err;
    size_t avail = 0, k = 0;
    for (;;) {
        int rc = csv_next_record(d, buf, avail, &cur, &rec, &err);
        if (rc == CSV_PARTIAL) {
            if (avail == n) {
                cur.final = true;
            } else {
                seed = seed * 1103515245u + 12345u;
                avail += 1 + (seed >> 16) % 7;
                if (avail > n) avail = n;
            }
            continue;
        }
        if (rc == CSV_END) break;
        expect_event(make_event(rc, &rec, &err), serial, nserial, &k);
    }
    FUZZ_ASSERT(k == nserial);
    csv_record_free(&rec);
}

static void check_eisel_lemire(const uint8_t *data, size_t size)
{
    if (size < 10) return;
    uint64_t w;
    memcpy(&w, data, 8);
    w >>= data[8] % 64;
    int64_t q = (int64_t)(data[9] % 160) * 5 - 400 + (int64_t)(data[8] % 5);
    char s[64];
    snprintf(s, sizeof s, "%" PRIu64 "e%" PRId64, w, q);
    double d, ref = strtod(s, NULL);
    if (parse_eisel_lemire_double(w, q, false, &d)) FUZZ_ASSERT(memcmp(&d, &ref, sizeof d) == 0);
    float f, fref = strtof(s, NULL);
    if (parse_eisel_lemire_float(w, q, false, &f)) FUZZ_ASSERT(memcmp(&f, &fref, sizeof f) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const char *const delims[] = {",", ", ", "\t", ";", "||", " | ", " ", ",,"};
    uint8_t mode = data[0];
    const char *buf = (const char *)data + 1;
    size_t n = size - 1;

    csv_dialect d;
    csv_dialect_default(&d);
    snprintf(d.delimiter, sizeof d.delimiter, "%s", delims[mode & 7]);
    d.quote = (mode & 8) ? '\0' : (mode & 16) ? '\'' : '"';
    d.trim_spaces = (mode & 32) != 0;
    d.skip_bom = (mode & 64) != 0;
    FUZZ_ASSERT(csv_dialect_check(&d, NULL) == HPCML_OK);

    event *serial = malloc((n + 2) * sizeof *serial);
    if (!serial) return 0;
    size_t nserial = parse_serial(&d, buf, n, serial, true);
    FUZZ_ASSERT(nserial <= n + 1);

    /* Two splits picked from the input itself, plus the middle. */
    size_t h = 0;
    for (size_t i = 0; i < n && i < 16; i++)
        h = h * 31 + (unsigned char)buf[i];
    size_t c1 = n ? h % (n + 1) : 0, c2 = n ? (h / 7919) % (n + 1) : 0;
    if (c1 > c2) {
        size_t t = c1;
        c1 = c2;
        c2 = t;
    }
    size_t cuts2[3] = {0, n / 2, n};
    check_split(&d, buf, n, cuts2, 2, serial, nserial);
    size_t cuts3[4] = {0, c1, c2, n};
    check_split(&d, buf, n, cuts3, 3, serial, nserial);

    if (mode & 128) check_streaming(&d, buf, n, serial, nserial, (uint32_t)h);
    free(serial);

    check_eisel_lemire(data, size);
    check_numbers(buf, n < 64 ? n : 64);
    return 0;
}
