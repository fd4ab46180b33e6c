/* tpe.h — the Tree-structured Parzen Estimator (Bergstra et al., "Algorithms
 * for Hyper-Parameter Optimization", NIPS 2011) as Optuna 3.1's TPESampler
 * and _ParzenEstimator define it (optuna/samplers/_tpe/{sampler.py,
 * parzen_estimator.py,_truncnorm.py}), as pure functions: no I/O, no MPI,
 * no clocks. Randomness comes from the caller's counter-based rng_seq, so a
 * suggestion is a function of (seed, trial index, history).
 *
 * Values are Optuna's "internal representation": a number for numeric
 * parameters (the value itself, not its logarithm: the estimator takes logs
 * for log parameters), the option's index for categorical ones. NaN means
 * "the trial has no value for this parameter".
 *
 * The history is split as Optuna does: observations are ranked by
 * (-step, loss) lexicographically, completed trials with step = +inf (so
 * before any pruned trial), pruned ones by the step of their last
 * intermediate value then that value (NaN ranks as +inf), running ones
 * (constant liars) last with (+inf, +inf); the first gamma(n) are "below"
 * (good), the rest "above", n counting completed and pruned trials only.
 *
 * For the tests only (no program calls them): tpe_parzen_sample. Exported for the tests;
 * programs reach them only through this room's other functions: tpe_gamma,
 * tpe_default_weights, tpe_parzen_init, tpe_parzen_free, tpe_parzen_log_pdf, tpe_log_ndtr,
 * tpe_log_gauss_mass. Tests: test_tpe.c, mpi_tpe_logpdf.c.
 */
#ifndef HPCML_SWEEP_TPE_H
#define HPCML_SWEEP_TPE_H

#include <stdint.h>

#include "core/rng.h"

typedef enum {
    TPE_CONTINUOUS, /* FloatDistribution(low, high[, log]) / IntDistribution(log=True) */
    TPE_DISCRETE,   /* FloatDistribution(step=q) / IntDistribution(step=q): low + k q */
    TPE_CATEGORICAL /* CategoricalDistribution: indices 0..n_choices-1 */
} tpe_kind;

typedef struct {
    tpe_kind kind;
    int log;          /* continuous: the kernel lives in log space */
    int is_int;       /* continuous log: an IntDistribution(log=True) (rounds, bounds +-0.5) */
    double low, high; /* the distribution's bounds (inclusive) */
    double q;         /* discrete: the step */
    int n_choices;    /* categorical */
} tpe_param;

typedef struct {
    int consider_prior;      /* true */
    double prior_weight;     /* 1.0 */
    int consider_magic_clip; /* true */
    int consider_endpoints;  /* false */
    int multivariate;        /* false: one estimator per parameter */
    int n_startup_trials;    /* 10 */
    int n_ei_candidates;     /* 24 */
} tpe_options;

void tpe_options_default(tpe_options *o);

/* Optuna's default_gamma: min(ceil(0.1 n), 25). */
int tpe_gamma(int n);
/* Optuna's default_weights(n) into w[0..n): ones below 25, else a ramp
 * linspace(1/n, 1, n - 25) for the oldest then 25 ones. */
void tpe_default_weights(int n, double *w);

/* ---- the Parzen estimator ------------------------------------------------- */

typedef struct {
    int n_params;
    const tpe_param *params;
    int n_obs, n_comp;    /* components: observations, plus the prior last */
    double *weights;      /* n_comp, sum 1 */
    double *low, *high;   /* per parameter: the kernel's bounds in its (log) space */
    double *mus, *sigmas; /* per parameter n_comp (numeric parameters) */
    double *log_accept;   /* per parameter n_comp: log mass of [low, high] */
    double *cat;          /* per parameter n_comp x n_choices (categorical) */
    int64_t *cat_off;     /* per parameter: offset of its block in cat */
} tpe_parzen;

/* obs: n_obs rows of n_params values (internal representation, no NaN),
 * oldest first (the weights favour recent ones past 25). Optuna's
 * _ParzenEstimator(observations, search_space, parameters). */
int tpe_parzen_init(tpe_parzen *pe, const tpe_param *params, int n_params, const double *obs,
                    int n_obs, const tpe_options *opt);
void tpe_parzen_free(tpe_parzen *pe);
/* The mixture's log density (log probability mass for discrete and
 * categorical parameters) at x[0..n_params). Optuna 3.1's log_pdf,
 * including its truncated normal log density without the -log(sigma) term
 * (optuna/samplers/_tpe/_truncnorm.py logpdf). */
double tpe_parzen_log_pdf(const tpe_parzen *pe, const double *x);
/* One draw from the mixture into x[0..n_params) (internal representation). */
void tpe_parzen_sample(const tpe_parzen *pe, rng_seq *r, double *x);

/* ---- the sampler ---------------------------------------------------------- */

typedef enum { TPE_TRIAL_COMPLETE, TPE_TRIAL_PRUNED, TPE_TRIAL_RUNNING } tpe_trial_state;

typedef struct {
    tpe_trial_state state;
    double step;     /* PRUNED: epochs of its last intermediate value */
    double loss;     /* COMPLETE / PRUNED: the value to minimize (NaN allowed) */
    const double *x; /* n_params values; NaN = not set */
} tpe_trial;

/* Suggest x[0..n_params) from trials[0..n_trials) (oldest first). When
 * fewer than n_startup_trials have completed or been pruned, *used_model = 0
 * and x is untouched: the caller samples at random, as Optuna's
 * RandomSampler does. Otherwise *used_model = 1: for each parameter in turn
 * (or jointly when multivariate), n_ei_candidates draws from the "below"
 * estimator, and the one maximizing log l(x) - log g(x). Returns an
 * HPCML_* status (out of memory only). */
int tpe_suggest(const tpe_param *params, int n_params, const tpe_options *opt,
                const tpe_trial *trials, int n_trials, rng_seq *r, double *x, int *used_model);

/* Optuna's _truncnorm helpers, exposed for the tests. */
double tpe_log_ndtr(double a);
double tpe_log_gauss_mass(double a, double b);

#endif
