/* test_etl_infer.c — delimiter detection (csv_sniff_delimiter,
 * csv_likely_delimiter) and --infer-schema's column and label decisions
 * (etl_infer_column, etl_infer_label), on made-up texts and counts. */
#include <string.h>

#include "check.h"
#include "etl/csv_tokenize.h"
#include "etl/etl_infer.h"

static void sniff(const char *text, const char *prefix, const char *want, size_t fields)
{
    csv_dialect d;
    csv_dialect_default(&d);
    d.trim_spaces = false;
    csv_sniff sn;
    csv_sniff_delimiter(&d, text, strlen(text), prefix, 100, &sn);
    CHECK_MSG(!strcmp(sn.delimiter, want), "'%s': got '%s', want '%s'", text, sn.delimiter, want);
    if (want[0]) CHECK_EQ_INT(sn.fields, fields);
}

static void test_sniff(void)
{
    sniff("a,b,c\n1,2,3\n4,5,6\n", NULL, ",", 3);
    sniff("\"a\";\"b\";\"c\"\n\"1,5\";\"x; y\";\"3\"\n", NULL, ";", 3);
    sniff("a\tb\tc\td\n1\t2\t3\t4\n", NULL, "\t", 4);
    sniff("a|b\n1|2\n", NULL, "|", 2);
    sniff("age, workclass, income\n39, State-gov, <=50K\n50, Self-emp, >50K\n", NULL, ", ", 3);
    /* a comma inside text and ';' splitting evenly: ';' */
    sniff("name;note\nx;a,b,c\ny;d\n", NULL, ";", 2);
    /* "," not always followed by a space: ",", not ", " */
    sniff("a, b,c\n1, 2,3\n", NULL, ",", 3);
    /* the last record cut by the end of the buffer is not counted */
    sniff("a;b\n1;2\n3;4;5;6", NULL, ";", 2);
    /* comment lines skipped */
    sniff("# made, by, hand\na;b\n1;2\n", "#", ";", 2);
    /* one column: nothing fits */
    sniff("value\n1\n2\n", NULL, "", 0);
    /* ragged under every candidate: nothing fits */
    sniff("a,b\n1,2,3\n", NULL, "", 0);
    CHECK_EQ_STR(csv_likely_delimiter("a;b;c", 5), ";");
    CHECK_EQ_STR(csv_likely_delimiter("a\tb", 3), "\t");
    CHECK(csv_likely_delimiter("plain", 5) == NULL);
}

static etl_infer_stats stats(int64_t values, int64_t nulls, int64_t ints, int64_t numbers,
                             int64_t distinct, int rising)
{
    etl_infer_stats s;
    memset(&s, 0, sizeof s);
    s.values = values, s.nulls = nulls, s.ints = ints, s.numbers = numbers;
    s.distinct = distinct, s.rising = rising;
    return s;
}

static etl_col_type decide(const char *name, etl_infer_stats s, const char *why)
{
    etl_infer_choice ch;
    etl_infer_column(name, &s, &ch);
    if (why) CHECK_MSG(strstr(ch.why, why) != NULL, "%s: '%s' lacks '%s'", name, ch.why, why);
    return ch.type;
}

static void test_columns(void)
{
    CHECK_EQ_INT(decide("empty", stats(0, 500, 0, 0, 0, 0), "null in every"), ETL_COL_IGNORE);
    CHECK_EQ_INT(decide("currency", stats(500, 0, 0, 0, 1, 0), "constant"), ETL_COL_IGNORE);
    CHECK_EQ_INT(decide("row", stats(500, 0, 500, 500, 500, 1), "row number"), ETL_COL_ID);
    CHECK_EQ_INT(decide("CustomerId", stats(500, 0, 500, 500, 500, 0), "named like"), ETL_COL_ID);
    CHECK_EQ_INT(decide("customer_no", stats(500, 0, 500, 500, 500, 0), "named like"), ETL_COL_ID);
    /* an integer feature whose sampled values happen to be distinct stays int */
    CHECK_EQ_INT(decide("balance", stats(500, 0, 500, 500, 500, 0), NULL), ETL_COL_INT);
    CHECK_EQ_INT(decide("paid", stats(500, 0, 500, 500, 500, 0), NULL), ETL_COL_INT);
    /* too few values to call them an identifier */
    CHECK_EQ_INT(decide("row_id", stats(20, 0, 20, 20, 20, 1), NULL), ETL_COL_INT);
    CHECK_EQ_INT(decide("amount", stats(500, 3, 200, 500, 480, 0), NULL), ETL_COL_FLOAT);
    CHECK_EQ_INT(decide("ticket", stats(500, 0, 0, 0, 500, 0), "identifier"), ETL_COL_ID);
    CHECK_EQ_INT(decide("surname", stats(5000, 0, 0, 0, 1800, 0), "free text"), ETL_COL_IGNORE);
    CHECK_EQ_INT(decide("street", stats(500, 0, 0, 0, 300, 0), "free text"), ETL_COL_IGNORE);
    CHECK_EQ_INT(decide("month", stats(5000, 0, 0, 0, 12, 0), NULL), ETL_COL_CATEGORY);
    CHECK_EQ_INT(decide("zip", stats(5000, 0, 0, 0, 900, 0), NULL), ETL_COL_CATEGORY);
}

static void test_label(void)
{
    char *names[] = {"id", "Exited", "gender", "score"};
    etl_infer_stats st[4];
    st[0] = stats(100, 0, 100, 100, 100, 1);
    st[1] = stats(100, 0, 100, 100, 2, 0);
    st[1].two[0] = "0", st[1].two[1] = "1", st[1].two_n[0] = 80, st[1].two_n[1] = 20;
    st[2] = stats(100, 0, 0, 0, 2, 0);
    st[2].two[0] = "F", st[2].two[1] = "M", st[2].two_n[0] = 50, st[2].two_n[1] = 50;
    st[3] = stats(100, 0, 0, 100, 90, 0);
    int pos = -2;
    /* named like a target, two-valued: 1 is the positive value */
    CHECK_EQ_INT(etl_infer_label(names, st, 4, "Class", &pos), 1);
    CHECK_EQ_INT(pos, 1);
    /* configured wins */
    CHECK_EQ_INT(etl_infer_label(names, st, 4, "gender", &pos), 2);
    /* yes/no in either order: yes; otherwise the rarer */
    st[1].two[0] = "yes", st[1].two[1] = "no", st[1].two_n[0] = 70, st[1].two_n[1] = 30;
    etl_infer_label(names, st, 4, "", &pos);
    CHECK_EQ_INT(pos, 0);
    st[1].two[0] = "stay", st[1].two[1] = "leave";
    etl_infer_label(names, st, 4, "", &pos);
    CHECK_EQ_INT(pos, 1);
    /* no target name: the last column when two-valued, else none */
    char *plain[] = {"a", "b"};
    etl_infer_stats s2[2] = {stats(10, 0, 0, 10, 10, 0), stats(10, 0, 0, 0, 2, 0)};
    s2[1].two[0] = "p", s2[1].two[1] = "q", s2[1].two_n[0] = 5, s2[1].two_n[1] = 5;
    CHECK_EQ_INT(etl_infer_label(plain, s2, 2, "Class", &pos), 1);
    s2[1].distinct = 3;
    CHECK_EQ_INT(etl_infer_label(plain, s2, 2, "Class", &pos), -1);
    CHECK_EQ_INT(pos, -1);
}

int main(void)
{
    test_sniff();
    test_columns();
    test_label();
    CHECK_DONE();
}
