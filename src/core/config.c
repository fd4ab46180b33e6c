/* config.c — libconfig text checked against the schema of config_schema.c.
 *
 * The parsed libconfig tree stays the store. Loading = parse, apply -s
 * overrides, check every setting against the schema, fill defaults. The
 * printer walks the schema, not the tree, so --print-config is complete,
 * ordered and round-trips (floats are printed with the fewest digits that
 * read back to the same double). */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/status.h"

struct hpcml_config {
    config_t lc;
    char source[1024];
    /* Lists are copied out of the tree once, on first request. */
    struct list_cache {
        char path[128];
        int n;
        void *values;
        char **strings;
    } *lists;
    int n_lists, cap_lists;
    /* Where each override came from, for messages. */
    char overridden[64][128];
    int n_overridden;
    /* The keys filled in from the schema's defaults ("section.key", "section.list[i].field"):
     * the user did not set them (hpcml_config_is_set). */
    char **defaulted;
    int n_defaulted, cap_defaulted;
};

/* ---- schema look-up -------------------------------------------------------- */

static const cfg_section *find_section(const char *name, size_t len)
{
    for (const cfg_section *s = hpcml_config_schema; s->name; s++)
        if (strlen(s->name) == len && strncmp(s->name, name, len) == 0) return s;
    return NULL;
}

static const cfg_key *find_key(const cfg_key *keys, const char *name)
{
    for (const cfg_key *k = keys; k->name; k++)
        if (strcmp(k->name, name) == 0) return k;
    return NULL;
}

static const cfg_key *schema_key(const char *path, const cfg_section **sec_out)
{
    const char *dot = strchr(path, '.');
    if (!dot) return NULL;
    const cfg_section *s = find_section(path, (size_t)(dot - path));
    if (!s) return NULL;
    if (sec_out) *sec_out = s;
    return find_key(s->keys, dot + 1);
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
                                        tolower((unsigned char)b[j - 1]));
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof cur);
    }
    return prev[lb];
}

/* Whether needle occurs in hay, ignoring case. */
static int contains_nocase(const char *hay, const char *needle)
{
    size_t ln = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, ln) == 0) return 1;
    return 0;
}

/* " (did you mean 'seed'?)" for the closest of keys to name, or "". */
static void suggest(char *out, size_t n, const char *name, const cfg_key *keys,
                    const char *prefix)
{
    out[0] = '\0';
    size_t best = 99;
    const char *best_name = NULL;
    for (const cfg_key *k = keys; k->name; k++) {
        size_t d = edit_distance(name, k->name);
        if (d < best) best = d, best_name = k->name;
    }
    size_t limit = strlen(name) / 3 + 1;
    if (limit < 2) limit = 2;
    if (!best_name || best > limit) {
        /* No near spelling: a key that name begins (train.data -> train.dataset), else one
         * that contains it, when name is long enough to mean something (3+ characters). */
        best_name = NULL;
        size_t ln = strlen(name);
        for (int pass = 0; pass < 2 && !best_name && ln >= 3; pass++)
            for (const cfg_key *k = keys; k->name && !best_name; k++)
                if (pass == 0 ? strncasecmp(k->name, name, ln) == 0 : contains_nocase(k->name, name))
                    best_name = k->name;
    }
    if (best_name) snprintf(out, n, " (did you mean '%s%s'?)", prefix, best_name);
}

static void suggest_section(char *out, size_t n, const char *name)
{
    out[0] = '\0';
    size_t best = 99;
    const char *best_name = NULL;
    for (const cfg_section *s = hpcml_config_schema; s->name; s++) {
        size_t d = edit_distance(name, s->name);
        if (d < best) best = d, best_name = s->name;
    }
    if (best_name && best <= 2) snprintf(out, n, " (did you mean '%s'?)", best_name);
}

/* ---- messages -------------------------------------------------------------- */

static const char *type_name(cfg_type t)
{
    switch (t) {
    case CFG_INT: return "an integer";
    case CFG_FLOAT: return "a number";
    case CFG_BOOL: return "true or false";
    case CFG_STRING: return "a string";
    case CFG_ENUM: return "one of the strings";
    case CFG_INT_LIST: return "an array of integers like [1, 2]";
    case CFG_FLOAT_LIST: return "an array of numbers like [0.5, 2.0]";
    case CFG_STRING_LIST: return "a string or an array of strings like [\"a\", \"b\"]";
    case CFG_GROUPS: return "a list of groups like ( { ... }, { ... } )";
    case CFG_ANY: return "a value";
    }
    return "?";
}

/* "file.cfg:12" or "override -s train.lr=..." for a setting. */
static void where_of(const hpcml_config *cfg, const config_setting_t *s, const char *path,
                     char *out, size_t n)
{
    for (int i = 0; i < cfg->n_overridden; i++) {
        size_t len = strlen(cfg->overridden[i]);
        if (strncmp(path, cfg->overridden[i], len) == 0 &&
            (path[len] == '\0' || path[len] == '.' || path[len] == '[')) {
            snprintf(out, n, "command line (-s %s=...)", cfg->overridden[i]);
            return;
        }
    }
    const char *file = config_setting_source_file(s);
    int line = (int)config_setting_source_line(s);
    if (line > 0)
        snprintf(out, n, "%s:%d", file ? file : cfg->source, line);
    else /* a setting with no line of its own: added for a default, not read from the file */
        snprintf(out, n, "%s (key %s)", file ? file : cfg->source, path);
}

#define CFG_ERROR(cfg, s, path, ...)                                                               \
    config_error_at((cfg), (s), (path), __FILE__, __LINE__, __VA_ARGS__)

static int config_error_at(const hpcml_config *cfg, const config_setting_t *s, const char *path,
                           const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int config_error_at(const hpcml_config *cfg, const config_setting_t *s, const char *path,
                           const char *file, int line, const char *fmt, ...)
{
    char where[1200], what[900];
    where_of(cfg, s, path, where, sizeof where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return hpcml_error_set(HPCML_EUSAGE, file, line, "%s: %s", where, what);
}

/* ---- copying settings between trees -------------------------------------- */

static int copy_setting(config_setting_t *parent, const char *name, const config_setting_t *src);

static int copy_children(config_setting_t *dst, const config_setting_t *src)
{
    int n = config_setting_length(src);
    for (int i = 0; i < n; i++) {
        const config_setting_t *c = config_setting_get_elem(src, (unsigned)i);
        const char *cname = config_setting_type(dst) == CONFIG_TYPE_GROUP ? config_setting_name(c)
                                                                          : NULL;
        if (!copy_setting(dst, cname, c)) return 0;
    }
    return 1;
}

static int copy_setting(config_setting_t *parent, const char *name, const config_setting_t *src)
{
    int type = config_setting_type(src);
    config_setting_t *d = config_setting_add(parent, name, type);
    if (!d) return 0;
    switch (type) {
    case CONFIG_TYPE_INT: return config_setting_set_int(d, config_setting_get_int(src));
    case CONFIG_TYPE_INT64: return config_setting_set_int64(d, config_setting_get_int64(src));
    case CONFIG_TYPE_FLOAT: return config_setting_set_float(d, config_setting_get_float(src));
    case CONFIG_TYPE_BOOL: return config_setting_set_bool(d, config_setting_get_bool(src));
    case CONFIG_TYPE_STRING: return config_setting_set_string(d, config_setting_get_string(src));
    default: return copy_children(d, src);
    }
}

static char *promote_big_ints(const char *text);

/* Parse "v = <text>;" into tmp; returns the setting or NULL if not libconfig. */
static config_setting_t *parse_value(config_t *tmp, const char *text)
{
    size_t n = strlen(text) + 16;
    char *buf = malloc(n);
    if (!buf) return NULL;
    snprintf(buf, n, "v = %s;", text);
    config_init(tmp);
    char *fixed = promote_big_ints(buf);
    int ok = fixed && config_read_string(tmp, fixed);
    free(fixed);
    free(buf);
    if (!ok) return NULL;
    return config_lookup(tmp, "v");
}

/* ---- validation ------------------------------------------------------------ */

static int is_number(const config_setting_t *s)
{
    int t = config_setting_type(s);
    return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
}

static double number_of(const config_setting_t *s)
{
    return config_setting_type(s) == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
                                                        : (double)config_setting_get_int64(s);
}

static int check_range(const hpcml_config *cfg, const config_setting_t *s, const char *path,
                       const cfg_key *k, double v)
{
    if (!isfinite(v)) return CFG_ERROR(cfg, s, path, "%s: expected a finite number", path);
    const int open_lo = k->choices && strstr(k->choices, CFG_OPEN_MIN) != NULL;
    const int open_hi = k->choices && strstr(k->choices, CFG_OPEN_MAX) != NULL;
    if (k->min <= k->max && (v < k->min || v > k->max || (open_lo && v == k->min) ||
                             (open_hi && v == k->max)))
        return CFG_ERROR(cfg, s, path, "%s: expected a value in %c%g, %g%c, got %.17g", path,
                         open_lo ? '(' : '[', k->min, k->max, open_hi ? ')' : ']', v);
    return HPCML_OK;
}

static int check_choice(const hpcml_config *cfg, const config_setting_t *s, const char *path,
                        const cfg_key *k, const char *v)
{
    const char *c = k->choices;
    size_t len = strlen(v);
    while (c && *c) {
        const char *bar = strchr(c, '|');
        size_t clen = bar ? (size_t)(bar - c) : strlen(c);
        if (clen == len && strncmp(c, v, len) == 0) return HPCML_OK;
        c = bar ? bar + 1 : NULL;
    }
    char alts[512];
    snprintf(alts, sizeof alts, "%s", k->choices);
    for (char *p = alts; *p; p++)
        if (*p == '|') *p = ',';
    return CFG_ERROR(cfg, s, path, "%s: expected one of {%s}, got \"%s\"", path, alts, v);
}

static int validate_groups(hpcml_config *cfg, config_setting_t *s, const char *path,
                           const cfg_key *k);

/* Check s against k; convert an integer given for a float key to a float. */
static int validate_value(hpcml_config *cfg, config_setting_t *s, const char *path,
                          const cfg_key *k)
{
    int t = config_setting_type(s);
    switch (k->type) {
    case CFG_INT:
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) break;
        return check_range(cfg, s, path, k, (double)config_setting_get_int64(s));
    case CFG_FLOAT:
        if (!is_number(s)) break;
        HPCML_TRY(check_range(cfg, s, path, k, number_of(s)));
        if (t != CONFIG_TYPE_FLOAT) {
            /* libconfig cannot change a setting's type: replace the integer
             * by a float of the same name (the printer keeps schema order). */
            double v = number_of(s);
            config_setting_t *parent = config_setting_parent(s);
            char saved[128];
            snprintf(saved, sizeof saved, "%s", config_setting_name(s));
            config_setting_remove_elem(parent, (unsigned)config_setting_index(s));
            config_setting_t *f = config_setting_add(parent, saved, CONFIG_TYPE_FLOAT);
            if (!f || !config_setting_set_float(f, v))
                return HPCML_FAIL(HPCML_EINTERNAL, "cannot convert %s to a float", path);
        }
        return HPCML_OK;
    case CFG_BOOL:
        if (t == CONFIG_TYPE_BOOL) return HPCML_OK;
        break;
    case CFG_STRING:
        if (t == CONFIG_TYPE_STRING) return HPCML_OK;
        break;
    case CFG_ENUM:
        if (t == CONFIG_TYPE_STRING) return check_choice(cfg, s, path, k, config_setting_get_string(s));
        break;
    case CFG_INT_LIST:
    case CFG_FLOAT_LIST:
    case CFG_STRING_LIST: {
        if (k->type == CFG_STRING_LIST && t == CONFIG_TYPE_STRING) return HPCML_OK;
        if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) break;
        int n = config_setting_length(s);
        for (int i = 0; i < n; i++) {
            config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            int et = config_setting_type(e);
            int ok = k->type == CFG_STRING_LIST  ? et == CONFIG_TYPE_STRING
                     : k->type == CFG_INT_LIST   ? (et == CONFIG_TYPE_INT || et == CONFIG_TYPE_INT64)
                                                 : is_number(e);
            if (!ok)
                return CFG_ERROR(cfg, e, path, "%s: element %d: expected %s", path, i + 1,
                                 type_name(k->type));
            if (k->type != CFG_STRING_LIST) HPCML_TRY(check_range(cfg, e, path, k, number_of(e)));
        }
        return HPCML_OK;
    }
    case CFG_GROUPS:
        if (t != CONFIG_TYPE_LIST) break;
        return validate_groups(cfg, s, path, k);
    case CFG_ANY: return HPCML_OK;
    }
    if (k->type == CFG_ENUM) {
        char alts[512];
        snprintf(alts, sizeof alts, "%s", k->choices);
        for (char *p = alts; *p; p++)
            if (*p == '|') *p = ',';
        return CFG_ERROR(cfg, s, path, "%s: expected one of the strings {%s}", path, alts);
    }
    return CFG_ERROR(cfg, s, path, "%s: expected %s", path, type_name(k->type));
}

/* Remember that path was filled in from its default. */
static int note_default(hpcml_config *cfg, const char *path)
{
    if (cfg->n_defaulted == cfg->cap_defaulted) {
        int cap = cfg->cap_defaulted ? 2 * cfg->cap_defaulted : 64;
        char **p = realloc(cfg->defaulted, (size_t)cap * sizeof *p);
        HPCML_ALLOC_CHECK(p, (size_t)cap * sizeof *p);
        cfg->defaulted = p;
        cfg->cap_defaulted = cap;
    }
    cfg->defaulted[cfg->n_defaulted] = strdup(path);
    HPCML_ALLOC_CHECK(cfg->defaulted[cfg->n_defaulted], strlen(path) + 1);
    cfg->n_defaulted++;
    return HPCML_OK;
}

static int defaulted_index(const hpcml_config *cfg, const char *path)
{
    for (int i = 0; i < cfg->n_defaulted; i++)
        if (!strcmp(cfg->defaulted[i], path)) return i;
    return -1;
}

/* Add key k with its default to group g. */
static int add_default(hpcml_config *cfg, config_setting_t *g, const cfg_key *k, const char *path)
{
    config_t tmp;
    config_setting_t *v = parse_value(&tmp, k->def);
    int ok = v && copy_setting(g, k->name, v);
    config_destroy(&tmp);
    HPCML_CHECK(ok, HPCML_EINTERNAL, "schema default of %s does not parse: %s", path, k->def);
    return note_default(cfg, path);
}

static int validate_group_keys(hpcml_config *cfg, config_setting_t *g, const char *path,
                               const cfg_key *keys)
{
    /* Snapshot the names first: validating may replace a setting (int to
     * float), which moves it to the end of the group. */
    int n = config_setting_length(g);
    char(*names)[128] = calloc((size_t)(n ? n : 1), sizeof *names);
    HPCML_ALLOC_CHECK(names, (size_t)n * sizeof *names);
    for (int i = 0; i < n; i++) {
        const char *nm = config_setting_name(config_setting_get_elem(g, (unsigned)i));
        snprintf(names[i], sizeof names[i], "%s", nm ? nm : "");
    }
    for (int i = 0; i < n; i++) {
        config_setting_t *c = config_setting_get_member(g, names[i]);
        char cpath[256], hint[160];
        snprintf(cpath, sizeof cpath, "%s.%s", path, names[i]);
        const cfg_key *k = find_key(keys, names[i]);
        int rc;
        if (!k) {
            suggest(hint, sizeof hint, names[i], keys, "");
            rc = CFG_ERROR(cfg, c, cpath, "unknown key '%s'%s", cpath, hint);
        } else {
            rc = validate_value(cfg, c, cpath, k);
        }
        if (rc != HPCML_OK) {
            free(names);
            return rc;
        }
    }
    free(names);
    for (const cfg_key *k = keys; k->name; k++) {
        if (config_setting_get_member(g, k->name)) continue;
        char kpath[256];
        snprintf(kpath, sizeof kpath, "%s.%s", path, k->name);
        if (!k->def)
            return CFG_ERROR(cfg, g, kpath, "missing required key '%s' (%s)", kpath, k->doc);
        HPCML_TRY(add_default(cfg, g, k, kpath));
    }
    return HPCML_OK;
}

static int validate_groups(hpcml_config *cfg, config_setting_t *s, const char *path,
                           const cfg_key *k)
{
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
        char gpath[256];
        snprintf(gpath, sizeof gpath, "%s[%d]", path, i);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP)
            return CFG_ERROR(cfg, g, gpath, "%s: expected a group { ... }", gpath);
        HPCML_TRY(validate_group_keys(cfg, g, gpath, k->fields));
    }
    return HPCML_OK;
}

static int validate_all(hpcml_config *cfg)
{
    config_setting_t *root = config_root_setting(&cfg->lc);
    int n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        config_setting_t *sec = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(sec);
        const cfg_section *s = find_section(name, strlen(name));
        char hint[160];
        if (!s) {
            suggest_section(hint, sizeof hint, name);
            return CFG_ERROR(cfg, sec, name, "unknown section '%s'%s", name, hint);
        }
        if (config_setting_type(sec) != CONFIG_TYPE_GROUP)
            return CFG_ERROR(cfg, sec, name, "'%s' must be a group: %s = { ... };", name, name);
        HPCML_TRY(validate_group_keys(cfg, sec, name, s->keys));
    }
    for (const cfg_section *s = hpcml_config_schema; s->name; s++) {
        if (config_setting_get_member(root, s->name)) continue;
        config_setting_t *sec = config_setting_add(root, s->name, CONFIG_TYPE_GROUP);
        HPCML_CHECK(sec, HPCML_EINTERNAL, "cannot add section %s", s->name);
        HPCML_TRY(validate_group_keys(cfg, sec, s->name, s->keys));
    }
    return HPCML_OK;
}

/* ---- overrides --------------------------------------------------------------- */

static int apply_override(hpcml_config *cfg, const char *spec)
{
    const char *eq = strchr(spec, '=');
    HPCML_CHECK(eq && eq > spec, HPCML_EUSAGE,
                "-s %s: expected section.key=value, e.g. -s train.lr=0.01", spec);
    char path[128];
    size_t plen = (size_t)(eq - spec);
    HPCML_CHECK(plen < sizeof path, HPCML_EUSAGE, "-s %s: key too long", spec);
    memcpy(path, spec, plen);
    path[plen] = '\0';
    const char *value = eq + 1;

    const char *dot = strchr(path, '.');
    HPCML_CHECK(dot || !find_section(path, plen), HPCML_EUSAGE,
                "command line (-s %s): '%s' is a section; name one of its keys: -s %s.KEY=value "
                "(--config-reference lists them)",
                spec, path, path);
    const cfg_section *sec = dot ? find_section(path, (size_t)(dot - path)) : NULL;
    char hint[160] = "";
    if (!sec) {
        char secname[128];
        snprintf(secname, sizeof secname, "%.*s", dot ? (int)(dot - path) : (int)plen, path);
        suggest_section(hint, sizeof hint, secname);
        return HPCML_FAIL(HPCML_EUSAGE, "command line (-s %s): unknown section '%s'%s", spec,
                          secname, hint);
    }
    const cfg_key *k = find_key(sec->keys, dot + 1);
    if (!k) {
        char prefix[80];
        snprintf(prefix, sizeof prefix, "%s.", sec->name);
        suggest(hint, sizeof hint, dot + 1, sec->keys, prefix);
        return HPCML_FAIL(HPCML_EUSAGE, "command line (-s %s): unknown key '%s'%s", spec, path,
                          hint);
    }

    config_setting_t *root = config_root_setting(&cfg->lc);
    config_setting_t *g = config_setting_get_member(root, sec->name);
    if (!g) g = config_setting_add(root, sec->name, CONFIG_TYPE_GROUP);
    HPCML_CHECK(g && config_setting_type(g) == CONFIG_TYPE_GROUP, HPCML_EUSAGE,
                "-s %s: '%s' in the file is not a group", spec, sec->name);
    if (config_setting_get_member(g, k->name)) config_setting_remove(g, k->name);

    config_t tmp;
    config_setting_t *v = parse_value(&tmp, value);
    int ok;
    /* A value that is not libconfig text is taken as a string, so
     * -s etl.input="data/<glob>.csv" works without shell-quoted quotes. */
    if (v && !(k->type == CFG_STRING || k->type == CFG_ENUM || k->type == CFG_STRING_LIST) ) {
        ok = copy_setting(g, k->name, v);
    } else if (v && config_setting_type(v) != CONFIG_TYPE_INT &&
               config_setting_type(v) != CONFIG_TYPE_INT64 &&
               config_setting_type(v) != CONFIG_TYPE_FLOAT &&
               config_setting_type(v) != CONFIG_TYPE_BOOL) {
        ok = copy_setting(g, k->name, v);
    } else if (k->type == CFG_STRING_LIST) {
        config_setting_t *arr = config_setting_add(g, k->name, CONFIG_TYPE_ARRAY);
        ok = arr && config_setting_set_string_elem(arr, -1, value) != NULL;
    } else {
        config_setting_t *sv = config_setting_add(g, k->name, CONFIG_TYPE_STRING);
        ok = sv && config_setting_set_string(sv, value);
    }
    config_destroy(&tmp);
    HPCML_CHECK(ok, HPCML_EINTERNAL, "cannot apply -s %s", spec);
    if (cfg->n_overridden < 64) snprintf(cfg->overridden[cfg->n_overridden++], 128, "%s", path);
    return HPCML_OK;
}

/* ---- load ------------------------------------------------------------------ */

static int finish_load(hpcml_config *cfg, const char *const *overrides, int n_overrides)
{
    for (int i = 0; i < n_overrides; i++) HPCML_TRY(apply_override(cfg, overrides[i]));
    return validate_all(cfg);
}

/* libconfig 1.5 silently wraps integer literals beyond 32 bits unless they
 * carry an 'L' suffix ("rows = 5000000000;" reads as 705032704). Copy the
 * text and add the suffix to such literals, outside strings and comments.
 * Only characters are added within lines, so line numbers stay right. */
/* Whether a digit at i begins a number token (not part of a name like v2). */
static int starts_number(const char *text, size_t i)
{
    if (i == 0) return 1;
    unsigned char prev = (unsigned char)text[i - 1];
    if (isalnum(prev) || prev == '.' || prev == '_') return 0;
    if (prev == '-' && i >= 2 && isalnum((unsigned char)text[i - 2])) return 0;
    return 1;
}

static char *promote_big_ints(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(2 * n + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        char ch = text[i];
        if (ch == '"') { /* string literal with escapes */
            out[o++] = text[i++];
            while (i < n && text[i] != '"') {
                if (text[i] == '\\' && i + 1 < n) out[o++] = text[i++];
                out[o++] = text[i++];
            }
            if (i < n) out[o++] = text[i++];
        } else if (ch == '#' || (ch == '/' && i + 1 < n && text[i + 1] == '/')) {
            while (i < n && text[i] != '\n') out[o++] = text[i++];
        } else if (ch == '/' && i + 1 < n && text[i + 1] == '*') {
            const char *end = strstr(text + i + 2, "*/");
            size_t stop = end ? (size_t)(end - text) + 2 : n;
            while (i < stop) out[o++] = text[i++];
        } else if (isdigit((unsigned char)ch) && starts_number(text, i)) {
            size_t j = i;
            while (j < n && isdigit((unsigned char)text[j])) j++;
            int is_int = !(j < n && (text[j] == '.' || text[j] == 'e' || text[j] == 'E' ||
                                     text[j] == 'L' || text[j] == 'x' || text[j] == 'X' ||
                                     isalpha((unsigned char)text[j])));
            int big = is_int && (j - i > 10 || (j - i == 10 && strncmp(text + i, "2147483647", 10) > 0));
            memcpy(out + o, text + i, j - i);
            o += j - i;
            if (big) out[o++] = 'L';
            i = j;
        } else {
            out[o++] = text[i++];
        }
    }
    out[o] = '\0';
    return out;
}

static int load_common(hpcml_config **out, const char *text, const char *path, const char *name,
                       const char *const *overrides, int n_overrides)
{
    *out = NULL;
    hpcml_config *cfg = calloc(1, sizeof *cfg);
    HPCML_ALLOC_CHECK(cfg, sizeof *cfg);
    config_init(&cfg->lc);
    snprintf(cfg->source, sizeof cfg->source, "%s", name);
    int ok = 1;
    char *file_text = NULL;
    if (!text && path) {
        long len = 0;
        int rc = hpcml_config_read_file(path, &file_text, &len);
        if (rc != HPCML_OK) {
            hpcml_config_free(cfg);
            return rc;
        }
        text = file_text;
    }
    if (text) {
        char *fixed = promote_big_ints(text);
        ok = fixed && config_read_string(&cfg->lc, fixed);
        free(fixed);
    }
    free(file_text);
    if (!ok) {
        int line = config_error_line(&cfg->lc);
        const char *what = config_error_text(&cfg->lc);
        hpcml_error_set(HPCML_EUSAGE, __FILE__, __LINE__, "%s:%d: syntax error: %s", name, line,
                        what ? what : "?");
        hpcml_config_free(cfg);
        return HPCML_EUSAGE;
    }
    int rc = finish_load(cfg, overrides, n_overrides);
    if (rc != HPCML_OK) {
        hpcml_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return HPCML_OK;
}

int hpcml_config_read_file(const char *path, char **text, long *len)
{
    *text = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return HPCML_FAIL(HPCML_EUSAGE, "cannot open config file %s: %s", path, strerror(errno));
    struct stat st;
    int rc = HPCML_OK;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        /* fopen of a directory succeeds; reading it fails (was exit 3,
         * which Slurm retries) */
        rc = HPCML_FAIL(HPCML_EUSAGE, "config file %s is a directory", path);
    } else {
        long n = fseek(fp, 0, SEEK_END) == 0 ? ftell(fp) : -1;
        char *buf = n >= 0 && fseek(fp, 0, SEEK_SET) == 0 ? malloc((size_t)n + 1) : NULL;
        if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
            free(buf);
            rc = HPCML_FAIL(HPCML_EUSAGE, "cannot read config file %s", path);
        } else {
            buf[n] = '\0';
            *text = buf;
            *len = n;
        }
    }
    fclose(fp);
    return rc;
}

int hpcml_config_load(hpcml_config **out, const char *path, const char *const *overrides,
                      int n_overrides)
{
    return load_common(out, NULL, path, path ? path : "<defaults>", overrides, n_overrides);
}

int hpcml_config_load_string(hpcml_config **out, const char *text, const char *name,
                             const char *const *overrides, int n_overrides)
{
    return load_common(out, text ? text : "", NULL, name, overrides, n_overrides);
}

void hpcml_config_free(hpcml_config *cfg)
{
    if (!cfg) return;
    for (int i = 0; i < cfg->n_lists; i++) {
        struct list_cache *l = &cfg->lists[i];
        if (l->strings) {
            for (int j = 0; j < l->n; j++) free(l->strings[j]);
            free(l->strings);
        }
        free(l->values);
    }
    free(cfg->lists);
    for (int i = 0; i < cfg->n_defaulted; i++) free(cfg->defaulted[i]);
    free(cfg->defaulted);
    config_destroy(&cfg->lc);
    free(cfg);
}

const char *hpcml_config_source(const hpcml_config *cfg) { return cfg->source; }

/* ---- printing ----------------------------------------------------------------- */

static void print_float(FILE *fp, double v)
{
    char buf[64];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    /* libconfig reads "5" as an integer: keep floats recognisable. */
    if (!strpbrk(buf, ".eEn")) strcat(buf, ".0");
    fputs(buf, fp);
}

static void print_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        case '\f': fputs("\\f", fp); break;
        default:
            if (*p < 0x20) fprintf(fp, "\\x%02X", *p);
            else fputc(*p, fp);
        }
    }
    fputc('"', fp);
}

static void print_setting(FILE *fp, const config_setting_t *s, int indent);

static void print_group_body(FILE *fp, const config_setting_t *g, const cfg_key *keys, int indent)
{
    /* Schema order when known, so output is stable and complete. */
    if (keys) {
        for (const cfg_key *k = keys; k->name; k++) {
            const config_setting_t *c = config_setting_get_member(g, k->name);
            if (!c) continue;
            fprintf(fp, "%*s%s = ", indent, "", k->name);
            if (k->type == CFG_GROUPS) {
                int n = config_setting_length(c);
                if (n == 0) {
                    fputs("( );\n", fp);
                    continue;
                }
                fputs("(\n", fp);
                for (int i = 0; i < n; i++) {
                    fprintf(fp, "%*s{\n", indent + 2, "");
                    print_group_body(fp, config_setting_get_elem(c, (unsigned)i), k->fields,
                                     indent + 4);
                    fprintf(fp, "%*s}%s\n", indent + 2, "", i + 1 < n ? "," : "");
                }
                fprintf(fp, "%*s);\n", indent, "");
            } else {
                print_setting(fp, c, indent);
                fputs(";\n", fp);
            }
        }
        return;
    }
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *c = config_setting_get_elem(g, (unsigned)i);
        fprintf(fp, "%*s%s = ", indent, "", config_setting_name(c));
        print_setting(fp, c, indent);
        fputs(";\n", fp);
    }
}

static void print_setting(FILE *fp, const config_setting_t *s, int indent)
{
    int n;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: {
        long long v = config_setting_get_int64(s);
        fprintf(fp, "%lld%s", v, (v > 2147483647LL || v < -2147483648LL) ? "L" : "");
        break;
    }
    case CONFIG_TYPE_FLOAT: print_float(fp, config_setting_get_float(s)); break;
    case CONFIG_TYPE_BOOL: fputs(config_setting_get_bool(s) ? "true" : "false", fp); break;
    case CONFIG_TYPE_STRING: print_string(fp, config_setting_get_string(s)); break;
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST: {
        int is_list = config_setting_type(s) == CONFIG_TYPE_LIST;
        fputc(is_list ? '(' : '[', fp);
        n = config_setting_length(s);
        for (int i = 0; i < n; i++) {
            if (i) fputs(", ", fp);
            print_setting(fp, config_setting_get_elem(s, (unsigned)i), indent);
        }
        fputc(is_list ? ')' : ']', fp);
        break;
    }
    case CONFIG_TYPE_GROUP:
        fputs("{\n", fp);
        print_group_body(fp, s, NULL, indent + 2);
        fprintf(fp, "%*s}", indent, "");
        break;
    default: break;
    }
}

int hpcml_config_print(const hpcml_config *cfg, FILE *fp)
{
    config_setting_t *root = config_root_setting(&cfg->lc);
    fputs("# hpcml effective configuration (defaults filled in)\n", fp);
    for (const cfg_section *s = hpcml_config_schema; s->name; s++) {
        const config_setting_t *g = config_setting_get_member(root, s->name);
        if (!g) continue;
        fprintf(fp, "\n%s = {\n", s->name);
        print_group_body(fp, g, s->keys, 2);
        fputs("};\n", fp);
    }
    return ferror(fp) ? HPCML_EIO : HPCML_OK;
}

char *hpcml_config_to_string(const hpcml_config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) return NULL;
    hpcml_config_print(cfg, fp);
    fclose(fp);
    return buf;
}

uint64_t hpcml_config_hash(const hpcml_config *cfg)
{
    char *text = hpcml_config_to_string(cfg);
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    free(text);
    return h;
}

/* ---- getters ------------------------------------------------------------------ */

static const config_setting_t *must_lookup(const hpcml_config *cfg, const char *path,
                                           const cfg_key **k_out)
{
    const cfg_key *k = schema_key(path, NULL);
    const config_setting_t *s = k ? config_lookup((config_t *)&cfg->lc, path) : NULL;
    if (!s) {
        fprintf(stderr, "hpcml: internal error: config key '%s' is not in the schema\n", path);
        abort();
    }
    if (k_out) *k_out = k;
    return s;
}

int64_t cfg_int(const hpcml_config *cfg, const char *path)
{
    return config_setting_get_int64(must_lookup(cfg, path, NULL));
}

double cfg_float(const hpcml_config *cfg, const char *path)
{
    return number_of(must_lookup(cfg, path, NULL));
}

int cfg_bool(const hpcml_config *cfg, const char *path)
{
    return config_setting_get_bool(must_lookup(cfg, path, NULL));
}

const char *cfg_str(const hpcml_config *cfg, const char *path)
{
    return config_setting_get_string(must_lookup(cfg, path, NULL));
}

void *cfg_setting(const hpcml_config *cfg, const char *path)
{
    return (void *)must_lookup(cfg, path, NULL);
}

static struct list_cache *list_get(const hpcml_config *ccfg, const char *path, cfg_type want)
{
    hpcml_config *cfg = (hpcml_config *)ccfg; /* the cache is not part of the value */
    for (int i = 0; i < cfg->n_lists; i++)
        if (strcmp(cfg->lists[i].path, path) == 0) return &cfg->lists[i];
    const cfg_key *k;
    const config_setting_t *s = must_lookup(cfg, path, &k);
    if (k->type != want) {
        fprintf(stderr, "hpcml: internal error: config key '%s' has another type\n", path);
        abort();
    }
    if (cfg->n_lists == cfg->cap_lists) {
        int cap = cfg->cap_lists ? 2 * cfg->cap_lists : 16;
        struct list_cache *l = realloc(cfg->lists, (size_t)cap * sizeof *l);
        if (!l) abort();
        cfg->lists = l;
        cfg->cap_lists = cap;
    }
    struct list_cache *l = &cfg->lists[cfg->n_lists++];
    memset(l, 0, sizeof *l);
    snprintf(l->path, sizeof l->path, "%s", path);
    int scalar = config_setting_type(s) == CONFIG_TYPE_STRING;
    l->n = scalar ? 1 : config_setting_length(s);
    size_t n = (size_t)(l->n ? l->n : 1);
    if (want == CFG_STRING_LIST) {
        l->strings = calloc(n, sizeof *l->strings);
        if (!l->strings) abort();
        for (int i = 0; i < l->n; i++) {
            const config_setting_t *e = scalar ? s : config_setting_get_elem(s, (unsigned)i);
            l->strings[i] = strdup(config_setting_get_string(e));
            if (!l->strings[i]) abort();
        }
    } else {
        l->values = calloc(n, 8);
        if (!l->values) abort();
        for (int i = 0; i < l->n; i++) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            if (want == CFG_INT_LIST) ((int64_t *)l->values)[i] = config_setting_get_int64(e);
            else ((double *)l->values)[i] = number_of(e);
        }
    }
    return l;
}

int cfg_int_list(const hpcml_config *cfg, const char *path, const int64_t **values)
{
    struct list_cache *l = list_get(cfg, path, CFG_INT_LIST);
    *values = l->values;
    return l->n;
}

int cfg_float_list(const hpcml_config *cfg, const char *path, const double **values)
{
    struct list_cache *l = list_get(cfg, path, CFG_FLOAT_LIST);
    *values = l->values;
    return l->n;
}

int cfg_str_list(const hpcml_config *cfg, const char *path, const char *const **values)
{
    struct list_cache *l = list_get(cfg, path, CFG_STRING_LIST);
    *values = (const char *const *)l->strings;
    return l->n;
}

/* ---- changes from code ------------------------------------------------------------ */

static void drop_cache(hpcml_config *cfg, const char *path)
{
    for (int i = 0; i < cfg->n_lists; i++) {
        if (strcmp(cfg->lists[i].path, path) != 0) continue;
        struct list_cache *l = &cfg->lists[i];
        if (l->strings) {
            for (int j = 0; j < l->n; j++) free(l->strings[j]);
            free(l->strings);
        }
        free(l->values);
        cfg->lists[i] = cfg->lists[--cfg->n_lists];
        return;
    }
}

int hpcml_config_set(hpcml_config *cfg, const char *path, const char *value_text)
{
    size_t n = strlen(path) + strlen(value_text) + 2;
    char *spec = malloc(n);
    HPCML_ALLOC_CHECK(spec, n);
    snprintf(spec, n, "%s=%s", path, value_text);
    int rc = apply_override(cfg, spec);
    free(spec);
    if (rc == HPCML_OK) {
        const cfg_section *sec;
        const cfg_key *k = schema_key(path, &sec);
        config_setting_t *g = config_lookup(&cfg->lc, sec->name);
        config_setting_t *s = config_setting_get_member(g, k->name);
        char where[128];
        snprintf(where, sizeof where, "%s", path);
        rc = validate_value(cfg, s, where, k);
        drop_cache(cfg, path);
        int i = defaulted_index(cfg, path); /* set by code now, not a default */
        if (i >= 0) {
            free(cfg->defaulted[i]);
            cfg->defaulted[i] = cfg->defaulted[--cfg->n_defaulted];
        }
    }
    return rc;
}

int hpcml_config_is_set(const hpcml_config *cfg, const char *path)
{
    (void)must_lookup(cfg, path, NULL); /* a key outside the schema aborts, as for the getters */
    return defaulted_index(cfg, path) < 0;
}

int hpcml_config_clone(const hpcml_config *cfg, hpcml_config **out)
{
    char *text = hpcml_config_to_string(cfg);
    HPCML_CHECK(text, HPCML_EINTERNAL, "cannot print the config");
    int rc = hpcml_config_load_string(out, text, cfg->source, NULL, 0);
    free(text);
    /* The printed text names every key; which ones were defaults is carried over. */
    if (rc == HPCML_OK) {
        hpcml_config *c = *out;
        for (int i = 0; i < c->n_defaulted; i++) free(c->defaulted[i]);
        c->n_defaulted = 0;
        for (int i = 0; i < cfg->n_defaulted && rc == HPCML_OK; i++)
            rc = note_default(c, cfg->defaulted[i]);
        if (rc != HPCML_OK) {
            hpcml_config_free(c);
            *out = NULL;
        }
    }
    return rc;
}

/* ---- reference ------------------------------------------------------------------- */

static void write_key_rows(FILE *fp, const char *prefix, const cfg_key *keys)
{
    for (const cfg_key *k = keys; k->name; k++) {
        char range[256] = "";
        if (k->type == CFG_ENUM) {
            snprintf(range, sizeof range, "%s", k->choices);
            for (char *p = range; *p; p++)
                if (*p == '|') *p = ',';
        } else if (k->min <= k->max) {
            const int lo = k->choices && strstr(k->choices, CFG_OPEN_MIN) != NULL;
            const int hi = k->choices && strstr(k->choices, CFG_OPEN_MAX) != NULL;
            snprintf(range, sizeof range, "%c%g, %g%c", lo ? '(' : '[', k->min, k->max,
                     hi ? ')' : ']');
        }
        const char *tname[] = {"int", "float", "bool", "string", "enum", "int list",
                               "float list", "string list", "list of groups", "any"};
        /* Escape '|' in defaults so the markdown table stays intact. */
        char def[256];
        snprintf(def, sizeof def, "%s", k->def ? k->def : "(required)");
        for (char *p = def; *p; p++)
            if (*p == '|') *p = '/';
        fprintf(fp, "| `%s%s` | %s | `%s` | %s | %s |\n", prefix, k->name, tname[k->type], def,
                range, k->doc);
    }
    for (const cfg_key *k = keys; k->name; k++) {
        if (k->type != CFG_GROUPS) continue;
        fprintf(fp, "\nEach group of `%s%s` has:\n\n", prefix, k->name);
        fputs("| field | type | default | range / choices | meaning |\n|---|---|---|---|---|\n", fp);
        write_key_rows(fp, "", k->fields);
    }
}

void hpcml_config_write_reference(FILE *fp)
{
    fputs("# Configuration reference\n\n"
          "Generated from the schema in `src/core/config_schema.c` by "
          "`hpcml-gen --config-reference`; a test checks that this file is current.\n\n"
          "Every hpcml program reads one libconfig file (`-c FILE`) that may hold all sections. "
          "Unknown keys, wrong types and out-of-range values are errors (exit 1) that name the "
          "file and line. `-s section.key=value` overrides a key (the value is read as libconfig "
          "text when it parses, else as a string); `--print-config` prints the effective "
          "configuration, which loads back unchanged.\n",
          fp);
    for (const cfg_section *s = hpcml_config_schema; s->name; s++) {
        fprintf(fp, "\n## `%s` — %s\n\n", s->name, s->doc);
        fputs("| key | type | default | range / choices | meaning |\n|---|---|---|---|---|\n", fp);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s.", s->name);
        write_key_rows(fp, prefix, s->keys);
    }
}
