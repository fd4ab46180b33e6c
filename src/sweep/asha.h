/* asha.h — the ASHA scheduling rules as pure functions of their inputs.
 *
 * Two rules, both without I/O, MPI or clocks, so the journal can replay them
 * and the unit tests can check them against Ray Tune's own scenarios:
 *
 *   asha_bracket   Ray Tune's AsyncHyperBandScheduler (one bracket, s = 0,
 *                  stop_last_trials = True). Milestones are
 *                  grace_period * rf^k for k < MAX_RUNGS with
 *                  MAX_RUNGS = int(log(max_t / grace_period) / log(rf) - s + 1)
 *                  counted in floating point as Ray does. A result at or past
 *                  a milestone the trial has not yet been recorded at is
 *                  compared with the values already recorded there: it stops
 *                  when metric_op * value < nanpercentile(recorded,
 *                  (1 - 1/rf) * 100) (numpy's linear interpolation), and is
 *                  recorded either way. A result at iter >= max_t stops
 *                  without being recorded; on_complete records it. NaN never
 *                  stops a trial (every comparison with NaN is false) and is
 *                  ignored by the cutoff.
 *
 *   asha_promo     the promotion rule of the ASHA paper (Li et al., "A System
 *                  for Massively Parallel Hyperparameter Tuning", MLSys 2020,
 *                  Algorithm 2): a free worker promotes the best not yet
 *                  promoted trial from the top 1/rf of the highest rung that
 *                  has one, else starts a new trial at rung 0. For pool mode.
 *
 * Trials are named by integer ids; values are the raw metric (the rules
 * apply mode max/min themselves).
 *
 * For the tests only (no program calls them): asha_trial_rung, asha_promo_rung_of. Exported
 * for the tests; programs reach them only through this room's other functions: asha_cutoff.
 * Tests: test_asha.c.
 */
#ifndef HPCML_SWEEP_ASHA_H
#define HPCML_SWEEP_ASHA_H

#include <stdint.h>

typedef enum { ASHA_CONTINUE = 0, ASHA_STOP = 1 } asha_decision;

/* Ray's MAX_RUNGS for bracket s (may be <= 0: no rungs). */
int asha_rung_count(double grace_period, double max_t, double rf, int s);

/* numpy.nanpercentile(v[0..n), percent) with method "linear", bit for bit
 * (NaNs dropped; NaN when none is left). scratch holds n doubles. */
double asha_nanpercentile(const double *v, int64_t n, double percent, double *scratch);

/* ---- Ray Tune's AsyncHyperBand ------------------------------------------- */

typedef struct {
    double milestone;
    int64_t n, cap;
    int64_t *trial; /* in arrival order */
    double *value;  /* metric_op * metric, as Ray records it; NaN kept */
} asha_rung;

typedef struct {
    int64_t trial;
    uint64_t rung_mask; /* bit r: recorded at rungs[r] */
} asha_slot;

typedef struct {
    double max_t, rf;
    double metric_op; /* +1 for mode max, -1 for mode min */
    int n_rungs;
    asha_rung *rungs; /* descending milestones, as Ray's _Bracket._rungs */
    /* trial -> rungs recorded at (open addressing; trial -1 = empty) */
    asha_slot *slots;
    int64_t n_slots, used_slots;
    double *scratch; /* cutoff workspace */
    int64_t scratch_cap;
} asha_bracket;

/* grace_period > 0, max_t >= grace_period, rf > 1 (HPCML_EUSAGE otherwise). */
int asha_init(asha_bracket *b, double grace_period, double max_t, double rf, int mode_max);
void asha_free(asha_bracket *b);

/* The cutoff of rung r: 1 and *cutoff when the rung has values, else 0
 * (an empty rung never stops anybody). *cutoff is NaN when all are NaN. */
int asha_cutoff(asha_bracket *b, int r, double *cutoff);

/* Ray's on_trial_result: the decision for trial's result (iter epochs done,
 * metric value), recording it in the rung it reaches. Returns a status
 * (only out-of-memory can fail). */
int asha_on_result(asha_bracket *b, int64_t trial, double iter, double value,
                   asha_decision *decision);
/* Ray's on_trial_complete: record the final result (no decision). */
int asha_on_complete(asha_bracket *b, int64_t trial, double iter, double value);

/* The highest milestone the trial is recorded at (0 when none). */
double asha_trial_rung(const asha_bracket *b, int64_t trial);

/* ---- promotion-based ASHA (pool mode) ------------------------------------- */

typedef struct {
    double milestone; /* epochs a trial has when it is in this rung */
    int64_t n, cap;
    int64_t *trial;
    double *value;           /* metric_op * metric; NaN ranks last */
    unsigned char *promoted; /* already promoted to the next rung */
} asha_promo_rung;

typedef struct {
    double rf, metric_op;
    int n_rungs; /* ascending; the last one is max_t */
    asha_promo_rung *rungs;
} asha_promo;

/* Rungs are Ray's milestones, ascending, plus max_t when it is not one. */
int asha_promo_init(asha_promo *p, double grace_period, double max_t, double rf, int mode_max);
void asha_promo_free(asha_promo *p);
/* The rung a trial enters when it has `iter` whole epochs (ceil(milestone)), or -1. */
int asha_promo_rung_of(const asha_promo *p, double iter);
/* Trial reached rung r with metric value (a repeat is ignored). */
int asha_promo_record(asha_promo *p, int r, int64_t trial, double value);
/* Trial was promoted out of rung r. */
int asha_promo_mark_promoted(asha_promo *p, int r, int64_t trial);
/* get_job: *found = 1 with (*trial, *to_rung) to promote, or *found = 0
 * (start a new trial at rung 0). Ties keep arrival order. */
int asha_promo_next(const asha_promo *p, int *found, int64_t *trial, int *to_rung);

#endif
