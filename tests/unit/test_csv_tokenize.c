/* test_csv_tokenize.c — the CSV tokenizer: RFC 4180 cases, UCI Adult's ", "
 * delimiter, CRLF, BOM, empty lines, errors with their line and column,
 * streaming in pieces, null markers, and the parallel split property: for
 * every split of a document into byte ranges, the records the ranges own
 * (found with csv_chunk_scan and a simulated exclusive scan) are exactly the
 * serial parse, each once, with the same line numbers. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/status.h"
#include "etl/csv_tokenize.h"

/* ---- a growable string for rendering parses ------------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
} strbuf;

static void sb_putn(strbuf *b, const char *p, size_t n)
{
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n + 1)
            cap *= 2;
        b->s = realloc(b->s, cap);
        if (!b->s) abort();
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}
static void sb_puts(strbuf *b, const char *p)
{
    sb_putn(b, p, strlen(p));
}
static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_puts(b, tmp);
}
static void sb_reset(strbuf *b)
{
    b->len = 0;
    if (b->s) b->s[0] = '\0';
}

/* Renders one csv_next_record outcome: [f1|f2] for a record ("q" before a
 * quoted field), <> for an empty line, E<line>:<col>:<field>:<kind> for an
 * error; with_pos adds @offset/line to each. CR and LF inside fields show as
 * \r and \n. */
static void render(strbuf *out, int rc, const csv_record *rec, const csv_error *err, bool with_pos)
{
    if (with_pos && rc == HPCML_OK) sb_printf(out, "@%zu/%zu", rec->offset, rec->line);
    if (rc == HPCML_EDATA) {
        sb_printf(out, "E%zu:%zu:%zu:%d", err->line, err->column, err->field, (int)err->kind);
        if (with_pos) sb_printf(out, "@%zu", rec->offset);
        return;
    }
    if (rec->empty) {
        sb_puts(out, "<>");
        return;
    }
    sb_puts(out, "[");
    for (size_t i = 0; i < rec->nfields; i++) {
        if (i) sb_puts(out, "|");
        if (rec->fields[i].quoted) sb_puts(out, "q");
        for (size_t k = 0; k < rec->fields[i].len; k++) {
            char c = rec->fields[i].ptr[k];
            if (c == '\n')
                sb_puts(out, "\\n");
            else if (c == '\r')
                sb_puts(out, "\\r");
            else
                sb_putn(out, &c, 1);
        }
    }
    sb_puts(out, "]");
}

/* Parses all of buf[0, len) and renders every outcome. */
static void parse_all(const csv_dialect *d, const char *buf, size_t len, strbuf *out, bool with_pos)
{
    csv_cursor cur;
    csv_cursor_init(&cur, 1);
    csv_record rec;
    csv_record_init(&rec);
    csv_error err;
    for (int guard = 0; guard < 100000; guard++) {
        size_t before = cur.pos;
        int rc = csv_next_record(d, buf, len, &cur, &rec, &err);
        if (rc == CSV_END) break;
        CHECK_MSG(rc == HPCML_OK || rc == HPCML_EDATA, "rc %d", rc);
        if (rc != HPCML_OK && rc != HPCML_EDATA) break;
        CHECK(cur.pos > before && cur.pos <= len);
        render(out, rc, &rec, &err, with_pos);
    }
    csv_record_free(&rec);
}

static csv_dialect dialect(const char *delim, char quote, bool trim)
{
    csv_dialect d;
    csv_dialect_default(&d);
    snprintf(d.delimiter, sizeof d.delimiter, "%s", delim);
    d.quote = quote;
    d.trim_spaces = trim;
    return d;
}

static void expect_parse(const csv_dialect *d, const char *text, const char *want)
{
    strbuf b = {0};
    sb_puts(&b, "");
    parse_all(d, text, strlen(text), &b, false);
    CHECK_MSG(strcmp(b.s, want) == 0, "parse of \"%s\":\n   got  %s\n   want %s", text, b.s, want);
    free(b.s);
}

/* ---- fixed cases ---------------------------------------------------------- */

static void test_rfc4180(void)
{
    csv_dialect d = dialect(",", '"', false);
    expect_parse(&d, "", "");
    expect_parse(&d, "a,b,c\n1,2,3\n", "[a|b|c][1|2|3]");
    expect_parse(&d, "a,b,c\n1,2,3", "[a|b|c][1|2|3]"); /* no final newline */
    expect_parse(&d, "a,b\r\n1,2\r\n", "[a|b][1|2]");   /* CRLF */
    expect_parse(&d, "a,b\r\n1,2\r", "[a|b][1|2]");     /* CR at the very end */
    expect_parse(&d, "a\n\nb\n", "[a]<>[b]");           /* empty line */
    expect_parse(&d, "a\n\n", "[a]<>");                 /* trailing empty line */
    expect_parse(&d, "a\r\n\r\n", "[a]<>");
    expect_parse(&d, "\n", "<>");
    expect_parse(&d, ",,\n", "[||]");
    expect_parse(&d, "a,\n", "[a|]");
    expect_parse(&d, " a , b \n", "[ a | b ]"); /* spaces kept without trim */
    expect_parse(&d, "\"a,b\",c\n", "[qa,b|c]");
    expect_parse(&d, "\"a\"\"b\",\"\"\"\"\n", "[qa\"b|q\"]");    /* doubled quotes */
    expect_parse(&d, "\"\",x\n", "[q|x]");                       /* empty quoted */
    expect_parse(&d, "\"x\ny\",z\nnext\n", "[qx\\ny|z][next]");  /* quoted newline */
    expect_parse(&d, "\"x\r\ny\"\r\nnext", "[qx\\r\\ny][next]"); /* quoted CRLF */
    expect_parse(&d, "\"a\"\"\nb\"\"\",c", "[qa\"\\nb\"|c]");
    expect_parse(&d, "a\rb,c\n", "[a\\rb|c]"); /* a bare CR is data */
    expect_parse(&d, "\"a\"\r\n", "[qa]");
    expect_parse(&d, "\"a\"\r", "[qa]");

    /* BOM: skipped at offset 0 only when asked. */
    expect_parse(&d,
                 "\xEF\xBB\xBF"
                 "a,b\n",
                 "[a|b]");
    expect_parse(&d, "\xEF\xBB\xBF", "");
    csv_dialect nobom = d;
    nobom.skip_bom = false;
    expect_parse(&nobom,
                 "\xEF\xBB\xBF"
                 "a,b\n",
                 "[\xEF\xBB\xBF"
                 "a|b]");

    /* Quoting off: quotes are data. */
    csv_dialect noq = dialect(",", '\0', false);
    expect_parse(&noq, "a\"b,\"c\n", "[a\"b|\"c]");

    /* Other delimiters. */
    csv_dialect tab = dialect("\t", '"', false);
    expect_parse(&tab, "a\tb c\t\"d\te\"\n", "[a|b c|qd\te]");
    csv_dialect two = dialect("||", '"', false);
    expect_parse(&two, "a||b|c||\n", "[a|b|c|]");
}

static void test_adult(void)
{
    /* UCI Adult: ", " separates fields; adult.test ends labels with '.' */
    const char *lines =
        "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, "
        "Male, 2174, 0, 40, United-States, <=50K\n"
        "50, Self-emp-not-inc, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, "
        "White, Male, 0, 0, 13, United-States, <=50K\n"
        "54, ?, 180211, Some-college, 10, Married-civ-spouse, ?, Husband, Asian-Pac-Islander, "
        "Male, "
        "0, 0, 60, South, >50K.\n"
        "\n";
    const char *want =
        "[39|State-gov|77516|Bachelors|13|Never-married|Adm-clerical|Not-in-family|White|Male|2174|"
        "0|"
        "40|United-States|<=50K]"
        "[50|Self-emp-not-inc|83311|Bachelors|13|Married-civ-spouse|Exec-managerial|Husband|White|"
        "Male|0|0|13|United-States|<=50K]"
        "[54|?|180211|Some-college|10|Married-civ-spouse|?|Husband|Asian-Pac-Islander|Male|0|0|60|"
        "South|>50K.]"
        "<>";
    csv_dialect d = dialect(", ", '"', false);
    expect_parse(&d, lines, want);
    /* The same with "," and trimming. */
    csv_dialect t = dialect(",", '"', true);
    expect_parse(&t, lines, want);
    /* ", " with trimming too, and quoted fields with spaces around them. */
    csv_dialect dt = dialect(", ", '"', true);
    expect_parse(&dt, lines, want);
    expect_parse(&dt, "  a  ,   \"b, c\"  , d\t\n", "[a|qb, c|d]");
    expect_parse(&dt, "a, , b\n", "[a||b]");
    csv_dialect sp = dialect(" | ", '"', true);
    expect_parse(&sp, "a |  | b\n", "[a||b]");

    /* Field count and null markers as the ETL uses them. */
    csv_cursor cur;
    csv_cursor_init(&cur, 1);
    csv_record rec;
    csv_record_init(&rec);
    csv_error err;
    CHECK_EQ_INT(csv_next_record(&d, lines, strlen(lines), &cur, &rec, &err), HPCML_OK);
    CHECK_EQ_INT(rec.nfields, 15);
    CHECK_EQ_INT(csv_next_record(&d, lines, strlen(lines), &cur, &rec, &err), HPCML_OK);
    CHECK_EQ_INT(csv_next_record(&d, lines, strlen(lines), &cur, &rec, &err), HPCML_OK);
    static const char *const markers[] = {"", "NA", "?", "null", "unknown", NULL};
    CHECK(csv_is_null(rec.fields[1].ptr, rec.fields[1].len, markers));
    CHECK(!csv_is_null(rec.fields[0].ptr, rec.fields[0].len, markers));
    CHECK_EQ_INT(rec.line, 3);
    CHECK_EQ_INT(csv_next_record(&d, lines, strlen(lines), &cur, &rec, &err), HPCML_OK);
    CHECK(rec.empty && rec.nfields == 0 && rec.line == 4);
    CHECK_EQ_INT(csv_next_record(&d, lines, strlen(lines), &cur, &rec, &err), CSV_END);
    csv_record_free(&rec);
}

static void test_null_markers(void)
{
    static const char *const markers[] = {"", "NA", "?", "null", "unknown", NULL};
    CHECK(csv_is_null("", 0, markers));
    CHECK(csv_is_null("   ", 3, markers));
    CHECK(csv_is_null(" ? ", 3, markers));
    CHECK(csv_is_null("\tNA", 3, markers));
    CHECK(csv_is_null("unknown", 7, markers));
    CHECK(!csv_is_null("Unknown", 7, markers));
    CHECK(!csv_is_null("NAN", 3, markers));
    CHECK(!csv_is_null("0", 1, markers));
    CHECK(csv_is_null("nullx", 4, markers)); /* the span, not the NUL, ends the field */
    CHECK(!csv_is_null("", 0, NULL));
}

static void test_dialect_check(void)
{
    const char *why = NULL;
    csv_dialect d = dialect(",", '"', false);
    CHECK_EQ_INT(csv_dialect_check(&d, &why), HPCML_OK);
    CHECK(why == NULL);
    d = dialect("", '"', false);
    CHECK_EQ_INT(csv_dialect_check(&d, &why), HPCML_EUSAGE);
    CHECK(why != NULL);
    d = dialect(",\"", '"', false);
    CHECK_EQ_INT(csv_dialect_check(&d, &why), HPCML_EUSAGE);
    d = dialect(",\n", '"', false);
    CHECK_EQ_INT(csv_dialect_check(&d, &why), HPCML_EUSAGE);
    d = dialect(",", '\n', false);
    CHECK_EQ_INT(csv_dialect_check(&d, &why), HPCML_EUSAGE);
    d = dialect(",\"", '\0', false);
    CHECK_EQ_INT(csv_dialect_check(&d, &why), HPCML_OK);
}

static void test_errors(void)
{
    csv_dialect d = dialect(",", '"', false);
    /* E<line>:<column>:<field>:<kind> */
    char kinds[64];
    snprintf(kinds, sizeof kinds, "[a|b]E2:3:2:%d", CSV_ERR_UNTERMINATED_QUOTE);
    expect_parse(&d, "a,b\nc,\"d\ne\n", kinds); /* consumes the rest of the input */

    char want[128];
    snprintf(want, sizeof want, "E1:5:1:%d[x]", CSV_ERR_AFTER_QUOTE);
    expect_parse(&d, "\"ab\"c,d\nx\n", want);
    snprintf(want, sizeof want, "E1:3:1:%d[x]", CSV_ERR_STRAY_QUOTE);
    expect_parse(&d, "ab\"c,\"d\nx", want);
    /* Line numbers stay right after quoted newlines. */
    snprintf(want, sizeof want, "[a][qb\\nc]E4:6:2:%d[z]", CSV_ERR_AFTER_QUOTE);
    expect_parse(&d, "a\n\"b\nc\"\nd,\"e\"x\nz\n", want);
    /* An error inside a record spanning lines, reported on its own line. */
    snprintf(want, sizeof want, "E3:3:2:%d[z]", CSV_ERR_AFTER_QUOTE);
    expect_parse(&d, "a,\"b\n\nc\"x,y\nz", want);
    /* The resync follows quote parity: a stray quote opens a span that the
     * next quote closes, like csv_chunk_scan sees it. */
    snprintf(want, sizeof want, "E1:2:1:%d[c]", CSV_ERR_STRAY_QUOTE);
    expect_parse(&d, "a\"b\nx\"\nc\n", want);

    /* Message, error fields and the cursor. */
    const char *text = "h1,h2\n1,2\n3,\"4\"5\n6,7\n";
    csv_cursor cur;
    csv_cursor_init(&cur, 10); /* the buffer begins at line 10 of some file */
    csv_record rec;
    csv_record_init(&rec);
    csv_error err;
    int rc;
    while ((rc = csv_next_record(&d, text, strlen(text), &cur, &rec, &err)) == HPCML_OK) {
    }
    CHECK_EQ_INT(rc, HPCML_EDATA);
    CHECK_EQ_INT(err.kind, CSV_ERR_AFTER_QUOTE);
    CHECK_EQ_INT(err.line, 12);
    CHECK_EQ_INT(err.column, 6);
    CHECK_EQ_INT(err.field, 2);
    CHECK_EQ_INT(err.offset, 15);
    char msg[256];
    csv_error_format(&err, msg, sizeof msg);
    CHECK_MSG(strstr(msg, "line 12, column 6 (field 2)") != NULL, "%s", msg);
    CHECK_MSG(strstr(msg, "delimiter") != NULL, "%s", msg);
    CHECK_EQ_INT(csv_next_record(&d, text, strlen(text), &cur, &rec, &err), HPCML_OK);
    CHECK_EQ_INT(rec.line, 13);
    CHECK(rec.nfields == 2 && rec.fields[0].ptr[0] == '6');
    csv_record_free(&rec);

    /* csv_field_position inside a record spanning lines. */
    const char *ml = "x\n\"a\nbb\",  c\n";
    csv_cursor_init(&cur, 1);
    csv_record_init(&rec);
    CHECK_EQ_INT(csv_next_record(&d, ml, strlen(ml), &cur, &rec, &err), HPCML_OK);
    CHECK_EQ_INT(csv_next_record(&d, ml, strlen(ml), &cur, &rec, &err), HPCML_OK);
    CHECK_EQ_INT(rec.line, 2);
    CHECK_EQ_INT(rec.nlines, 2);
    size_t line, col;
    csv_field_position(ml, &rec, 1, &line, &col);
    CHECK_EQ_INT(line, 3);
    CHECK_EQ_INT(col, 5);
    csv_field_position(ml, &rec, 0, &line, &col);
    CHECK(line == 2 && col == 1);
    CHECK_EQ_INT(cur.line, 4);
    csv_record_free(&rec);
}

/* ---- random documents ----------------------------------------------------- */

static uint64_t rng = 12345;
static uint64_t next_u64(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}
static size_t below(size_t n)
{
    return (size_t)(next_u64() % n);
}

/* A small CSV document with quoted delimiters and line ends, doubled quotes,
 * CRLF, empty lines, a BOM, and (when malformed) the three kinds of error. */
static size_t random_document(char *out, size_t cap, const char *delim, bool malformed)
{
    static const char *plain[] = {"a", "bc", "", " d ", "12", "x y", "\r"};
    static const char *quoted[] = {"\"q\"", "\"a,b\"",  "\"l1\nl2\"", "\"c\r\nd\"", "\"x\"\"y\"",
                                   "\"\"",  "\"\"\"\"", "\"\n\"",     "\", \""};
    static const char *bad[] = {"a\"b", "\"ab\"c", "\"open", "\"\"x", "\"\n"};
    size_t n = 0;
    if (below(8) == 0) n += (size_t)snprintf(out + n, cap - n, "\xEF\xBB\xBF");
    size_t nrec = 1 + below(6);
    for (size_t r = 0; r < nrec && n + 64 < cap; r++) {
        if (below(6) == 0) { /* empty line */
        } else {
            size_t nf = 1 + below(4);
            for (size_t f = 0; f < nf && n + 32 < cap; f++) {
                if (f) n += (size_t)snprintf(out + n, cap - n, "%s", delim);
                const char *v;
                if (malformed && below(10) == 0)
                    v = bad[below(5)];
                else if (below(2))
                    v = plain[below(7)];
                else
                    v = quoted[below(9)];
                n += (size_t)snprintf(out + n, cap - n, "%s", v);
            }
        }
        if (r + 1 < nrec || below(2))
            n += (size_t)snprintf(out + n, cap - n, below(3) ? "\n" : "\r\n");
    }
    return n;
}

/* ---- parallel splitting --------------------------------------------------- */

/* Reads buf as ranks would with byte ranges [cuts[r], cuts[r+1]): scan each
 * chunk, exclusive-scan parity and line feeds, start each range at its first
 * record, parse while records start inside the range. */
static void parse_ranges(const csv_dialect *d, const char *buf, size_t n, const size_t *cuts,
                         int nranges, strbuf *out)
{
    csv_chunk_info info[16];
    for (int r = 0; r < nranges; r++) {
        size_t lo = cuts[r] ? cuts[r] - 1 : 0, hi = cuts[r + 1] ? cuts[r + 1] - 1 : 0;
        csv_chunk_scan(d, buf + lo, hi - lo, &info[r]);
    }
    unsigned parity = 0; /* exclusive prefix XOR */
    size_t newlines = 0; /* exclusive prefix sum */
    csv_record rec;
    csv_record_init(&rec);
    csv_error err;
    for (int r = 0; r < nranges; r++) {
        size_t a = cuts[r], b = cuts[r + 1];
        size_t lo = a ? a - 1 : 0;
        csv_cursor cur;
        csv_cursor_init(&cur, 1);
        bool owns = true;
        if (a > 0) {
            size_t s = csv_chunk_resolve(&info[r], parity);
            if (s == CSV_NO_START) {
                owns = false;
            } else {
                cur.pos = lo + s;
                cur.line = 1 + newlines + info[r].newlines_before[parity & 1u];
                /* the serial helper agrees */
                CHECK_EQ_INT(csv_find_record_start(d, buf, n, a), cur.pos);
            }
        }
        if (a > 0 && !owns) CHECK_EQ_INT(csv_find_record_start(d, buf, n, a) >= b, 1);
        while (owns && cur.pos < b) {
            int rc = csv_next_record(d, buf, n, &cur, &rec, &err);
            if (rc == CSV_END) break;
            render(out, rc, &rec, &err, true);
        }
        parity ^= info[r].quote_parity;
        newlines += info[r].newlines;
    }
    csv_record_free(&rec);
}

static long split_checks;

static void check_splits(const csv_dialect *d, const char *buf, size_t n)
{
    strbuf serial = {0}, par = {0};
    sb_puts(&serial, "");
    parse_all(d, buf, n, &serial, true);
    /* every split into two ranges */
    for (size_t k = 0; k <= n; k++) {
        size_t cuts[3] = {0, k, n};
        sb_reset(&par);
        sb_puts(&par, "");
        parse_ranges(d, buf, n, cuts, 2, &par);
        split_checks++;
        CHECK_MSG(strcmp(par.s, serial.s) == 0,
                  "split at %zu of %zu-byte document:\n  serial %s\n  ranges %s", k, n, serial.s,
                  par.s);
        if (strcmp(par.s, serial.s) != 0) break;
    }
    /* random splits into up to 6 ranges, empty ranges included */
    for (int t = 0; t < 40; t++) {
        int nr = 2 + (int)below(5);
        size_t cuts[8];
        cuts[0] = 0;
        cuts[nr] = n;
        for (int r = 1; r < nr; r++)
            cuts[r] = below(n + 1);
        for (int i = 1; i < nr; i++) /* sort the inner cuts */
            for (int j = i; j > 1 && cuts[j - 1] > cuts[j]; j--) {
                size_t tmp = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = tmp;
            }
        sb_reset(&par);
        sb_puts(&par, "");
        parse_ranges(d, buf, n, cuts, nr, &par);
        split_checks++;
        CHECK_MSG(strcmp(par.s, serial.s) == 0, "%d-range split of %zu-byte document", nr, n);
    }
    free(serial.s);
    free(par.s);
}

static void test_splitting(void)
{
    csv_dialect d = dialect(",", '"', false);
    static const char *docs[] = {
        "a,b\n\"x\ny\",z\n\n\"p\"\"\nq\",r\r\nlast",
        "\"\n\n\n\",\"\n\"\n\"\"\"\n\"\n",
        "h1,h2\r\n\"multi\r\nline\",2\r\n\r\n3,\"4\"\r\n",
        "\xEF\xBB\xBF\"a\nb\"\n",
        "a\"b\nx\"\nc\n\"open\nnever closed\n",
        "\n\n\n",
        "x",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
        check_splits(&d, docs[i], strlen(docs[i]));

    char buf[1024];
    csv_dialect adult = dialect(", ", '"', true);
    for (int i = 0; i < 300; i++) {
        bool malformed = i % 3 == 2;
        const csv_dialect *dd = i % 4 == 1 ? &adult : &d;
        size_t n = random_document(buf, sizeof buf, dd->delimiter, malformed);
        check_splits(dd, buf, n);
    }
    /* quoting off: every line feed is a boundary */
    csv_dialect noq = dialect(",", '\0', false);
    check_splits(&noq, "a\"\nb\"\n\"c\n", 10);
    printf("split property: %ld splits checked\n", split_checks);
}

/* ---- streaming: the buffer grows in pieces (final = false) ---------------- */

static void test_streaming(void)
{
    char doc[1024];
    csv_dialect d = dialect(",", '"', false);
    csv_dialect adult = dialect(", ", '"', true);
    for (int i = 0; i < 300; i++) {
        const csv_dialect *dd = i % 2 ? &adult : &d;
        size_t n = random_document(doc, sizeof doc, dd->delimiter, i % 3 == 0);
        strbuf whole = {0}, pieces = {0};
        sb_puts(&whole, "");
        sb_puts(&pieces, "");
        parse_all(dd, doc, n, &whole, true);

        csv_cursor cur;
        csv_cursor_init(&cur, 1);
        csv_record rec;
        csv_record_init(&rec);
        csv_error err;
        size_t avail = 0;
        cur.final = false;
        for (int guard = 0; guard < 10000; guard++) {
            int rc = csv_next_record(dd, doc, avail, &cur, &rec, &err);
            if (rc == CSV_PARTIAL) {
                CHECK(!cur.final);
                if (avail == n)
                    cur.final = true;
                else
                    avail += 1 + below(5), avail = avail > n ? n : avail;
                continue;
            }
            if (rc == CSV_END) break;
            render(&pieces, rc, &rec, &err, true);
        }
        CHECK_MSG(strcmp(whole.s, pieces.s) == 0,
                  "streamed parse of a %zu-byte document:\n  whole  %s\n  pieces %s", n, whole.s,
                  pieces.s);
        csv_record_free(&rec);
        free(whole.s);
        free(pieces.s);
    }
}

static void test_chunk_scan(void)
{
    csv_dialect d = dialect(",", '"', false);
    csv_chunk_info info;
    const char *c = "x\"\n\"\ny\n";
    csv_chunk_scan(&d, c, strlen(c), &info);
    CHECK_EQ_INT(info.quote_parity, 0);
    CHECK_EQ_INT(info.newlines, 3);
    CHECK_EQ_INT(info.first_start[0], 5); /* outside quotes: "x\"\n" is inside, next LF ends */
    CHECK_EQ_INT(info.newlines_before[0], 2);
    CHECK_EQ_INT(info.first_start[1], 3); /* inside quotes at the start: the first quote closes */
    CHECK_EQ_INT(info.newlines_before[1], 1);
    csv_chunk_scan(&d, "abc", 3, &info);
    CHECK(info.first_start[0] == CSV_NO_START && info.first_start[1] == CSV_NO_START);
    csv_chunk_scan(&d, "", 0, &info);
    CHECK(info.newlines == 0 && info.quote_parity == 0);
    CHECK_EQ_INT(csv_find_record_start(&d, "ab\ncd", 5, 0), 0);
    CHECK_EQ_INT(csv_find_record_start(&d, "ab\ncd", 5, 3), 3);
    CHECK_EQ_INT(csv_find_record_start(&d, "ab\ncd", 5, 4), 5);
    CHECK_EQ_INT(csv_find_record_start(&d, "\"\n\"\ncd", 6, 1), 4);
}

/* The reader's fast path (plain records) against the general reader on a
 * random document of long and short lines with every special byte. */
static void test_fast_path(void)
{
    static const char alphabet[] = "0123456789.-eE,,,;;\"\r\nab \tx";
    size_t n = 1 << 20;
    char *doc = malloc(n);
    if (!doc) abort();
    uint64_t x = 88172645463325252u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* mostly digits and commas, sometimes the rest */
        doc[i] = (x % 100) < 90 ? "0123456789,"[(x >> 8) % 11] : alphabet[(x >> 8) % (sizeof alphabet - 1)];
    }
    for (int variant = 0; variant < 6; variant++) {
        csv_dialect d;
        csv_dialect_default(&d);
        if (variant % 3 == 1) d.quote = '\0';
        if (variant % 3 == 2) d.delimiter[0] = ';';
        if (variant == 5) d.delimiter[0] = ' ';
        d.trim_spaces = variant >= 3;
        csv_cursor a, b;
        csv_cursor_init(&a, 1);
        csv_cursor_init(&b, 1);
        csv_record ra, rb;
        csv_record_init(&ra);
        csv_record_init(&rb);
        csv_error ea, eb;
        size_t records = 0, mismatches = 0;
        for (;;) {
            int ka = csv_next_record(&d, doc, n, &a, &ra, &ea);
            int kb = csv_next_record_general(&d, doc, n, &b, &rb, &eb);
            if (ka != kb || a.pos != b.pos || a.line != b.line) {
                mismatches++;
                break;
            }
            if (ka == CSV_END) break;
            records++;
            if (ka != HPCML_OK) continue;
            int same = ra.nfields == rb.nfields && ra.offset == rb.offset && ra.end == rb.end &&
                       ra.line == rb.line && ra.nlines == rb.nlines && ra.empty == rb.empty;
            for (size_t i = 0; same && i < ra.nfields; i++)
                same = ra.fields[i].len == rb.fields[i].len &&
                       ra.fields[i].offset == rb.fields[i].offset &&
                       ra.fields[i].quoted == rb.fields[i].quoted &&
                       memcmp(ra.fields[i].ptr, rb.fields[i].ptr, ra.fields[i].len) == 0;
            mismatches += !same;
        }
        CHECK(records > 1000);
        CHECK_EQ_INT(mismatches, 0);
        csv_record_free(&ra);
        csv_record_free(&rb);
    }
    free(doc);
}

/* Both readers over doc[0..n) with the cursor's final flag as given: the
 * same answers, cursors, records and fields, record after record. */
static size_t compare_readers(const csv_dialect *d, const char *doc, size_t n, bool final)
{
    csv_cursor a, b;
    csv_cursor_init(&a, 1);
    csv_cursor_init(&b, 1);
    a.final = b.final = final;
    csv_record ra, rb;
    csv_record_init(&ra);
    csv_record_init(&rb);
    csv_error ea, eb;
    size_t mismatches = 0;
    for (int guard = 0; guard < 100000; guard++) {
        int ka = csv_next_record(d, doc, n, &a, &ra, &ea);
        int kb = csv_next_record_general(d, doc, n, &b, &rb, &eb);
        if (ka != kb || a.pos != b.pos || a.line != b.line) {
            mismatches++;
            break;
        }
        if (ka == CSV_END || ka == CSV_PARTIAL) break;
        if (ka != HPCML_OK) {
            mismatches += ea.kind != eb.kind || ea.line != eb.line || ea.column != eb.column ||
                          ea.field != eb.field;
            continue;
        }
        int same = ra.nfields == rb.nfields && ra.offset == rb.offset && ra.end == rb.end &&
                   ra.line == rb.line && ra.nlines == rb.nlines && ra.empty == rb.empty;
        for (size_t i = 0; same && i < ra.nfields; i++)
            same = ra.fields[i].len == rb.fields[i].len &&
                   ra.fields[i].offset == rb.fields[i].offset &&
                   ra.fields[i].quoted == rb.fields[i].quoted &&
                   memcmp(ra.fields[i].ptr, rb.fields[i].ptr, ra.fields[i].len) == 0;
        mismatches += !same;
    }
    csv_record_free(&ra);
    csv_record_free(&rb);
    return mismatches;
}

/* The fast path's block scans against the general reader where block
 * scanners go wrong: every structural byte (delimiter, quote, LF, CR, space,
 * tab) and pair of them (CRLF, doubled quote, "" as an empty quoted field,
 * delimiter + quote) at every position 0..71 of a record of digits (so at
 * every offset within a 16- and 32-byte block and across block edges), the
 * record starting at every offset 0..31 of the buffer, followed by a plain
 * record, or ending the input without a line end; each buffer also read as
 * a non-final prefix cut at every length (the streaming case). */
static void test_fast_path_positions(void)
{
    static const char *const inserts[] = {",",  "\"",   "\n",    "\r",  " ",    "\t",   "\r\n",
                                          "\"\"", ",\"", "\",\"\"", ",,",  "\r\r", "\n\n", "\"\n\""};
    const size_t n_ins = sizeof inserts / sizeof inserts[0];
    char doc[256];
    size_t mismatches = 0, cases = 0;
    for (int variant = 0; variant < 3; variant++) {
        csv_dialect d;
        csv_dialect_default(&d);
        d.skip_bom = false;
        if (variant == 1) d.trim_spaces = true;
        if (variant == 2) d.quote = '\0';
        for (size_t ins = 0; ins < n_ins; ins++) {
            for (size_t lead = 0; lead < 32; lead += 3) {
                for (size_t pos = 0; pos < 72; pos++) {
                    for (int tail = 0; tail < 3; tail++) {
                        size_t n = 0;
                        for (size_t i = 0; i < lead; i++) /* earlier records, one per 8 bytes */
                            doc[n++] = i % 8 == 7 ? '\n' : (char)('0' + i % 10);
                        if (lead % 8 == 7) doc[n - 1] = '\n';
                        for (size_t i = 0; i < pos; i++)
                            doc[n++] = i % 9 == 4 ? ',' : (char)('0' + i % 10);
                        size_t il = strlen(inserts[ins]);
                        memcpy(doc + n, inserts[ins], il);
                        n += il;
                        for (size_t i = 0; i < 20; i++)
                            doc[n++] = i % 7 == 3 ? ',' : (char)('a' + i % 26);
                        if (tail == 0) doc[n++] = '\n';               /* LF */
                        if (tail == 1) doc[n++] = '\r', doc[n++] = '\n'; /* CRLF */
                        /* tail 2: the input ends without a line end */
                        if (tail < 2)
                            for (size_t i = 0; i < 40; i++) /* a plain record after it */
                                doc[n++] = i % 5 == 4 ? ',' : (char)('0' + i % 10);
                        mismatches += compare_readers(&d, doc, n, true);
                        cases++;
                        if (pos % 8 == 0 && lead % 9 == 0)
                            for (size_t cut = 0; cut <= n; cut++)
                                mismatches += compare_readers(&d, doc, cut, false);
                    }
                }
            }
        }
    }
    CHECK(cases > 10000);
    CHECK_EQ_INT(mismatches, 0);
}

int main(void)
{
    test_fast_path();
    test_fast_path_positions();
    test_rfc4180();
    test_adult();
    test_null_markers();
    test_dialect_check();
    test_errors();
    test_chunk_scan();
    test_splitting();
    test_streaming();
    CHECK_DONE();
}
