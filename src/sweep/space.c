/* space.c — read sweep.space, sample trial i's values as libconfig text. */
#include "sweep/space.h"

#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/status.h"

static const char *dist_names[] = {"uniform", "loguniform", "quniform",
                                   "randint", "choice",     "fixed"};

void space_format_float(double x, char *out, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, x);
        if (strtod(out, NULL) == x) break;
    }
    if (!strpbrk(out, ".eEn")) { /* "3" would read back as an integer */
        size_t len = strlen(out);
        if (len + 2 < n) memcpy(out + len, ".0", 3);
    }
}

static const cfg_key *schema_lookup(const char *path)
{
    const char *dot = strchr(path, '.');
    if (!dot) return NULL;
    for (const cfg_section *s = hpcml_config_schema; s->name; s++) {
        if (strlen(s->name) != (size_t)(dot - path) || strncmp(s->name, path, (size_t)(dot - path)))
            continue;
        for (const cfg_key *k = s->keys; k->name; k++)
            if (!strcmp(k->name, dot + 1)) return k;
    }
    return NULL;
}

/* ---- libconfig setting -> text ---------------------------------------------- */

typedef struct {
    char *p;
    size_t n, len;
    int overflow;
} text_buf;

static void put(text_buf *b, const char *s)
{
    size_t l = strlen(s);
    if (b->len + l + 1 > b->n) {
        b->overflow = 1;
        return;
    }
    memcpy(b->p + b->len, s, l + 1);
    b->len += l;
}

static void put_string(text_buf *b, const char *s)
{
    put(b, "\"");
    for (; *s; s++) {
        char e[8];
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            snprintf(e, sizeof e, "\\%c", c);
        else if (c == '\n')
            snprintf(e, sizeof e, "\\n");
        else if (c == '\t')
            snprintf(e, sizeof e, "\\t");
        else if (c < 0x20)
            snprintf(e, sizeof e, "\\x%02x", c);
        else
            snprintf(e, sizeof e, "%c", c);
        put(b, e);
    }
    put(b, "\"");
}

/* want: the scalar type the key (or list element) expects, to print 1 as
 * 1.0 for a float key and 2.0 as 2 for an integer key. */
static int put_setting(text_buf *b, const config_setting_t *s, cfg_type want)
{
    char num[64];
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: {
        long long v = config_setting_get_int64(s);
        if (want == CFG_FLOAT)
            space_format_float((double)v, num, sizeof num);
        else
            snprintf(num, sizeof num, "%lld", v);
        put(b, num);
        return HPCML_OK;
    }
    case CONFIG_TYPE_FLOAT: {
        double v = config_setting_get_float(s);
        if (want == CFG_INT && v == floor(v) && fabs(v) < 9e15)
            snprintf(num, sizeof num, "%lld", (long long)v);
        else
            space_format_float(v, num, sizeof num);
        put(b, num);
        return HPCML_OK;
    }
    case CONFIG_TYPE_STRING: put_string(b, config_setting_get_string(s)); return HPCML_OK;
    case CONFIG_TYPE_BOOL: put(b, config_setting_get_bool(s) ? "true" : "false"); return HPCML_OK;
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST: {
        cfg_type elem = want == CFG_INT_LIST     ? CFG_INT
                        : want == CFG_FLOAT_LIST ? CFG_FLOAT
                                                 : CFG_ANY;
        int is_array = config_setting_type(s) == CONFIG_TYPE_ARRAY;
        put(b, is_array ? "[" : "(");
        int n = config_setting_length(s);
        for (int i = 0; i < n; i++) {
            if (i) put(b, ", ");
            HPCML_TRY(put_setting(b, config_setting_get_elem(s, (unsigned)i), elem));
        }
        put(b, is_array ? "]" : ")");
        return HPCML_OK;
    }
    default:
        return HPCML_FAIL(HPCML_EUSAGE, "sweep.space (line %d): a value cannot be a group",
                          (int)config_setting_source_line(s));
    }
}

static int setting_text(const config_setting_t *s, cfg_type want, char **out)
{
    for (size_t cap = 256;; cap *= 4) {
        text_buf b = {malloc(cap), cap, 0, 0};
        HPCML_ALLOC_CHECK(b.p, cap);
        b.p[0] = '\0';
        int rc = put_setting(&b, s, want);
        if (rc != HPCML_OK || !b.overflow) {
            if (rc != HPCML_OK)
                free(b.p);
            else
                *out = b.p;
            return rc;
        }
        free(b.p);
        HPCML_CHECK(cap < (1u << 26), HPCML_EUSAGE, "sweep.space: a value is too long");
    }
}

/* ---- reading sweep.space ------------------------------------------------------ */

void space_free(sweep_space *sp)
{
    for (int d = 0; d < sp->n_dims; d++) {
        space_dim *dim = &sp->dims[d];
        free(dim->key);
        for (int i = 0; i < dim->n_values; i++)
            free(dim->values[i]);
        free(dim->values);
    }
    free(sp->dims);
    memset(sp, 0, sizeof *sp);
}

static int add_value(space_dim *dim, const config_setting_t *s)
{
    char **v = realloc(dim->values, (size_t)(dim->n_values + 1) * sizeof *v);
    HPCML_ALLOC_CHECK(v, (size_t)(dim->n_values + 1) * sizeof *v);
    dim->values = v;
    HPCML_TRY(setting_text(s, dim->key_type, &dim->values[dim->n_values]));
    dim->n_values++;
    return HPCML_OK;
}

static int read_dim(const config_setting_t *g, int index, space_dim *dim)
{
    const char *key = NULL, *dist = NULL;
    config_setting_lookup_string(g, "key", &key);
    config_setting_lookup_string(g, "dist", &dist);
    int line = (int)config_setting_source_line(g);
    HPCML_CHECK(key && dist, HPCML_EUSAGE, "sweep.space[%d] (line %d): needs key and dist", index,
                line);
    dim->key = strdup(key);
    HPCML_ALLOC_CHECK(dim->key, strlen(key) + 1);
    const cfg_key *k = schema_lookup(key);
    HPCML_CHECK(strncmp(key, "train.", 6) == 0 && k, HPCML_EUSAGE,
                "sweep.space[%d] (line %d): key \"%s\" is not a train.* key of the schema", index,
                line, key);
    HPCML_CHECK(strcmp(key, "train.epochs") && strcmp(key, "train.output_dir"), HPCML_EUSAGE,
                "sweep.space[%d] (line %d): %s is set by the sweep (sweep.max_t, "
                "sweep.output_dir) and cannot be searched",
                index, line, key);
    dim->key_type = k->type;
    int di = 0;
    while (di < 6 && strcmp(dist, dist_names[di]))
        di++;
    HPCML_CHECK(di < 6, HPCML_EUSAGE, "sweep.space[%d]: unknown dist \"%s\"", index, dist);
    dim->dist = (space_dist)di;
    config_setting_lookup_float(g, "low", &dim->low);
    config_setting_lookup_float(g, "high", &dim->high);
    config_setting_lookup_float(g, "q", &dim->q);
    const config_setting_t *values = config_setting_get_member(g, "values");

    int numeric = k->type == CFG_INT || k->type == CFG_FLOAT;
    switch (dim->dist) {
    case SPACE_UNIFORM:
    case SPACE_LOGUNIFORM:
    case SPACE_QUNIFORM:
    case SPACE_RANDINT:
        HPCML_CHECK(numeric, HPCML_EUSAGE,
                    "sweep.space[%d] (line %d): %s of %s needs a number key; use choice", index,
                    line, dist, key);
        HPCML_CHECK(isfinite(dim->low) && isfinite(dim->high) && dim->low < dim->high, HPCML_EUSAGE,
                    "sweep.space[%d] (line %d): %s needs low < high (got %g, %g)", index, line, key,
                    dim->low, dim->high);
        HPCML_CHECK(dim->dist != SPACE_LOGUNIFORM || dim->low > 0, HPCML_EUSAGE,
                    "sweep.space[%d] (line %d): loguniform %s needs low > 0", index, line, key);
        HPCML_CHECK(dim->dist != SPACE_QUNIFORM || dim->q > 0, HPCML_EUSAGE,
                    "sweep.space[%d] (line %d): quniform %s needs q > 0", index, line, key);
        HPCML_CHECK(dim->dist != SPACE_RANDINT ||
                        (dim->low == floor(dim->low) && dim->high == floor(dim->high)),
                    HPCML_EUSAGE, "sweep.space[%d] (line %d): randint %s needs integer bounds",
                    index, line, key);
        break;
    case SPACE_CHOICE: {
        int t = values ? config_setting_type(values) : CONFIG_TYPE_NONE;
        HPCML_CHECK(
            (t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY) && config_setting_length(values) > 0,
            HPCML_EUSAGE, "sweep.space[%d] (line %d): choice of %s needs values = ( a, b, ... )",
            index, line, key);
        for (int i = 0; i < config_setting_length(values); i++)
            HPCML_TRY(add_value(dim, config_setting_get_elem(values, (unsigned)i)));
        break;
    }
    case SPACE_FIXED: {
        int t = values ? config_setting_type(values) : CONFIG_TYPE_NONE;
        /* ( v ) is a one-element list holding v; anything else is v itself. */
        HPCML_CHECK(t != CONFIG_TYPE_NONE &&
                        !(t == CONFIG_TYPE_LIST && config_setting_length(values) != 1),
                    HPCML_EUSAGE, "sweep.space[%d] (line %d): fixed %s needs values = v or ( v )",
                    index, line, key);
        HPCML_TRY(
            add_value(dim, t == CONFIG_TYPE_LIST ? config_setting_get_elem(values, 0) : values));
        break;
    }
    }
    return HPCML_OK;
}

/* Try each possible extreme or option on a copy of the config, so a bad
 * range or option fails at start-up and not in trial 57. */
static int check_dim_values(const sweep_space *sp, int d, hpcml_config *scratch)
{
    const space_dim *dim = &sp->dims[d];
    char text[64];
    int rc = HPCML_OK;
    if (dim->dist == SPACE_CHOICE || dim->dist == SPACE_FIXED) {
        for (int i = 0; i < dim->n_values && rc == HPCML_OK; i++)
            rc = hpcml_config_set(scratch, dim->key, dim->values[i]);
    } else {
        double ends[2] = {dim->low, dim->dist == SPACE_RANDINT ? dim->high - 1 : dim->high};
        for (int i = 0; i < 2 && rc == HPCML_OK; i++) {
            if (dim->key_type == CFG_INT)
                snprintf(text, sizeof text, "%lld", (long long)llround(ends[i]));
            else
                space_format_float(ends[i], text, sizeof text);
            rc = hpcml_config_set(scratch, dim->key, text);
        }
    }
    if (rc != HPCML_OK)
        hpcml_error_context("in sweep.space[%d] (%s %s)", d, dist_names[dim->dist], dim->key);
    return rc;
}

int space_from_config(const hpcml_config *cfg, sweep_space *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->seed = (uint64_t)cfg_int(cfg, "sweep.seed");
    const config_setting_t *list = cfg_setting(cfg, "sweep.space");
    int n = config_setting_length(list);
    if (n == 0) return HPCML_OK;
    sp->dims = calloc((size_t)n, sizeof *sp->dims);
    HPCML_ALLOC_CHECK(sp->dims, (size_t)n * sizeof *sp->dims);
    int rc = HPCML_OK;
    for (int d = 0; d < n && rc == HPCML_OK; d++) {
        sp->n_dims = d + 1;
        rc = read_dim(config_setting_get_elem(list, (unsigned)d), d, &sp->dims[d]);
        for (int e = 0; e < d && rc == HPCML_OK; e++)
            if (!strcmp(sp->dims[e].key, sp->dims[d].key))
                rc = HPCML_FAIL(HPCML_EUSAGE, "sweep.space: %s is searched twice ([%d] and [%d])",
                                sp->dims[d].key, e, d);
    }
    hpcml_config *scratch = NULL;
    if (rc == HPCML_OK) rc = hpcml_config_clone(cfg, &scratch);
    for (int d = 0; d < sp->n_dims && rc == HPCML_OK; d++)
        rc = check_dim_values(sp, d, scratch);
    hpcml_config_free(scratch);
    if (rc != HPCML_OK) space_free(sp);
    return rc;
}

/* ---- sampling ---------------------------------------------------------------------- */

int space_value(const sweep_space *sp, int64_t trial, int d, char *out, size_t n)
{
    HPCML_CHECK(d >= 0 && d < sp->n_dims && trial >= 0, HPCML_EINTERNAL, "bad dimension %d", d);
    const space_dim *dim = &sp->dims[d];
    const uint64_t idx = (uint64_t)trial;
    double x = 0;
    int is_int = dim->key_type == CFG_INT;
    switch (dim->dist) {
    case SPACE_UNIFORM: {
        double u = rng_uniform(sp->seed, RNG_STREAM_SWEEP, idx, (uint32_t)d);
        x = dim->low + (dim->high - dim->low) * u;
        break;
    }
    case SPACE_LOGUNIFORM: {
        double u = rng_uniform(sp->seed, RNG_STREAM_SWEEP, idx, (uint32_t)d);
        x = exp(log(dim->low) + (log(dim->high) - log(dim->low)) * u);
        break;
    }
    case SPACE_QUNIFORM: {
        double u = rng_uniform(sp->seed, RNG_STREAM_SWEEP, idx, (uint32_t)d);
        x = dim->low + (dim->high - dim->low) * u;
        x = rint(x / dim->q) * dim->q; /* np.round: half to even */
        break;
    }
    case SPACE_RANDINT: {
        uint64_t span = (uint64_t)(dim->high - dim->low);
        x = dim->low + (double)rng_below(sp->seed, RNG_STREAM_SWEEP, idx, (uint32_t)d, span);
        is_int = is_int || dim->key_type != CFG_FLOAT;
        break;
    }
    case SPACE_CHOICE: {
        uint64_t i =
            rng_below(sp->seed, RNG_STREAM_SWEEP, idx, (uint32_t)d, (uint64_t)dim->n_values);
        HPCML_CHECK(strlen(dim->values[i]) < n, HPCML_EINTERNAL, "value of %s too long", dim->key);
        snprintf(out, n, "%s", dim->values[i]);
        return HPCML_OK;
    }
    case SPACE_FIXED:
        HPCML_CHECK(strlen(dim->values[0]) < n, HPCML_EINTERNAL, "value of %s too long", dim->key);
        snprintf(out, n, "%s", dim->values[0]);
        return HPCML_OK;
    }
    if (is_int)
        snprintf(out, n, "%lld", (long long)llround(x));
    else
        space_format_float(x, out, n);
    return HPCML_OK;
}

int space_apply(const sweep_space *sp, int64_t trial, hpcml_config *cfg)
{
    for (int d = 0; d < sp->n_dims; d++) {
        char text[4096];
        HPCML_TRY(space_value(sp, trial, d, text, sizeof text));
        HPCML_TRY(hpcml_config_set(cfg, sp->dims[d].key, text));
    }
    return HPCML_OK;
}

int space_apply_values(const sweep_space *sp, const json_t *values, int64_t trial,
                       hpcml_config *cfg)
{
    for (int d = 0; d < sp->n_dims; d++) {
        const char *text = json_string_value(json_object_get(values, sp->dims[d].key));
        HPCML_CHECK(text, HPCML_EDATA,
                    "trial %lld: the journal's started record has no value for %s",
                    (long long)trial, sp->dims[d].key);
        HPCML_TRY(hpcml_config_set(cfg, sp->dims[d].key, text));
    }
    return HPCML_OK;
}
