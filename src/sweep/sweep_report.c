/* sweep_report.c — status table, results.csv, best.cfg and curves.svg. */
#include "sweep/sweep_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/atomic_file.h"
#include "core/status.h"
#include "core/svg.h"

#define MAX_COLS 64

/* Shortest text that reads back to v; "" for "no value". */
static void fmt_num(char *out, size_t n, double v)
{
    if (isnan(v)) {
        snprintf(out, n, "nan");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        if (strtod(out, NULL) == v) return;
    }
}

/* The table shows numbers as tabulate's default "g" does (6 digits); the
 * CSV keeps every digit. */
static void short_text(char *out, size_t n, const char *text)
{
    char *end;
    double v = strtod(text, &end);
    if (*text && *end == '\0' && end != text)
        snprintf(out, n, "%.6g", v);
    else
        snprintf(out, n, "%s", text);
}

static const char *param_text(const trial_state *ts, const char *key)
{
    const char *s = json_string_value(json_object_get(ts->config, key));
    return s ? s : "";
}

/* The searcher as the header records it ("random" for older journals). */
static const char *search_name(const sweep_params *p)
{
    return p->search[0] ? p->search : "random";
}

/* Its short name: "random" or "tpe". */
static void search_short(const sweep_params *p, char *out, size_t n)
{
    const char *s = search_name(p);
    size_t k = strcspn(s, "(");
    snprintf(out, n, "%.*s", (int)k, s);
}

static const trial_result *last_result(const trial_state *ts)
{
    return ts->n_results ? &ts->results[ts->n_results - 1] : NULL;
}

/* Best of the trial's results in the sweep's mode; NaN when none is a number. */
static double best_value(const sweep_state *st, const trial_state *ts)
{
    double best = NAN, op = st->params.mode_max ? 1.0 : -1.0;
    for (int64_t i = 0; i < ts->n_results; i++) {
        double v = ts->results[i].value;
        if (!isnan(v) && (isnan(best) || op * v > op * best)) best = v;
    }
    return best;
}

static double trial_seconds(const trial_state *ts)
{
    return ts->seconds +
           (ts->last_time > ts->attempt_start ? ts->last_time - ts->attempt_start : 0);
}

/* Milestones in ascending order (the promotion rule adds max_t). */
static int milestones(const sweep_state *st, double *m, int cap)
{
    const sweep_params *p = &st->params;
    int n = asha_rung_count(p->grace_period, p->max_t, p->rf, 0);
    if (n < 0) n = 0;
    if (n > cap) n = cap;
    for (int k = 0; k < n; k++)
        m[k] = p->grace_period * pow(p->rf, (double)k);
    if (p->scheduler == SCHED_ASHA_PROMOTION && (n == 0 || m[n - 1] < p->max_t) && n < cap)
        m[n++] = p->max_t;
    return n;
}

/* How many milestones the trial's last result has passed. */
static int rung_reached(const sweep_state *st, const trial_state *ts, double *at)
{
    double m[66];
    int n = milestones(st, m, 66), r = 0;
    const trial_result *last = last_result(ts);
    *at = 0;
    for (int k = 0; k < n && last; k++)
        if ((double)last->iter >= m[k]) {
            r = k + 1;
            *at = m[k];
        }
    return r;
}

int sweep_best_trial(const sweep_state *st, int64_t *trial)
{
    int found = 0;
    double best = 0, op = st->params.mode_max ? 1.0 : -1.0;
    for (int64_t t = 0; t < st->params.trials; t++) {
        const trial_result *r = last_result(&st->trials[t]);
        if (!r || !isfinite(r->value)) continue;
        if (!found || op * r->value > op * best) {
            found = 1;
            best = r->value;
            *trial = t;
        }
    }
    return found;
}

/* ---- the table -------------------------------------------------------------------- */

typedef struct {
    int n_cols;
    const char *head[MAX_COLS];
    int right[MAX_COLS];
    size_t width[MAX_COLS];
} table_shape;

static void table_rule(FILE *fp, const table_shape *t, char edge, char mid)
{
    for (int c = 0; c < t->n_cols; c++) {
        fputc(c ? mid : edge, fp);
        for (size_t i = 0; i < t->width[c] + 2; i++)
            fputc('-', fp);
    }
    fprintf(fp, "%c\n", edge);
}

static void table_row(FILE *fp, const table_shape *t, char **cells)
{
    for (int c = 0; c < t->n_cols; c++)
        fprintf(fp, t->right[c] ? "| %*s " : "| %-*s ", (int)t->width[c], cells[c]);
    fputs("|\n", fp);
}

static void trial_cells(const sweep_state *st, const sweep_space *sp, int64_t t, char **cells,
                        size_t cell_n)
{
    const trial_state *ts = &st->trials[t];
    const trial_result *last = last_result(ts);
    int c = 0;
    snprintf(cells[c++], cell_n, "trial_%05lld", (long long)t);
    snprintf(cells[c++], cell_n, "%s", sweep_status_name(ts->status));
    for (int d = 0; d < sp->n_dims && c < MAX_COLS - 4; d++)
        short_text(cells[c++], cell_n, param_text(ts, sp->dims[d].key));
    snprintf(cells[c++], cell_n, "%lld", last ? (long long)last->iter : 0LL);
    snprintf(cells[c++], cell_n, "%.2f", trial_seconds(ts));
    if (last)
        snprintf(cells[c], cell_n, "%.6g", last->value);
    else
        cells[c][0] = '\0';
    c++;
    double at;
    int r = rung_reached(st, ts, &at);
    snprintf(cells[c++], cell_n, "%d", r);
}

void sweep_report_table(const sweep_state *st, const sweep_space *sp, FILE *fp)
{
    const sweep_params *p = &st->params;
    int64_t counts[6] = {0}, started = 0;
    for (int64_t t = 0; t < p->trials; t++) {
        counts[st->trials[t].status]++;
        started += st->trials[t].status != TRIAL_PENDING;
    }
    char now[64];
    time_t tt = time(NULL);
    strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S", localtime(&tt));
    fprintf(fp, "== Status ==\nCurrent time: %s\nSearch: %s\n", now, search_name(p));
    if (p->scheduler == SCHED_ASHA) {
        fprintf(fp, "Using AsyncHyperBand: num_stopped=%lld\nBracket:",
                (long long)counts[TRIAL_STOPPED]);
        const asha_bracket *b = &st->bracket;
        for (int r = 0; r < b->n_rungs; r++) {
            const asha_rung *g = &b->rungs[r];
            char cut[40] = "None";
            double *scratch = g->n ? malloc((size_t)g->n * sizeof *scratch) : NULL;
            if (scratch)
                snprintf(cut, sizeof cut, "%.6g",
                         asha_nanpercentile(g->value, g->n, (1.0 - 1.0 / b->rf) * 100.0, scratch) *
                             b->metric_op);
            free(scratch);
            fprintf(fp, "%s Iter %.3f: %s", r ? " |" : "", g->milestone, cut);
        }
        fputc('\n', fp);
    } else if (p->scheduler == SCHED_ASHA_PROMOTION) {
        fprintf(fp, "Using ASHA with promotions:");
        for (int k = 0; k < st->promo.n_rungs; k++)
            fprintf(fp, "%s rung %d (iter %g): %lld", k ? " |" : "", k,
                    st->promo.rungs[k].milestone, (long long)st->promo.rungs[k].n);
        fputc('\n', fp);
    } else {
        fprintf(fp, "Using FIFO scheduling algorithm.\n");
    }
    fprintf(fp, "Number of trials: %lld/%lld (", (long long)started, (long long)p->trials);
    int first = 1;
    for (int s = 0; s < 6; s++)
        if (counts[s] && s != TRIAL_PENDING) {
            fprintf(fp, "%s%lld %s", first ? "" : ", ", (long long)counts[s],
                    sweep_status_name((trial_status)s));
            first = 0;
        }
    if (counts[TRIAL_PENDING])
        fprintf(fp, "%s%lld PENDING", first ? "" : ", ", (long long)counts[TRIAL_PENDING]);
    fprintf(fp, ")\n");
    if (st->n_corrupt || st->n_mismatched)
        fprintf(fp,
                "Journal: %lld records, %lld unreadable lines skipped, %lld decisions differ "
                "from the replay\n",
                (long long)st->n_records, (long long)st->n_corrupt, (long long)st->n_mismatched);

    table_shape t = {0};
    t.head[t.n_cols++] = "Trial name";
    t.head[t.n_cols++] = "status";
    for (int d = 0; d < sp->n_dims && t.n_cols < MAX_COLS - 4; d++) {
        const char *k = sp->dims[d].key;
        t.head[t.n_cols++] = strncmp(k, "train.", 6) ? k : k + 6;
    }
    int first_num = t.n_cols;
    t.head[t.n_cols++] = "iter";
    t.head[t.n_cols++] = "total time (s)";
    t.head[t.n_cols++] = p->metric;
    t.head[t.n_cols++] = "rung";
    for (int c = 0; c < t.n_cols; c++) {
        t.width[c] = strlen(t.head[c]);
        t.right[c] = c >= first_num;
    }
    enum { CELL = 128 };
    char *cells[MAX_COLS], store[MAX_COLS][CELL];
    for (int c = 0; c < MAX_COLS; c++)
        cells[c] = store[c];
    for (int64_t i = 0; i < p->trials; i++) {
        if (st->trials[i].status == TRIAL_PENDING) continue;
        trial_cells(st, sp, i, cells, CELL);
        for (int c = 0; c < t.n_cols; c++)
            if (strlen(cells[c]) > t.width[c]) t.width[c] = strlen(cells[c]);
    }
    table_rule(fp, &t, '+', '+');
    table_row(fp, &t, (char **)t.head);
    table_rule(fp, &t, '|', '+');
    for (int64_t i = 0; i < p->trials; i++) {
        if (st->trials[i].status == TRIAL_PENDING) continue;
        trial_cells(st, sp, i, cells, CELL);
        table_row(fp, &t, cells);
    }
    table_rule(fp, &t, '+', '+');
    int64_t best = -1;
    if (sweep_best_trial(st, &best)) {
        fprintf(fp, "Best trial: trial_%05lld (last %s = %.6g, mode %s)\n", (long long)best,
                p->metric, last_result(&st->trials[best])->value, p->mode_max ? "max" : "min");
    }
    fputc('\n', fp);
}

/* ---- results.csv ------------------------------------------------------------------ */

/* One field, quoted when it must be, followed by sep (none when 0). */
static void csv_field(FILE *fp, const char *s, char sep)
{
    if (strpbrk(s, ",\"\n\r")) {
        fputc('"', fp);
        for (; *s; s++) {
            if (*s == '"') fputc('"', fp);
            fputc(*s, fp);
        }
        fputc('"', fp);
    } else {
        fputs(s, fp);
    }
    if (sep) fputc(sep, fp);
}

static int write_csv(const sweep_state *st, const sweep_space *sp, const char *path)
{
    atomic_file af;
    HPCML_TRY(atomic_file_open(&af, path));
    FILE *fp = af.fp;
    const char *metric = st->params.metric;
    fprintf(fp, "trial,status");
    for (int d = 0; d < sp->n_dims; d++) {
        fputc(',', fp);
        csv_field(fp, sp->dims[d].key, 0);
    }
    fprintf(fp, ",iter,last_%s,best_%s,rung,rung_iter,attempts,seconds,reason,search\n", metric,
            metric);
    char search[64];
    search_short(&st->params, search, sizeof search);
    for (int64_t t = 0; t < st->params.trials; t++) {
        const trial_state *ts = &st->trials[t];
        if (ts->status == TRIAL_PENDING) continue;
        const trial_result *last = last_result(ts);
        char a[64], b[64], at_s[64];
        fprintf(fp, "%lld,%s,", (long long)t, sweep_status_name(ts->status));
        for (int d = 0; d < sp->n_dims; d++)
            csv_field(fp, param_text(ts, sp->dims[d].key), ',');
        a[0] = b[0] = '\0';
        if (last) {
            fmt_num(a, sizeof a, last->value);
            fmt_num(b, sizeof b, best_value(st, ts));
        }
        double at;
        int r = rung_reached(st, ts, &at);
        fmt_num(at_s, sizeof at_s, at);
        fprintf(fp, "%lld,%s,%s,%d,%s,%d,%.3f,", last ? (long long)last->iter : 0LL, a, b, r, at_s,
                ts->attempts, trial_seconds(ts));
        csv_field(fp, ts->reason, ',');
        csv_field(fp, search, '\n');
    }
    return atomic_file_commit(&af);
}

/* ---- best.cfg ----------------------------------------------------------------------- */

static int write_best_cfg(const sweep_state *st, const sweep_space *sp, const hpcml_config *base,
                          int64_t best, const char *path)
{
    hpcml_config *cfg = NULL;
    HPCML_TRY(hpcml_config_clone(base, &cfg));
    char epochs[32];
    snprintf(epochs, sizeof epochs, "%lld", (long long)llround(st->params.max_t));
    const json_t *values = st->trials[best].config;
    int rc = space_apply_values(sp, values, best, cfg);
    if (rc == HPCML_OK) rc = hpcml_config_set(cfg, "train.epochs", epochs);
    atomic_file af;
    if (rc == HPCML_OK) rc = atomic_file_open(&af, path);
    if (rc == HPCML_OK) {
        char v[40];
        fmt_num(v, sizeof v, last_result(&st->trials[best])->value);
        fprintf(af.fp,
                "# best.cfg — written by hpcml-sweep: the sweep's config with the values of\n"
                "# trial %lld (last %s = %s, mode %s), for the final hpcml-train run.\n"
                "# search: %s\n",
                (long long)best, st->params.metric, v, st->params.mode_max ? "max" : "min",
                search_name(&st->params));
        for (int d = 0; d < sp->n_dims; d++)
            fprintf(af.fp, "#   %s = %s\n", sp->dims[d].key,
                    json_string_value(json_object_get(values, sp->dims[d].key)));
        rc = hpcml_config_print(cfg, af.fp);
        if (rc == HPCML_OK)
            rc = atomic_file_commit(&af);
        else
            atomic_file_abort(&af);
    }
    hpcml_config_free(cfg);
    return rc;
}

/* ---- curves.svg --------------------------------------------------------------------- */

static const char *status_color(trial_status s)
{
    switch (s) {
    case TRIAL_COMPLETED: return svg_palette(0);
    case TRIAL_STOPPED: return SVG_MUTED;
    case TRIAL_PAUSED: return svg_palette(7);
    case TRIAL_FAILED: return svg_palette(3);
    default: return svg_palette(2);
    }
}

#define BEST_COLOR svg_palette(1)
#define RUNG_COLOR svg_palette(6)

char *sweep_report_svg(const sweep_state *st)
{
    double ymin = INFINITY, ymax = -INFINITY;
    for (int64_t t = 0; t < st->params.trials; t++)
        for (int64_t i = 0; i < st->trials[t].n_results; i++) {
            double v = st->trials[t].results[i].value;
            if (!isfinite(v)) continue;
            if (v < ymin) ymin = v;
            if (v > ymax) ymax = v;
        }
    char search_title[64];
    search_short(&st->params, search_title, sizeof search_title);
    if (!strcmp(search_title, "tpe")) snprintf(search_title, sizeof search_title, "TPE");
    char title[240];
    snprintf(title, sizeof title, "%s per epoch, every trial (%s, %s search)", st->params.metric,
             st->params.scheduler == SCHED_ASHA             ? "ASHA, Ray Tune's rule"
             : st->params.scheduler == SCHED_ASHA_PROMOTION ? "ASHA with promotions"
                                                            : "no early stopping",
             search_title);
    svg_buf b;
    svg_buf_init(&b);
    svg_plot p;
    svg_plot_begin(&p, &b,
                   &(svg_axes){.id = "sweep-curves",
                               .width = 900,
                               .height = 560,
                               .title = title,
                               .x_label = "epoch",
                               .y_label = st->params.metric,
                               .x_min = 0,
                               .x_max = st->params.max_t > 1 ? st->params.max_t : 1,
                               .x_integer = 1,
                               .y_min = ymin,
                               .y_max = ymax,
                               .legend_width = 160,
                               .standalone = 1});
    double m[66];
    int nm = milestones(st, m, 66);
    for (int k = 0; k < nm; k++) {
        char name[32];
        snprintf(name, sizeof name, "rung %d", k + 1);
        svg_plot_vline(&p, m[k], name,
                       &(svg_style){.color = RUNG_COLOR,
                                    .dash = "6 4",
                                    .width = 1.2,
                                    .cls = "rung",
                                    .label = k == 0 ? "ASHA rung" : NULL});
    }
    for (size_t s = 0; s < 5; s++) { /* every status in the legend, in this order */
        static const trial_status shown[] = {TRIAL_COMPLETED, TRIAL_STOPPED, TRIAL_RUNNING,
                                             TRIAL_PAUSED, TRIAL_FAILED};
        svg_plot_legend(&p,
                        &(svg_style){.color = status_color(shown[s]),
                                     .width = 2,
                                     .label = sweep_status_name(shown[s])},
                        0);
    }
    svg_plot_legend(&p, &(svg_style){.color = BEST_COLOR, .width = 3, .label = "best trial"}, 0);
    svg_plot_legend(&p,
                    &(svg_style){.color = SVG_MUTED,
                                 .width = -1,
                                 .marker = SVG_MARK_CROSS,
                                 .label = "stopped at a rung"},
                    0);
    /* curves (the best one last, on top); NaN breaks a curve */
    int64_t best = -1;
    sweep_best_trial(st, &best);
    double *xs = NULL, *ys = NULL;
    size_t cap = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int64_t t = 0; t < st->params.trials; t++) {
            const trial_state *ts = &st->trials[t];
            if (!ts->n_results || (pass == 1) != (t == best)) continue;
            if ((size_t)ts->n_results > cap) {
                cap = (size_t)ts->n_results;
                free(xs);
                free(ys);
                xs = malloc(cap * sizeof *xs);
                ys = malloc(cap * sizeof *ys);
                if (!xs || !ys) {
                    free(xs);
                    free(ys);
                    svg_buf_free(&b);
                    return NULL;
                }
            }
            for (int64_t i = 0; i < ts->n_results; i++) {
                xs[i] = (double)ts->results[i].iter;
                ys[i] = ts->results[i].value;
            }
            char id[40], tip[80];
            snprintf(id, sizeof id, "trial_%05lld", (long long)t);
            snprintf(tip, sizeof tip, "%s %s", id, sweep_status_name(ts->status));
            svg_style line = {.color = t == best ? BEST_COLOR : status_color(ts->status),
                              .width = t == best ? 3 : 1.2};
            svg_style group = line;
            group.cls = "trial";
            group.id = id;
            group.title = tip;
            svg_plot_group_begin(&p, &group);
            svg_plot_line(&p, xs, ys, (size_t)ts->n_results, &line);
            const trial_result *last = last_result(ts);
            if (ts->status == TRIAL_STOPPED && isfinite(last->value)) {
                double lx = (double)last->iter;
                line.marker = SVG_MARK_CROSS;
                line.width = 1.5;
                svg_plot_points(&p, &lx, &last->value, 1, &line);
            }
            svg_plot_group_end(&p);
        }
    free(xs);
    free(ys);
    svg_plot_end(&p);
    return svg_buf_take(&b);
}

int sweep_report_write(const sweep_state *st, const sweep_space *sp, const hpcml_config *base,
                       const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    HPCML_TRY(write_csv(st, sp, path));
    int64_t best = -1;
    if (sweep_best_trial(st, &best)) {
        snprintf(path, sizeof path, "%s/best.cfg", dir);
        HPCML_TRY(write_best_cfg(st, sp, base, best, path));
    }
    char *svg = sweep_report_svg(st);
    HPCML_CHECK(svg, HPCML_EINTERNAL, "cannot build the curves plot");
    snprintf(path, sizeof path, "%s/curves.svg", dir);
    int rc = atomic_write_text(path, svg);
    free(svg);
    return rc;
}
