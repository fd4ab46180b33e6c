/* search.h — which values trial i gets: the searcher between the search
 * space (space.h), the journal's replayed state (journal.h) and TPE (tpe.h).
 * Pure: no I/O, no MPI; the journal calls it under its lock, with the state
 * it has just replayed, when a trial begins.
 *
 *   random  trial i's values are space_value(seed, i, d): a function of
 *           (seed, i) alone, as before.
 *   tpe     Optuna 3.1's TPE over the trials the journal knows, oldest (by
 *           trial id) first: completed trials with their last value,
 *           stopped (ASHA) and paused trials as Optuna's pruned trials (the
 *           epochs of their last result, then its value), running trials as
 *           constant liars; failed and pending ones do not count. Until
 *           tpe_n_startup_trials have completed or stopped, trial i gets the
 *           random searcher's values, so both searchers share their start.
 *           Candidates are drawn from Philox (seed, RNG_STREAM_TPE, i), so
 *           the values are a function of (seed, i, the state read). */
#ifndef HPCML_SWEEP_SEARCH_H
#define HPCML_SWEEP_SEARCH_H

#include <jansson.h>
#include <stdint.h>

#include "core/config.h"
#include "sweep/journal.h"
#include "sweep/space.h"
#include "sweep/tpe.h"

typedef enum { SEARCH_RANDOM = 0, SEARCH_TPE = 1 } search_kind;

typedef struct {
    search_kind kind;
    tpe_options tpe;
    int n_model;        /* dimensions TPE models (all but fixed ones) */
    tpe_param *params;  /* n_model */
    int *dim_of;        /* n_model: the space dimension of each */
    char describe[256]; /* "random" or "tpe(n_startup=10, ...)": header, reports */
} sweep_search;

/* Read sweep.search and the tpe_* keys for space sp (borrowed; must outlive s). */
int search_init(sweep_search *s, const hpcml_config *cfg, const sweep_space *sp);
/* The same with the searcher given instead of sweep.search (an older journal's). */
int search_init_kind(sweep_search *s, const hpcml_config *cfg, const sweep_space *sp,
                     search_kind kind);
void search_free(sweep_search *s);

/* Trial's values (object key -> libconfig text, new reference) given the
 * replayed state st (trial's own config, if any, is ignored). *model: 1 when
 * TPE's model chose them, 0 for random values. NULL on out of memory. */
json_t *search_values(const sweep_search *s, const sweep_space *sp, const sweep_state *st,
                      int64_t trial, int *model);

#endif
