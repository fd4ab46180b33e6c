/* test_status.c — the error record: the first message wins, context lines
 * added on the way up are kept in order, clear and adopt reset all of it. */
#include <string.h>

#include "check.h"
#include "core/status.h"

static int inner(void) { return HPCML_FAIL(HPCML_EDATA, "bad value %d", 7); }

static int middle(void)
{
    int rc = inner();
    if (rc != HPCML_OK) return hpcml_error_context("while reading %s", "a.csv");
    return HPCML_OK;
}

static int outer(void)
{
    int rc = middle();
    if (rc != HPCML_OK) {
        /* a later failure does not replace the root cause ... */
        HPCML_FAIL(HPCML_EIO, "secondary failure");
        /* ... but a hint does reach the user */
        return hpcml_error_context("use another folder");
    }
    return HPCML_OK;
}

int main(void)
{
    hpcml_error_clear();
    CHECK_EQ_INT(hpcml_error_context("ignored without an error"), HPCML_OK);
    CHECK_EQ_STR(hpcml_error_context_text(), "");

    CHECK_EQ_INT(outer(), HPCML_EDATA);
    CHECK_EQ_INT(hpcml_error_code(), HPCML_EDATA);
    CHECK_EQ_STR(hpcml_error_message(), "bad value 7");
    CHECK_EQ_STR(hpcml_error_context_text(), "while reading a.csv\nuse another folder\n");
    CHECK(strstr(hpcml_error_where(), "tests/unit/test_status.c:") != NULL);

    /* the context buffer is bounded: many lines keep the first ones whole */
    for (int i = 0; i < 200; i++) hpcml_error_context("context line number %03d", i);
    const char *ctx = hpcml_error_context_text();
    CHECK(strncmp(ctx, "while reading a.csv\n", 20) == 0);
    CHECK(strlen(ctx) < HPCML_ERRMSG_MAX);

    hpcml_error_adopt(HPCML_EIO, "from rank 3", "src/x.c:1, rank 3", "while writing b.h5\n");
    CHECK_EQ_INT(hpcml_error_code(), HPCML_EIO);
    CHECK_EQ_STR(hpcml_error_message(), "from rank 3");
    CHECK_EQ_STR(hpcml_error_context_text(), "while writing b.h5\n");

    hpcml_error_clear();
    CHECK_EQ_INT(hpcml_error_code(), HPCML_OK);
    CHECK_EQ_STR(hpcml_error_message(), "");
    CHECK_EQ_STR(hpcml_error_context_text(), "");
    CHECK_DONE();
}
