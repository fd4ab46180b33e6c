/* search.c — the searcher: random values or TPE over the journal's trials. */
#include "sweep/search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

/* The TPE parameter of a space dimension, on the values the random searcher
 * can produce (so both searchers search the same set). */
static void dim_param(const space_dim *dim, tpe_param *p)
{
    int int_key = dim->key_type == CFG_INT;
    memset(p, 0, sizeof *p);
    switch (dim->dist) {
    case SPACE_UNIFORM:
        if (int_key) { /* llround of a uniform draw */
            *p = (tpe_param){.kind = TPE_DISCRETE,
                             .low = (double)llround(dim->low),
                             .high = (double)llround(dim->high),
                             .q = 1};
        } else {
            *p = (tpe_param){.kind = TPE_CONTINUOUS, .low = dim->low, .high = dim->high};
        }
        break;
    case SPACE_LOGUNIFORM:
        *p = (tpe_param){.kind = TPE_CONTINUOUS, .log = 1, .low = dim->low, .high = dim->high};
        if (int_key) {
            p->is_int = 1;
            p->low = fmax(1.0, (double)llround(dim->low));
            p->high = fmax(p->low, (double)llround(dim->high));
        }
        break;
    case SPACE_QUNIFORM: /* Ray's np.round(uniform(low, high) / q) * q */
        *p = (tpe_param){.kind = TPE_DISCRETE,
                         .low = rint(dim->low / dim->q) * dim->q,
                         .high = rint(dim->high / dim->q) * dim->q,
                         .q = dim->q};
        break;
    case SPACE_RANDINT:
        *p = (tpe_param){.kind = TPE_DISCRETE, .low = dim->low, .high = dim->high - 1, .q = 1};
        break;
    case SPACE_CHOICE: *p = (tpe_param){.kind = TPE_CATEGORICAL, .n_choices = dim->n_values}; break;
    case SPACE_FIXED: break;
    }
}

void search_free(sweep_search *s)
{
    free(s->params);
    free(s->dim_of);
    memset(s, 0, sizeof *s);
}

int search_init(sweep_search *s, const hpcml_config *cfg, const sweep_space *sp)
{
    return search_init_kind(s, cfg, sp,
                            strcmp(cfg_str(cfg, "sweep.search"), "tpe") == 0 ? SEARCH_TPE
                                                                             : SEARCH_RANDOM);
}

int search_init_kind(sweep_search *s, const hpcml_config *cfg, const sweep_space *sp,
                     search_kind kind)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    tpe_options_default(&s->tpe);
    s->tpe.n_startup_trials = (int)cfg_int(cfg, "sweep.tpe_n_startup_trials");
    s->tpe.n_ei_candidates = (int)cfg_int(cfg, "sweep.tpe_n_ei_candidates");
    s->tpe.prior_weight = cfg_float(cfg, "sweep.tpe_prior_weight");
    s->tpe.consider_magic_clip = cfg_bool(cfg, "sweep.tpe_consider_magic_clip");
    s->tpe.consider_endpoints = cfg_bool(cfg, "sweep.tpe_consider_endpoints");
    s->tpe.multivariate = cfg_bool(cfg, "sweep.tpe_multivariate");
    if (s->kind == SEARCH_RANDOM) {
        snprintf(s->describe, sizeof s->describe, "random");
        return HPCML_OK;
    }
    snprintf(s->describe, sizeof s->describe,
             "tpe(n_startup_trials=%d, n_ei_candidates=%d, prior_weight=%.17g, "
             "consider_magic_clip=%s, consider_endpoints=%s, multivariate=%s)",
             s->tpe.n_startup_trials, s->tpe.n_ei_candidates, s->tpe.prior_weight,
             s->tpe.consider_magic_clip ? "true" : "false",
             s->tpe.consider_endpoints ? "true" : "false", s->tpe.multivariate ? "true" : "false");
    s->params = calloc((size_t)sp->n_dims + 1, sizeof *s->params);
    s->dim_of = calloc((size_t)sp->n_dims + 1, sizeof *s->dim_of);
    if (!s->params || !s->dim_of) {
        search_free(s);
        return HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    }
    for (int d = 0; d < sp->n_dims; d++) {
        if (sp->dims[d].dist == SPACE_FIXED) continue;
        dim_param(&sp->dims[d], &s->params[s->n_model]);
        s->dim_of[s->n_model++] = d;
    }
    return HPCML_OK;
}

/* A trial's recorded text of a dimension as TPE's internal value (NaN: none). */
static double internal_value(const space_dim *dim, const char *text)
{
    if (!text) return NAN;
    if (dim->dist == SPACE_CHOICE) {
        for (int i = 0; i < dim->n_values; i++)
            if (!strcmp(dim->values[i], text)) return i;
        return NAN;
    }
    char *end;
    double v = strtod(text, &end);
    return end != text && isfinite(v) ? v : NAN;
}

static void external_text(const space_dim *dim, const tpe_param *p, double v, char *out, size_t n)
{
    if (p->kind == TPE_CATEGORICAL) {
        int i = (int)v;
        snprintf(out, n, "%s", dim->values[i < 0 ? 0 : i >= dim->n_values ? dim->n_values - 1 : i]);
        return;
    }
    if (dim->dist == SPACE_QUNIFORM) v = rint(v / dim->q) * dim->q; /* as the random searcher */
    if (dim->key_type == CFG_INT || dim->dist == SPACE_RANDINT)
        snprintf(out, n, "%lld", (long long)llround(v));
    else
        space_format_float(v, out, n);
}

static json_t *random_values(const sweep_space *sp, int64_t trial)
{
    json_t *o = json_object();
    for (int d = 0; o && d < sp->n_dims; d++) {
        char text[4096];
        if (space_value(sp, trial, d, text, sizeof text) != HPCML_OK ||
            json_object_set_new(o, sp->dims[d].key, json_string(text)) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* The journal's trials as TPE's history (oldest = lowest id first). */
static int history(const sweep_search *s, const sweep_space *sp, const sweep_state *st,
                   int64_t self, tpe_trial *hist, double *xs, int *n_hist)
{
    double sign = st->params.mode_max ? -1.0 : 1.0; /* TPE minimizes */
    int n = 0;
    for (int64_t t = 0; t < st->params.trials; t++) {
        const trial_state *ts = &st->trials[t];
        if (t == self || !ts->config) continue;
        const trial_result *last = ts->n_results ? &ts->results[ts->n_results - 1] : NULL;
        tpe_trial h = {0};
        switch (ts->status) {
        case TRIAL_COMPLETED:
            /* Optuna fails a trial whose objective is NaN: it informs nothing. */
            if (!last || isnan(last->value)) continue;
            h.state = TPE_TRIAL_COMPLETE;
            h.loss = sign * last->value;
            break;
        case TRIAL_STOPPED:
        case TRIAL_PAUSED:
            h.state = TPE_TRIAL_PRUNED;
            if (last) {
                h.step = (double)last->iter;
                h.loss = sign * last->value;
            } else { /* Optuna's pruned trial without intermediate values: (1, 0.0) */
                h.step = -1;
                h.loss = 0;
            }
            break;
        case TRIAL_RUNNING: h.state = TPE_TRIAL_RUNNING; break;
        default: continue; /* pending, failed (a silent one no longer lies) */
        }
        double *x = xs + (size_t)n * (size_t)s->n_model;
        for (int k = 0; k < s->n_model; k++) {
            const space_dim *dim = &sp->dims[s->dim_of[k]];
            x[k] = internal_value(dim, json_string_value(json_object_get(ts->config, dim->key)));
        }
        h.x = x;
        hist[n++] = h;
    }
    *n_hist = n;
    return HPCML_OK;
}

json_t *search_values(const sweep_search *s, const sweep_space *sp, const sweep_state *st,
                      int64_t trial, int *model)
{
    *model = 0;
    if (s->kind == SEARCH_RANDOM || s->n_model == 0 || !st) return random_values(sp, trial);
    int64_t cap = st->params.trials;
    tpe_trial *hist = malloc((size_t)(cap + 1) * sizeof *hist);
    double *xs = malloc((size_t)(cap + 1) * (size_t)s->n_model * sizeof *xs);
    double *x = malloc((size_t)s->n_model * sizeof *x);
    json_t *o = NULL;
    int n_hist = 0, used = 0;
    if (hist && xs && x && history(s, sp, st, trial, hist, xs, &n_hist) == HPCML_OK) {
        rng_seq r;
        rng_seq_init(&r, sp->seed, RNG_STREAM_TPE, (uint64_t)trial);
        if (tpe_suggest(s->params, s->n_model, &s->tpe, hist, n_hist, &r, x, &used) == HPCML_OK) {
            o = random_values(sp, trial); /* fixed dimensions, and the start-up */
            for (int k = 0; o && used && k < s->n_model; k++) {
                const space_dim *dim = &sp->dims[s->dim_of[k]];
                char text[4096];
                external_text(dim, &s->params[k], x[k], text, sizeof text);
                if (json_object_set_new(o, dim->key, json_string(text)) != 0) {
                    json_decref(o);
                    o = NULL;
                }
            }
        }
    }
    free(hist);
    free(xs);
    free(x);
    *model = used;
    return o;
}
