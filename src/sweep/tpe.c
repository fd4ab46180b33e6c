/* tpe.c — Optuna 3.1's TPE sampler and Parzen estimator in C (see tpe.h). */
#include "sweep/tpe.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

#define TPE_EPS              1e-12
#define TPE_SIGMA0_MAGNITUDE 0.2

void tpe_options_default(tpe_options *o)
{
    o->consider_prior = 1;
    o->prior_weight = 1.0;
    o->consider_magic_clip = 1;
    o->consider_endpoints = 0;
    o->multivariate = 0;
    o->n_startup_trials = 10;
    o->n_ei_candidates = 24;
}

int tpe_gamma(int n)
{
    int g = (int)ceil(0.1 * n);
    return g < 25 ? g : 25;
}

void tpe_default_weights(int n, double *w)
{
    if (n < 25) {
        for (int i = 0; i < n; i++)
            w[i] = 1.0;
        return;
    }
    /* np.linspace(1/n, 1, num=n-25): start + i * step, the last one exactly 1. */
    int num = n - 25;
    double start = 1.0 / n, step = num > 1 ? (1.0 - start) / (num - 1) : 0.0;
    for (int i = 0; i < num; i++)
        w[i] = start + i * step;
    if (num > 1) w[num - 1] = 1.0;
    for (int i = num; i < n; i++)
        w[i] = 1.0;
}

/* ---- _truncnorm ------------------------------------------------------------ */

static double ndtr(double a)
{
    double x = a / sqrt(2.0);
    if (x < -1 / sqrt(2.0)) return 0.5 * erfc(-x);
    if (x < 1 / sqrt(2.0)) return 0.5 + 0.5 * erf(x);
    return 1.0 - 0.5 * erfc(x);
}

double tpe_log_ndtr(double a)
{
    if (a > 6) return -ndtr(-a);
    if (a > -20) return log(ndtr(a));
    /* The asymptotic series of log Phi(a) for a -> -inf, summed until it stalls. */
    double log_lhs = -0.5 * a * a - log(-a) - 0.5 * log(2 * M_PI);
    double last = 0.0, rhs = 1.0, numerator = 1.0, denom_factor = 1.0, denom_cons = 1 / (a * a);
    int sign = 1;
    for (int i = 1; fabs(last - rhs) > DBL_EPSILON && i < 1000; i++) {
        last = rhs;
        sign = -sign;
        denom_factor *= denom_cons;
        numerator *= 2 * i - 1;
        rhs += sign * numerator * denom_factor;
    }
    return log_lhs + log(rhs);
}

static double log_diff(double lp, double lq)
{
    return lp + log1p(-exp(lq - lp));
}

double tpe_log_gauss_mass(double a, double b)
{
    if (b <= 0) return log_diff(tpe_log_ndtr(b), tpe_log_ndtr(a));
    if (a > 0) return log_diff(tpe_log_ndtr(-a), tpe_log_ndtr(-b));
    /* Optuna's _ndtr here is 0.5 + 0.5 erf(a / sqrt 2) without the erfc branches. */
    return log1p(-(0.5 + 0.5 * erf(a / sqrt(2.0))) - (0.5 + 0.5 * erf(-b / sqrt(2.0))));
}

static double logaddexp(double x, double y)
{
    if (x == y) return x + M_LN2;
    double m = x > y ? x : y, d = x > y ? y - x : x - y;
    return m + log1p(exp(d));
}

/* Optuna's ppf of the standard normal truncated to [a, b] at quantile q:
 * log Phi(x) is found by 100 bisections of log_ndtr on [-100, 100]. */
static double ndtri_exp(double y)
{
    double lo = -100, hi = 100, m = 0;
    if (tpe_log_ndtr(lo) > y) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    for (int i = 0; i < 100; i++) {
        m = (lo + hi) / 2;
        if (tpe_log_ndtr(m) < y)
            lo = m;
        else
            hi = m;
    }
    return m;
}

static double truncnorm_ppf(double q, double a, double b)
{
    if (a == b) return NAN;
    if (q == 0) return a;
    if (q == 1) return b;
    if (a < 0) return ndtri_exp(logaddexp(tpe_log_ndtr(a), log(q) + tpe_log_gauss_mass(a, b)));
    return -ndtri_exp(logaddexp(tpe_log_ndtr(-b), log1p(-q) + tpe_log_gauss_mass(a, b)));
}

/* ---- the Parzen estimator ----------------------------------------------------- */

void tpe_parzen_free(tpe_parzen *pe)
{
    free(pe->weights);
    free(pe->low);
    free(pe->high);
    free(pe->mus);
    free(pe->sigmas);
    free(pe->log_accept);
    free(pe->cat);
    free(pe->cat_off);
    memset(pe, 0, sizeof *pe);
}

/* _calculate_parzen_bounds, in the kernel's space. */
static void parzen_bounds(const tpe_param *p, double *low, double *high)
{
    if (p->kind == TPE_CONTINUOUS && p->log) {
        *low = p->is_int ? log(p->low - 0.5) : log(p->low);
        *high = p->is_int ? log(p->high + 0.5) : log(p->high);
    } else if (p->kind == TPE_DISCRETE) {
        *low = p->low - 0.5 * p->q;
        *high = p->high + 0.5 * p->q;
    } else {
        *low = p->low;
        *high = p->high;
    }
}

static double to_kernel(const tpe_param *p, double v)
{
    return p->kind == TPE_CONTINUOUS && p->log ? log(v) : v;
}

/* The order of the kernels by mu: np.argsort in Optuna. Equal mus keep
 * their observation order here; numpy's quicksort orders ties in a way that
 * depends on its build (introsort, or AVX-512 sorting networks). Which of
 * two equal kernels gets which bandwidth matters only when their weights
 * differ (past 25 observations). */
typedef struct {
    double v;
    int i;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->v < y->v) return -1;
    if (x->v > y->v) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

static void argsort_stable(const double *v, int *idx, int n, keyed *scratch)
{
    for (int i = 0; i < n; i++)
        scratch[i] = (keyed){v[i], i};
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_keyed);
    for (int i = 0; i < n; i++)
        idx[i] = scratch[i].i;
}

/* _calculate_numerical_params for parameter d. */
static int numerical_params(tpe_parzen *pe, int d, const double *obs, const tpe_options *opt,
                            double sigma0)
{
    int n = pe->n_obs, m = pe->n_comp;
    double low = pe->low[d], high = pe->high[d];
    double *mus = pe->mus + (int64_t)d * m, *sigmas = pe->sigmas + (int64_t)d * m;
    int prior = m > n;
    for (int i = 0; i < n; i++)
        mus[i] = to_kernel(&pe->params[d], obs[(int64_t)i * pe->n_params + d]);
    if (prior) mus[n] = 0.5 * (low + high);
    if (opt->multivariate) {
        for (int i = 0; i < m; i++)
            sigmas[i] = sigma0 * (high - low);
    } else {
        int *k = malloc((size_t)m * sizeof *k);
        keyed *ks = malloc((size_t)m * sizeof *ks);
        double *e = malloc((size_t)(m + 2) * sizeof *e), *s = malloc((size_t)m * sizeof *s);
        if (!k || !ks || !e || !s) {
            free(k);
            free(ks);
            free(e);
            free(s);
            return HPCML_FAIL(HPCML_EINTERNAL, "tpe: out of memory");
        }
        argsort_stable(mus, k, m, ks);
        free(ks);
        e[0] = low;
        for (int i = 0; i < m; i++)
            e[i + 1] = mus[k[i]];
        e[m + 1] = high;
        for (int i = 0; i < m; i++) {
            double l = e[i + 1] - e[i], r = e[i + 2] - e[i + 1];
            s[i] = l > r ? l : r;
        }
        if (!opt->consider_endpoints && m + 2 >= 4) {
            s[0] = e[2] - e[1];
            s[m - 1] = e[m] - e[m - 1];
        }
        for (int i = 0; i < m; i++)
            sigmas[k[i]] = s[i];
        free(k);
        free(e);
        free(s);
    }
    double maxsigma = 1.0 * (high - low);
    double minsigma =
        opt->consider_magic_clip ? 1.0 * (high - low) / fmin(100.0, 1.0 + m) : TPE_EPS;
    for (int i = 0; i < m; i++)
        sigmas[i] = fmin(fmax(sigmas[i], minsigma), maxsigma); /* np.clip */
    if (prior) sigmas[n] = 1.0 * (high - low);
    double *la = pe->log_accept + (int64_t)d * m;
    for (int i = 0; i < m; i++)
        la[i] = tpe_log_gauss_mass((low - mus[i]) / sigmas[i], (high - mus[i]) / sigmas[i]);
    return HPCML_OK;
}

int tpe_parzen_init(tpe_parzen *pe, const tpe_param *params, int n_params, const double *obs,
                    int n_obs, const tpe_options *opt)
{
    memset(pe, 0, sizeof *pe);
    pe->n_params = n_params;
    pe->params = params;
    pe->n_obs = n_obs;
    int prior = opt->consider_prior || n_obs == 0;
    int m = pe->n_comp = n_obs + (prior ? 1 : 0);
    int64_t cat_total = 0;
    for (int d = 0; d < n_params; d++)
        if (params[d].kind == TPE_CATEGORICAL) cat_total += (int64_t)m * params[d].n_choices;
    size_t pm = (size_t)n_params * (size_t)(m > 0 ? m : 1);
    pe->weights = malloc((size_t)(m > 0 ? m : 1) * sizeof *pe->weights);
    pe->low = malloc((size_t)(n_params + 1) * sizeof *pe->low);
    pe->high = malloc((size_t)(n_params + 1) * sizeof *pe->high);
    pe->mus = malloc((pm + 1) * sizeof *pe->mus);
    pe->sigmas = malloc((pm + 1) * sizeof *pe->sigmas);
    pe->log_accept = malloc((pm + 1) * sizeof *pe->log_accept);
    pe->cat = malloc((size_t)(cat_total + 1) * sizeof *pe->cat);
    pe->cat_off = malloc((size_t)(n_params + 1) * sizeof *pe->cat_off);
    if (!pe->weights || !pe->low || !pe->high || !pe->mus || !pe->sigmas || !pe->log_accept ||
        !pe->cat || !pe->cat_off) {
        tpe_parzen_free(pe);
        return HPCML_FAIL(HPCML_EINTERNAL, "tpe: out of memory");
    }

    /* _calculate_weights */
    tpe_default_weights(n_obs, pe->weights);
    if (prior) pe->weights[n_obs] = opt->prior_weight;
    double sum = 0;
    for (int i = 0; i < m; i++)
        sum += pe->weights[i];
    for (int i = 0; i < m; i++)
        pe->weights[i] /= sum;

    /* Scott's rule over all parameters, as in BOHB (multivariate only). */
    double sigma0 = TPE_SIGMA0_MAGNITUDE * pow(n_obs > 1 ? n_obs : 1, -1.0 / (n_params + 4));
    int64_t off = 0;
    for (int d = 0; d < n_params; d++) {
        const tpe_param *p = &params[d];
        if (p->kind == TPE_CATEGORICAL) {
            /* _calculate_categorical_params: prior_weight / m everywhere, +1
             * at the observed option, rows normalized. */
            pe->cat_off[d] = off;
            int c = p->n_choices;
            double *w = pe->cat + off;
            double value = opt->prior_weight / m;
            for (int64_t i = 0; i < (int64_t)m * c; i++)
                w[i] = value;
            for (int i = 0; i < n_obs; i++) {
                int k = (int)obs[(int64_t)i * n_params + d];
                if (k >= 0 && k < c) w[(int64_t)i * c + k] += 1;
            }
            for (int i = 0; i < m; i++) {
                double rs = 0;
                for (int k = 0; k < c; k++)
                    rs += w[(int64_t)i * c + k];
                for (int k = 0; k < c; k++)
                    w[(int64_t)i * c + k] /= rs;
            }
            off += (int64_t)m * c;
            continue;
        }
        pe->cat_off[d] = -1;
        parzen_bounds(p, &pe->low[d], &pe->high[d]);
        int rc = numerical_params(pe, d, obs, opt, sigma0);
        if (rc != HPCML_OK) {
            tpe_parzen_free(pe);
            return rc;
        }
    }
    return HPCML_OK;
}

double tpe_parzen_log_pdf(const tpe_parzen *pe, const double *x)
{
    int m = pe->n_comp;
    if (pe->n_params == 1 && pe->params[0].kind == TPE_CATEGORICAL) {
        /* Optuna's shortcut: log of the mixture's mass at the option. */
        int c = pe->params[0].n_choices, k = (int)x[0];
        const double *w = pe->cat + pe->cat_off[0];
        double s = 0;
        for (int i = 0; i < m; i++)
            s += w[(int64_t)i * c + k] * pe->weights[i];
        return log(s);
    }
    double best = -INFINITY, *comp = malloc((size_t)m * sizeof *comp);
    if (!comp) return NAN;
    for (int i = 0; i < m; i++) {
        double lp = 0;
        for (int d = 0; d < pe->n_params; d++) {
            const tpe_param *p = &pe->params[d];
            if (p->kind == TPE_CATEGORICAL) {
                int c = p->n_choices;
                lp += log(pe->cat[pe->cat_off[d] + (int64_t)i * c + (int)x[d]]);
                continue;
            }
            double mu = pe->mus[(int64_t)d * m + i], sg = pe->sigmas[(int64_t)d * m + i];
            double low = pe->low[d], high = pe->high[d], v = to_kernel(p, x[d]);
            double la = pe->log_accept[(int64_t)d * m + i];
            if (p->kind == TPE_DISCRETE) {
                double ub = fmin(v + p->q / 2.0, high), lb = fmax(v - p->q / 2.0, low);
                lp += tpe_log_gauss_mass((lb - mu) / sg, (ub - mu) / sg) - la;
            } else {
                double z = (v - mu) / sg, a = (low - mu) / sg, b = (high - mu) / sg;
                if (z < a || b < z)
                    lp += -INFINITY;
                else
                    lp += -(z * z) / 2.0 - log(sqrt(2 * M_PI)) - la;
            }
        }
        comp[i] = lp + log(pe->weights[i]);
        if (comp[i] > best) best = comp[i];
    }
    double s = 0;
    for (int i = 0; i < m; i++)
        s += exp(comp[i] - best);
    free(comp);
    return log(s) + best;
}

/* numpy's rng.choice(p=weights): the number of cumulative weights <= u. */
static int pick_component(const tpe_parzen *pe, double u)
{
    double total = 0;
    for (int i = 0; i < pe->n_comp; i++)
        total += pe->weights[i];
    double c = 0;
    int k = 0;
    for (int i = 0; i < pe->n_comp; i++) {
        c += pe->weights[i];
        if (c / total <= u) k = i + 1;
    }
    return k < pe->n_comp ? k : pe->n_comp - 1;
}

static double from_kernel(const tpe_param *p, double s)
{
    if (p->kind == TPE_DISCRETE) {
        double v = rint((s - p->low) / p->q) * p->q + p->low;
        return fmin(fmax(v, p->low), p->high);
    }
    if (p->log) {
        double v = exp(s);
        return p->is_int ? fmin(fmax(rint(v), p->low), p->high) : v;
    }
    return s;
}

static void sample_param(const tpe_parzen *pe, int d, int k, rng_seq *r, double *out)
{
    const tpe_param *p = &pe->params[d];
    double u = rng_seq_u01(r);
    if (p->kind == TPE_CATEGORICAL) {
        int c = p->n_choices;
        const double *w = pe->cat + pe->cat_off[d] + (int64_t)k * c;
        double cum = 0;
        int idx = 0;
        for (int j = 0; j < c; j++) {
            cum += w[j];
            if (cum < u) idx = j + 1;
        }
        *out = idx < c ? idx : c - 1;
        return;
    }
    int m = pe->n_comp;
    double mu = pe->mus[(int64_t)d * m + k], sg = pe->sigmas[(int64_t)d * m + k];
    double s = truncnorm_ppf(u, (pe->low[d] - mu) / sg, (pe->high[d] - mu) / sg) * sg + mu;
    *out = from_kernel(p, s);
}

void tpe_parzen_sample(const tpe_parzen *pe, rng_seq *r, double *x)
{
    int k = pick_component(pe, rng_seq_u01(r));
    for (int d = 0; d < pe->n_params; d++)
        sample_param(pe, d, k, r, &x[d]);
}

/* ---- the sampler ------------------------------------------------------------------ */

typedef struct {
    double step_key, loss;
    int i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->step_key != y->step_key) return x->step_key < y->step_key ? -1 : 1;
    /* numpy sorts NaN last; a pruned NaN has been mapped to +inf already */
    if (x->loss != y->loss) {
        if (isnan(x->loss)) return 1;
        if (isnan(y->loss)) return -1;
        return x->loss < y->loss ? -1 : 1;
    }
    return (x->i > y->i) - (x->i < y->i);
}

/* One estimator pair over the parameters dims[0..nd) and the candidates. */
static int suggest_group(const tpe_param *params, const int *dims, int nd, const tpe_options *opt,
                         const tpe_trial *trials, const unsigned char *below, int n_trials,
                         rng_seq *r, double *x)
{
    tpe_param *sub = malloc((size_t)nd * sizeof *sub);
    double *ob = malloc(((size_t)n_trials * nd + 1) * sizeof *ob);
    double *oa = malloc(((size_t)n_trials * nd + 1) * sizeof *oa);
    double *cand = malloc(((size_t)opt->n_ei_candidates * nd + 1) * sizeof *cand);
    int rc = HPCML_OK;
    if (!sub || !ob || !oa || !cand) {
        rc = HPCML_FAIL(HPCML_EINTERNAL, "tpe: out of memory");
        goto out;
    }
    for (int j = 0; j < nd; j++)
        sub[j] = params[dims[j]];
    int nb = 0, na = 0;
    for (int t = 0; t < n_trials; t++) {
        /* A trial without a value for a parameter informs no estimator of it. */
        int ok = 1;
        for (int j = 0; j < nd; j++)
            if (isnan(trials[t].x[dims[j]])) ok = 0;
        if (!ok) continue;
        double *row = below[t] ? ob + (size_t)nb++ * nd : oa + (size_t)na++ * nd;
        for (int j = 0; j < nd; j++)
            row[j] = trials[t].x[dims[j]];
    }
    tpe_parzen l, g;
    rc = tpe_parzen_init(&l, sub, nd, ob, nb, opt);
    if (rc != HPCML_OK) goto out;
    rc = tpe_parzen_init(&g, sub, nd, oa, na, opt);
    if (rc != HPCML_OK) {
        tpe_parzen_free(&l);
        goto out;
    }
    /* Optuna draws all components first, then each parameter's values. */
    int nc = opt->n_ei_candidates;
    int *active = malloc((size_t)nc * sizeof *active);
    if (!active) {
        rc = HPCML_FAIL(HPCML_EINTERNAL, "tpe: out of memory");
    } else {
        for (int c = 0; c < nc; c++)
            active[c] = pick_component(&l, rng_seq_u01(r));
        for (int j = 0; j < nd; j++)
            for (int c = 0; c < nc; c++)
                sample_param(&l, j, active[c], r, &cand[(size_t)c * nd + j]);
        double best = -INFINITY;
        int best_c = 0;
        for (int c = 0; c < nc; c++) {
            double score = tpe_parzen_log_pdf(&l, &cand[(size_t)c * nd]) -
                           tpe_parzen_log_pdf(&g, &cand[(size_t)c * nd]);
            if (score > best || (c == 0 && !(score <= best))) {
                best = score;
                best_c = c;
            }
        }
        for (int j = 0; j < nd; j++)
            x[dims[j]] = cand[(size_t)best_c * nd + j];
    }
    free(active);
    tpe_parzen_free(&l);
    tpe_parzen_free(&g);
out:
    free(sub);
    free(ob);
    free(oa);
    free(cand);
    return rc;
}

int tpe_suggest(const tpe_param *params, int n_params, const tpe_options *opt,
                const tpe_trial *trials, int n_trials, rng_seq *r, double *x, int *used_model)
{
    *used_model = 0;
    int n = 0;
    for (int t = 0; t < n_trials; t++)
        if (trials[t].state != TPE_TRIAL_RUNNING) n++;
    if (n < opt->n_startup_trials || n_params == 0) return HPCML_OK;

    ranked *rk = malloc((size_t)(n_trials + 1) * sizeof *rk);
    unsigned char *below = calloc((size_t)n_trials + 1, 1);
    int *dims = malloc((size_t)n_params * sizeof *dims);
    int rc = HPCML_OK;
    if (!rk || !below || !dims) {
        rc = HPCML_FAIL(HPCML_EINTERNAL, "tpe: out of memory");
        goto out;
    }
    for (int t = 0; t < n_trials; t++) {
        const tpe_trial *tr = &trials[t];
        if (tr->state == TPE_TRIAL_COMPLETE)
            rk[t] = (ranked){-INFINITY, tr->loss, t};
        else if (tr->state == TPE_TRIAL_PRUNED)
            rk[t] = (ranked){-tr->step, isnan(tr->loss) ? INFINITY : tr->loss, t};
        else
            rk[t] = (ranked){INFINITY, INFINITY, t};
    }
    qsort(rk, (size_t)n_trials, sizeof *rk, cmp_ranked);
    int n_below = tpe_gamma(n);
    for (int k = 0; k < n_below && k < n_trials; k++)
        below[rk[k].i] = 1;
    if (opt->multivariate) {
        for (int d = 0; d < n_params; d++)
            dims[d] = d;
        rc = suggest_group(params, dims, n_params, opt, trials, below, n_trials, r, x);
    } else {
        for (int d = 0; d < n_params && rc == HPCML_OK; d++)
            rc = suggest_group(params, &d, 1, opt, trials, below, n_trials, r, x);
    }
    if (rc == HPCML_OK) *used_model = 1;
out:
    free(rk);
    free(below);
    free(dims);
    return rc;
}
