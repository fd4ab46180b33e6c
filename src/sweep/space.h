/* space.h — the search space of a sweep and trial i's sampled values.
 *
 * The space is the `sweep.space` list of the config: one group per searched
 * `train.*` key with a distribution (uniform, loguniform, quniform, randint,
 * choice, fixed; Ray Tune's meanings: randint's high is exclusive, quniform
 * rounds a uniform draw to a multiple of q half-to-even). Trial i's value
 * of dimension d is a pure function of (sweep.seed, i, d) through the
 * counter-based RNG (RNG_STREAM_SWEEP, index i, draw d), so array task i
 * computes its own configuration and adding a dimension never changes the
 * others. Values come out as libconfig text for hpcml_config_set: integers
 * for integer keys, floats with a decimal point or exponent for float keys,
 * and choices exactly as written (numbers, strings, or lists such as
 * [128, 64] for train.hidden).
 *
 * For the tests only (no program calls them): space_apply. Tests: test_sweep_space.c.
 */
#ifndef HPCML_SWEEP_SPACE_H
#define HPCML_SWEEP_SPACE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"

typedef enum {
    SPACE_UNIFORM,
    SPACE_LOGUNIFORM,
    SPACE_QUNIFORM,
    SPACE_RANDINT,
    SPACE_CHOICE,
    SPACE_FIXED
} space_dist;

typedef struct {
    char *key; /* "train.lr" */
    space_dist dist;
    double low, high, q;
    cfg_type key_type; /* the schema type of key */
    int n_values;
    char **values; /* choice: each option as libconfig text; fixed: the one value */
} space_dim;

typedef struct {
    uint64_t seed;
    int n_dims;
    space_dim *dims;
} sweep_space;

/* Read and check sweep.space and sweep.seed: keys must be known train.*
 * keys (not train.epochs or train.output_dir, which the sweep sets), each
 * once; ranges must make sense for the distribution and the key's type.
 * Errors are HPCML_EUSAGE naming the group. */
int space_from_config(const hpcml_config *cfg, sweep_space *sp);
void space_free(sweep_space *sp);

/* The value of dimension d for trial as libconfig text. */
int space_value(const sweep_space *sp, int64_t trial, int d, char *out, size_t n);

/* Set every dimension's value for trial in cfg (hpcml_config_set). */
int space_apply(const sweep_space *sp, int64_t trial, hpcml_config *cfg);

/* Set every dimension's value from values (a JSON object key -> libconfig
 * text, as a journal's started record holds it). A missing key is
 * HPCML_EDATA naming trial. */
int space_apply_values(const sweep_space *sp, const json_t *values, int64_t trial,
                       hpcml_config *cfg);

/* A double as the shortest text that reads back to the same value, with a
 * decimal point or an exponent so libconfig reads it as a float. */
void space_format_float(double x, char *out, size_t n);

#endif
