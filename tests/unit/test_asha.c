/* test_asha.c — the ASHA rules: Ray Tune's AsyncHyperBandSuite scenarios
 * (python/ray/tune/tests/test_trial_scheduler.py) restated in C, numpy's
 * nanpercentile values, Ray's rung count, and the promotion rule of the
 * ASHA paper.
 *
 * Ray's scenarios report result(t, rew) with training_iteration = t; its
 * basicSetup feeds trial 1 iterations 0..9 with reward 100*i and trial 2
 * iterations 0..4 with reward 450, expecting CONTINUE throughout. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "core/status.h"
#include "sweep/asha.h"

static asha_decision result(asha_bracket *b, int64_t trial, double t, double rew)
{
    asha_decision d = ASHA_CONTINUE;
    CHECK_EQ_INT(asha_on_result(b, trial, t, rew, &d), HPCML_OK);
    return d;
}

static void complete(asha_bracket *b, int64_t trial, double t, double rew)
{
    CHECK_EQ_INT(asha_on_complete(b, trial, t, rew), HPCML_OK);
}

/* basicSetup: t1 = trial 1, t2 = trial 2. */
static void basic_setup(asha_bracket *b)
{
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(result(b, 1, i, i * 100.0), ASHA_CONTINUE);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(result(b, 2, i, 450.0), ASHA_CONTINUE);
}

/* nanSetup: t1 reports 450 throughout, t2 NaN throughout; nothing stops. */
static void nan_setup(asha_bracket *b)
{
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(result(b, 1, i, 450.0), ASHA_CONTINUE);
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(result(b, 2, i, NAN), ASHA_CONTINUE);
}

static void test_rung_count(void)
{
    /* MAX_RUNGS = int(log(max_t / min_t) / log(rf) - s + 1) */
    CHECK_EQ_INT(asha_rung_count(1, 10, 4, 0), 2);    /* 1, 4 */
    CHECK_EQ_INT(asha_rung_count(1, 10, 2, 0), 4);    /* 1, 2, 4, 8 */
    CHECK_EQ_INT(asha_rung_count(2.5, 100, 3, 0), 4); /* 2.5, 7.5, 22.5, 67.5 */
    CHECK_EQ_INT(asha_rung_count(1, 100, 4, 0), 4);   /* 1, 4, 16, 64 */
    CHECK_EQ_INT(asha_rung_count(1, 20, 4, 0), 3);    /* 1, 4, 16 */
    CHECK_EQ_INT(asha_rung_count(1, 16, 4, 0), 3);    /* log(16)/log(4) = 2 exactly */
    CHECK_EQ_INT(asha_rung_count(1, 10, 2, 1), 3);    /* bracket s = 1 */
    /* Floating point as in Ray, with the C library's log: log(1000) / log(10) =
     * 2.9999999999999996, so 3 rungs (1, 10, 100) where exact arithmetic gives 4.
     * (numpy's AVX-512 log can differ by an ulp here; only a top milestone equal
     * to max_t is affected, and it never decides anything: docs/sweep.md.) */
    CHECK_EQ_INT(asha_rung_count(1, 1000, 10, 0), 3);
    CHECK_EQ_INT(asha_rung_count(1, 216, 6, 0), 4); /* 3.0000000000000004 */
    asha_bracket b;
    CHECK_EQ_INT(asha_init(&b, 1, 10, 2, 1), HPCML_OK);
    CHECK_EQ_INT(b.n_rungs, 4);
    CHECK_NEAR(b.rungs[0].milestone, 8, 0); /* descending, as Ray's _rungs */
    CHECK_NEAR(b.rungs[3].milestone, 1, 0);
    asha_free(&b);
    CHECK_EQ_INT(asha_init(&b, 5, 4, 2, 1), HPCML_EUSAGE); /* grace_period > max_t */
    CHECK_EQ_INT(asha_init(&b, 1, 4, 1, 1), HPCML_EUSAGE); /* rf must be > 1 */
}

static void test_nanpercentile(void)
{
    double s[8];
    /* values from numpy 1.24: np.nanpercentile(v, q) */
    double a[] = {100, 450};
    CHECK_NEAR(asha_nanpercentile(a, 2, 50, s), 275, 0);
    double b3[] = {2, 4, 1};
    CHECK_NEAR(asha_nanpercentile(b3, 3, 50, s), 2, 0);
    double c[] = {0.1, 0.7, 0.3};
    CHECK(asha_nanpercentile(c, 3, (1 - 1 / 3.0) * 100, s) == 0.43333333333333335);
    double d[] = {300, 450};
    CHECK_NEAR(asha_nanpercentile(d, 2, (1 - 1 / 3.0) * 100, s), 400, 1e-12);
    double e[] = {NAN, 450, NAN};
    CHECK_NEAR(asha_nanpercentile(e, 3, 50, s), 450, 0);
    double f[] = {NAN, NAN};
    CHECK(isnan(asha_nanpercentile(f, 2, 75, s)));
    double one[] = {7};
    CHECK_NEAR(asha_nanpercentile(one, 1, 75, s), 7, 0);
    /* numpy's lerp with infinities gives NaN: np.nanpercentile([1, inf], 75) */
    double g[] = {1, INFINITY};
    CHECK(isnan(asha_nanpercentile(g, 2, 75, s)));
    double h[] = {INFINITY};
    CHECK(isnan(asha_nanpercentile(h, 1, 75, s)));
    double k[] = {5, 1, 4, 2, 3};
    CHECK_NEAR(asha_nanpercentile(k, 5, 75, s), 4, 0);
    CHECK_NEAR(asha_nanpercentile(k, 5, 10, s), 1.4, 1e-15);
}

/* _Bracket docstring: _Bracket(1, 10, 2, 0): trial1 (1, 2) and trial2 (1, 4)
 * continue, the cutoff of the lowest rung is 3.0, trial3 (1, 1) stops, and
 * then the cutoff is 2.0. */
static void test_bracket_docstring(void)
{
    asha_bracket b;
    CHECK_EQ_INT(asha_init(&b, 1, 10, 2, 1), HPCML_OK);
    CHECK_EQ_INT(result(&b, 1, 1, 2), ASHA_CONTINUE);
    CHECK_EQ_INT(result(&b, 2, 1, 4), ASHA_CONTINUE);
    double cut = 0;
    CHECK(asha_cutoff(&b, b.n_rungs - 1, &cut) == 1 && cut == 3.0);
    CHECK_EQ_INT(result(&b, 3, 1, 1), ASHA_STOP);
    CHECK(asha_cutoff(&b, b.n_rungs - 1, &cut) == 1 && cut == 2.0);
    CHECK_EQ_INT(asha_cutoff(&b, 0, &cut), 0); /* empty rung: no cutoff */
    asha_free(&b);
}

/* testAsyncHBOnComplete: max_t 10, defaults grace 1, rf 4. */
static void test_on_complete(void)
{
    asha_bracket b;
    CHECK_EQ_INT(asha_init(&b, 1, 10, 4, 1), HPCML_OK);
    basic_setup(&b);
    complete(&b, 3, 10, 1000);
    CHECK_EQ_INT(result(&b, 2, 101, 0), ASHA_STOP);
    /* on_complete recorded t3 at the highest rung (4) it had not reached */
    CHECK_NEAR(asha_trial_rung(&b, 3), 4, 0);
    CHECK_EQ_INT(b.rungs[0].n, 3);
    asha_free(&b);
}

/* testAsyncHBGracePeriod: grace 2.5, rf 3, max_t 100 (default). */
static void test_grace_period(void)
{
    asha_bracket b;
    CHECK_EQ_INT(asha_init(&b, 2.5, 100, 3, 1), HPCML_OK);
    basic_setup(&b);
    complete(&b, 1, 10, 1000);
    complete(&b, 2, 10, 1000);
    CHECK_EQ_INT(result(&b, 3, 1, 10), ASHA_CONTINUE);
    CHECK_EQ_INT(result(&b, 3, 2, 10), ASHA_CONTINUE);
    CHECK_EQ_INT(result(&b, 3, 3, 10), ASHA_STOP);
    asha_free(&b);
}

/* testAsyncHBAllCompletes: every trial reporting at max_t stops. */
static void test_all_completes(void)
{
    asha_bracket b;
    CHECK_EQ_INT(asha_init(&b, 1, 10, 4, 1), HPCML_OK);
    for (int t = 0; t < 10; t++)
        CHECK_EQ_INT(result(&b, t, 10, -2), ASHA_STOP);
    for (int r = 0; r < b.n_rungs; r++)
        CHECK_EQ_INT(b.rungs[r].n, 0); /* nothing recorded */
    asha_free(&b);
}

/* testAsyncHBUsesPercentile: grace 1, max_t 10, rf 2. */
static void test_uses_percentile(void)
{
    asha_bracket b;
    CHECK_EQ_INT(asha_init(&b, 1, 10, 2, 1), HPCML_OK);
    basic_setup(&b);
    complete(&b, 1, 10, 1000);
    complete(&b, 2, 10, 1000);
    CHECK_EQ_INT(result(&b, 3, 1, 260), ASHA_STOP); /* median of {100, 450} = 275 */
    CHECK_EQ_INT(result(&b, 3, 2, 260), ASHA_STOP); /* median of {200, 450} = 325 */
    asha_free(&b);
}

/* testAsyncHBNanPercentile: as above with NaN rewards on trial 2. */
static void test_nan_percentile(void)
{
    asha_bracket b;
    CHECK_EQ_INT(asha_init(&b, 1, 10, 2, 1), HPCML_OK);
    nan_setup(&b);
    complete(&b, 1, 10, 450);
    complete(&b, 2, 10, NAN);
    CHECK_EQ_INT(result(&b, 3, 1, 260), ASHA_STOP);
    CHECK_EQ_INT(result(&b, 3, 2, 260), ASHA_STOP);
    /* A NaN result never stops, even against a full rung. */
    CHECK_EQ_INT(result(&b, 4, 1, NAN), ASHA_CONTINUE);
    asha_free(&b);
}

/* testAsyncHBSaveRestore (the decisions; saving is the journal's job). */
static void test_save_restore_decisions(void)
{
    asha_bracket b;
    CHECK_EQ_INT(asha_init(&b, 1, 10, 2, 1), HPCML_OK);
    for (int t = 0; t < 5; t++)
        CHECK_EQ_INT(result(&b, t, 1, 10), ASHA_CONTINUE);
    CHECK_EQ_INT(result(&b, 5, 1, 5), ASHA_STOP);
    CHECK_EQ_INT(result(&b, 6, 1, 4), ASHA_STOP);
    CHECK_EQ_INT(result(&b, 7, 1, 2), ASHA_STOP);
    asha_free(&b);
}

/* testAlternateMetrics / testAlternateMetricsMin: mode min on -reward
 * decides as mode max on reward (max_t 100 by default, grace 1, rf 4). */
static void alternate(int mode_max)
{
    double sign = mode_max ? 1 : -1;
    asha_bracket b;
    CHECK_EQ_INT(asha_init(&b, 1, 100, 4, mode_max), HPCML_OK);
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(result(&b, 1, i, sign * i * 100), ASHA_CONTINUE);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(result(&b, 2, i, sign * 450), ASHA_CONTINUE);
    complete(&b, 1, 10, sign * 1000);
    CHECK_EQ_INT(result(&b, 2, 5, sign * 450), ASHA_CONTINUE);
    CHECK_EQ_INT(result(&b, 2, 6, sign * 0), ASHA_CONTINUE);
    /* a third trial worse at rung 1 than both stops, in either mode */
    CHECK_EQ_INT(result(&b, 3, 1, sign * 50), ASHA_STOP);
    asha_free(&b);
}

static void test_alternate_metrics(void)
{
    alternate(1);
    alternate(0);
}

/* Edge rules of _Bracket.on_result. */
static void test_edges(void)
{
    asha_bracket b;
    CHECK_EQ_INT(asha_init(&b, 1, 10, 2, 1), HPCML_OK);
    /* The first result at a rung records and continues. */
    CHECK_EQ_INT(result(&b, 1, 1, 0.5), ASHA_CONTINUE);
    /* Equal to the cutoff is not worse. */
    CHECK_EQ_INT(result(&b, 2, 1, 0.5), ASHA_CONTINUE);
    /* A stopped trial's value is recorded too (it raises the cutoff). */
    CHECK_EQ_INT(result(&b, 3, 1, 0.1), ASHA_STOP);
    CHECK_EQ_INT(b.rungs[b.n_rungs - 1].n, 3);
    /* A repeated iteration at a recorded rung changes nothing. */
    CHECK_EQ_INT(result(&b, 3, 1, 0.0), ASHA_CONTINUE);
    CHECK_EQ_INT(b.rungs[b.n_rungs - 1].n, 3);
    /* A jump past several milestones records at the highest one only. */
    CHECK_EQ_INT(result(&b, 4, 5, 0.9), ASHA_CONTINUE);
    CHECK_NEAR(asha_trial_rung(&b, 4), 4, 0);
    CHECK_EQ_INT(b.rungs[b.n_rungs - 1].n, 3);
    /* ... and a later result fills the next lower rung it skipped (2, empty:
     * continue), as Ray's loop over descending milestones does. */
    CHECK_EQ_INT(result(&b, 4, 6, 0.0), ASHA_CONTINUE);
    CHECK_EQ_INT(b.rungs[b.n_rungs - 2].n, 1);
    CHECK_EQ_INT(b.rungs[b.n_rungs - 1].n, 3);
    /* Infinities: inf is not below the cutoff 0; against {0, inf} numpy's
     * interpolation gives NaN, so even -inf continues. */
    CHECK_EQ_INT(result(&b, 5, 2, INFINITY), ASHA_CONTINUE);
    CHECK_EQ_INT(result(&b, 6, 2, -INFINITY), ASHA_CONTINUE);
    asha_free(&b);
    /* many trials: the slot table grows */
    CHECK_EQ_INT(asha_init(&b, 1, 100, 3, 1), HPCML_OK);
    int stops = 0;
    for (int t = 0; t < 5000; t++)
        stops += result(&b, t, 1, (double)((t * 7919) % 1000)) == ASHA_STOP;
    CHECK_EQ_INT(stops, 3339); /* Ray's _Bracket in Python on the same sequence */
    CHECK_EQ_INT(b.rungs[b.n_rungs - 1].n, 5000);
    asha_free(&b);
}

/* Promotion rule: Li et al. 2020, Algorithm 2. */
static void test_promotion(void)
{
    asha_promo p;
    CHECK_EQ_INT(asha_promo_init(&p, 1, 20, 4, 1), HPCML_OK);
    CHECK_EQ_INT(p.n_rungs, 4); /* 1, 4, 16 and max_t 20 */
    CHECK_NEAR(p.rungs[0].milestone, 1, 0);
    CHECK_NEAR(p.rungs[3].milestone, 20, 0);
    CHECK_EQ_INT(asha_promo_rung_of(&p, 4), 1);
    CHECK_EQ_INT(asha_promo_rung_of(&p, 5), -1);
    int found = 1, to = -1;
    int64_t trial = -1;
    CHECK_EQ_INT(asha_promo_next(&p, &found, &trial, &to), HPCML_OK);
    CHECK_EQ_INT(found, 0); /* nothing to promote: start a new trial */
    /* three trials at rung 0: floor(3/4) = 0 promotable */
    asha_promo_record(&p, 0, 10, 0.5);
    asha_promo_record(&p, 0, 11, 0.9);
    asha_promo_record(&p, 0, 12, 0.7);
    asha_promo_next(&p, &found, &trial, &to);
    CHECK_EQ_INT(found, 0);
    /* the fourth makes the best one (trial 11) promotable to rung 1 */
    asha_promo_record(&p, 0, 13, NAN);
    asha_promo_next(&p, &found, &trial, &to);
    CHECK(found && trial == 11 && to == 1);
    asha_promo_mark_promoted(&p, 0, 11);
    asha_promo_next(&p, &found, &trial, &to);
    CHECK_EQ_INT(found, 0); /* the top 1/4 is promoted already */
    for (int t = 14; t < 18; t++)
        asha_promo_record(&p, 0, t, 0.1 * (t - 13)); /* 0.1..0.4 */
    asha_promo_next(&p, &found, &trial, &to);
    CHECK(found && trial == 12 && to == 1); /* top 2 of 8: 11 (done) and 12 */
    /* higher rungs go first */
    asha_promo_mark_promoted(&p, 0, 12);
    asha_promo_record(&p, 1, 11, 0.95);
    asha_promo_record(&p, 1, 12, 0.80);
    asha_promo_record(&p, 1, 20, 0.85);
    asha_promo_record(&p, 1, 21, 0.99);
    asha_promo_next(&p, &found, &trial, &to);
    CHECK(found && trial == 21 && to == 2);
    /* mode min ranks the smallest first */
    asha_promo_free(&p);
    CHECK_EQ_INT(asha_promo_init(&p, 1, 16, 2, 0), HPCML_OK);
    CHECK_EQ_INT(p.n_rungs, 5); /* 1, 2, 4, 8, 16 = max_t */
    asha_promo_record(&p, 0, 1, 3.0);
    asha_promo_record(&p, 0, 2, 1.0);
    asha_promo_next(&p, &found, &trial, &to);
    CHECK(found && trial == 2 && to == 1);
    asha_promo_free(&p);
    /* rungs that fall on the same whole epoch are refused */
    CHECK_EQ_INT(asha_promo_init(&p, 1, 3, 1.1, 1), HPCML_EUSAGE);
}

int main(void)
{
    test_rung_count();
    test_nanpercentile();
    test_bracket_docstring();
    test_on_complete();
    test_grace_period();
    test_all_completes();
    test_uses_percentile();
    test_nan_percentile();
    test_save_restore_decisions();
    test_alternate_metrics();
    test_edges();
    test_promotion();
    CHECK_DONE();
}
