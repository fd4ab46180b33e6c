/* report_page.h — the HTML of report.html, section by section, from inputs
 * already read (JSON objects, replayed sweep state, precomputed curves).
 *
 * Pure: builds text in an svg_buf and touches no file; report_inputs.c reads
 * the files. Every section is drawn when its input is there, and otherwise
 * says why not on the page (missing: which file; corrupt: the reader's
 * message naming the file), so one bad input never blanks the report. */
#ifndef HPCML_REPORT_PAGE_H
#define HPCML_REPORT_PAGE_H

#include <jansson.h>
#include <stddef.h>

#include "core/svg.h"
#include "nn/metrics.h"
#include "sweep/journal.h"

/* Where an input stands: its path and, when it could not be used, why. */
typedef enum { INPUT_OK = 0, INPUT_MISSING, INPUT_CORRUPT } input_state;

typedef struct {
    const char *path;
    input_state state;
    char problem[512]; /* for INPUT_CORRUPT: the reader's message */
} report_input;

/* Page frame: <html>, the CSS, the header with the navigation. */
void report_page_begin(svg_buf *b, const char *title, const char *config_path);
void report_page_end(svg_buf *b);

/* data: quality.json of hpcml-etl. */
void report_section_data(svg_buf *b, const report_input *in, json_t *quality);

/* sweep: the journal's replayed state (NULL when missing) and results.csv's
 * rows as JSON objects (column -> text, NULL when missing). */
void report_section_sweep(svg_buf *b, const report_input *journal, const sweep_state *st,
                          const report_input *results, json_t *rows);

/* training: metrics.jsonl's records (a JSON array) and evaluation.json. */
void report_section_training(svg_buf *b, const report_input *metrics, json_t *records,
                             const report_input *evaluation, json_t *eval);

/* evaluation: the merged score runs of the predictions file (descending
 * scores, metrics.h) and its decision threshold. */
void report_section_evaluation(svg_buf *b, const report_input *predictions, const metrics_run *runs,
                               size_t n_runs, double threshold, const char *split);

/* performance: one profile.json per program (NULL entries: missing), and
 * metrics.jsonl's records for samples/s per epoch. */
typedef struct {
    const char *program; /* "hpcml-etl" */
    report_input in;
    json_t *profile;
} report_profile;
void report_section_performance(svg_buf *b, const report_profile *profiles, int n, json_t *records);

/* drift: drift.json (format hpcml-drift version 1). */
void report_section_drift(svg_buf *b, const report_input *in, json_t *drift);

#endif
