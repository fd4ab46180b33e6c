/* drift.c — data-drift summaries and their comparison (drift.h). Pure: no
 * MPI, no I/O; every statistic is written here from its definition. */
#include "monitor/drift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- methods ---------------------------------------------------------------- */
static const char *const method_names[] = {"auto", "ks", "chisquare", "psi", "jensenshannon"};

const char *drift_method_name(drift_method m)
{
    return (unsigned)m < sizeof method_names / sizeof *method_names ? method_names[m] : "?";
}

int drift_method_parse(const char *name, drift_method *out)
{
    for (int i = 0; i < (int)(sizeof method_names / sizeof *method_names); i++)
        if (!strcmp(name, method_names[i])) {
            *out = (drift_method)i;
            return 0;
        }
    return -1;
}

/* ---- the bucket grid ---------------------------------------------------------- */
static double ln_gamma(void)
{
    return log((1.0 + DRIFT_ALPHA) / (1.0 - DRIFT_ALPHA));
}

/* Upper edge of magnitude bucket k (k = 0: the zero bucket's edge). */
static double magnitude_edge(int k)
{
    if (k <= 0) return DRIFT_MIN_MAGNITUDE;
    if (k >= DRIFT_SIDE_BUCKETS) return DRIFT_MAX_MAGNITUDE;
    return DRIFT_MIN_MAGNITUDE * exp((double)k * ln_gamma());
}

int drift_bucket_of(double v)
{
    if (v > DRIFT_MAX_MAGNITUDE) return DRIFT_BUCKETS - 1;
    if (v < -DRIFT_MAX_MAGNITUDE) return 0;
    double a = fabs(v);
    if (a <= DRIFT_MIN_MAGNITUDE) return DRIFT_ZERO_BUCKET;
    /* ceil of a monotone function of a: the index is monotone in v */
    double kf = ceil(log(a / DRIFT_MIN_MAGNITUDE) / ln_gamma());
    int k = kf < 1 ? 1 : kf > DRIFT_SIDE_BUCKETS ? DRIFT_SIDE_BUCKETS : (int)kf;
    return v > 0 ? DRIFT_ZERO_BUCKET + k : DRIFT_ZERO_BUCKET - k;
}

double drift_bucket_upper(int b)
{
    if (b <= 0) return -DRIFT_MAX_MAGNITUDE;
    if (b >= DRIFT_BUCKETS - 1)
        return DRIFT_MAX_MAGNITUDE * (1.0 + DRIFT_ALPHA) / (1.0 - DRIFT_ALPHA);
    if (b == DRIFT_ZERO_BUCKET) return DRIFT_MIN_MAGNITUDE;
    if (b > DRIFT_ZERO_BUCKET) return magnitude_edge(b - DRIFT_ZERO_BUCKET);
    return -magnitude_edge(DRIFT_ZERO_BUCKET - b - 1);
}

double drift_bucket_lower(int b)
{
    if (b <= 0) return -DRIFT_MAX_MAGNITUDE * (1.0 + DRIFT_ALPHA) / (1.0 - DRIFT_ALPHA);
    if (b == DRIFT_ZERO_BUCKET) return -DRIFT_MIN_MAGNITUDE;
    return drift_bucket_upper(b - 1);
}

double drift_bucket_value(int b)
{
    if (b <= 0) return -DRIFT_MAX_MAGNITUDE;
    if (b >= DRIFT_BUCKETS - 1) return DRIFT_MAX_MAGNITUDE;
    if (b == DRIFT_ZERO_BUCKET) return 0.0;
    int k = b > DRIFT_ZERO_BUCKET ? b - DRIFT_ZERO_BUCKET : DRIFT_ZERO_BUCKET - b;
    double g = (1.0 + DRIFT_ALPHA) / (1.0 - DRIFT_ALPHA);
    /* 2 e / (1 + gamma) is within alpha of every magnitude in (e / gamma, e] */
    double r = 2.0 * DRIFT_MIN_MAGNITUDE * exp((double)k * ln_gamma()) / (1.0 + g);
    return b > DRIFT_ZERO_BUCKET ? r : -r;
}

/* ---- numeric summary ----------------------------------------------------------- */
void drift_numeric_init(drift_numeric *s)
{
    memset(s, 0, sizeof *s);
}

void drift_numeric_add(drift_numeric *s, double v)
{
    if (isnan(v))
        s->nulls++;
    else
        s->counts[drift_bucket_of(v)]++;
}

void drift_numeric_add_null(drift_numeric *s)
{
    s->nulls++;
}

void drift_numeric_merge(drift_numeric *into, const drift_numeric *from)
{
    for (int b = 0; b < DRIFT_BUCKETS; b++)
        into->counts[b] += from->counts[b];
    into->nulls += from->nulls;
}

int64_t drift_numeric_count(const drift_numeric *s)
{
    int64_t n = 0;
    for (int b = 0; b < DRIFT_BUCKETS; b++)
        n += s->counts[b];
    return n;
}

double drift_numeric_quantile(const drift_numeric *s, double q)
{
    int64_t n = drift_numeric_count(s);
    if (n == 0) return NAN;
    if (q < 0) q = 0;
    if (q > 1) q = 1;
    int64_t rank = (int64_t)floor(q * (double)(n - 1));
    int64_t cum = 0;
    for (int b = 0; b < DRIFT_BUCKETS; b++) {
        cum += s->counts[b];
        if (cum > rank) return drift_bucket_value(b);
    }
    return NAN; /* not reached */
}

/* ---- categorical summary ------------------------------------------------------- */
int drift_categorical_init(drift_categorical *c, int32_t n_slots)
{
    c->n_slots = n_slots < 1 ? 1 : n_slots;
    c->nulls = 0;
    c->counts = calloc((size_t)c->n_slots, sizeof *c->counts);
    return c->counts ? 0 : -1;
}

void drift_categorical_free(drift_categorical *c)
{
    free(c->counts);
    c->counts = NULL;
    c->n_slots = 0;
}

void drift_categorical_add(drift_categorical *c, int32_t index)
{
    if (index < 0)
        c->nulls++;
    else
        c->counts[index < c->n_slots ? index : 0]++;
}

int64_t drift_categorical_count(const drift_categorical *c)
{
    int64_t n = 0;
    for (int32_t k = 0; k < c->n_slots; k++)
        n += c->counts[k];
    return n;
}

/* ---- sets -------------------------------------------------------------------------- */
void drift_set_init(drift_set *set)
{
    memset(set, 0, sizeof *set);
}

static void column_free(drift_column *c)
{
    free(c->name);
    free(c->num);
    if (c->categories)
        for (int32_t k = 0; k < c->cat.n_slots; k++)
            free(c->categories[k]);
    free(c->categories);
    drift_categorical_free(&c->cat);
}

void drift_set_free(drift_set *set)
{
    for (int i = 0; i < set->n_cols; i++)
        column_free(&set->cols[i]);
    free(set->cols);
    drift_set_init(set);
}

static drift_column *column_append(drift_set *set, const char *name)
{
    if (set->n_cols == set->cap) {
        int cap = set->cap ? 2 * set->cap : 8;
        drift_column *c = realloc(set->cols, (size_t)cap * sizeof *c);
        if (!c) return NULL;
        set->cols = c;
        set->cap = cap;
    }
    drift_column *c = &set->cols[set->n_cols];
    memset(c, 0, sizeof *c);
    c->name = strdup(name);
    if (!c->name) return NULL;
    return c;
}

int drift_set_add_numeric(drift_set *set, const char *name)
{
    drift_column *c = column_append(set, name);
    if (!c) return -1;
    c->type = DRIFT_NUMERIC;
    c->num = malloc(sizeof *c->num);
    if (!c->num) {
        column_free(c);
        return -1;
    }
    drift_numeric_init(c->num);
    return set->n_cols++;
}

int drift_set_add_categorical(drift_set *set, const char *name, int32_t n_slots,
                              const char *const *categories)
{
    drift_column *c = column_append(set, name);
    if (!c) return -1;
    c->type = DRIFT_CATEGORICAL;
    if (drift_categorical_init(&c->cat, n_slots) != 0) {
        column_free(c);
        return -1;
    }
    c->categories = calloc((size_t)c->cat.n_slots, sizeof *c->categories);
    int ok = c->categories != NULL;
    for (int32_t k = 0; ok && k < c->cat.n_slots; k++) {
        char num[24];
        const char *text = categories ? categories[k] : NULL;
        if (!text) {
            snprintf(num, sizeof num, "%d", (int)k);
            text = k == 0 ? "<unknown>" : num;
        }
        c->categories[k] = strdup(text);
        ok = c->categories[k] != NULL;
    }
    if (!ok) {
        column_free(c);
        return -1;
    }
    return set->n_cols++;
}

int drift_set_find(const drift_set *set, const char *name)
{
    for (int i = 0; i < set->n_cols; i++)
        if (!strcmp(set->cols[i].name, name)) return i;
    return -1;
}

int drift_set_clone_empty(const drift_set *like, drift_set *out)
{
    drift_set_init(out);
    for (int i = 0; i < like->n_cols; i++) {
        const drift_column *c = &like->cols[i];
        int r = c->type == DRIFT_NUMERIC
                    ? drift_set_add_numeric(out, c->name)
                    : drift_set_add_categorical(out, c->name, c->cat.n_slots,
                                                (const char *const *)c->categories);
        if (r < 0) {
            drift_set_free(out);
            return -1;
        }
    }
    return 0;
}

int64_t drift_set_n_words(const drift_set *set)
{
    int64_t n = 0;
    for (int i = 0; i < set->n_cols; i++)
        n += set->cols[i].type == DRIFT_NUMERIC ? DRIFT_NUMERIC_WORDS
                                                : (int64_t)set->cols[i].cat.n_slots + 1;
    return n;
}

void drift_set_pack(const drift_set *set, int64_t *w)
{
    for (int i = 0; i < set->n_cols; i++) {
        const drift_column *c = &set->cols[i];
        if (c->type == DRIFT_NUMERIC) {
            memcpy(w, c->num->counts, sizeof c->num->counts);
            w += DRIFT_BUCKETS;
            *w++ = c->num->nulls;
        } else {
            memcpy(w, c->cat.counts, (size_t)c->cat.n_slots * sizeof *w);
            w += c->cat.n_slots;
            *w++ = c->cat.nulls;
        }
    }
}

void drift_set_unpack(drift_set *set, const int64_t *w)
{
    for (int i = 0; i < set->n_cols; i++) {
        drift_column *c = &set->cols[i];
        if (c->type == DRIFT_NUMERIC) {
            memcpy(c->num->counts, w, sizeof c->num->counts);
            w += DRIFT_BUCKETS;
            c->num->nulls = *w++;
        } else {
            memcpy(c->cat.counts, w, (size_t)c->cat.n_slots * sizeof *w);
            w += c->cat.n_slots;
            c->cat.nulls = *w++;
        }
    }
}

/* ---- the statistics ------------------------------------------------------------ */
double drift_ks_statistic(const int64_t *a, const int64_t *b, int n_bins)
{
    int64_t na = 0, nb = 0;
    for (int i = 0; i < n_bins; i++) {
        na += a[i];
        nb += b[i];
    }
    if (na == 0 || nb == 0) return NAN;
    int64_t ca = 0, cb = 0;
    double d = 0;
    for (int i = 0; i < n_bins; i++) {
        ca += a[i];
        cb += b[i];
        double diff = fabs((double)ca / (double)na - (double)cb / (double)nb);
        if (diff > d) d = diff;
    }
    return d;
}

double drift_kolmogorov_sf(double lambda)
{
    if (!(lambda > 0)) return 1.0;
    if (lambda < 1.18) {
        /* P(K <= l) = sqrt(2 pi) / l * sum_k exp(-(2k-1)^2 pi^2 / (8 l^2)): fast for small l */
        double w = M_PI * M_PI / (8.0 * lambda * lambda), s = 0;
        for (int k = 1; k <= 64; k++) {
            double t = exp(-(double)((2 * k - 1) * (2 * k - 1)) * w);
            s += t;
            if (t < 1e-17 * s) break;
        }
        double cdf = sqrt(2.0 * M_PI) / lambda * s;
        return cdf >= 1 ? 0.0 : 1.0 - cdf;
    }
    double s = 0, sign = 1;
    for (int k = 1; k <= 64; k++) {
        double t = exp(-2.0 * (double)k * (double)k * lambda * lambda);
        s += sign * t;
        sign = -sign;
        if (t < 1e-17 * fabs(s)) break;
    }
    double q = 2.0 * s;
    return q < 0 ? 0.0 : q > 1 ? 1.0 : q;
}

double drift_ks_pvalue(double d, int64_t n, int64_t m)
{
    if (isnan(d) || n <= 0 || m <= 0) return NAN;
    /* Smirnov: sqrt(n m / (n + m)) D tends to Kolmogorov's distribution.
     * Stephens' (1970) finite-size factor sqrt(en) + 0.12 + 0.11 / sqrt(en)
     * brings Q within a few percent of the exact one-sample law kstwo.sf(D,
     * round(en)) that scipy's ks_2samp(method="asymp") evaluates (measured in
     * tests/scripts/test_drift_scipy.sh). */
    double en = (double)n * (double)m / ((double)n + (double)m), s = sqrt(en);
    return drift_kolmogorov_sf((s + 0.12 + 0.11 / s) * d);
}

double drift_gamma_q(double a, double x)
{
    if (!(a > 0) || isnan(x)) return NAN;
    if (x <= 0) return 1.0;
    if (isinf(x)) return 0.0;
    double lead = a * log(x) - x - lgamma(a);
    if (x < a + 1.0) {
        /* P(a, x) by its series: x^a e^-x / Gamma(a+1) * sum x^n / ((a+1)...(a+n)) */
        double term = 1.0 / a, sum = term, ap = a;
        for (int n = 1; n < 10000; n++) {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if (fabs(term) < fabs(sum) * 1e-16) break;
        }
        double p = sum * exp(lead);
        return p >= 1 ? 0.0 : 1.0 - p;
    }
    /* Q(a, x) by its continued fraction (modified Lentz) */
    const double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 10000; i++) {
        double an = -(double)i * ((double)i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < tiny) d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-16) break;
    }
    double q = exp(lead) * h;
    return q < 0 ? 0.0 : q > 1 ? 1.0 : q;
}

double drift_chi2_sf(double x, double df)
{
    if (!(df > 0)) return NAN;
    return drift_gamma_q(0.5 * df, 0.5 * x);
}

double drift_chisquare_statistic(const int64_t *observed, const double *expected_share, int n)
{
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += observed[i];
    double x2 = 0;
    for (int i = 0; i < n; i++) {
        double e = (double)total * expected_share[i];
        double dlt = (double)observed[i] - e;
        x2 += dlt * dlt / e;
    }
    return x2;
}

void drift_shares_fill_zeros(const int64_t *counts, int n, double *shares)
{
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += counts[i];
    double smallest = INFINITY;
    for (int i = 0; i < n; i++) {
        shares[i] = total ? (double)counts[i] / (double)total : 0.0;
        if (shares[i] > 0 && shares[i] < smallest) smallest = shares[i];
    }
    /* Evidently's rule (stattests/utils.py get_binned_data) */
    double fill = smallest <= 1e-4 ? smallest / 1e6 : 1e-4;
    for (int i = 0; i < n; i++)
        if (shares[i] == 0) shares[i] = fill;
}

double drift_psi(const int64_t *reference, const int64_t *current, int n)
{
    double *r = malloc((size_t)(n > 0 ? n : 1) * sizeof *r);
    double *c = malloc((size_t)(n > 0 ? n : 1) * sizeof *c);
    double psi = NAN;
    if (r && c) {
        drift_shares_fill_zeros(reference, n, r);
        drift_shares_fill_zeros(current, n, c);
        psi = 0;
        for (int i = 0; i < n; i++)
            psi += (r[i] - c[i]) * log(r[i] / c[i]);
    }
    free(r);
    free(c);
    return psi;
}

double drift_jensenshannon(const int64_t *reference, const int64_t *current, int n)
{
    int64_t nr = 0, nc = 0;
    for (int i = 0; i < n; i++) {
        nr += reference[i];
        nc += current[i];
    }
    if (nr == 0 || nc == 0) return NAN;
    /* JS = (KL(p || m) + KL(q || m)) / 2, m = (p + q) / 2, logs base 2 */
    double js = 0;
    for (int i = 0; i < n; i++) {
        double p = (double)reference[i] / (double)nr, q = (double)current[i] / (double)nc;
        double m = 0.5 * (p + q);
        if (p > 0) js += 0.5 * p * log(p / m);
        if (q > 0) js += 0.5 * q * log(q / m);
    }
    js /= log(2.0);
    return js > 0 ? sqrt(js) : 0.0;
}

/* ---- comparison ------------------------------------------------------------------ */
void drift_options_default(drift_options *o)
{
    o->numeric_method = DRIFT_METHOD_AUTO;
    o->categorical_method = DRIFT_METHOD_AUTO;
    o->auto_max_rows = 1000;
    o->ks_threshold = 0.05;
    o->chisquare_threshold = 0.05;
    o->psi_threshold = 0.1;
    o->jensenshannon_threshold = 0.1;
    o->bins = 20;
    o->drift_share = 0.5;
}

static void result_init(drift_column_result *r, drift_column_type type)
{
    memset(r, 0, sizeof *r);
    r->type = type;
    r->statistic = r->p_value = NAN;
    r->ks = r->ks_p_value = r->chisquare = r->chisquare_p_value = r->chisquare_df = NAN;
    r->psi = r->jensenshannon = NAN;
    r->null_share_reference = r->null_share_current = NAN;
}

/* Pick the method's statistic, threshold and verdict. */
static void decide(drift_column_result *r, drift_method m, const drift_options *o)
{
    r->method = m;
    switch (m) {
    case DRIFT_METHOD_KS:
        r->statistic = r->ks;
        r->p_value = r->ks_p_value;
        r->threshold = o->ks_threshold;
        r->drifted = !isnan(r->p_value) && r->p_value < r->threshold;
        break;
    case DRIFT_METHOD_CHISQUARE:
        r->statistic = r->chisquare;
        r->p_value = r->chisquare_p_value;
        r->threshold = o->chisquare_threshold;
        r->drifted = !isnan(r->p_value) && r->p_value < r->threshold;
        break;
    case DRIFT_METHOD_PSI:
        r->statistic = r->psi;
        r->threshold = o->psi_threshold;
        r->drifted = !isnan(r->statistic) && r->statistic >= r->threshold;
        break;
    default:
        r->statistic = r->jensenshannon;
        r->threshold = o->jensenshannon_threshold;
        r->drifted = !isnan(r->statistic) && r->statistic >= r->threshold;
        break;
    }
}

static double share(int64_t part, int64_t whole)
{
    return whole > 0 ? (double)part / (double)whole : NAN;
}

/* Coarse bins over the fine buckets: starts[j] is the first bucket of bin j.
 * Reference quantile bins over the reference's occupied range, plus one bin
 * for current mass below it and one for current mass above it. */
static int coarse_starts(const drift_numeric *ref, const drift_numeric *cur, int bins, int *starts,
                         int *end)
{
    int rlo = -1, rhi = -1, lo = -1, hi = -1;
    for (int b = 0; b < DRIFT_BUCKETS; b++) {
        if (ref->counts[b]) {
            if (rlo < 0) rlo = b;
            rhi = b;
        }
        if (ref->counts[b] || cur->counts[b]) {
            if (lo < 0) lo = b;
            hi = b;
        }
    }
    int n = 0;
    if (lo < 0) return 0;
    if (rlo < 0) { /* no reference values: one bin over the current ones */
        starts[n++] = lo;
        *end = hi + 1;
        return n;
    }
    if (lo < rlo) starts[n++] = lo;
    starts[n++] = rlo;
    int64_t nref = drift_numeric_count(ref), cum = 0;
    int64_t j = 1;
    for (int b = rlo; b < rhi; b++) {
        cum += ref->counts[b];
        if (cum * bins >= j * nref) {
            starts[n++] = b + 1;
            while (j < bins && cum * bins >= j * nref)
                j++;
        }
    }
    if (hi > rhi) starts[n++] = rhi + 1;
    *end = hi + 1;
    return n;
}

int drift_compare_numeric(const drift_numeric *ref, const drift_numeric *cur,
                          const drift_options *o, drift_column_result *out)
{
    result_init(out, DRIFT_NUMERIC);
    int64_t nr = drift_numeric_count(ref), nc = drift_numeric_count(cur);
    out->rows_reference = nr + ref->nulls;
    out->rows_current = nc + cur->nulls;
    out->null_share_reference = share(ref->nulls, out->rows_reference);
    out->null_share_current = share(cur->nulls, out->rows_current);

    out->ks = drift_ks_statistic(ref->counts, cur->counts, DRIFT_BUCKETS);
    out->ks_p_value = drift_ks_pvalue(out->ks, nr, nc);

    int bins = o->bins < 1 ? 1 : o->bins;
    int *starts = malloc((size_t)(bins + 3) * sizeof *starts);
    if (!starts) return -1;
    int end = 0, n = coarse_starts(ref, cur, bins, starts, &end);
    out->n_bins = n;
    out->edges = malloc((size_t)(n + 1) * sizeof *out->edges);
    out->reference_counts = calloc((size_t)(n > 0 ? n : 1), sizeof(int64_t));
    out->current_counts = calloc((size_t)(n > 0 ? n : 1), sizeof(int64_t));
    if (!out->edges || !out->reference_counts || !out->current_counts) {
        free(starts);
        drift_column_result_free(out);
        return -1;
    }
    for (int j = 0; j < n; j++) {
        int stop = j + 1 < n ? starts[j + 1] : end;
        out->edges[j] = drift_bucket_lower(starts[j]);
        for (int b = starts[j]; b < stop; b++) {
            out->reference_counts[j] += ref->counts[b];
            out->current_counts[j] += cur->counts[b];
        }
    }
    out->edges[n] = n > 0 ? drift_bucket_upper(end - 1) : 0.0;
    free(starts);
    if (nr > 0 && nc > 0) {
        out->psi = drift_psi(out->reference_counts, out->current_counts, n);
        out->jensenshannon = drift_jensenshannon(out->reference_counts, out->current_counts, n);
    }
    drift_method m = o->numeric_method;
    if (m == DRIFT_METHOD_AUTO || m == DRIFT_METHOD_CHISQUARE)
        m = nc <= o->auto_max_rows ? DRIFT_METHOD_KS : DRIFT_METHOD_JENSENSHANNON;
    decide(out, m, o);
    return 0;
}

int drift_compare_categorical(const drift_categorical *ref, const drift_categorical *cur,
                              const drift_options *o, drift_column_result *out)
{
    result_init(out, DRIFT_CATEGORICAL);
    if (ref->n_slots != cur->n_slots) return -1;
    int n = ref->n_slots;
    int64_t nr = drift_categorical_count(ref), nc = drift_categorical_count(cur);
    out->rows_reference = nr + ref->nulls;
    out->rows_current = nc + cur->nulls;
    out->null_share_reference = share(ref->nulls, out->rows_reference);
    out->null_share_current = share(cur->nulls, out->rows_current);
    out->n_bins = n;
    out->reference_counts = malloc((size_t)n * sizeof(int64_t));
    out->current_counts = malloc((size_t)n * sizeof(int64_t));
    /* the slots either sample uses (Evidently: the union of the values seen) */
    int64_t *ru = malloc((size_t)n * sizeof *ru), *cu = malloc((size_t)n * sizeof *cu);
    double *expect = malloc((size_t)n * sizeof *expect);
    int ok = out->reference_counts && out->current_counts && ru && cu && expect;
    int used = 0;
    if (ok) {
        memcpy(out->reference_counts, ref->counts, (size_t)n * sizeof(int64_t));
        memcpy(out->current_counts, cur->counts, (size_t)n * sizeof(int64_t));
        for (int k = 0; k < n; k++)
            if (ref->counts[k] || cur->counts[k]) {
                ru[used] = ref->counts[k];
                cu[used] = cur->counts[k];
                used++;
            }
    }
    if (ok && nr > 0 && nc > 0) {
        out->psi = drift_psi(ru, cu, used);
        out->jensenshannon = drift_jensenshannon(ru, cu, used);
        /* goodness of fit against the reference shares; a slot the reference
         * never saw gets the zero-fill share (else X^2 is infinite), then the
         * shares are renormalized so the expected counts sum to the observed */
        drift_shares_fill_zeros(ru, used, expect);
        double total = 0;
        for (int k = 0; k < used; k++)
            total += expect[k];
        for (int k = 0; k < used; k++)
            expect[k] /= total;
        out->chisquare = drift_chisquare_statistic(cu, expect, used);
        out->chisquare_df = used - 1;
        out->chisquare_p_value = used > 1 ? drift_chi2_sf(out->chisquare, used - 1) : 1.0;
    }
    free(ru);
    free(cu);
    free(expect);
    if (!ok) {
        drift_column_result_free(out);
        return -1;
    }
    drift_method m = o->categorical_method;
    if (m == DRIFT_METHOD_AUTO || m == DRIFT_METHOD_KS)
        m = nc <= o->auto_max_rows ? DRIFT_METHOD_CHISQUARE : DRIFT_METHOD_JENSENSHANNON;
    decide(out, m, o);
    return 0;
}

void drift_column_result_free(drift_column_result *r)
{
    free(r->edges);
    free(r->reference_counts);
    free(r->current_counts);
    r->edges = NULL;
    r->reference_counts = r->current_counts = NULL;
}

void drift_result_free(drift_result *r)
{
    for (int i = 0; i < r->n_cols; i++)
        drift_column_result_free(&r->cols[i]);
    free(r->cols);
    memset(r, 0, sizeof *r);
}

int drift_compare(const drift_set *ref, const drift_set *cur, const drift_options *o,
                  drift_result *out, const char **bad_column)
{
    memset(out, 0, sizeof *out);
    out->drift_share = o->drift_share;
    if (bad_column) *bad_column = NULL;
    out->cols = calloc((size_t)(ref->n_cols > 0 ? ref->n_cols : 1), sizeof *out->cols);
    if (!out->cols) return -1;
    for (int i = 0; i < ref->n_cols; i++) {
        const drift_column *rc = &ref->cols[i];
        int k = drift_set_find(cur, rc->name);
        const drift_column *cc = k >= 0 ? &cur->cols[k] : NULL;
        int rcode = -1;
        if (cc && cc->type == rc->type) {
            rcode = rc->type == DRIFT_NUMERIC
                        ? drift_compare_numeric(rc->num, cc->num, o, &out->cols[i])
                        : drift_compare_categorical(&rc->cat, &cc->cat, o, &out->cols[i]);
        }
        if (rcode != 0 || cur->n_cols != ref->n_cols) {
            if (bad_column) *bad_column = rc->name;
            out->n_cols = i + (rcode == 0);
            drift_result_free(out);
            return -1;
        }
        drift_column_result *r = &out->cols[i];
        r->name = rc->name;
        if (rc->type == DRIFT_CATEGORICAL) r->categories = (const char *const *)rc->categories;
        out->n_cols = i + 1;
        out->drifted_columns += r->drifted;
        if (r->rows_reference > out->rows_reference) out->rows_reference = r->rows_reference;
        if (r->rows_current > out->rows_current) out->rows_current = r->rows_current;
    }
    /* Evidently: dataset drift when the share of drifted columns >= drift_share */
    out->dataset_drift =
        out->n_cols > 0 && (double)out->drifted_columns >= o->drift_share * (double)out->n_cols;
    return 0;
}
