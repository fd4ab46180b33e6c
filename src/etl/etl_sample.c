/* etl_sample.c — the records --infer-schema looks at. See etl_sample.h. */
#include "etl/etl_sample.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "etl/etl_text.h"

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
        if (rec.empty || etl_starts_with(buf + rec.offset, rec.end - rec.offset, o->skip_prefix))
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
