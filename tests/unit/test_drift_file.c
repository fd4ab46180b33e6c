/* test_drift_file.c — the drift reference in HDF5 (io/drift_file.h): a set
 * written and read back is equal (names with '/' and '%', an empty column,
 * a categorical one); a reader rejects a missing group, another format, a
 * newer version, another bucket grid and counts that do not add up, each
 * with exit code 2 (HPCML_EDATA) and a message naming the file. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/status.h"
#include "io/drift_file.h"
#include "io/h5_dataset_write.h"

static char dir[] = "/tmp/hpcml-test-drift.XXXXXX";

static void make_set(drift_set *s)
{
    const char *cats[4] = {"<unknown>", "red", "gr/een", "b%lue"};
    drift_set_init(s);
    drift_set_add_numeric(s, "Amount");
    drift_set_add_numeric(s, "a/b%c"); /* escaped group name */
    drift_set_add_numeric(s, "empty");
    drift_set_add_categorical(s, "colour", 4, cats);
    for (int i = 0; i < 5000; i++) {
        drift_numeric_add(s->cols[0].num, exp(0.001 * i) - 3.0);
        drift_numeric_add(s->cols[1].num, i % 7 == 0 ? NAN : -1e20 + i);
        drift_categorical_add(&s->cols[3].cat, i % 11 == 0 ? -1 : i % 4);
    }
    drift_numeric_add_null(s->cols[2].num);
}

static void write_file(const char *path, const drift_set *s)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(f >= 0);
    CHECK_EQ_INT(drift_reference_write(f, "/meta/drift", s, 5000), HPCML_OK);
    H5Fclose(f);
}

static void set_attr(const char *path, const char *name, int is_string, double v)
{
    hid_t f;
    CHECK_EQ_INT(h5_meta_open(path, &f), HPCML_OK);
    H5Adelete_by_name(f, "/meta/drift", name, H5P_DEFAULT);
    if (is_string)
        CHECK_EQ_INT(h5_meta_attr_str(f, "/meta/drift", name, "something-else"), HPCML_OK);
    else
        CHECK_EQ_INT(h5_meta_attr_f64(f, "/meta/drift", name, v), HPCML_OK);
    CHECK_EQ_INT(h5_meta_close(f), HPCML_OK);
}

static void expect_bad(const char *path, const char *group, const char *words)
{
    drift_set s;
    hpcml_error_clear();
    int rc = drift_reference_load(path, group, &s, NULL);
    CHECK_EQ_INT(rc, HPCML_EDATA);
    CHECK_MSG(strstr(hpcml_error_message(), path) && strstr(hpcml_error_message(), words),
              "message: %s (expected %s)", hpcml_error_message(), words);
    CHECK_EQ_INT(s.n_cols, 0);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/ref.h5", dir);
    drift_set a, b;
    make_set(&a);
    write_file(path, &a);
    int64_t rows = 0;
    CHECK_EQ_INT(drift_reference_load(path, "/meta/drift", &b, &rows), HPCML_OK);
    CHECK_EQ_INT(rows, 5000);
    CHECK_EQ_INT(b.n_cols, 4);
    for (int i = 0; i < a.n_cols && i < b.n_cols; i++) {
        CHECK_EQ_STR(a.cols[i].name, b.cols[i].name);
        CHECK_EQ_INT(a.cols[i].type, b.cols[i].type);
    }
    if (b.n_cols == 4) {
        for (int i = 0; i < 3; i++)
            CHECK(memcmp(a.cols[i].num, b.cols[i].num, sizeof(drift_numeric)) == 0);
        CHECK_EQ_INT(b.cols[2].num->nulls, 1);
        CHECK_EQ_INT(b.cols[3].cat.n_slots, 4);
        CHECK(memcmp(a.cols[3].cat.counts, b.cols[3].cat.counts, 4 * sizeof(int64_t)) == 0);
        CHECK_EQ_INT(b.cols[3].cat.nulls, a.cols[3].cat.nulls);
        CHECK_EQ_STR(b.cols[3].categories[2], "gr/een");
        CHECK_EQ_STR(b.cols[3].categories[0], "<unknown>");
    }
    drift_set_free(&b);

    /* what a reader refuses */
    expect_bad(path, "/meta/nothing", "no drift reference");
    char p2[300];
    snprintf(p2, sizeof p2, "%s/format.h5", dir);
    write_file(p2, &a);
    set_attr(p2, "format", 1, 0);
    expect_bad(p2, "/meta/drift", "expected \"hpcml-drift-reference\"");
    snprintf(p2, sizeof p2, "%s/version.h5", dir);
    write_file(p2, &a);
    {
        hid_t f;
        h5_meta_open(p2, &f);
        H5Adelete_by_name(f, "/meta/drift", "version", H5P_DEFAULT);
        h5_meta_attr_i32(f, "/meta/drift", "version", DRIFT_REFERENCE_VERSION + 1);
        h5_meta_close(f);
    }
    expect_bad(p2, "/meta/drift", "version 2");
    snprintf(p2, sizeof p2, "%s/grid.h5", dir);
    write_file(p2, &a);
    set_attr(p2, "alpha", 0, 0.02);
    expect_bad(p2, "/meta/drift", "bucket grid");
    snprintf(p2, sizeof p2, "%s/count.h5", dir);
    write_file(p2, &a);
    {
        hid_t f;
        h5_meta_open(p2, &f);
        H5Adelete_by_name(f, "/meta/drift/Amount", "count", H5P_DEFAULT);
        h5_meta_attr_i64(f, "/meta/drift/Amount", "count", 4999);
        h5_meta_close(f);
    }
    expect_bad(p2, "/meta/drift", "count says 4999");
    drift_set_free(&a);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    CHECK_DONE();
}
