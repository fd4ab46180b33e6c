/* sweep_report.h — what a person reads about a sweep, built from the replayed
 * journal state: the progress table (like Ray Tune's CLIReporter),
 * results.csv, best.cfg and curves.svg in sweep.output_dir. */
#ifndef HPCML_SWEEP_REPORT_H
#define HPCML_SWEEP_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "sweep/journal.h"
#include "sweep/space.h"

/* The best trial as Ray's get_best_trial(scope="last") picks it: the best
 * last reported metric, NaN and infinities skipped. 0 when there is none. */
int sweep_best_trial(const sweep_state *st, int64_t *trial);

/* The status table. */
void sweep_report_table(const sweep_state *st, const sweep_space *sp, FILE *fp);

/* results.csv, best.cfg (when a best trial exists) and curves.svg, each
 * written atomically. base is the sweep's own config: best.cfg is base with
 * the best trial's values and train.epochs = sweep.max_t. */
int sweep_report_write(const sweep_state *st, const sweep_space *sp, const hpcml_config *base,
                       const char *dir);

/* The SVG text of the curves plot (malloc'd), for tests. */
char *sweep_report_svg(const sweep_state *st);

#endif
