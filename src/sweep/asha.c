/* asha.c — Ray Tune's AsyncHyperBand rule and the ASHA paper's promotion
 * rule, without I/O. See asha.h for the semantics; the comments here say
 * where the arithmetic follows Ray or numpy to the bit. */
#include "sweep/asha.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

int asha_rung_count(double grace_period, double max_t, double rf, int s)
{
    /* int(np.log(max_t / min_t) / np.log(rf) - s + 1): truncation toward 0. */
    double x = log(max_t / grace_period) / log(rf) - (double)s + 1.0;
    return (int)x;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy's _lerp: a + (b - a) * t, computed from b's side when t >= 0.5. */
static double numpy_lerp(double a, double b, double t)
{
    double diff = b - a;
    if (t >= 0.5) return b - diff * (1.0 - t);
    return a + diff * t;
}

double asha_nanpercentile(const double *v, int64_t n, double percent, double *scratch)
{
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (!isnan(v[i])) scratch[m++] = v[i];
    if (m == 0) return NAN;
    qsort(scratch, (size_t)m, sizeof *scratch, cmp_double);
    double q = percent / 100.0;        /* np.true_divide(q, 100) */
    double vidx = (double)(m - 1) * q; /* method "linear": (n - 1) * q */
    double prev_d;
    int64_t prev, next;
    if (vidx >= (double)(m - 1)) {
        prev = next = m - 1; /* numpy indexes -1 ... */
        prev_d = -1.0;       /* ... and gamma = vidx - (-1) */
    } else {
        prev_d = floor(vidx);
        prev = (int64_t)prev_d;
        next = prev + 1;
    }
    return numpy_lerp(scratch[prev], scratch[next], vidx - prev_d);
}

/* ---- trial -> rung mask (open addressing, linear probing) ------------------ */

static uint64_t slot_hash(int64_t trial)
{
    uint64_t x = (uint64_t)trial + 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static asha_slot *slot_find(const asha_bracket *b, int64_t trial)
{
    if (!b->n_slots) return NULL;
    uint64_t mask = (uint64_t)b->n_slots - 1;
    for (uint64_t i = slot_hash(trial) & mask;; i = (i + 1) & mask) {
        if (b->slots[i].trial == trial) return &b->slots[i];
        if (b->slots[i].trial == -1) return NULL;
    }
}

static int slot_grow(asha_bracket *b)
{
    int64_t n = b->n_slots ? 2 * b->n_slots : 64;
    asha_slot *s = malloc((size_t)n * sizeof *s);
    HPCML_ALLOC_CHECK(s, (size_t)n * sizeof *s);
    for (int64_t i = 0; i < n; i++)
        s[i] = (asha_slot){-1, 0};
    for (int64_t i = 0; i < b->n_slots; i++) {
        if (b->slots[i].trial == -1) continue;
        uint64_t j = slot_hash(b->slots[i].trial) & (uint64_t)(n - 1);
        while (s[j].trial != -1)
            j = (j + 1) & (uint64_t)(n - 1);
        s[j] = b->slots[i];
    }
    free(b->slots);
    b->slots = s;
    b->n_slots = n;
    return HPCML_OK;
}

static int slot_get(asha_bracket *b, int64_t trial, asha_slot **out)
{
    asha_slot *s = slot_find(b, trial);
    if (!s) {
        if (2 * (b->used_slots + 1) > b->n_slots) HPCML_TRY(slot_grow(b));
        uint64_t mask = (uint64_t)b->n_slots - 1, i = slot_hash(trial) & mask;
        while (b->slots[i].trial != -1)
            i = (i + 1) & mask;
        s = &b->slots[i];
        *s = (asha_slot){trial, 0};
        b->used_slots++;
    }
    *out = s;
    return HPCML_OK;
}

/* ---- AsyncHyperBand ------------------------------------------------------- */

int asha_init(asha_bracket *b, double grace_period, double max_t, double rf, int mode_max)
{
    memset(b, 0, sizeof *b);
    HPCML_CHECK(grace_period > 0, HPCML_EUSAGE, "sweep.grace_period must be positive");
    HPCML_CHECK(max_t >= grace_period, HPCML_EUSAGE,
                "sweep.grace_period (%g) must be <= sweep.max_t (%g)", grace_period, max_t);
    HPCML_CHECK(rf > 1, HPCML_EUSAGE, "sweep.reduction_factor must be > 1 (got %g)", rf);
    b->max_t = max_t;
    b->rf = rf;
    b->metric_op = mode_max ? 1.0 : -1.0;
    int n = asha_rung_count(grace_period, max_t, rf, 0);
    if (n < 0) n = 0;
    HPCML_CHECK(n <= 64, HPCML_EUSAGE, "too many rungs (%d): raise sweep.grace_period", n);
    b->n_rungs = n;
    if (n) {
        b->rungs = calloc((size_t)n, sizeof *b->rungs);
        HPCML_ALLOC_CHECK(b->rungs, (size_t)n * sizeof *b->rungs);
    }
    /* [(min_t * rf ** (k + s), {}) for k in reversed(range(MAX_RUNGS))] */
    for (int i = 0; i < n; i++)
        b->rungs[i].milestone = grace_period * pow(rf, (double)(n - 1 - i));
    return HPCML_OK;
}

void asha_free(asha_bracket *b)
{
    for (int i = 0; i < b->n_rungs; i++) {
        free(b->rungs[i].trial);
        free(b->rungs[i].value);
    }
    free(b->rungs);
    free(b->slots);
    free(b->scratch);
    memset(b, 0, sizeof *b);
}

int asha_cutoff(asha_bracket *b, int r, double *cutoff)
{
    asha_rung *g = &b->rungs[r];
    if (g->n == 0) return 0;
    if (b->scratch_cap < g->n) {
        int64_t cap = g->n * 2;
        double *s = realloc(b->scratch, (size_t)cap * sizeof *s);
        if (!s) {
            *cutoff = NAN; /* no memory: behave like an all-NaN rung (continue) */
            return 1;
        }
        b->scratch = s;
        b->scratch_cap = cap;
    }
    *cutoff = asha_nanpercentile(g->value, g->n, (1.0 - 1.0 / b->rf) * 100.0, b->scratch);
    return 1;
}

/* Both rung kinds keep parallel (trial, value) arrays: grow them to cap. */
static int grow_trial_values(int64_t **trial, double **value, int64_t cap)
{
    int64_t *t = realloc(*trial, (size_t)cap * sizeof *t);
    HPCML_ALLOC_CHECK(t, (size_t)cap * sizeof *t);
    *trial = t;
    double *v = realloc(*value, (size_t)cap * sizeof *v);
    HPCML_ALLOC_CHECK(v, (size_t)cap * sizeof *v);
    *value = v;
    return HPCML_OK;
}

static int rung_push(asha_rung *g, int64_t trial, double value)
{
    if (g->n == g->cap) {
        int64_t cap = g->cap ? 2 * g->cap : 16;
        HPCML_TRY(grow_trial_values(&g->trial, &g->value, cap));
        g->cap = cap;
    }
    g->trial[g->n] = trial;
    g->value[g->n] = value;
    g->n++;
    return HPCML_OK;
}

/* _Bracket.on_result with cur_rew = metric_op * value already applied. */
static int bracket_on_result(asha_bracket *b, int64_t trial, double iter, double rew,
                             asha_decision *decision)
{
    *decision = ASHA_CONTINUE;
    asha_slot *slot;
    HPCML_TRY(slot_get(b, trial, &slot));
    for (int r = 0; r < b->n_rungs; r++) {
        if (iter < b->rungs[r].milestone || (slot->rung_mask >> r & 1u)) continue;
        double cutoff;
        /* "cur_rew < cutoff": false whenever either side is NaN. */
        if (asha_cutoff(b, r, &cutoff) && rew < cutoff) *decision = ASHA_STOP;
        HPCML_TRY(rung_push(&b->rungs[r], trial, rew));
        slot->rung_mask |= (uint64_t)1 << r;
        break;
    }
    return HPCML_OK;
}

int asha_on_result(asha_bracket *b, int64_t trial, double iter, double value,
                   asha_decision *decision)
{
    if (iter >= b->max_t) { /* stop_last_trials: stop, record nothing */
        *decision = ASHA_STOP;
        return HPCML_OK;
    }
    return bracket_on_result(b, trial, iter, b->metric_op * value, decision);
}

int asha_on_complete(asha_bracket *b, int64_t trial, double iter, double value)
{
    asha_decision ignored;
    return bracket_on_result(b, trial, iter, b->metric_op * value, &ignored);
}

double asha_trial_rung(const asha_bracket *b, int64_t trial)
{
    const asha_slot *s = slot_find(b, trial);
    if (!s) return 0;
    for (int r = 0; r < b->n_rungs; r++)
        if (s->rung_mask >> r & 1u) return b->rungs[r].milestone;
    return 0;
}

/* ---- promotion-based ASHA ------------------------------------------------- */

int asha_promo_init(asha_promo *p, double grace_period, double max_t, double rf, int mode_max)
{
    memset(p, 0, sizeof *p);
    asha_bracket b;
    HPCML_TRY(asha_init(&b, grace_period, max_t, rf, mode_max));
    int n = b.n_rungs;
    int add_top = n == 0 || b.rungs[0].milestone < max_t;
    p->n_rungs = n + add_top;
    p->rf = rf;
    p->metric_op = b.metric_op;
    p->rungs = calloc((size_t)p->n_rungs, sizeof *p->rungs);
    if (!p->rungs) {
        asha_free(&b);
        return HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    }
    for (int k = 0; k < n; k++)
        p->rungs[k].milestone = b.rungs[n - 1 - k].milestone;
    if (add_top) p->rungs[n].milestone = max_t;
    asha_free(&b);
    /* A trial reports whole epochs, so it enters rung k after ceil(milestone). */
    for (int k = 1; k < p->n_rungs; k++)
        if (ceil(p->rungs[k].milestone) <= ceil(p->rungs[k - 1].milestone)) {
            double lo = p->rungs[k - 1].milestone, hi = p->rungs[k].milestone;
            asha_promo_free(p);
            return HPCML_FAIL(HPCML_EUSAGE,
                              "sweep.reduction_factor %g is too small for whole-epoch rungs "
                              "(milestones %g and %g fall on the same epoch)",
                              rf, lo, hi);
        }
    return HPCML_OK;
}

void asha_promo_free(asha_promo *p)
{
    for (int k = 0; k < p->n_rungs; k++) {
        free(p->rungs[k].trial);
        free(p->rungs[k].value);
        free(p->rungs[k].promoted);
    }
    free(p->rungs);
    memset(p, 0, sizeof *p);
}

int asha_promo_rung_of(const asha_promo *p, double iter)
{
    for (int k = 0; k < p->n_rungs; k++)
        if (ceil(p->rungs[k].milestone) == iter) return k;
    return -1;
}

static int64_t promo_find(const asha_promo_rung *g, int64_t trial)
{
    for (int64_t i = 0; i < g->n; i++)
        if (g->trial[i] == trial) return i;
    return -1;
}

int asha_promo_record(asha_promo *p, int r, int64_t trial, double value)
{
    HPCML_CHECK(r >= 0 && r < p->n_rungs, HPCML_EINTERNAL, "rung %d out of range", r);
    asha_promo_rung *g = &p->rungs[r];
    if (promo_find(g, trial) >= 0) return HPCML_OK;
    if (g->n == g->cap) {
        int64_t cap = g->cap ? 2 * g->cap : 16;
        HPCML_TRY(grow_trial_values(&g->trial, &g->value, cap));
        unsigned char *m = realloc(g->promoted, (size_t)cap);
        HPCML_ALLOC_CHECK(m, (size_t)cap);
        g->promoted = m;
        g->cap = cap;
    }
    g->trial[g->n] = trial;
    g->value[g->n] = p->metric_op * value;
    g->promoted[g->n] = 0;
    g->n++;
    return HPCML_OK;
}

int asha_promo_mark_promoted(asha_promo *p, int r, int64_t trial)
{
    HPCML_CHECK(r >= 0 && r < p->n_rungs, HPCML_EINTERNAL, "rung %d out of range", r);
    int64_t i = promo_find(&p->rungs[r], trial);
    HPCML_CHECK(i >= 0, HPCML_EINTERNAL, "trial %lld promoted from rung %d it never reached",
                (long long)trial, r);
    p->rungs[r].promoted[i] = 1;
    return HPCML_OK;
}

/* Rank order: better value first (NaN last), then arrival. */
typedef struct {
    double v;
    int64_t i;
} promo_key;

static int cmp_promo(const void *a, const void *b)
{
    const promo_key *x = a, *y = b;
    int xn = isnan(x->v), yn = isnan(y->v);
    if (xn != yn) return xn - yn;
    if (!xn && x->v != y->v) return x->v > y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

int asha_promo_next(const asha_promo *p, int *found, int64_t *trial, int *to_rung)
{
    *found = 0;
    for (int k = p->n_rungs - 2; k >= 0; k--) {
        const asha_promo_rung *g = &p->rungs[k];
        int64_t top = (int64_t)floor((double)g->n / p->rf);
        if (top <= 0) continue;
        promo_key *keys = malloc((size_t)g->n * sizeof *keys);
        HPCML_ALLOC_CHECK(keys, (size_t)g->n * sizeof *keys);
        for (int64_t i = 0; i < g->n; i++)
            keys[i] = (promo_key){g->value[i], i};
        qsort(keys, (size_t)g->n, sizeof *keys, cmp_promo);
        for (int64_t j = 0; j < top && !*found; j++) {
            if (g->promoted[keys[j].i]) continue;
            *found = 1;
            *trial = g->trial[keys[j].i];
            *to_rung = k + 1;
        }
        free(keys);
        if (*found) return HPCML_OK;
    }
    return HPCML_OK;
}
