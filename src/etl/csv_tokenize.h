/* csv_tokenize.h — split CSV text in memory into records and fields.
 *
 * Pure: no I/O, no MPI, no global state. The caller owns the bytes (a
 * mapped file, a block read with MPI-IO) and decides what a record means
 * (comment or junk lines, field counts, null markers, numbers).
 *
 * The format is RFC 4180 with a configurable dialect:
 *   - a record ends at a line feed outside quotes; a CR right before it
 *     (CRLF) or at the very end of the input is dropped; the last record
 *     needs no line end; a line with no bytes is reported as an empty
 *     record (rec->empty) so the caller may skip it;
 *   - the delimiter is a string of one or more bytes (", " for UCI Adult);
 *   - a field that begins with the quote character runs to the matching
 *     closing quote and may hold delimiters, CR and LF; a doubled quote
 *     inside stands for one quote; after the closing quote only the
 *     delimiter or the line end may follow;
 *   - a quote anywhere else in a field is an error, not a literal: this
 *     keeps "inside quotes" equal to "an odd number of quotes since the
 *     record began", which parallel splitting relies on (below). Data with
 *     stray quotes can be read with quoting off (quote = '\0');
 *   - trim_spaces drops spaces and tabs around unquoted fields and between
 *     a delimiter and a quoted field's quotes (never inside quotes);
 *   - skip_bom skips a UTF-8 byte order mark at offset 0 of the buffer:
 *     set it only for a buffer that begins the file.
 *
 * Parallel splitting. Byte ranges [a_r, a_r+1) of a file are given to ranks;
 * rank r owns every record that STARTS in its range and reads past its end
 * to finish the last one. A record starts at offset 0 and one byte after
 * every line feed that is outside quotes, and a line feed is outside quotes
 * exactly when the number of quote characters before it in the file is even
 * (the property kept above; for malformed text the tokenizer resynchronizes
 * by the same parity rule, so serial and parallel reads still agree). The
 * parity before an arbitrary offset is not known locally, so:
 *   1. each rank scans its chunk [a_r - 1, a_r+1 - 1) (rank 0: [0, a_1 - 1))
 *      with csv_chunk_scan, which returns the chunk's quote parity and, for
 *      both hypotheses "the chunk starts outside / inside quotes", the first
 *      record start in the chunk and the line feeds before it;
 *   2. an exclusive prefix XOR of the parities (MPI_Exscan, the caller's
 *      job) gives the true quote state at each chunk's start, and an
 *      exclusive prefix sum of csv_chunk_info.newlines the line numbers;
 *   3. csv_chunk_resolve picks the hypothesis: the rank's first record
 *      starts there (or it owns none), and its first line number follows
 *      (1 + line feeds before the chunk + newlines_before[parity]). A rank
 *      whose range begins at offset 0 starts there, on line 1.
 * A quoted field whose newline crosses a range boundary is thereby handled
 * exactly: its line feed sees an odd parity and starts nothing; the record
 * belongs to the rank in whose range its first byte lies. A rank parses its
 * records with csv_next_record from its first start and stops at the first
 * record that starts at or after a_r+1. The unit test checks that the union
 * over ranges equals a serial parse at every split position. */
#ifndef HPCML_ETL_CSV_TOKENIZE_H
#define HPCML_ETL_CSV_TOKENIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSV_DELIMITER_MAX 15

typedef struct {
    char delimiter[CSV_DELIMITER_MAX + 1]; /* NUL-terminated, 1..15 bytes, no quote, CR or LF */
    char quote;                            /* '\0': no quoting */
    bool trim_spaces;
    bool skip_bom;
} csv_dialect;

/* "," with '"' quotes, no trimming, BOM skipped. */
void csv_dialect_default(csv_dialect *d);
/* HPCML_OK, or HPCML_EUSAGE with a message in why (static text) when the
 * delimiter is empty, too long, or holds the quote, CR or LF. */
int csv_dialect_check(const csv_dialect *d, const char **why);

/* One field: ptr/len point into the buffer, or into the record's scratch
 * space when doubled quotes had to be undone. Valid until the next call with
 * the same record. */
typedef struct {
    const char *ptr;
    size_t len;
    size_t offset; /* where the field (its opening quote, if any) begins in buf, after trimmed
                      spaces */
    bool quoted;
} csv_field;

typedef struct {
    csv_field *fields;
    size_t nfields;
    size_t offset; /* first byte of the record in buf */
    size_t end;    /* one past its line end (or the buffer end) */
    size_t line;   /* physical line it starts on */
    size_t nlines; /* physical lines it spans: 1 + line feeds inside quotes */
    bool empty;    /* the line held no bytes at all; nfields is 0 */
    /* storage, grown as needed */
    size_t fields_cap;
    char *scratch;
    size_t scratch_len, scratch_cap;
} csv_record;

void csv_record_init(csv_record *rec);
void csv_record_free(csv_record *rec);

typedef struct {
    size_t pos;  /* next byte to read */
    size_t line; /* physical line number at pos */
    bool final;  /* the buffer ends the input; when false, a record that runs
                  * into the end of the buffer is incomplete (CSV_PARTIAL) */
} csv_cursor;

/* pos 0, line start_line (1 for a whole file), final. */
void csv_cursor_init(csv_cursor *cur, size_t start_line);

typedef enum {
    CSV_ERR_NONE = 0,
    CSV_ERR_UNTERMINATED_QUOTE, /* reported where the quote opened */
    CSV_ERR_AFTER_QUOTE,        /* bytes between a closing quote and the delimiter */
    CSV_ERR_STRAY_QUOTE,        /* a quote inside an unquoted field */
    CSV_ERR_NOMEM
} csv_error_kind;

typedef struct {
    csv_error_kind kind;
    size_t line;          /* 1-based physical line (counted from the cursor's start line) */
    size_t column;        /* 1-based byte column within that line */
    size_t field;         /* 1-based field of the record */
    size_t offset;        /* byte offset in buf */
    const char *expected; /* static text: what should have been there */
} csv_error;

/* The words for a syntax error in messages ("unterminated quoted field"). */
const char *csv_error_text(csv_error_kind k);

/* Return values of csv_next_record besides HPCML_OK (a record) and
 * HPCML_EDATA / HPCML_EINTERNAL (error, err filled in). */
#define CSV_END (-1) /* no bytes left; nothing read */
#define CSV_PARTIAL                                                                                \
    (-2) /* !cur->final and the record is not complete in buf: read more                           \
          * bytes after it, keep cur, call again */

/* Reads the record at cur->pos and advances the cursor past it.
 * On HPCML_EDATA the cursor still advances, to the next record start by the
 * parity rule (the end of the line for most errors, the end of the input for
 * an unterminated quote), so the caller may count the bad record and go on.
 * With cur->final false an unterminated quote keeps answering CSV_PARTIAL
 * until the input ends: a streaming caller should cap the record size.
 * The dialect must pass csv_dialect_check. */
int csv_next_record(const csv_dialect *d, const char *buf, size_t len, csv_cursor *cur,
                    csv_record *rec, csv_error *err);
/* The same reader without its fast path for plain records (one-byte
 * delimiter, no quotes): for the tests that compare the two. */
int csv_next_record_general(const csv_dialect *d, const char *buf, size_t len, csv_cursor *cur,
                            csv_record *rec, csv_error *err);

/* "line L, column C (field F): <what was expected>" into out. */
void csv_error_format(const csv_error *err, char *out, size_t out_size);

/* Line and column (1-based) of field i of rec, for the caller's own errors
 * ("field 3 is not a number"); scans the record's bytes. */
void csv_field_position(const char *buf, const csv_record *rec, size_t i, size_t *line,
                        size_t *column);

/* ---- parallel splitting (see the top of this file) ------------------------ */

#define CSV_NO_START SIZE_MAX

typedef struct {
    unsigned quote_parity; /* quote characters in the chunk, mod 2 */
    size_t newlines;       /* line feeds in the chunk */
    /* For h = quote state at the chunk's start (0 outside, 1 inside): the
     * offset in the chunk just after the first line feed outside quotes, or
     * CSV_NO_START; and the line feeds in the chunk before that offset. */
    size_t first_start[2];
    size_t newlines_before[2];
} csv_chunk_info;

void csv_chunk_scan(const csv_dialect *d, const char *chunk, size_t len, csv_chunk_info *info);

/* The first record start in the chunk (chunk-relative) given the quote
 * parity of everything before it, or CSV_NO_START. */
static inline size_t csv_chunk_resolve(const csv_chunk_info *info, unsigned parity_before)
{
    return info->first_start[parity_before & 1u];
}

/* Serial form for a buffer whose offset 0 is a record start: the first
 * record start at or after from (from itself when a record starts there),
 * or len when none does. O(len) from the beginning of buf. */
size_t csv_find_record_start(const csv_dialect *d, const char *buf, size_t len, size_t from);

/* ---- delimiter detection --------------------------------------------------- */

/* What csv_sniff_delimiter looked at and found. */
typedef struct {
    char delimiter[CSV_DELIMITER_MAX + 1]; /* the choice ("" when none fits) */
    size_t records;                        /* complete records parsed with it */
    size_t fields;                         /* fields of each of them */
} csv_sniff;

/* Chooses the delimiter of the text in buf (the head of a file, from a
 * record start; a last record cut by the end of buf is not counted) among
 * ",", ";", tab, "|" and each of these followed by one space (", " for UCI
 * Adult). d gives the quote and trim_spaces; its delimiter is ignored.
 * Records that are empty or begin with skip_prefix (may be NULL) are
 * skipped; at most max_records are read. A candidate fits when every record
 * parses without a syntax error into the same number of fields, at least
 * two; among those that fit the one with the most fields wins, then the
 * longer one (", " over ","; only possible when every "," is followed by a
 * space), then the earlier in the list above. out->delimiter is "" when
 * none fits. Pure. */
void csv_sniff_delimiter(const csv_dialect *d, const char *buf, size_t len, const char *skip_prefix,
                         size_t max_records, csv_sniff *out);

/* A likely delimiter inside a single header field (text), for the hint of
 * a one-column header: the candidate of csv_sniff_delimiter that occurs
 * most often in it, or NULL. */
const char *csv_likely_delimiter(const char *text, size_t len);

/* ---- null markers --------------------------------------------------------- */

/* True when the field, with spaces and tabs trimmed, equals one of the
 * markers (exact, case-sensitive), a NULL-terminated list such as
 * {"", "NA", "?", "null", "unknown", NULL}. */
bool csv_is_null(const char *field, size_t len, const char *const *markers);

#endif
