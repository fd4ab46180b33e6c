/* test_sweep_space.c — search-space sampling: every distribution stays in
 * its range with the right type, trial i's values are a pure function of
 * (seed, i), values load into a config, and bad spaces are refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/config.h"
#include "core/status.h"
#include "sweep/space.h"

static const char *SPACE =
    "sweep = {\n"
    "  seed = 7;\n"
    "  space = (\n"
    "    { key = \"train.lr\"; dist = \"loguniform\"; low = 1e-4; high = 1e-1; },\n"
    "    { key = \"train.dropout\"; dist = \"uniform\"; low = 0.0; high = 0.5; },\n"
    "    { key = \"train.batch_size\"; dist = \"quniform\"; low = 64.0; high = 1024.0; q = 64.0; "
    "},\n"
    "    { key = \"train.lr_step_epochs\"; dist = \"randint\"; low = 2; high = 6; },\n"
    "    { key = \"train.hidden\"; dist = \"choice\"; values = ( [128, 64], [256], [64, 64, 32] ); "
    "},\n"
    "    { key = \"train.optimizer\"; dist = \"choice\"; values = ( \"adam\", \"sgd\" ); },\n"
    "    { key = \"train.weight_decay\"; dist = \"fixed\"; values = 0.01; },\n"
    "    { key = \"train.momentum\"; dist = \"choice\"; values = ( 0.8, 0.9, 1 ); },\n"
    "    { key = \"train.grad_clip_norm\"; dist = \"uniform\"; low = 1; high = 3; }\n"
    "  );\n"
    "};\n";

static hpcml_config *load(const char *text)
{
    hpcml_config *cfg = NULL;
    int rc = hpcml_config_load_string(&cfg, text, "test", NULL, 0);
    CHECK_MSG(rc == HPCML_OK, "%s", hpcml_error_message());
    return cfg;
}

static void test_ranges_and_types(void)
{
    hpcml_config *cfg = load(SPACE);
    sweep_space sp;
    int rc = space_from_config(cfg, &sp);
    CHECK_MSG(rc == HPCML_OK, "%s", hpcml_error_message());
    CHECK_EQ_INT(sp.n_dims, 9);
    CHECK_EQ_INT(sp.seed, 7);
    const int N = 2000;
    double lr_logsum = 0, drop_sum = 0;
    int randint_seen[8] = {0}, hidden_seen[3] = {0}, opt_adam = 0, mom_one = 0;
    char v[256];
    for (int t = 0; t < N; t++) {
        space_value(&sp, t, 0, v, sizeof v);
        double lr = strtod(v, NULL);
        CHECK(lr >= 1e-4 && lr < 1e-1 && strpbrk(v, ".e"));
        lr_logsum += log10(lr);
        space_value(&sp, t, 1, v, sizeof v);
        double d = strtod(v, NULL);
        CHECK(d >= 0 && d < 0.5);
        drop_sum += d;
        space_value(&sp, t, 2, v, sizeof v); /* integer key: an integer multiple of 64 */
        char *end;
        long long bs = strtoll(v, &end, 10);
        CHECK_MSG(*end == '\0' && bs % 64 == 0 && bs >= 64 && bs <= 1024, "batch_size %s", v);
        space_value(&sp, t, 3, v, sizeof v);
        long long k = strtoll(v, &end, 10);
        CHECK_MSG(*end == '\0' && k >= 2 && k < 6, "randint %s", v);
        if (k >= 2 && k < 6) randint_seen[k]++;
        space_value(&sp, t, 4, v, sizeof v);
        int h = !strcmp(v, "[128, 64]")      ? 0
                : !strcmp(v, "[256]")        ? 1
                : !strcmp(v, "[64, 64, 32]") ? 2
                                             : -1;
        CHECK_MSG(h >= 0, "hidden %s", v);
        if (h >= 0) hidden_seen[h]++;
        space_value(&sp, t, 5, v, sizeof v);
        CHECK(!strcmp(v, "\"adam\"") || !strcmp(v, "\"sgd\""));
        opt_adam += !strcmp(v, "\"adam\"");
        space_value(&sp, t, 6, v, sizeof v);
        CHECK_EQ_STR(v, "0.01");
        space_value(&sp, t, 7, v, sizeof v); /* the integer option of a float key reads as float */
        CHECK(!strcmp(v, "0.8") || !strcmp(v, "0.9") || !strcmp(v, "1.0"));
        mom_one += !strcmp(v, "1.0");
        space_value(&sp, t, 8, v, sizeof v);
        CHECK(strtod(v, NULL) >= 1 && strtod(v, NULL) < 3);
    }
    CHECK_NEAR(lr_logsum / N, -2.5, 0.05); /* log-uniform: uniform in the exponent */
    CHECK_NEAR(drop_sum / N, 0.25, 0.01);
    for (int k = 2; k < 6; k++)
        CHECK_NEAR(randint_seen[k], N / 4.0, N * 0.04); /* high exclusive */
    for (int h = 0; h < 3; h++)
        CHECK_NEAR(hidden_seen[h], N / 3.0, N * 0.04);
    CHECK_NEAR(opt_adam, N / 2.0, N * 0.04);
    CHECK_NEAR(mom_one, N / 3.0, N * 0.04);
    space_free(&sp);
    hpcml_config_free(cfg);
}

static void test_purity_and_apply(void)
{
    hpcml_config *cfg = load(SPACE);
    sweep_space a, b;
    CHECK_EQ_INT(space_from_config(cfg, &a), HPCML_OK);
    CHECK_EQ_INT(space_from_config(cfg, &b), HPCML_OK);
    char x[256], y[256];
    int differ = 0;
    for (int t = 0; t < 50; t++)
        for (int d = 0; d < a.n_dims; d++) {
            space_value(&a, t, d, x, sizeof x);
            space_value(&b, t, d, y, sizeof y); /* another process computing trial t */
            CHECK_EQ_STR(x, y);
            space_value(&a, t + 1, d, y, sizeof y);
            differ += strcmp(x, y) != 0;
        }
    CHECK(differ > 50 * 4);
    /* A dimension's values do not depend on the dimensions after it. */
    b.n_dims = 2;
    for (int t = 0; t < 20; t++) {
        space_value(&a, t, 1, x, sizeof x);
        space_value(&b, t, 1, y, sizeof y);
        CHECK_EQ_STR(x, y);
    }
    b.n_dims = a.n_dims;
    /* Values go into a config and read back unchanged. */
    for (int t = 0; t < 20; t++) {
        hpcml_config *trial = NULL;
        CHECK_EQ_INT(hpcml_config_clone(cfg, &trial), HPCML_OK);
        int rc = space_apply(&a, t, trial);
        CHECK_MSG(rc == HPCML_OK, "%s", hpcml_error_message());
        space_value(&a, t, 0, x, sizeof x);
        CHECK(cfg_float(trial, "train.lr") == strtod(x, NULL));
        space_value(&a, t, 2, x, sizeof x);
        CHECK_EQ_INT(cfg_int(trial, "train.batch_size"), strtoll(x, NULL, 10));
        const int64_t *hidden;
        int n = cfg_int_list(trial, "train.hidden", &hidden);
        space_value(&a, t, 4, x, sizeof x);
        CHECK(n == (!strcmp(x, "[256]") ? 1 : !strcmp(x, "[128, 64]") ? 2 : 3));
        space_value(&a, t, 5, x, sizeof x);
        CHECK(strstr(x, cfg_str(trial, "train.optimizer")) != NULL);
        CHECK_NEAR(cfg_float(trial, "train.weight_decay"), 0.01, 0);
        hpcml_config_free(trial);
    }
    /* Another seed, other values. */
    hpcml_config *other = NULL;
    const char *ov[] = {"sweep.seed=8"};
    CHECK_EQ_INT(hpcml_config_load_string(&other, SPACE, "test", ov, 1), HPCML_OK);
    sweep_space c;
    CHECK_EQ_INT(space_from_config(other, &c), HPCML_OK);
    space_value(&a, 3, 0, x, sizeof x);
    space_value(&c, 3, 0, y, sizeof y);
    CHECK(strcmp(x, y) != 0);
    space_free(&c);
    hpcml_config_free(other);
    space_free(&a);
    space_free(&b);
    hpcml_config_free(cfg);
}

static void expect_refused(const char *group, const char *why)
{
    char text[1024];
    snprintf(text, sizeof text, "sweep = { space = ( %s ); };\n", group);
    hpcml_config *cfg = NULL;
    if (hpcml_config_load_string(&cfg, text, "test", NULL, 0) != HPCML_OK) {
        hpcml_error_clear();
        CHECK_MSG(0, "config did not load: %s", group);
        return;
    }
    sweep_space sp;
    hpcml_error_clear();
    int rc = space_from_config(cfg, &sp);
    CHECK_MSG(rc == HPCML_EUSAGE, "%s accepted (%s)", group, why);
    CHECK_MSG(strstr(hpcml_error_message(), why) != NULL ||
                  strstr(hpcml_error_context_text(), why) != NULL,
              "message \"%s\" (context \"%s\") lacks \"%s\"", hpcml_error_message(),
              hpcml_error_context_text(), why);
    hpcml_error_clear();
    hpcml_config_free(cfg);
}

static void test_refusals(void)
{
    expect_refused("{ key = \"train.nope\"; dist = \"uniform\"; }", "train.nope");
    expect_refused("{ key = \"etl.chunk_rows\"; dist = \"randint\"; low = 1; high = 9; }",
                   "not a train.* key");
    expect_refused("{ key = \"train.epochs\"; dist = \"randint\"; low = 1; high = 9; }",
                   "set by the sweep");
    expect_refused("{ key = \"train.lr\"; dist = \"uniform\"; low = 0.5; high = 0.1; }",
                   "low < high");
    expect_refused("{ key = \"train.lr\"; dist = \"loguniform\"; low = 0.0; high = 0.1; }",
                   "low > 0");
    expect_refused("{ key = \"train.optimizer\"; dist = \"uniform\"; low = 0.0; high = 1.0; }",
                   "use choice");
    expect_refused("{ key = \"train.hidden\"; dist = \"choice\"; }", "needs values");
    expect_refused("{ key = \"train.dropout\"; dist = \"choice\"; values = ( 0.1, 2.0 ); }",
                   "sweep.space[0]");
    expect_refused(
        "{ key = \"train.optimizer\"; dist = \"choice\"; values = ( \"adam\", \"lbfgs\" ); }",
        "sweep.space[0]");
    expect_refused("{ key = \"train.dropout\"; dist = \"uniform\"; low = 0.0; high = 5.0; }",
                   "sweep.space[0]");
    expect_refused("{ key = \"train.lr\"; dist = \"uniform\"; low = 0.1; high = 0.2; },"
                   "{ key = \"train.lr\"; dist = \"fixed\"; values = 0.1; }",
                   "searched twice");
}

static void test_format_float(void)
{
    char b[64];
    space_format_float(0.1, b, sizeof b);
    CHECK_EQ_STR(b, "0.1");
    space_format_float(3, b, sizeof b);
    CHECK_EQ_STR(b, "3.0");
    space_format_float(1e-7, b, sizeof b);
    CHECK_EQ_STR(b, "1e-07");
    space_format_float(0.1 + 0.2, b, sizeof b);
    CHECK(strtod(b, NULL) == 0.1 + 0.2);
}

int main(void)
{
    test_ranges_and_types();
    test_purity_and_apply();
    test_refusals();
    test_format_float();
    CHECK_DONE();
}
