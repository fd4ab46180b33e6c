/* etl_infer.c — --infer-schema. See etl_infer.h. */
#include "etl/etl_infer.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "etl/etl_inputs.h"
#include "etl/etl_sample.h"
#include "etl/etl_vocab.h"
#include "etl/parse_number.h"

/* ---- the decisions (pure) ------------------------------------------------------- */

static int ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* "id", "row_id", "CustomerId", "customer_no", "AccountNumber", "key". */
static int named_like_id(const char *name)
{
    size_t n = strlen(name);
    if (!strcasecmp(name, "id") || !strcasecmp(name, "key") || !strcasecmp(name, "index") ||
        !strcasecmp(name, "uuid") || !strcasecmp(name, "guid"))
        return 1;
    static const char *const suffixes[] = {"_id",  "-id",    " id",  "_no",  "_nr",
                                           "_key", "number", "_num", "uuid", "_idx"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (ends_with_ci(name, suffixes[i])) return 1;
    /* camel case: a lower-case letter, then "Id" or "ID" at the end */
    return n >= 3 && islower((unsigned char)name[n - 3]) &&
           (!strcmp(name + n - 2, "Id") || !strcmp(name + n - 2, "ID"));
}

static int named_like_target(const char *name)
{
    static const char *const words[] = {"label", "target",  "class",    "outcome", "churn",
                                        "fraud", "default", "survived", "exited",  "response"};
    if (!strcasecmp(name, "y")) return 1;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t m = strlen(words[i]);
        for (const char *p = name; *p; p++)
            if (!strncasecmp(p, words[i], m)) return 1;
    }
    return 0;
}

void etl_infer_column(const char *name, const etl_infer_stats *st, etl_infer_choice *out)
{
    out->why[0] = '\0';
    int all_distinct = st->values >= ETL_INFER_ID_MIN_ROWS && st->distinct == st->values;
    if (st->values == 0) {
        out->type = ETL_COL_IGNORE;
        snprintf(out->why, sizeof out->why, "null in every sampled record");
    } else if (st->distinct == 1) {
        out->type = ETL_COL_IGNORE;
        snprintf(out->why, sizeof out->why, "constant: one value in %lld sampled records",
                 (long long)(st->values + st->nulls));
    } else if (st->ints == st->values) {
        out->type = ETL_COL_INT;
        if (all_distinct && (named_like_id(name) || st->rising)) {
            out->type = ETL_COL_ID;
            snprintf(out->why, sizeof out->why, "identifier: all %lld sampled values distinct%s",
                     (long long)st->values,
                     st->rising ? ", rising with every record (a row number)"
                                : ", named like an identifier");
        }
    } else if (st->numbers == st->values) {
        out->type = ETL_COL_FLOAT;
    } else if (all_distinct) {
        out->type = ETL_COL_ID;
        snprintf(out->why, sizeof out->why, "identifier: all %lld sampled values distinct",
                 (long long)st->values);
    } else if (st->distinct > ETL_INFER_FREE_TEXT_MAX ||
               (st->distinct > ETL_INFER_CATEGORY_FEW && 2 * st->distinct > st->values)) {
        out->type = ETL_COL_IGNORE;
        snprintf(out->why, sizeof out->why,
                 "free text: %lld distinct values in %lld, too many for a category",
                 (long long)st->distinct, (long long)st->values);
    } else {
        out->type = ETL_COL_CATEGORY;
    }
}

/* Which of two label values is the positive class. */
static int positive_of(const etl_infer_stats *st)
{
    static const char *const yes[] = {"1", "yes", "true", "y", "t", "positive", "pos"};
    static const char *const no[] = {"0", "no", "false", "n", "f", "negative", "neg", "-1"};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
            if (!strcasecmp(st->two[k], yes[i]))
                for (size_t j = 0; j < sizeof no / sizeof no[0]; j++)
                    if (!strcasecmp(st->two[1 - k], no[j])) return k;
    if (st->two_n[0] != st->two_n[1]) return st->two_n[0] < st->two_n[1] ? 0 : 1;
    return strcmp(st->two[0], st->two[1]) > 0 ? 0 : 1;
}

int etl_infer_label(char *const *names, const etl_infer_stats *st, int n, const char *configured,
                    int *positive)
{
    int col = -1;
    for (int c = 0; c < n && col < 0 && configured && *configured; c++)
        if (!strcmp(names[c], configured)) col = c;
    for (int c = 0; c < n && col < 0; c++)
        if (st[c].distinct == 2 && named_like_target(names[c])) col = c;
    if (col < 0 && n > 0 && st[n - 1].distinct == 2) col = n - 1;
    *positive = col >= 0 && st[col].distinct == 2 ? positive_of(&st[col]) : -1;
    return col;
}

/* ---- the sample's counts ---------------------------------------------------------- */

typedef struct {
    etl_strtab distinct;
    int64_t *counts; /* [distinct id] */
    int64_t counts_cap;
    int64_t last_int;
} column_scan;

static int scan_column(const etl_options *o, const etl_sample *s, int c, column_scan *cs,
                       etl_infer_stats *st)
{
    memset(st, 0, sizeof *st);
    st->rising = 1;
    HPCML_TRY(etl_strtab_init(&cs->distinct));
    for (int64_t r = 0; r < s->n_rows; r++) {
        const char *cell = s->cells[r * s->n_cols + c];
        size_t len = cell ? strlen(cell) : 0;
        if (!cell || csv_is_null(cell, len, o->null_markers)) {
            st->nulls++;
            continue;
        }
        st->values++;
        int64_t iv;
        double dv;
        if (parse_int64(cell, len, &iv) == HPCML_OK) {
            if (st->ints > 0 && iv <= cs->last_int) st->rising = 0;
            cs->last_int = iv;
            st->ints++;
        } else {
            st->rising = 0;
        }
        if (parse_double(cell, len, &dv) == HPCML_OK) st->numbers++;
        if (cs->distinct.n >= 100000) continue;
        int32_t id = etl_strtab_intern(&cs->distinct, cell, len);
        HPCML_CHECK(id >= 0, HPCML_EINTERNAL, "out of memory counting values");
        if (id >= cs->counts_cap) {
            int64_t cap = cs->counts_cap ? cs->counts_cap * 2 : 1024;
            int64_t *nc = realloc(cs->counts, (size_t)cap * sizeof *nc);
            HPCML_ALLOC_CHECK(nc, (size_t)cap * sizeof *nc);
            memset(nc + cs->counts_cap, 0, (size_t)(cap - cs->counts_cap) * sizeof *nc);
            cs->counts = nc, cs->counts_cap = cap;
        }
        cs->counts[id]++;
    }
    st->distinct = cs->distinct.n;
    if (st->distinct == 2)
        for (int k = 0; k < 2; k++) {
            size_t l;
            st->two[k] = etl_strtab_str(&cs->distinct, k, &l);
            st->two_n[k] = cs->counts[k];
        }
    return HPCML_OK;
}

/* ---- printing ---------------------------------------------------------------------- */

static void print_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void print_list(FILE *out, const char *key, const char *const *v, int n)
{
    fprintf(out, "%s = [", key);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", out);
        print_quoted(out, v[i]);
    }
    fputs("];\n", out);
}

static void print_block(FILE *out, const etl_options *o, const etl_inputs *in, const etl_sample *s,
                        column_scan *cs, const etl_infer_stats *st)
{
    int nc = in->n_names;
    if (s->whole)
        fprintf(out,
                "# etl block inferred by hpcml-etl --infer-schema from all %lld records of %d "
                "file(s).\n",
                (long long)s->n_rows, s->n_files);
    else
        fprintf(out,
                "# etl block inferred by hpcml-etl --infer-schema from %lld records: %d chunks of "
                "up to %lld consecutive records at evenly spaced offsets of %d file(s)%s.\n",
                (long long)s->n_rows, s->n_chunks, (long long)s->quota, s->n_files,
                s->n_gz ? " (gzip files: their first records)" : "");
    fprintf(out, "# Check the types and the label, then use it as the etl section of a config.\n");
    if (o->delimiter_detected) {
        fputs("delimiter = ", out);
        print_quoted(out, o->dialect.delimiter);
        fputs(";  # detected\n", out);
    }
    int positive = -1;
    int label = etl_infer_label(in->names, st, nc, o->label, &positive);
    fprintf(out, "columns = (\n");
    for (int c = 0; c < nc; c++) {
        etl_infer_choice ch;
        etl_infer_column(in->names[c], &st[c], &ch);
        const char *type = c == label ? "label" : etl_col_type_names[ch.type];
        fprintf(out, "  { name = ");
        print_quoted(out, in->names[c]);
        fprintf(out, "; type = \"%s\";", type);
        if (st[c].nulls == 0 && st[c].values > 0 && c != label && ch.type != ETL_COL_IGNORE &&
            ch.type != ETL_COL_ID)
            fprintf(out, " nullable = false;");
        fprintf(out, " }%s  # %lld nulls, %lld distinct", c + 1 < nc ? "," : "",
                (long long)st[c].nulls, (long long)st[c].distinct);
        if (c != label && ch.why[0]) fprintf(out, "; %s", ch.why);
        if (c == label || (ch.type == ETL_COL_CATEGORY && st[c].distinct <= 12)) {
            fprintf(out, ":");
            for (int32_t k = 0; k < cs[c].distinct.n && k < 12; k++) {
                size_t len;
                fprintf(out, " '%s'", etl_strtab_str(&cs[c].distinct, k, &len));
            }
        }
        fputc('\n', out);
    }
    fprintf(out, ");\n");
    if (label < 0) {
        fprintf(out,
                "# No label found (etl.label = \"%s\" is not a column, and no two-valued "
                "column is named like a target or last): set label, positive_labels and "
                "negative_labels.\n",
                o->label);
        return;
    }
    fputs("label = ", out);
    print_quoted(out, in->names[label]);
    int configured = !strcmp(in->names[label], o->label);
    if (configured && (o->n_positive > 0 || positive < 0)) {
        fputs(";  # etl.label\n", out);
        print_list(out, "positive_labels", o->positive_labels, o->n_positive);
        print_list(out, "negative_labels", o->negative_labels, o->n_negative);
    } else {
        fprintf(out, ";  # %s: confirm it and which value is the positive class\n",
                configured ? "etl.label" : "suggested");
        const char *pos = st[label].two[positive], *neg = st[label].two[1 - positive];
        print_list(out, "positive_labels", &pos, 1);
        print_list(out, "negative_labels", &neg, 1);
    }
}

int etl_infer_schema(MPI_Comm comm, const hpcml_config *cfg, FILE *out)
{
    etl_options o;
    etl_inputs in;
    etl_sample s;
    memset(&in, 0, sizeof in);
    memset(&s, 0, sizeof s);
    int rc = etl_options_load(cfg, &o);
    HPCML_TRY(hpcml_mpi_agree(comm, rc));
    rc = etl_inputs_plan(comm, &o, &in);
    if (rc == HPCML_OK) rc = etl_sample_collect(comm, &o, &in, o.infer_sample_rows, &s);
    if (rc != HPCML_OK) {
        etl_inputs_free(&in);
        etl_options_free(&o);
        return rc;
    }
    if (hpcml_mpi_rank(comm) == 0) {
        int nc = in.n_names;
        column_scan *cs = calloc((size_t)nc + 1, sizeof *cs);
        etl_infer_stats *st = calloc((size_t)nc + 1, sizeof *st);
        if (!cs || !st) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory inferring a schema");
        for (int c = 0; c < nc && rc == HPCML_OK; c++)
            rc = scan_column(&o, &s, c, &cs[c], &st[c]);
        if (rc == HPCML_OK) {
            print_block(out, &o, &in, &s, cs, st);
            fflush(out);
        }
        for (int c = 0; cs && c < nc; c++) {
            if (cs[c].distinct.slots) etl_strtab_free(&cs[c].distinct);
            free(cs[c].counts);
        }
        free(cs);
        free(st);
    }
    rc = hpcml_mpi_agree(comm, rc);
    etl_sample_free(&s);
    etl_inputs_free(&in);
    etl_options_free(&o);
    return rc;
}
