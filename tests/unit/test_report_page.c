/* test_report_page.c — report.html's sections without files: text from the
 * inputs is escaped everywhere (a CSV header can hold anything), a missing or
 * corrupt input becomes a note naming the file, the evaluation's confusion
 * counts come from the score runs at the threshold, and the same input gives
 * the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "report/report_page.h"

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static const char quality_text[] =
    "{\"format\":\"hpcml-etl-quality\",\"rows_read\":1000,\"rows_valid\":990,"
    "\"n_features\":3,\"input\":{\"bytes\":12345},"
    "\"rows_dropped\":{\"bad_value\":7,\"ragged_row\":3,\"total\":10},"
    "\"splits\":{\"train\":{\"rows\":700,\"class_counts\":[690,10]},"
    "\"val\":{\"rows\":150,\"class_counts\":[148,2]},"
    "\"test\":{\"rows\":140,\"class_counts\":[138,2]}},"
    "\"columns\":{\"<script>alert(1)</script>\":{\"type\":\"float\",\"nulls\":5,"
    "\"train_nulls\":4,\"impute\":\"mean\",\"impute_value\":1.5},"
    "\"Amount\":{\"type\":\"float\",\"nulls\":0}}}";

static char *data_page(const report_input *in, json_t *q)
{
    svg_buf b;
    svg_buf_init(&b);
    report_page_begin(&b, "t & <t>", "run.cfg");
    report_section_data(&b, in, q);
    report_page_end(&b);
    return svg_buf_take(&b);
}

static void test_data_escaped(void)
{
    json_error_t err;
    json_t *q = json_loads(quality_text, 0, &err);
    CHECK(q != NULL);
    report_input in = {.path = "run/quality.json", .state = INPUT_OK};
    char *html = data_page(&in, q);
    CHECK(html != NULL);
    CHECK_EQ_INT(count(html, "<script"), 0);
    CHECK(count(html, "&lt;script&gt;alert(1)&lt;/script&gt;") >= 2); /* chart and table */
    CHECK(strstr(html, "<title>t &amp; &lt;t&gt;</title>") != NULL);
    CHECK(strstr(html, ">ragged_row</text>") != NULL); /* dropped-rows chart */
    CHECK(strstr(html, "id=\"data-dropped\"") && strstr(html, "id=\"data-nulls\""));
    CHECK(strstr(html, "class=\"missing\"") == NULL && strstr(html, "class=\"corrupt\"") == NULL);
    char *again = data_page(&in, q);
    CHECK(again && strcmp(html, again) == 0);
    free(again);
    free(html);
    json_decref(q);
}

static void test_missing_and_corrupt(void)
{
    report_input missing = {.path = "run/quality.json", .state = INPUT_MISSING};
    char *html = data_page(&missing, NULL);
    CHECK(html && strstr(html, "<code>run/quality.json</code> does not exist") != NULL);
    CHECK(strstr(html, "<svg") == NULL);
    free(html);

    report_input bad = {.path = "run/<q>.json", .state = INPUT_CORRUPT};
    snprintf(bad.problem, sizeof bad.problem, "not valid JSON (line 2, column 0: <eof>)");
    html = data_page(&bad, NULL);
    CHECK(html && strstr(html, "class=\"corrupt\"") != NULL);
    CHECK(strstr(html, "run/&lt;q&gt;.json") != NULL);
    CHECK(strstr(html, "line 2, column 0: &lt;eof&gt;") != NULL);
    free(html);
}

static void test_evaluation_counts(void)
{
    /* 3 positives, 3 negatives; at threshold 0.5: tp 2 (0.9, 0.6), fp 1 (0.7),
     * fn 1 (0.2), tn 2 */
    const double s[] = {0.9, 0.7, 0.6, 0.4, 0.2, 0.1};
    const int32_t y[] = {1, 0, 1, 0, 1, 0};
    metrics_run runs[6];
    size_t n = 0;
    CHECK(metrics_runs_build(s, y, NULL, 6, runs, &n) == 0);
    report_input in = {.path = "p.h5", .state = INPUT_OK};
    svg_buf b;
    svg_buf_init(&b);
    report_section_evaluation(&b, &in, runs, n, 0.5, "test");
    char *html = svg_buf_take(&b);
    CHECK(html != NULL);
    CHECK(strstr(html, "<th class=\"t\">true 0</th><td class=\"hit\">2</td><td "
                       "class=\"miss\">1</td>") != NULL);
    CHECK(strstr(html, "<th class=\"t\">true 1</th><td class=\"miss\">1</td><td "
                       "class=\"hit\">2</td>") != NULL);
    CHECK(strstr(html, "id=\"eval-roc\"") && strstr(html, "id=\"eval-pr\"") &&
          strstr(html, "id=\"eval-threshold\""));
    /* F1 = 2*2 / (2*2 + 1 + 1) */
    CHECK(strstr(html, "<div class=\"v\">0.6667</div><div class=\"l\">F1 at threshold 0.5") !=
          NULL);
    free(html);
}

int main(void)
{
    test_data_escaped();
    test_missing_and_corrupt();
    test_evaluation_counts();
    CHECK_DONE();
}
