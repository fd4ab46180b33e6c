/* test_config.c — the schema loader: defaults, type and range errors with
 * file:line, did-you-mean, overrides, and --print-config round trips. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/config.h"
#include "core/status.h"

static int load(hpcml_config **cfg, const char *text, const char *const *ov, int n)
{
    hpcml_error_clear();
    return hpcml_config_load_string(cfg, text, "test.cfg", ov, n);
}

static void expect_error(const char *text, const char *const *ov, int n, const char *needle)
{
    hpcml_config *cfg = NULL;
    int rc = load(&cfg, text, ov, n);
    CHECK_EQ_INT(rc, HPCML_EUSAGE);
    CHECK(cfg == NULL);
    CHECK_MSG(strstr(hpcml_error_message(), needle) != NULL, "message '%s' lacks '%s'",
              hpcml_error_message(), needle);
}

static void test_defaults(void)
{
    hpcml_config *cfg;
    CHECK_EQ_INT(load(&cfg, "", NULL, 0), HPCML_OK);
    CHECK_EQ_INT(cfg_int(cfg, "gen.rows"), 284807);
    CHECK_NEAR(cfg_float(cfg, "train.lr"), 0.001, 0);
    CHECK_EQ_STR(cfg_str(cfg, "train.optimizer"), "adam");
    const int64_t *hidden;
    CHECK_EQ_INT(cfg_int_list(cfg, "train.hidden", &hidden), 2);
    CHECK_EQ_INT(hidden[0], 256);
    CHECK_EQ_INT(hidden[1], 128);
    const char *const *nulls;
    CHECK_EQ_INT(cfg_str_list(cfg, "etl.null_markers", &nulls), 5);
    CHECK_EQ_STR(nulls[2], "?");
    CHECK(cfg_bool(cfg, "gen.header"));
    hpcml_config_free(cfg);
}

static void test_errors(void)
{
    expect_error("train = {\n  sed = 3;\n};\n", NULL, 0, "test.cfg:2: unknown key 'train.sed' (did you mean 'seed'?)");
    expect_error("trian = { seed = 1; };\n", NULL, 0, "unknown section 'trian' (did you mean 'train'?)");
    expect_error("train = {\n\n lr = \"fast\";\n};\n", NULL, 0, "test.cfg:3: train.lr: expected a number");
    expect_error("train = { lr = -1.0; };\n", NULL, 0, "expected a value in");
    expect_error("train = { optimizer = \"adamm\"; };\n", NULL, 0, "expected one of {adam,adamw,sgd}");
    expect_error("train = { epochs = 2.5; };\n", NULL, 0, "expected an integer");
    expect_error("train = { hidden = [256, 0]; };\n", NULL, 0, "expected a value in [1,");
    expect_error("train = {\n seed = ;\n};\n", NULL, 0, "test.cfg:2: syntax error");
    expect_error("monitoring = { alerts = ( { metric = \"val_loss\"; } ); };\n", NULL, 0,
                 "missing required key 'monitoring.alerts[0].threshold'");
    expect_error("etl = { columns = ( { name = \"a\"; tpye = \"float\"; } ); };\n", NULL, 0,
                 "unknown key 'etl.columns[0].tpye' (did you mean 'type'?)");
    const char *bad_ov[] = {"train.lrr=0.1"};
    expect_error("", bad_ov, 1, "unknown key 'train.lrr' (did you mean 'train.lr'?)");
    const char *bad_val[] = {"train.epochs=many"};
    expect_error("", bad_val, 1, "command line (-s train.epochs=...)");
    const char *no_eq[] = {"train.epochs"};
    expect_error("", no_eq, 1, "expected section.key=value");
}

static void test_overrides(void)
{
    const char *ov[] = {"etl.input=data/*.csv", "train.lr=0.01", "train.hidden=[64, 32, 16]",
                        "train.optimizer=sgd", "gen.rows=5000000000", "train.momentum=1"};
    hpcml_config *cfg;
    CHECK_EQ_INT(load(&cfg, "train = { lr = 0.5; };\n# 9000000000 in a comment\ngen = { seed = 9000000000; };", ov, 6), HPCML_OK);
    CHECK_EQ_INT(cfg_int(cfg, "gen.seed"), 9000000000LL);
    const char *const *in;
    CHECK_EQ_INT(cfg_str_list(cfg, "etl.input", &in), 1);
    CHECK_EQ_STR(in[0], "data/*.csv");
    CHECK_NEAR(cfg_float(cfg, "train.lr"), 0.01, 0);
    CHECK_NEAR(cfg_float(cfg, "train.momentum"), 1.0, 0); /* int given for a float */
    const int64_t *h;
    CHECK_EQ_INT(cfg_int_list(cfg, "train.hidden", &h), 3);
    CHECK_EQ_INT(h[2], 16);
    CHECK_EQ_STR(cfg_str(cfg, "train.optimizer"), "sgd");
    CHECK_EQ_INT(cfg_int(cfg, "gen.rows"), 5000000000LL);
    CHECK_EQ_INT(hpcml_config_set(cfg, "train.hidden", "[8]"), HPCML_OK);
    CHECK_EQ_INT(cfg_int_list(cfg, "train.hidden", &h), 1);
    CHECK_EQ_INT(h[0], 8);
    hpcml_config_free(cfg);
}

static void test_round_trip(void)
{
    const char *text =
        "gen = { rows = 1000; positive_fraction = 0.1; };\n"
        "train = { lr = 0.1; eps = 1e-300; weight_decay = 0.30000000000000004; };\n"
        "etl = { delimiter = \", \"; skip_prefix = \"|1x3 \\\"q\\\"\\\\\";\n"
        "  columns = ( { name = \"age\"; type = \"int\"; min = 0; max = 120; },\n"
        "              { name = \"income\"; type = \"label\"; } ); };\n"
        "sweep = { space = ( { key = \"train.hidden\"; dist = \"choice\"; values = ([64], [128, 64]); },\n"
        "                    { key = \"train.lr\"; dist = \"loguniform\"; low = 1e-4; high = 0.1; } ); };\n"
        "monitoring = { alerts = ( { metric = \"val_loss\"; threshold = 2.5; action = \"stop\"; } ); };\n";
    hpcml_config *a, *b;
    CHECK_EQ_INT(load(&a, text, NULL, 0), HPCML_OK);
    char *ta = hpcml_config_to_string(a);
    CHECK_EQ_INT(load(&b, ta, NULL, 0), HPCML_OK);
    char *tb = hpcml_config_to_string(b);
    CHECK_EQ_STR(ta, tb);
    CHECK(hpcml_config_hash(a) == hpcml_config_hash(b));
    CHECK_NEAR(cfg_float(b, "train.weight_decay"), 0.30000000000000004, 0);
    CHECK_NEAR(cfg_float(b, "train.eps"), 1e-300, 0);
    CHECK_EQ_STR(cfg_str(b, "etl.skip_prefix"), "|1x3 \"q\"\\");
    hpcml_config *c;
    CHECK_EQ_INT(hpcml_config_clone(b, &c), HPCML_OK);
    char *tc = hpcml_config_to_string(c);
    CHECK_EQ_STR(ta, tc);
    free(ta);
    free(tb);
    free(tc);
    hpcml_config_free(a);
    hpcml_config_free(b);
    hpcml_config_free(c);
}

/* hpcml_config_is_set: set by the file, an override or hpcml_config_set, not by a default;
 * kept by a clone. */
static void test_is_set(void)
{
    const char *ov[] = {"sweep.seed=3"};
    hpcml_config *cfg, *c;
    CHECK_EQ_INT(load(&cfg, "sweep = { trials = 7; search = \"tpe\"; };\n"
                            "etl = { columns = ( { name = \"a\"; type = \"int\"; } ); };",
                      ov, 1),
                 HPCML_OK);
    CHECK(hpcml_config_is_set(cfg, "sweep.trials"));  /* the file */
    CHECK(hpcml_config_is_set(cfg, "sweep.search"));  /* the file, equal to the default */
    CHECK(hpcml_config_is_set(cfg, "sweep.seed"));    /* -s */
    CHECK(!hpcml_config_is_set(cfg, "sweep.max_t"));  /* a default in a given section */
    CHECK(!hpcml_config_is_set(cfg, "train.lr"));     /* a default in a missing section */
    CHECK(hpcml_config_is_set(cfg, "etl.columns"));
    CHECK_EQ_INT(hpcml_config_clone(cfg, &c), HPCML_OK);
    CHECK(hpcml_config_is_set(c, "sweep.trials"));
    CHECK(hpcml_config_is_set(c, "sweep.seed"));
    CHECK(!hpcml_config_is_set(c, "sweep.max_t"));
    CHECK(!hpcml_config_is_set(c, "train.lr"));
    CHECK_EQ_INT(hpcml_config_set(c, "train.lr", "0.001"), HPCML_OK); /* code sets it */
    CHECK(hpcml_config_is_set(c, "train.lr"));
    CHECK(!hpcml_config_is_set(cfg, "train.lr")); /* the original is untouched */
    hpcml_config_free(c);
    hpcml_config_free(cfg);
    CHECK_EQ_INT(load(&cfg, "", NULL, 0), HPCML_OK);
    CHECK(!hpcml_config_is_set(cfg, "sweep.search"));
    hpcml_config_free(cfg);
}

int main(void)
{
    test_defaults();
    test_is_set();
    test_errors();
    test_overrides();
    test_round_trip();
    CHECK_DONE();
}
