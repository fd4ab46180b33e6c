/* test_gen_row.c — the synthetic row model as a pure function: determinism,
 * header and column counts, class balance, value shapes, missing cells,
 * malformed rows and the buffer contract. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gen/gen_row.h"

/* Split line (without its '\n') at commas into fields[]; returns the count. */
static int split_fields(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n < max) fields[n] = p;
        n++;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

static int is_number(const char *s, int decimals)
{
    char *end;
    if (!*s) return 0;
    strtod(s, &end);
    if (*end) return 0;
    const char *dot = strchr(s, '.');
    return decimals < 0 ? dot == NULL : dot && (int)strlen(dot + 1) == decimals;
}

static void test_header(void)
{
    gen_params p;
    gen_params_default(&p);
    char buf[GEN_ROW_MAX_BYTES];
    size_t n = gen_header_format(&p, buf, sizeof buf);
    CHECK_EQ_INT(n, strlen(buf));
    CHECK(strncmp(buf, "Time,V1,V2,", 11) == 0);
    CHECK(strstr(buf, ",V28,Amount,Class\n") != NULL);
    CHECK_EQ_INT(gen_column_count(&p), 31);
    p.categorical_columns = 3;
    gen_header_format(&p, buf, sizeof buf);
    CHECK(strstr(buf, ",V28,Amount,Cat1,Cat2,Cat3,Class\n") != NULL);
    CHECK_EQ_INT(gen_column_count(&p), 34);
    char name[32];
    CHECK_EQ_STR(gen_column_name(&p, 0, name, sizeof name), "Time");
    CHECK_EQ_STR(gen_column_name(&p, 14, name, sizeof name), "V14");
    CHECK_EQ_STR(gen_column_name(&p, 29, name, sizeof name), "Amount");
    CHECK_EQ_STR(gen_column_name(&p, 31, name, sizeof name), "Cat2");
    CHECK_EQ_STR(gen_column_name(&p, 33, name, sizeof name), "Class");
    /* The header obeys the buffer contract too. */
    CHECK_EQ_INT(gen_header_format(&p, buf, 10), n + 15);
    CHECK_EQ_STR(buf, "");
}

static void test_determinism_and_buffers(void)
{
    gen_params p;
    gen_params_default(&p);
    p.categorical_columns = 2;
    p.missing_fraction = 0.1;
    p.malformed_fraction = 0.1;
    char a[GEN_ROW_MAX_BYTES], b[GEN_ROW_MAX_BYTES], small[600];
    int same = 1, small_ok = 1;
    for (uint64_t i = 0; i < 5000; i += 7) {
        size_t na = gen_row_format(&p, i, a, sizeof a);
        (void)gen_row_format(&p, i + 1, b, sizeof b); /* no hidden state between rows */
        size_t nb = gen_row_format(&p, i, b, sizeof b);
        same &= na == nb && strcmp(a, b) == 0 && na == strlen(a) && a[na - 1] == '\n';
        /* A smaller buffer that still fits gives the same bytes. */
        size_t ns = gen_row_format(&p, i, small, sizeof small);
        small_ok &= ns == na && ns < sizeof small && strcmp(small, a) == 0;
    }
    CHECK(same);
    CHECK(small_ok);
    /* Too small: the length is still returned, nothing but a NUL is written. */
    size_t n = gen_row_format(&p, 3, a, sizeof a);
    memset(b, 'x', sizeof b);
    CHECK_EQ_INT(gen_row_format(&p, 3, b, n), n);
    CHECK(b[0] == '\0' && b[1] == 'x');
    CHECK_EQ_INT(gen_row_format(&p, 3, b, n + 1), n);
    CHECK_EQ_STR(b, a);
    b[0] = 'y';
    CHECK_EQ_INT(gen_row_format(&p, 3, b, 0), n);
    CHECK(b[0] == 'y');
    /* Another seed, other rows. */
    gen_params q = p;
    q.seed = p.seed + 1;
    gen_row_format(&q, 3, b, sizeof b);
    CHECK(strcmp(a, b) != 0);
}

static void test_class_balance(void)
{
    gen_params p;
    gen_params_default(&p);
    /* Stratified positives: exactly one per run of 1/f rows, so the count
     * over 1e6 rows is 1720 up to one. */
    long pos = 0;
    for (uint64_t i = 0; i < 1000000; i++)
        pos += gen_row_label(&p, i);
    CHECK_MSG(labs(pos - 1720) <= 1, "positives %ld", pos);
    /* The default table has the real set's 492 positives give or take the
     * rounding (284807 * 0.00172 = 489.9). */
    pos = 0;
    for (uint64_t i = 0; i < p.rows; i++)
        pos += gen_row_label(&p, i);
    CHECK_MSG(labs(pos - 490) <= 1, "positives %ld", pos);
    /* Runs of consecutive positives do not exist at this rate, yet positions vary. */
    p.positive_fraction = 0.3;
    pos = 0;
    for (uint64_t i = 0; i < 100000; i++)
        pos += gen_row_label(&p, i);
    CHECK_MSG(labs(pos - 30000) <= 1, "positives %ld", pos);
    p.positive_fraction = 0.0;
    CHECK_EQ_INT(gen_row_label(&p, 5), 0);
    p.positive_fraction = 1.0;
    CHECK_EQ_INT(gen_row_label(&p, 5), 1);
}

/* Shapes of clean rows: field counts and formats, Time order, the label in
 * the line, class-conditional means, categorical levels. */
static void test_clean_rows(void)
{
    gen_params p;
    gen_params_default(&p);
    p.positive_fraction = 0.02; /* enough positives for their means */
    p.categorical_columns = 2;
    p.category_levels = 7;
    p.rows = 100000;
    const int n_cols = gen_column_count(&p);
    char line[GEN_ROW_MAX_BYTES];
    char *f[64];
    int fields_ok = 1, format_ok = 1, label_ok = 1, time_ok = 1, amount_ok = 1, cat_ok = 1;
    double prev_time = -1;
    double sum_v1 = 0, sum2_v1 = 0, sum_v28 = 0, sum2_v28 = 0, neg_v14 = 0, pos_v14 = 0;
    long n_neg = 0, n_pos = 0, pos_side[2] = {0, 0};
    long level_count[7] = {0};
    for (uint64_t i = 0; i < p.rows; i++) {
        gen_row_info info;
        size_t n = gen_row_format_info(&p, i, line, sizeof line, &info);
        line[n - 1] = '\0';
        int nf = split_fields(line, f, 64);
        if (nf != n_cols) {
            fields_ok = 0;
            continue;
        }
        format_ok &= is_number(f[0], -1) && is_number(f[29], 2) && info.defect == GEN_ROW_OK;
        for (int j = 1; j <= 28; j++)
            format_ok &= is_number(f[j], 6);
        label_ok &= atoi(f[32]) == info.label && info.label == gen_row_label(&p, i) &&
                    (f[32][0] == '0' || f[32][0] == '1') && f[32][1] == '\0';
        double t = atof(f[0]);
        time_ok &= t >= prev_time && t <= 172792.0;
        prev_time = t;
        double amount = atof(f[29]);
        amount_ok &= amount >= 0 && amount <= 25691.16; /* 0.00 happens, as in the real set */
        for (int k = 30; k <= 31; k++) {
            int level = atoi(f[k] + 1);
            cat_ok &= f[k][0] == 'c' && level >= 0 && level < 7;
            if (k == 30 && level >= 0 && level < 7) level_count[level]++;
        }
        double v1 = atof(f[1]), v14 = atof(f[14]), v28 = atof(f[28]);
        if (info.label) {
            n_pos++;
            pos_v14 += v14;
            if (info.cluster) pos_side[info.cluster > 0] += 1;
        } else {
            n_neg++;
            sum_v1 += v1;
            sum2_v1 += v1 * v1;
            sum_v28 += v28;
            sum2_v28 += v28 * v28;
            neg_v14 += v14;
        }
    }
    CHECK(fields_ok);
    CHECK(format_ok);
    CHECK(label_ok);
    CHECK(time_ok);
    CHECK(amount_ok);
    CHECK(cat_ok);
    CHECK_NEAR(prev_time, 172792.0, 10.0);
    CHECK_MSG(labs(n_pos - 2000) <= 1, "positives %ld", n_pos);
    /* Negatives: V1 ~ N(0, 2), V28 ~ N(0, 0.33) (PCA-like decreasing sds). */
    double m1 = sum_v1 / n_neg, sd1 = sqrt(sum2_v1 / n_neg - m1 * m1);
    double m28 = sum_v28 / n_neg, sd28 = sqrt(sum2_v28 / n_neg - m28 * m28);
    CHECK_NEAR(m1, 0.0, 0.03);
    CHECK_NEAR(sd1, 2.0, 0.03);
    CHECK_NEAR(m28, 0.0, 0.005);
    CHECK_NEAR(sd28, 0.33, 0.005);
    /* Positives: V14 shifted down; both clusters populated about equally. */
    CHECK(pos_v14 / n_pos < neg_v14 / n_neg - 1.0);
    CHECK_MSG(labs(pos_side[0] - pos_side[1]) < 200, "sides %ld %ld", pos_side[0], pos_side[1]);
    CHECK(pos_side[0] + pos_side[1] > 0.9 * n_pos);
    /* Skewed levels: c0 most frequent, every level present. */
    int skew_ok = 1;
    for (int l = 1; l < 7; l++)
        skew_ok &= level_count[l] > 0 && level_count[l] < level_count[0];
    CHECK(skew_ok);
}

static void test_missing_cells(void)
{
    gen_params p;
    gen_params_default(&p);
    p.missing_fraction = 0.05;
    char line[GEN_ROW_MAX_BYTES];
    char *f[64];
    long empty = 0, reported = 0, other_empty = 0;
    int widths_ok = 1;
    const long rows = 20000;
    for (uint64_t i = 0; i < (uint64_t)rows; i++) {
        gen_row_info info;
        size_t n = gen_row_format_info(&p, i, line, sizeof line, &info);
        line[n - 1] = '\0';
        widths_ok &= split_fields(line, f, 64) == 31;
        for (int j = 1; j <= 28; j++)
            empty += f[j][0] == '\0';
        other_empty += !f[0][0] + !f[29][0] + !f[30][0];
        reported += info.missing_cells;
    }
    CHECK(widths_ok);
    CHECK_EQ_INT(empty, reported);
    CHECK_EQ_INT(other_empty, 0);
    /* 560000 cells at 5%: sd of the share 2.9e-4. */
    CHECK_NEAR((double)empty / (rows * 28.0), 0.05, 0.0015);
}

static void test_malformed_rows(void)
{
    gen_params p;
    gen_params_default(&p);
    p.malformed_fraction = 0.1;
    char line[GEN_ROW_MAX_BYTES];
    char *f[64];
    long kind[4] = {0};
    int ok = 1;
    const long rows = 30000;
    for (uint64_t i = 0; i < (uint64_t)rows; i++) {
        gen_row_info info;
        size_t n = gen_row_format_info(&p, i, line, sizeof line, &info);
        ok &= line[n - 1] == '\n';
        line[n - 1] = '\0';
        int quotes = 0;
        for (char *c = line; *c; c++)
            quotes += *c == '"';
        int nf = split_fields(line, f, 64);
        int bad_numbers = 0;
        for (int j = 1; j <= 28 && j < nf; j++)
            bad_numbers += !is_number(f[j], 6);
        kind[info.defect]++;
        switch (info.defect) {
        case GEN_ROW_OK: ok &= nf == 31 && quotes == 0 && bad_numbers == 0; break;
        case GEN_ROW_TOO_FEW_FIELDS: ok &= nf >= 1 && nf < 31 && quotes == 0; break;
        case GEN_ROW_BAD_NUMBER: ok &= nf == 31 && quotes == 0 && bad_numbers == 1; break;
        case GEN_ROW_OPEN_QUOTE: ok &= nf == 31 && quotes == 1 && bad_numbers == 1; break;
        }
    }
    CHECK(ok);
    long bad = kind[1] + kind[2] + kind[3];
    /* 10% of 30000: sd 52 rows. */
    CHECK_MSG(labs(bad - 3000) < 300, "malformed rows %ld", bad);
    CHECK(kind[1] > 800 && kind[2] > 800 && kind[3] > 800);
    /* No defects unless asked for. */
    p.malformed_fraction = 0.0;
    int clean = 1;
    for (uint64_t i = 0; i < 5000; i++) {
        gen_row_info info;
        gen_row_format_info(&p, i, line, sizeof line, &info);
        clean &= info.defect == GEN_ROW_OK && info.missing_cells == 0;
    }
    CHECK(clean);
}

int main(void)
{
    test_header();
    test_determinism_and_buffers();
    test_class_balance();
    test_clean_rows();
    test_missing_cells();
    test_malformed_rows();
    CHECK_DONE();
}
