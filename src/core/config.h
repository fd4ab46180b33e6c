/* config.h — the one configuration loader: libconfig text checked against a schema.
 *
 * Every key of every section is declared once in the schema table
 * (config_schema.c): type, default, range or choices, and one line of
 * documentation. Loading a file checks every setting against it: unknown
 * keys, wrong types and bad values are errors naming the file, the line, the
 * key, what was expected and, for unknown keys, the closest known key.
 * Defaults are filled in, so after hpcml_config_load succeeds every getter
 * below finds its key. Asking for a key that is not in the schema is a
 * programming error and aborts. */
#ifndef HPCML_CONFIG_H
#define HPCML_CONFIG_H

#include <stdint.h>
#include <stdio.h>

typedef enum {
    CFG_INT,      /* 64-bit integer */
    CFG_FLOAT,    /* double */
    CFG_BOOL,
    CFG_STRING,
    CFG_ENUM,     /* string, one of choices */
    CFG_INT_LIST, /* [1, 2, 3] (empty allowed) */
    CFG_FLOAT_LIST,
    CFG_STRING_LIST, /* ["a", "b"]; a single string is accepted as a one-element list */
    CFG_GROUPS,      /* ( { ... }, { ... } ): a list of groups checked by a sub-schema */
    CFG_ANY          /* any scalar, array or list (search-space values) */
} cfg_type;

typedef struct cfg_key {
    const char *name;        /* key within its section, or field within a group */
    cfg_type type;
    const char *def;         /* default as libconfig text ("0.001", "\"adam\"", "[256, 128]");
                                NULL = required inside CFG_GROUPS entries */
    double min, max;         /* inclusive range for numbers, list elements; ignored when min > max */
    const char *choices;     /* CFG_ENUM: "a|b|c"; numbers: open range ends (below) */
    const struct cfg_key *fields; /* CFG_GROUPS: the group's keys, ended by {0} */
    const char *doc;
} cfg_key;

/* For numbers, `choices` may name an open end of the range: CFG_OPEN_MIN
 * ("(min"), CFG_OPEN_MAX ("max)") or both ("(min max)"); e.g. Adam's eps
 * must be > 0. */
#define CFG_OPEN_MIN "(min"
#define CFG_OPEN_MAX "max)"

typedef struct {
    const char *name;
    const char *doc;
    const cfg_key *keys; /* ended by an entry with name == NULL */
} cfg_section;

extern const cfg_section hpcml_config_schema[];

typedef struct hpcml_config hpcml_config;

/* Load path (NULL = defaults only), apply overrides "section.key=value" in
 * order, validate, fill defaults. On error returns HPCML_EUSAGE with the
 * message recorded (status.h) and *out = NULL. */
int hpcml_config_load(hpcml_config **out, const char *path, const char *const *overrides,
                      int n_overrides);
/* The one reader of a config file: its whole text, NUL-terminated, in
 * *text (malloc'd) and its length in *len. A directory or unreadable file is
 * HPCML_EUSAGE (a config error, not an I/O one Slurm would retry). app.c calls
 * it on rank 0 only and broadcasts the text: one metadata operation on the
 * shared file system whatever the job size. */
int hpcml_config_read_file(const char *path, char **text, long *len);
/* Parse config text instead of a file (name is used in messages). */
int hpcml_config_load_string(hpcml_config **out, const char *text, const char *name,
                             const char *const *overrides, int n_overrides);
void hpcml_config_free(hpcml_config *cfg);

/* The effective config as libconfig text that loads back unchanged. */
int hpcml_config_print(const hpcml_config *cfg, FILE *fp);
char *hpcml_config_to_string(const hpcml_config *cfg); /* malloc'd */
/* 64-bit hash of the effective config text (checkpoint compatibility). */
uint64_t hpcml_config_hash(const hpcml_config *cfg);
/* Markdown reference of the schema (docs/config.md). */
void hpcml_config_write_reference(FILE *fp);

/* Getters by "section.key". Lists return their length and a pointer to
 * storage owned by cfg. */
int64_t cfg_int(const hpcml_config *cfg, const char *path);
double cfg_float(const hpcml_config *cfg, const char *path);
int cfg_bool(const hpcml_config *cfg, const char *path);
const char *cfg_str(const hpcml_config *cfg, const char *path); /* strings and enums */
int cfg_int_list(const hpcml_config *cfg, const char *path, const int64_t **values);
int cfg_float_list(const hpcml_config *cfg, const char *path, const double **values);
int cfg_str_list(const hpcml_config *cfg, const char *path, const char *const **values);

/* CFG_GROUPS and CFG_ANY access goes through libconfig itself: the returned
 * pointer is a config_setting_t * (cast it), with all defaults filled in. */
void *cfg_setting(const hpcml_config *cfg, const char *path);

/* Set a value from code (e.g. a sweep trial's sampled value), with the same
 * checks as an override. value_text is libconfig text or a bare string. */
int hpcml_config_set(hpcml_config *cfg, const char *path, const char *value_text);
/* Whether "section.key" was given by the config file, an -s override or hpcml_config_set,
 * rather than filled in from the schema's default (a value equal to the default, written
 * out, counts as given). Clones keep the answer. For settings whose default changed
 * between versions (sweep.search). A key outside the schema aborts. */
int hpcml_config_is_set(const hpcml_config *cfg, const char *path);
/* Deep copy. */
int hpcml_config_clone(const hpcml_config *cfg, hpcml_config **out);
/* Source file of the config ("<defaults>" when none). */
const char *hpcml_config_source(const hpcml_config *cfg);

#endif
