/* report_page.c — report.html's sections as HTML with inline SVG charts. See report_page.h. */
#include "report/report_page.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/sweep_report.h"

/* Series colours, the same in every chart of the page. */
#define C_TRAIN svg_palette(0) /* training / reference / negatives */
#define C_VAL   svg_palette(1) /* validation / current / positives */
#define C_GOOD  svg_palette(2)
#define C_BAD   svg_palette(3) /* dropped rows */
#define C_NULLS svg_palette(4)
/* One colour per metric wherever it is drawn: ROC AUC, PR AUC, F1, precision,
 * recall (none of them train/validation's). */
enum { M_ROC_AUC, M_PR_AUC, M_F1, M_PRECISION, M_RECALL };
static const char *metric_color(int m)
{
    static const int idx[] = {4, 6, 7, 2, 3};
    return svg_palette(idx[m % 5]);
}

/* ---- small HTML helpers --------------------------------------------------------- */

static void esc(svg_buf *b, const char *s)
{
    svg_buf_escape(b, s ? s : "");
}

static json_t *jget(json_t *o, const char *key)
{
    return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static double jnum(json_t *o, const char *key)
{
    json_t *v = jget(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(jget(o, key));
}

/* A count with thin spaces between thousands: 284 807. */
static void fmt_count(char *out, size_t n, double v)
{
    if (!isfinite(v)) {
        snprintf(out, n, "–");
        return;
    }
    char digits[40];
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t len = strlen(digits), k = 0;
    if (v < 0 && k + 1 < n) out[k++] = '-';
    for (size_t i = 0; i < len && k + 4 < n; i++) {
        if (i && (len - i) % 3 == 0) {
            memcpy(out + k, "\xE2\x80\x89", 3); /* thin space */
            k += 3;
        }
        out[k++] = digits[i];
    }
    out[k] = '\0';
}

static void fmt_bytes(char *out, size_t n, double v)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    if (!isfinite(v)) {
        snprintf(out, n, "–");
        return;
    }
    while (fabs(v) >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(out, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void fmt_num(char *out, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(out, n, "–");
    else
        snprintf(out, n, "%.4g", v);
}

static void fmt_seconds(char *out, size_t n, double s)
{
    if (!isfinite(s))
        snprintf(out, n, "–");
    else if (s < 1e-3)
        snprintf(out, n, "%.0f µs", s * 1e6);
    else if (s < 1)
        snprintf(out, n, "%.1f ms", s * 1e3);
    else if (s < 120)
        snprintf(out, n, "%.2f s", s);
    else
        snprintf(out, n, "%.1f min", s / 60);
}

static void section_begin(svg_buf *b, const char *id, const char *title)
{
    svg_buf_printf(b, "<section id=\"%s\">\n<h2>", id);
    esc(b, title);
    svg_buf_puts(b, "</h2>\n");
}

static void section_end(svg_buf *b)
{
    svg_buf_puts(b, "</section>\n");
}

/* The note a section shows instead of its content: which input and why. */
static void input_note(svg_buf *b, const report_input *in, const char *what)
{
    if (in->state == INPUT_MISSING) {
        svg_buf_puts(b, "<p class=\"missing\">No ");
        esc(b, what);
        svg_buf_puts(b, ": <code>");
        esc(b, in->path);
        svg_buf_puts(b, "</code> does not exist (the stage that writes it has not run).</p>\n");
    } else if (in->state == INPUT_CORRUPT) {
        svg_buf_puts(b, "<p class=\"corrupt\">Cannot read ");
        esc(b, what);
        svg_buf_puts(b, " <code>");
        esc(b, in->path);
        svg_buf_puts(b, "</code>: ");
        esc(b, in->problem);
        svg_buf_puts(b, "</p>\n");
    }
}

static void source_line(svg_buf *b, const report_input *in)
{
    if (in->state != INPUT_OK) return;
    svg_buf_puts(b, "<p class=\"source\">from <code>");
    esc(b, in->path);
    svg_buf_puts(b, "</code></p>\n");
}

/* A section fed by one input: its heading, the note on a missing or corrupt input, and the
 * source line. Returns 0 (the section already closed) when the input is not usable. */
static int section_open_with(svg_buf *b, const char *id, const char *title, const report_input *in,
                             const char *what)
{
    section_begin(b, id, title);
    input_note(b, in, what);
    if (in->state != INPUT_OK) {
        section_end(b);
        return 0;
    }
    source_line(b, in);
    return 1;
}

static void tile(svg_buf *b, const char *label, const char *value)
{
    svg_buf_puts(b, "<div class=\"tile\"><div class=\"v\">");
    esc(b, value);
    svg_buf_puts(b, "</div><div class=\"l\">");
    esc(b, label);
    svg_buf_puts(b, "</div></div>");
}

static void figure_begin(svg_buf *b)
{
    svg_buf_puts(b, "<figure>");
}

static void figure_end(svg_buf *b, const char *caption)
{
    if (caption) {
        svg_buf_puts(b, "<figcaption>");
        esc(b, caption);
        svg_buf_puts(b, "</figcaption>");
    }
    svg_buf_puts(b, "</figure>\n");
}

/* ---- page frame ------------------------------------------------------------------ */

static const char page_css[] =
    ":root{--ink:#222;--muted:#666;--line:#ddd;--bg:#f6f7f9;--accent:#4e79a7}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:var(--ink);background:var(--bg)}"
    "header{background:#fff;border-bottom:1px solid var(--line);padding:14px 28px}"
    "header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:var(--muted)}"
    "nav{position:sticky;top:0;z-index:1;background:#fff;border-bottom:1px solid var(--line);"
    "padding:6px 28px}nav a{margin-right:18px;color:var(--accent);text-decoration:none;"
    "font-weight:600}"
    "main{max-width:1280px;margin:0 auto;padding:8px 28px 40px}"
    "section{background:#fff;border:1px solid var(--line);border-radius:8px;"
    "margin:18px 0;padding:6px 22px 18px}"
    "h2{font-size:19px;border-bottom:2px solid var(--accent);padding-bottom:4px}"
    "h3{font-size:15px;margin:18px 0 6px}"
    ".grid{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}"
    "figure{margin:0;display:table}figcaption{display:table-caption;caption-side:bottom;"
    "color:var(--muted);font-size:12px;margin-top:2px}"
    ".col{display:flex;flex-direction:column;gap:6px}"
    "svg.chart{max-width:100%;height:auto;border:1px solid #eee;border-radius:4px}"
    "table{border-collapse:collapse;margin:6px 0 10px;font-variant-numeric:tabular-nums}"
    "th,td{border-bottom:1px solid var(--line);padding:3px 10px;text-align:right}"
    "th{background:#fafafa;font-weight:600}td.t,th.t{text-align:left}"
    "tr.drifted td{background:#fdecec}"
    ".tiles{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}"
    ".tile{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:130px}"
    ".tile .v{font-size:20px;font-weight:600}.tile .l{color:var(--muted);font-size:12px}"
    ".missing{color:var(--muted);font-style:italic}"
    ".corrupt{color:#a61b1b;background:#fdecec;border:1px solid #f3b4b4;padding:8px;"
    "border-radius:4px}"
    ".source{color:var(--muted);font-size:12px;margin:0}"
    ".cm td{min-width:90px;text-align:center}.cm td.hit{background:#e6f1e4}"
    ".cm td.miss{background:#fbe9e7}"
    "details summary{cursor:pointer;color:var(--accent)}"
    "code{font-size:12px;background:#f2f2f2;padding:0 3px;border-radius:3px}";

void report_page_begin(svg_buf *b, const char *title, const char *config_path)
{
    svg_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>");
    esc(b, title);
    svg_buf_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n<header><h1>", page_css);
    esc(b, title);
    svg_buf_puts(b, "</h1><p>hpcml-report of the run configured by <code>");
    esc(b, config_path);
    svg_buf_puts(b, "</code></p></header>\n"
                    "<nav><a href=\"#data\">Data</a><a href=\"#sweep\">Sweep</a>"
                    "<a href=\"#training\">Training</a><a href=\"#evaluation\">Evaluation</a>"
                    "<a href=\"#performance\">Performance</a><a href=\"#drift\">Drift</a></nav>\n"
                    "<main>\n");
}

void report_page_end(svg_buf *b)
{
    svg_buf_puts(b, "</main>\n</body>\n</html>\n");
}

/* ---- data ------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    double value;
} named_value;

static int by_value_desc(const void *a, const void *b)
{
    double x = ((const named_value *)a)->value, y = ((const named_value *)b)->value;
    return (x < y) - (x > y);
}

/* Horizontal bars, one per name (largest first), with the value at the bar's end. */
static void hbar_chart(svg_buf *b, const char *id, const char *title, const char *x_label,
                       named_value *v, int n, const char *color, int as_count)
{
    qsort(v, (size_t)n, sizeof *v, by_value_desc);
    const char *names[64];
    double max = 0;
    if (n > 64) n = 64;
    for (int i = 0; i < n; i++) {
        names[i] = v[i].name;
        if (v[i].value > max) max = v[i].value;
    }
    svg_plot p;
    svg_plot_begin(&p, b,
                   &(svg_axes){.id = id,
                               .width = 560,
                               .height = 90 + 22.0 * n,
                               .title = title,
                               .x_label = x_label,
                               .x_min = 0,
                               .x_max = max > 0 ? max * 1.15 : 1,
                               .x_integer = as_count,
                               .y_categories = names,
                               .n_y_categories = n});
    for (int i = 0; i < n; i++) {
        char tip[160], val[48];
        if (as_count)
            fmt_count(val, sizeof val, v[i].value);
        else
            fmt_num(val, sizeof val, v[i].value);
        snprintf(tip, sizeof tip, "%s: %s", v[i].name, val);
        svg_plot_bar(&p, 0, v[i].value, i + 0.18, i + 0.82,
                     &(svg_style){.color = color, .title = tip});
        svg_plot_text(&p, v[i].value, i + 0.5, "start", val, NULL);
    }
    svg_plot_end(&p);
}

static void split_chart(svg_buf *b, json_t *splits)
{
    static const char *const names[] = {"train", "val", "test"};
    double neg[3], pos[3], max = 0;
    int n = 0;
    for (int s = 0; s < 3; s++) {
        json_t *cc = jget(jget(splits, names[s]), "class_counts");
        neg[s] = json_number_value(json_array_get(cc, 0));
        pos[s] = json_number_value(json_array_get(cc, 1));
        if (neg[s] + pos[s] > max) max = neg[s] + pos[s];
        n++;
    }
    svg_plot p;
    svg_plot_begin(&p, b,
                   &(svg_axes){.id = "data-splits",
                               .width = 560,
                               .height = 190,
                               .title = "rows per split and class",
                               .x_label = "rows",
                               .x_min = 0,
                               .x_max = max * 1.2,
                               .x_integer = 1,
                               .y_categories = names,
                               .n_y_categories = n,
                               .legend_width = 130});
    for (int s = 0; s < n; s++) {
        char tip[120], a[40], c[40];
        fmt_count(a, sizeof a, neg[s]);
        fmt_count(c, sizeof c, pos[s]);
        snprintf(tip, sizeof tip, "%s: %s negative, %s positive", names[s], a, c);
        svg_plot_bar(&p, 0, neg[s], s + 0.2, s + 0.8,
                     &(svg_style){.color = C_TRAIN, .title = tip, .label = "negative (0)"});
        svg_plot_bar(&p, neg[s], neg[s] + pos[s], s + 0.2, s + 0.8,
                     &(svg_style){.color = C_VAL, .title = tip, .label = "positive (1)"});
        char share[64];
        snprintf(share, sizeof share, "%.2f %% positive", 100 * pos[s] / (neg[s] + pos[s]));
        svg_plot_text(&p, neg[s] + pos[s], s + 0.5, "start", share, NULL);
    }
    svg_plot_end(&p);
}

static void splits_table(svg_buf *b, json_t *q);
static void columns_table(svg_buf *b, json_t *cols);

void report_section_data(svg_buf *b, const report_input *in, json_t *q)
{
    if (!section_open_with(b, "data", "Data (hpcml-etl)", in, "data quality record (quality.json)"))
        return;
    char v[64];
    svg_buf_puts(b, "<div class=\"tiles\">");
    fmt_count(v, sizeof v, jnum(q, "rows_read"));
    tile(b, "rows read", v);
    fmt_count(v, sizeof v, jnum(q, "rows_valid"));
    tile(b, "rows valid", v);
    json_t *dropped = jget(q, "rows_dropped");
    fmt_count(v, sizeof v, jnum(dropped, "total"));
    tile(b, "rows dropped", v);
    fmt_count(v, sizeof v, jnum(q, "n_features"));
    tile(b, "features", v);
    fmt_bytes(v, sizeof v, jnum(jget(q, "input"), "bytes"));
    tile(b, "input read", v);
    svg_buf_puts(b, "</div>\n<div class=\"grid\"><div class=\"col\">");

    figure_begin(b);
    split_chart(b, jget(q, "splits"));
    figure_end(b, "Class balance of each split after the stratified split (and resampling, "
                  "if configured).");
    splits_table(b, q);
    svg_buf_puts(b, "</div>");

    named_value drops[32];
    int nd = 0;
    const char *key;
    json_t *val;
    json_object_foreach(dropped, key, val)
    {
        if (strcmp(key, "total") && json_number_value(val) > 0 && nd < 32)
            drops[nd++] = (named_value){key, json_number_value(val)};
    }
    if (nd) {
        figure_begin(b);
        hbar_chart(b, "data-dropped", "rows dropped, by reason", "rows", drops, nd, C_BAD, 1);
        figure_end(b, NULL);
    }

    json_t *cols = jget(q, "columns");
    named_value nulls[64];
    int nn = 0;
    json_object_foreach(cols, key, val)
    {
        double k = jnum(val, "nulls");
        if (k > 0 && nn < 64) nulls[nn++] = (named_value){key, k};
    }
    if (nn) {
        if (nn > 20) { /* the 20 columns with most nulls */
            qsort(nulls, (size_t)nn, sizeof *nulls, by_value_desc);
            nn = 20;
        }
        figure_begin(b);
        hbar_chart(b, "data-nulls", "null cells per column", "null cells", nulls, nn, C_NULLS, 1);
        figure_end(b, nn == 20 ? "The 20 columns with the most nulls." : NULL);
    }
    svg_buf_puts(b, "</div>\n");
    if (!nd) svg_buf_puts(b, "<p>No rows were dropped.</p>\n");

    columns_table(b, cols);
    section_end(b);
}

static void splits_table(svg_buf *b, json_t *q)
{
    svg_buf_puts(b, "<table><tr><th class=\"t\">split</th><th>rows</th>"
                    "<th>negative</th><th>positive</th><th>positive share</th></tr>\n");
    static const char *const splits[] = {"train", "val", "test"};
    for (int s = 0; s < 3; s++) {
        json_t *sp = jget(jget(q, "splits"), splits[s]);
        json_t *cc = jget(sp, "class_counts");
        double n0 = json_number_value(json_array_get(cc, 0)),
               n1 = json_number_value(json_array_get(cc, 1));
        char a[40], c[40], d[40];
        fmt_count(a, sizeof a, jnum(sp, "rows"));
        fmt_count(c, sizeof c, n0);
        fmt_count(d, sizeof d, n1);
        svg_buf_printf(b,
                       "<tr><td class=\"t\">%s</td><td>%s</td><td>%s</td><td>%s</td>"
                       "<td>%.3f %%</td></tr>\n",
                       splits[s], a, c, d, n0 + n1 > 0 ? 100 * n1 / (n0 + n1) : 0.0);
    }
    svg_buf_puts(b, "</table>\n");
}

static void columns_table(svg_buf *b, json_t *cols)
{
    const char *key;
    json_t *val;
    size_t ncols = json_object_size(cols);
    svg_buf_printf(b,
                   "<details><summary>Columns: nulls, imputation, bad values (%zu "
                   "columns)</summary><table><tr><th class=\"t\">column</th><th "
                   "class=\"t\">type</th><th>nulls</th><th>nulls in train</th><th "
                   "class=\"t\">impute</th><th>impute value</th><th>bad values</th>"
                   "<th>below min</th><th>above max</th><th>mean</th><th>std</th></tr>\n",
                   ncols);
    json_object_foreach(cols, key, val)
    {
        char c1[40], c2[40], c3[40], c4[40], c5[40], c6[40], c7[40], c8[40];
        fmt_count(c1, sizeof c1, jnum(val, "nulls"));
        fmt_count(c2, sizeof c2, jnum(val, "train_nulls"));
        fmt_num(c3, sizeof c3, jnum(val, "impute_value"));
        fmt_count(c4, sizeof c4, jnum(val, "bad_values"));
        fmt_count(c5, sizeof c5, jnum(val, "filtered_below_min"));
        fmt_count(c6, sizeof c6, jnum(val, "filtered_above_max"));
        fmt_num(c7, sizeof c7, jnum(val, "mean"));
        fmt_num(c8, sizeof c8, jnum(val, "std"));
        svg_buf_puts(b, "<tr><td class=\"t\">");
        esc(b, key);
        svg_buf_puts(b, "</td><td class=\"t\">");
        esc(b, jstr(val, "type"));
        svg_buf_printf(b, "</td><td>%s</td><td>%s</td><td class=\"t\">", c1, c2);
        esc(b, jstr(val, "impute") ? jstr(val, "impute") : "–");
        svg_buf_printf(b,
                       "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                       "<td>%s</td></tr>\n",
                       c3, c4, c5, c6, c7, c8);
    }
    svg_buf_puts(b, "</table></details>\n");
}

/* ---- sweep ------------------------------------------------------------------------ */

static int by_metric(const void *a, const void *b, int mode_max)
{
    double x = ((const named_value *)a)->value, y = ((const named_value *)b)->value;
    if (isnan(x) != isnan(y)) return isnan(x) ? 1 : -1;
    return mode_max ? (x < y) - (x > y) : (x > y) - (x < y);
}
static int by_metric_max(const void *a, const void *b)
{
    return by_metric(a, b, 1);
}
static int by_metric_min(const void *a, const void *b)
{
    return by_metric(a, b, 0);
}

void report_section_sweep(svg_buf *b, const report_input *journal, const sweep_state *st,
                          const report_input *results, json_t *rows)
{
    section_begin(b, "sweep", "Hyperparameter sweep (hpcml-sweep, ASHA)");
    input_note(b, journal, "sweep journal");
    if (journal->state == INPUT_OK && st) {
        source_line(b, journal);
        const sweep_params *sp = &st->params;
        int64_t counts[6] = {0};
        for (int64_t t = 0; t < sp->trials; t++)
            counts[st->trials[t].status]++;
        int64_t best = -1;
        char v[64];
        svg_buf_puts(b, "<div class=\"tiles\">");
        snprintf(v, sizeof v, "%lld", (long long)(sp->trials - counts[TRIAL_PENDING]));
        tile(b, "trials run", v);
        snprintf(v, sizeof v, "%lld", (long long)counts[TRIAL_COMPLETED]);
        tile(b, "completed", v);
        snprintf(v, sizeof v, "%lld", (long long)counts[TRIAL_STOPPED]);
        tile(b, "stopped at a rung", v);
        if (sweep_best_trial(st, &best)) {
            const trial_state *ts = &st->trials[best];
            snprintf(v, sizeof v, "%.4f", ts->results[ts->n_results - 1].value);
            char label[96];
            snprintf(label, sizeof label, "best %s (trial %lld)", sp->metric, (long long)best);
            tile(b, label, v);
        }
        svg_buf_puts(b, "</div>\n<div class=\"grid\">");

        /* best so far, in the order trials finished */
        double *x = malloc(sizeof(double) * (size_t)(sp->trials + 1));
        double *y = malloc(sizeof(double) * (size_t)(sp->trials + 1));
        double *fin = malloc(sizeof(double) * (size_t)(sp->trials + 1));
        int64_t *order = malloc(sizeof(int64_t) * (size_t)(sp->trials + 1));
        if (x && y && fin && order) {
            int64_t n = 0;
            for (int64_t t = 0; t < sp->trials; t++) {
                const trial_state *ts = &st->trials[t];
                if (!ts->n_results || ts->status == TRIAL_RUNNING) continue;
                order[n++] = t;
            }
            for (int64_t i = 1; i < n; i++) /* insertion sort by finish time: small n */
                for (int64_t k = i;
                     k > 0 && st->trials[order[k]].last_time < st->trials[order[k - 1]].last_time;
                     k--) {
                    int64_t tmp = order[k];
                    order[k] = order[k - 1];
                    order[k - 1] = tmp;
                }
            double lo = INFINITY, hi = -INFINITY, run = NAN, op = sp->mode_max ? 1 : -1;
            for (int64_t i = 0; i < n; i++) {
                const trial_state *ts = &st->trials[order[i]];
                fin[i] = ts->results[ts->n_results - 1].value;
                if (isfinite(fin[i]) && (isnan(run) || op * fin[i] > op * run)) run = fin[i];
                x[i] = (double)(i + 1);
                y[i] = run;
                if (isfinite(fin[i])) lo = fmin(lo, fin[i]), hi = fmax(hi, fin[i]);
            }
            char title[120];
            snprintf(title, sizeof title, "best %s so far", sp->metric);
            figure_begin(b);
            svg_plot p;
            svg_plot_begin(&p, b,
                           &(svg_axes){.id = "sweep-best",
                                       .width = 560,
                                       .height = 360,
                                       .title = title,
                                       .x_label = "trials finished",
                                       .y_label = sp->metric,
                                       .x_min = 1,
                                       .x_max = n > 1 ? (double)n : 2,
                                       .x_integer = 1,
                                       .y_min = lo,
                                       .y_max = hi,
                                       .legend_width = 120});
            svg_plot_points(&p, x, fin, (size_t)n,
                            &(svg_style){.color = SVG_MUTED, .label = "trial's last value"});
            svg_plot_line(&p, x, y, (size_t)n,
                          &(svg_style){.color = C_VAL, .width = 2.5, .label = "best so far"});
            svg_plot_end(&p);
            figure_end(b, "Each trial's last reported value in the order the trials ended; the "
                          "line is the best so far.");
        }
        free(x);
        free(y);
        free(fin);
        free(order);

        char *curves = sweep_report_svg(st);
        if (curves) {
            const char *svg = strstr(curves, "<svg");
            figure_begin(b);
            svg_buf_puts(b, svg ? svg : "");
            figure_end(b, "Every trial's metric per epoch; dashed lines are ASHA's rungs, × "
                          "marks where a trial was stopped.");
            free(curves);
        }
        svg_buf_puts(b, "</div>\n");
        if (st->n_corrupt)
            svg_buf_printf(b,
                           "<p class=\"corrupt\">The journal has %lld unreadable lines "
                           "(skipped).</p>\n",
                           (long long)st->n_corrupt);
    }

    /* top trials from results.csv */
    input_note(b, results, "sweep results table (results.csv)");
    if (results->state == INPUT_OK && json_array_size(rows) > 0) {
        const char *metric_col = NULL;
        json_t *first = json_array_get(rows, 0);
        const char *k;
        json_t *val;
        json_object_foreach(first, k, val)
        {
            if (!strncmp(k, "best_", 5)) metric_col = k;
        }
        size_t n = json_array_size(rows);
        named_value *nv = malloc(n * sizeof *nv);
        if (nv && metric_col) {
            for (size_t i = 0; i < n; i++) {
                const char *s = jstr(json_array_get(rows, i), metric_col);
                char *end;
                double d = s ? strtod(s, &end) : NAN;
                nv[i] = (named_value){(const char *)(uintptr_t)i, s && *s && !*end ? d : NAN};
            }
            int mode_max = !(st && !st->params.mode_max);
            qsort(nv, n, sizeof *nv, mode_max ? by_metric_max : by_metric_min);
            size_t top = n < 5 ? n : 5;
            svg_buf_printf(b, "<h3>Top %zu trials</h3><table><tr>", top);
            json_object_foreach(first, k, val)
            {
                if (!strcmp(k, "reason") || !strcmp(k, "attempts")) continue;
                svg_buf_puts(b, "<th class=\"t\">");
                esc(b, strncmp(k, "train.", 6) ? k : k + 6);
                svg_buf_puts(b, "</th>");
            }
            svg_buf_puts(b, "</tr>\n");
            for (size_t i = 0; i < top; i++) {
                json_t *row = json_array_get(rows, (size_t)(uintptr_t)nv[i].name);
                svg_buf_puts(b, "<tr>");
                json_object_foreach(row, k, val)
                {
                    if (!strcmp(k, "reason") || !strcmp(k, "attempts")) continue;
                    const char *s = json_string_value(val);
                    char *end;
                    double d = s ? strtod(s, &end) : 0;
                    char shortened[64];
                    if (s && *s && !*end && strchr(s, '.')) {
                        snprintf(shortened, sizeof shortened, "%.5g", d);
                        s = shortened;
                    }
                    svg_buf_puts(b, "<td class=\"t\">");
                    esc(b, s);
                    svg_buf_puts(b, "</td>");
                }
                svg_buf_puts(b, "</tr>\n");
            }
            svg_buf_puts(b, "</table>\n");
        }
        free(nv);
    }
    section_end(b);
}

/* ---- training ---------------------------------------------------------------------- */

/* Values of key over the epoch records (NaN where absent); returns the count. */
static size_t series(json_t *records, const char *key, double *x, double *y)
{
    size_t n = 0, i;
    json_t *r;
    json_array_foreach(records, i, r)
    {
        if (!json_is_integer(jget(r, "epoch")) || jget(r, "alert")) continue;
        x[n] = jnum(r, "epoch");
        y[n] = jnum(r, key);
        n++;
    }
    return n;
}

static void range_of(const double *y, size_t n, double *lo, double *hi)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i])) {
            *lo = fmin(*lo, y[i]);
            *hi = fmax(*hi, y[i]);
        }
}

void report_section_training(svg_buf *b, const report_input *metrics, json_t *records,
                             const report_input *evaluation, json_t *eval)
{
    section_begin(b, "training", "Training (hpcml-train)");
    input_note(b, metrics, "training metrics (metrics.jsonl)");
    input_note(b, evaluation, "evaluation summary (evaluation.json)");
    json_t *model = jget(eval, "model");
    double selected = jnum(model, "epoch");
    if (evaluation->state == INPUT_OK) {
        source_line(b, evaluation);
        svg_buf_puts(b, "<div class=\"tiles\">");
        char v[64];
        fmt_num(v, sizeof v, jnum(model, "epochs_trained"));
        tile(b, "epochs trained", v);
        fmt_num(v, sizeof v, selected);
        char label[96];
        snprintf(label, sizeof label, "selected epoch (best %s)",
                 jstr(model, "selection_metric") ? jstr(model, "selection_metric") : "?");
        tile(b, label, v);
        tile(b, "why training ended",
             jstr(model, "stop_reason") ? jstr(model, "stop_reason") : "?");
        svg_buf_puts(b, "</div>\n");
    }
    size_t n = metrics->state == INPUT_OK ? json_array_size(records) : 0;
    if (n) {
        source_line(b, metrics);
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        double *x2 = malloc(n * sizeof *x2), *y2 = malloc(n * sizeof *y2);
        if (x && y && x2 && y2) {
            size_t m = series(records, "train_loss", x, y);
            series(records, "val_loss", x2, y2);
            double lo = 0, hi = -INFINITY, xmax = m ? x[m - 1] : 1;
            range_of(y, m, &lo, &hi);
            range_of(y2, m, &lo, &hi);
            svg_buf_puts(b, "<div class=\"grid\">");
            figure_begin(b);
            svg_plot p;
            svg_plot_begin(&p, b,
                           &(svg_axes){.id = "train-loss",
                                       .width = 560,
                                       .height = 340,
                                       .title = "loss per epoch",
                                       .x_label = "epoch",
                                       .y_label = "cross-entropy loss",
                                       .x_min = 1,
                                       .x_max = xmax > 1 ? xmax : 2,
                                       .x_integer = 1,
                                       .y_min = lo,
                                       .y_max = hi});
            if (isfinite(selected))
                svg_plot_vline(&p, selected, "selected",
                               &(svg_style){.color = SVG_MUTED, .dash = "4 3", .width = 1.2});
            svg_plot_line(
                &p, x, y, m,
                &(svg_style){.color = C_TRAIN, .marker = SVG_MARK_CIRCLE, .label = "train"});
            svg_plot_line(
                &p, x2, y2, m,
                &(svg_style){.color = C_VAL, .marker = SVG_MARK_CIRCLE, .label = "validation"});
            svg_plot_end(&p);
            figure_end(b, "Training loss is the mean over the epoch's batches; validation "
                          "loss is computed after the epoch.");

            static const char *const keys[] = {"val_auc", "val_pr_auc", "val_f1", "val_precision",
                                               "val_recall"};
            static const char *const names[] = {"ROC AUC", "PR AUC", "F1", "precision", "recall"};
            lo = INFINITY;
            hi = -INFINITY;
            for (int k = 0; k < 5; k++) {
                series(records, keys[k], x2, y2);
                range_of(y2, m, &lo, &hi);
            }
            figure_begin(b);
            svg_plot_begin(&p, b,
                           &(svg_axes){.id = "train-metrics",
                                       .width = 560,
                                       .height = 340,
                                       .title = "validation metrics per epoch",
                                       .x_label = "epoch",
                                       .y_label = "metric value",
                                       .x_min = 1,
                                       .x_max = xmax > 1 ? xmax : 2,
                                       .x_integer = 1,
                                       .y_min = lo,
                                       .y_max = fmin(hi, 1),
                                       .legend_corner = SVG_BOTTOM_RIGHT});
            if (isfinite(selected))
                svg_plot_vline(&p, selected, "selected",
                               &(svg_style){.color = SVG_MUTED, .dash = "4 3", .width = 1.2});
            for (int k = 0; k < 5; k++) {
                series(records, keys[k], x2, y2);
                svg_plot_line(&p, x2, y2, m,
                              &(svg_style){.color = metric_color(k),
                                           .marker = SVG_MARK_CIRCLE,
                                           .label = names[k]});
            }
            svg_plot_end(&p);
            figure_end(b, "At the decision threshold for F1, precision and recall; "
                          "the dashed line marks the epoch whose weights were kept.");
            svg_buf_puts(b, "</div>\n");
        }
        free(x);
        free(y);
        free(x2);
        free(y2);

        /* alerts */
        size_t i, na = 0;
        json_t *r;
        json_array_foreach(records, i, r) na += jget(r, "alert") != NULL;
        if (na) {
            svg_buf_puts(b, "<h3>Alerts</h3><table><tr><th>epoch</th><th class=\"t\">rule</th>"
                            "<th>value</th><th class=\"t\">action</th></tr>\n");
            json_array_foreach(records, i, r)
            {
                if (!jget(r, "alert")) continue;
                char e[32], v[32];
                fmt_num(e, sizeof e, jnum(r, "epoch"));
                fmt_num(v, sizeof v, jnum(r, "value"));
                svg_buf_printf(b, "<tr><td>%s</td><td class=\"t\">", e);
                esc(b, jstr(r, "alert"));
                svg_buf_printf(b, "</td><td>%s</td><td class=\"t\">", v);
                esc(b, jstr(r, "action"));
                svg_buf_puts(b, "</td></tr>\n");
            }
            svg_buf_puts(b, "</table>\n");
        } else {
            svg_buf_puts(b, "<p>No alert rule fired.</p>\n");
        }
    }
    section_end(b);
}

/* ---- evaluation --------------------------------------------------------------------- */

/* The points of a curve worth drawing, copied to (bx, by): the first and last,
 * and every point that moved at least 1/600 of the unit square from the last
 * kept. Returns their count. */
static size_t thin_curve(const double *x, const double *y, size_t n, size_t *keep, double *bx,
                         double *by)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && i + 1 < n) {
            size_t j = keep[m - 1];
            if (fabs(x[i] - x[j]) < 1.0 / 600 && fabs(y[i] - y[j]) < 1.0 / 600) continue;
        }
        keep[m++] = i;
    }
    for (size_t i = 0; i < m; i++) {
        bx[i] = x[keep[i]];
        by[i] = y[keep[i]];
    }
    return m;
}

/* A square chart of [0, 1] x [0, 1] (ROC, precision-recall). */
static void unit_square_begin(svg_plot *p, svg_buf *b, const char *id, const char *title,
                              const char *x_label, const char *y_label, svg_corner legend)
{
    svg_plot_begin(p, b,
                   &(svg_axes){.id = id,
                               .width = 420,
                               .height = 400,
                               .title = title,
                               .x_label = x_label,
                               .y_label = y_label,
                               .x_max = 1,
                               .y_max = 1,
                               .x_exact = 1,
                               .y_exact = 1,
                               .legend_corner = legend});
}

void report_section_evaluation(svg_buf *b, const report_input *in, const metrics_run *runs,
                               size_t n, double threshold, const char *split)
{
    if (!section_open_with(b, "evaluation", "Evaluation", in, "predictions file")) return;
    double *tp = malloc((n + 1) * sizeof *tp), *fp = malloc((n + 1) * sizeof *fp);
    double *ax = malloc((n + 1) * sizeof *ax), *ay = malloc((n + 1) * sizeof *ay);
    double *bx = malloc((n + 1) * sizeof *bx), *by = malloc((n + 1) * sizeof *by);
    size_t *keep = malloc((n + 1) * sizeof *keep);
    if (!tp || !fp || !ax || !ay || !bx || !by || !keep || n == 0) {
        svg_buf_puts(b, "<p class=\"corrupt\">The predictions file holds no rows.</p>\n");
        goto done;
    }
    metrics_runs_cumulative(runs, n, tp, fp);
    double P = tp[n - 1], N = fp[n - 1];
    double auc = metrics_runs_auc_roc(runs, n), ap = metrics_runs_average_precision(runs, n);
    /* confusion at the threshold: rows with score >= threshold are positive */
    double ctp = 0, cfp = 0;
    for (size_t k = 0; k < n && runs[k].score >= threshold; k++)
        ctp = tp[k], cfp = fp[k];
    double cfn = P - ctp, ctn = N - cfp;
    double prec = ctp + cfp > 0 ? ctp / (ctp + cfp) : 0, rec = P > 0 ? ctp / P : 0;
    double f1 = 2 * ctp + cfp + cfn > 0 ? 2 * ctp / (2 * ctp + cfp + cfn) : 0;

    char v[64];
    svg_buf_puts(b, "<div class=\"tiles\">");
    fmt_count(v, sizeof v, P + N);
    char label[96];
    snprintf(label, sizeof label, "rows of /%s", split ? split : "?");
    tile(b, label, v);
    fmt_num(v, sizeof v, auc);
    tile(b, "ROC AUC", v);
    fmt_num(v, sizeof v, ap);
    tile(b, "PR AUC (average precision)", v);
    fmt_num(v, sizeof v, f1);
    snprintf(label, sizeof label, "F1 at threshold %g", threshold);
    tile(b, label, v);
    fmt_num(v, sizeof v, prec);
    tile(b, "precision", v);
    fmt_num(v, sizeof v, rec);
    tile(b, "recall", v);
    svg_buf_puts(b, "</div>\n<div class=\"grid\">");

    /* ROC: starts at (0, 0) */
    ax[0] = 0;
    ay[0] = 0;
    for (size_t k = 0; k < n; k++) {
        ax[k + 1] = N > 0 ? fp[k] / N : NAN;
        ay[k + 1] = P > 0 ? tp[k] / P : NAN;
    }
    size_t m = thin_curve(ax, ay, n + 1, keep, bx, by);
    char title[96];
    snprintf(title, sizeof title, "ROC curve (AUC %.4f)", auc);
    svg_plot p;
    figure_begin(b);
    unit_square_begin(&p, b, "eval-roc", title, "false positive rate", "true positive rate",
                      SVG_BOTTOM_RIGHT);
    double diag[2] = {0, 1};
    svg_plot_line(&p, diag, diag, 2,
                  &(svg_style){.color = SVG_MUTED, .dash = "4 4", .width = 1, .label = "chance"});
    svg_plot_line(&p, bx, by, m, &(svg_style){.color = C_TRAIN, .width = 2.2, .label = "model"});
    if (N > 0 && P > 0)
        svg_plot_points(&p, &(double){cfp / N}, &(double){ctp / P}, 1,
                        &(svg_style){.color = C_VAL, .label = "at the threshold"});
    svg_plot_end(&p);
    figure_end(b, NULL);

    /* PR: recall on x, precision on y */
    for (size_t k = 0; k < n; k++) {
        ax[k] = P > 0 ? tp[k] / P : NAN;
        ay[k] = tp[k] + fp[k] > 0 ? tp[k] / (tp[k] + fp[k]) : NAN;
    }
    m = thin_curve(ax, ay, n, keep, bx, by);
    snprintf(title, sizeof title, "precision-recall curve (AP %.4f)", ap);
    figure_begin(b);
    unit_square_begin(&p, b, "eval-pr", title, "recall", "precision", SVG_BOTTOM_LEFT);
    svg_plot_hline(&p, P / (P + N), "positive share (chance)",
                   &(svg_style){.color = SVG_MUTED, .dash = "4 4", .width = 1});
    svg_plot_line(&p, bx, by, m, &(svg_style){.color = C_TRAIN, .width = 2.2, .label = "model"});
    svg_plot_points(&p, &rec, &prec, 1, &(svg_style){.color = C_VAL, .label = "at the threshold"});
    svg_plot_end(&p);
    figure_end(b, NULL);

    /* threshold vs F1 / precision / recall */
    double best_f1 = -1, best_t = NAN;
    double *cx = malloc((n + 2) * sizeof *cx), *cp = malloc((n + 2) * sizeof *cp),
           *cr = malloc((n + 2) * sizeof *cr), *cf = malloc((n + 2) * sizeof *cf);
    if (cx && cp && cr && cf) {
        size_t q = 0;
        for (size_t k = 0; k < n; k++) {
            double pr = tp[k] + fp[k] > 0 ? tp[k] / (tp[k] + fp[k]) : 0;
            double rc = P > 0 ? tp[k] / P : 0;
            double f = 2 * tp[k] + fp[k] + (P - tp[k]) > 0
                           ? 2 * tp[k] / (2 * tp[k] + fp[k] + (P - tp[k]))
                           : 0;
            if (f > best_f1) best_f1 = f, best_t = runs[k].score;
            /* thin: keep a point per 1/500 of the threshold axis */
            if (q && k + 1 < n && fabs(runs[k].score - cx[q - 1]) < 1.0 / 500 &&
                fabs(f - cf[q - 1]) < 1.0 / 500)
                continue;
            cx[q] = runs[k].score;
            cp[q] = pr;
            cr[q] = rc;
            cf[q] = f;
            q++;
        }
        figure_begin(b);
        svg_plot_begin(&p, b,
                       &(svg_axes){.id = "eval-threshold",
                                   .width = 520,
                                   .height = 400,
                                   .title = "F1, precision and recall by threshold",
                                   .x_label = "decision threshold (score of class 1)",
                                   .y_label = "metric value",
                                   .x_min = 0,
                                   .x_max = 1,
                                   .y_min = 0,
                                   .y_max = 1,
                                   .x_exact = 1,
                                   .y_exact = 1,
                                   .legend_width = 90});
        svg_plot_vline(&p, threshold, "threshold",
                       &(svg_style){.color = SVG_INK, .dash = "4 3", .width = 1});
        svg_plot_line(&p, cx, cp, q,
                      &(svg_style){.color = metric_color(M_PRECISION), .label = "precision"});
        svg_plot_line(&p, cx, cr, q,
                      &(svg_style){.color = metric_color(M_RECALL), .label = "recall"});
        svg_plot_line(&p, cx, cf, q,
                      &(svg_style){.color = metric_color(M_F1), .width = 2.5, .label = "F1"});
        if (isfinite(best_t))
            svg_plot_points(&p, &best_t, &best_f1, 1,
                            &(svg_style){.color = C_VAL, .label = "best F1"});
        svg_plot_end(&p);
        char cap[200];
        snprintf(cap, sizeof cap, "Best F1 %.4f at threshold %.4g; the configured threshold is %g.",
                 best_f1, best_t, threshold);
        figure_end(b, cap);
    }
    free(cx);
    free(cp);
    free(cr);
    free(cf);

    char a1[40], a2[40], a3[40], a4[40];
    fmt_count(a1, sizeof a1, ctn);
    fmt_count(a2, sizeof a2, cfp);
    fmt_count(a3, sizeof a3, cfn);
    fmt_count(a4, sizeof a4, ctp);
    svg_buf_printf(
        b,
        "<div class=\"col\"><h3>Confusion matrix at threshold %g</h3>\n<table class=\"cm\"><tr><th "
        "class=\"t\"></th><th>predicted 0</th><th>predicted 1</th></tr>\n"
        "<tr><th class=\"t\">true 0</th><td class=\"hit\">%s</td><td "
        "class=\"miss\">%s</td></tr>\n<tr><th class=\"t\">true 1</th><td "
        "class=\"miss\">%s</td><td class=\"hit\">%s</td></tr></table>\n",
        threshold, a1, a2, a3, a4);
    svg_buf_puts(b, "</div></div>\n");
done:
    free(tp);
    free(fp);
    free(ax);
    free(ay);
    free(bx);
    free(by);
    free(keep);
    section_end(b);
}

/* ---- performance ---------------------------------------------------------------------- */

static double stat(json_t *stage, const char *key, const char *which)
{
    return jnum(jget(stage, key), which);
}

static void profile_block(svg_buf *b, const report_profile *pr)
{
    json_t *stages = jget(pr->profile, "stages");
    size_t n = json_array_size(stages);
    svg_buf_puts(b, "<h3>");
    esc(b, pr->program);
    char v[64];
    fmt_seconds(v, sizeof v, stat(pr->profile, "run_s", "max"));
    svg_buf_printf(b, " — %s on %lld ranks</h3>\n", v, (long long)jnum(pr->profile, "ranks"));
    source_line(b, &pr->in);
    if (n == 0) {
        svg_buf_puts(b, "<p class=\"missing\">No stages recorded.</p>\n");
        return;
    }
    const char *names[64];
    char labels[64][80];
    size_t m = n < 64 ? n : 64;
    double max = 0;
    for (size_t i = 0; i < m; i++) {
        json_t *s = json_array_get(stages, i);
        int depth = (int)jnum(s, "depth");
        snprintf(labels[i], sizeof labels[i], "%s%s", depth > 0 ? "\xE2\x86\xB3 " : "",
                 jstr(s, "name") ? jstr(s, "name") : "?");
        names[i] = labels[i];
        max = fmax(max, stat(s, "wall_s", "max"));
    }
    char id[80], title[120];
    snprintf(id, sizeof id, "perf-%s", pr->program);
    snprintf(title, sizeof title, "%s: wall time per stage", pr->program);
    figure_begin(b);
    svg_plot p;
    svg_plot_begin(&p, b,
                   &(svg_axes){.id = id,
                               .width = 720,
                               .height = 100 + 24.0 * (double)m,
                               .title = title,
                               .x_label = "wall time (s)",
                               .x_min = 0,
                               .x_max = max > 0 ? max * 1.1 : 1,
                               .y_categories = names,
                               .n_y_categories = (int)m,
                               .legend_width = 190});
    for (size_t i = 0; i < m; i++) {
        json_t *s = json_array_get(stages, i);
        double lo = stat(s, "wall_s", "min"), mean = stat(s, "wall_s", "mean"),
               hi = stat(s, "wall_s", "max");
        char tip[200], a[32], c[32], d[32];
        fmt_seconds(a, sizeof a, lo);
        fmt_seconds(c, sizeof c, mean);
        fmt_seconds(d, sizeof d, hi);
        snprintf(tip, sizeof tip, "%s: min %s, mean %s, max %s (rank %.0f)", jstr(s, "path"), a, c,
                 d, stat(s, "wall_s", "max_rank"));
        int depth = (int)jnum(s, "depth");
        svg_plot_bar(&p, 0, mean, (double)i + 0.2, (double)i + 0.8,
                     &(svg_style){.color = depth ? svg_palette(9) : C_TRAIN,
                                  .title = tip,
                                  .label = depth ? "nested stage, mean" : "mean over ranks"});
        svg_plot_whisker(&p, lo, hi, (double)i + 0.5,
                         &(svg_style){.color = SVG_INK, .width = 1.2, .label = "min … max"});
    }
    svg_plot_end(&p);
    figure_end(b, NULL);

    svg_buf_puts(b, "<table><tr><th class=\"t\">stage</th><th>wall min</th><th>wall mean</th>"
                    "<th>wall max</th><th>slowest rank</th><th>MPI share</th><th>peak RSS "
                    "(max)</th><th>read</th><th>written</th></tr>\n");
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(stages, i);
        char c[6][40];
        fmt_seconds(c[0], sizeof c[0], stat(s, "wall_s", "min"));
        fmt_seconds(c[1], sizeof c[1], stat(s, "wall_s", "mean"));
        fmt_seconds(c[2], sizeof c[2], stat(s, "wall_s", "max"));
        fmt_bytes(c[3], sizeof c[3], stat(s, "peak_rss_bytes", "max"));
        fmt_bytes(c[4], sizeof c[4], stat(s, "read_bytes", "mean") * jnum(pr->profile, "ranks"));
        fmt_bytes(c[5], sizeof c[5], stat(s, "write_bytes", "mean") * jnum(pr->profile, "ranks"));
        double wall = stat(s, "wall_s", "mean"), mpi = stat(s, "mpi_s", "mean");
        char share[32];
        if (wall > 0 && isfinite(mpi))
            snprintf(share, sizeof share, "%.0f %%", 100 * mpi / wall);
        else
            snprintf(share, sizeof share, "–");
        svg_buf_puts(b, "<tr><td class=\"t\">");
        esc(b, jstr(s, "path"));
        svg_buf_printf(b,
                       "</td><td>%s</td><td>%s</td><td>%s</td><td>rank %.0f</td><td>%s</td>"
                       "<td>%s</td><td>%s</td><td>%s</td></tr>\n",
                       c[0], c[1], c[2], stat(s, "wall_s", "max_rank"), share, c[3], c[4], c[5]);
    }
    svg_buf_puts(b, "</table>\n");
}

void report_section_performance(svg_buf *b, const report_profile *profiles, int n, json_t *records)
{
    section_begin(b, "performance", "Performance");
    svg_buf_puts(b, "<p>Per program and stage (profile.json): bars are the mean wall time over "
                    "ranks, whiskers span the fastest to the slowest rank. Read and written "
                    "bytes are totals over ranks; the MPI share is the stage's time inside "
                    "MPI calls.</p>\n");
    for (int i = 0; i < n; i++) {
        const report_profile *pr = &profiles[i];
        if (pr->in.state != INPUT_OK) {
            svg_buf_puts(b, "<h3>");
            esc(b, pr->program);
            svg_buf_puts(b, "</h3>");
            char what[96];
            snprintf(what, sizeof what, "profile of %s", pr->program);
            input_note(b, &pr->in, what);
            continue;
        }
        profile_block(b, pr);
    }
    size_t ne = json_array_size(records);
    double *x = ne ? malloc(ne * sizeof *x) : NULL, *y = ne ? malloc(ne * sizeof *y) : NULL;
    if (x && y) {
        size_t m = series(records, "samples_per_s", x, y);
        double lo = 0, hi = -INFINITY;
        range_of(y, m, &lo, &hi);
        if (m && isfinite(hi)) {
            svg_buf_puts(b, "<h3>Training throughput</h3>");
            figure_begin(b);
            svg_plot p;
            svg_plot_begin(&p, b,
                           &(svg_axes){.id = "perf-throughput",
                                       .width = 560,
                                       .height = 320,
                                       .title = "training samples per second, per epoch",
                                       .x_label = "epoch",
                                       .y_label = "samples/s",
                                       .x_min = 1,
                                       .x_max = m > 1 ? x[m - 1] : 2,
                                       .x_integer = 1,
                                       .y_min = lo,
                                       .y_max = hi,
                                       .legend_corner = SVG_BOTTOM_RIGHT});
            svg_plot_line(&p, x, y, m,
                          &(svg_style){.color = C_TRAIN,
                                       .marker = SVG_MARK_CIRCLE,
                                       .label = "samples/s (all ranks)"});
            svg_plot_end(&p);
            figure_end(b, "From metrics.jsonl: rows trained in the epoch over its training "
                          "time.");
        }
    }
    free(x);
    free(y);
    section_end(b);
}

/* ---- drift ---------------------------------------------------------------------------- */

typedef struct {
    json_t *col;
    int drifted;
    double statistic;
} drift_col;

static int by_drift(const void *a, const void *b)
{
    const drift_col *x = a, *y = b;
    if (x->drifted != y->drifted) return y->drifted - x->drifted;
    return (x->statistic < y->statistic) - (x->statistic > y->statistic);
}

/* Reference against current, as shares of their rows, one bar pair per bin. */
static void drift_chart(svg_buf *b, json_t *col, int index)
{
    json_t *ref = jget(col, "reference"), *cur = jget(col, "current");
    json_t *rc = jget(ref, "counts"), *cc = jget(cur, "counts");
    size_t nb = json_array_size(rc);
    if (nb == 0 || json_array_size(cc) != nb || nb > 200) return;
    double rt = 0, ct = 0, max = 0;
    for (size_t i = 0; i < nb; i++) {
        rt += json_number_value(json_array_get(rc, i));
        ct += json_number_value(json_array_get(cc, i));
    }
    const char *cats[200];
    char labels[200][48];
    json_t *edges = jget(ref, "edges"), *names = jget(ref, "categories");
    int numeric = json_array_size(edges) == nb + 1;
    for (size_t i = 0; i < nb; i++) {
        if (numeric)
            snprintf(labels[i], sizeof labels[i], "[%.4g, %.4g)",
                     json_number_value(json_array_get(edges, i)),
                     json_number_value(json_array_get(edges, i + 1)));
        else
            snprintf(labels[i], sizeof labels[i], "%s",
                     json_string_value(json_array_get(names, i))
                         ? json_string_value(json_array_get(names, i))
                         : "?");
        cats[i] = labels[i];
        double r = rt > 0 ? json_number_value(json_array_get(rc, i)) / rt : 0;
        double c = ct > 0 ? json_number_value(json_array_get(cc, i)) / ct : 0;
        max = fmax(max, fmax(r, c));
    }
    char id[64], title[200], x_label[120];
    snprintf(id, sizeof id, "drift-%d", index);
    const char *name = jstr(col, "name") ? jstr(col, "name") : "?";
    snprintf(title, sizeof title, "%s%s", name,
             json_is_true(jget(col, "drifted")) ? " — drifted" : "");
    snprintf(x_label, sizeof x_label, numeric ? "%s (value; bins of the reference)" : "%s", name);
    double e0 = numeric ? json_number_value(json_array_get(edges, 0)) : 0;
    double e1 = numeric ? json_number_value(json_array_get(edges, nb)) : (double)nb;
    svg_plot p;
    svg_plot_begin(&p, b,
                   &(svg_axes){.id = id,
                               .width = 460,
                               .height = 250,
                               .title = title,
                               .x_label = x_label,
                               .y_label = "share of rows",
                               .x_min = e0,
                               .x_max = e1,
                               .y_min = 0,
                               .y_max = max > 0 ? max * 1.05 : 1,
                               .x_categories = numeric ? NULL : cats,
                               .n_x_categories = numeric ? 0 : (int)nb,
                               .legend_width = 100});
    for (size_t i = 0; i < nb; i++) {
        double r = rt > 0 ? json_number_value(json_array_get(rc, i)) / rt : 0;
        double c = ct > 0 ? json_number_value(json_array_get(cc, i)) / ct : 0;
        double lo = numeric ? json_number_value(json_array_get(edges, i)) : (double)i + 0.1;
        double hi = numeric ? json_number_value(json_array_get(edges, i + 1)) : (double)i + 0.9;
        double mid = 0.5 * (lo + hi), gap = numeric ? 0.04 * (hi - lo) : 0;
        char tip[200];
        snprintf(tip, sizeof tip, "%s: reference %.2f %%, current %.2f %%", labels[i], 100 * r,
                 100 * c);
        svg_plot_bar(&p, lo + gap, mid, 0, r,
                     &(svg_style){.color = C_TRAIN, .label = "reference", .title = tip});
        svg_plot_bar(&p, mid, hi - gap, 0, c,
                     &(svg_style){.color = C_VAL, .label = "current", .title = tip});
    }
    svg_plot_end(&p);
}

void report_section_drift(svg_buf *b, const report_input *in, json_t *d)
{
    if (!section_open_with(b, "drift", "Drift (hpcml-predict)", in, "drift record (drift.json)"))
        return;
    char v[64];
    svg_buf_puts(b, "<div class=\"tiles\">");
    tile(b, "dataset drift", json_is_true(jget(d, "dataset_drift")) ? "yes" : "no");
    snprintf(v, sizeof v, "%.0f of %.0f", jnum(d, "drifted_columns"), jnum(d, "columns_total"));
    tile(b, "drifted columns", v);
    fmt_count(v, sizeof v, jnum(d, "rows_reference"));
    tile(b, "reference rows", v);
    fmt_count(v, sizeof v, jnum(d, "rows_current"));
    tile(b, "current rows", v);
    svg_buf_puts(b, "</div>\n");

    json_t *cols = jget(d, "columns");
    size_t n = json_array_size(cols);
    drift_col *dc = n ? malloc(n * sizeof *dc) : NULL;
    if (dc) {
        for (size_t i = 0; i < n; i++) {
            json_t *c = json_array_get(cols, i);
            dc[i] = (drift_col){c, json_is_true(jget(c, "drifted")), jnum(c, "statistic")};
            if (isnan(dc[i].statistic)) dc[i].statistic = -INFINITY;
        }
        qsort(dc, n, sizeof *dc, by_drift);
        svg_buf_puts(b, "<table><tr><th class=\"t\">column</th><th class=\"t\">type</th>"
                        "<th class=\"t\">method</th><th>statistic</th><th>p-value</th>"
                        "<th>threshold</th><th class=\"t\">drifted</th><th>PSI</th>"
                        "<th>Jensen-Shannon</th><th>nulls ref.</th><th>nulls cur.</th></tr>\n");
        for (size_t i = 0; i < n; i++) {
            json_t *c = dc[i].col;
            char s[7][32];
            fmt_num(s[0], sizeof s[0], jnum(c, "statistic"));
            fmt_num(s[1], sizeof s[1], jnum(c, "p_value"));
            fmt_num(s[2], sizeof s[2], jnum(c, "threshold"));
            fmt_num(s[3], sizeof s[3], jnum(c, "psi"));
            fmt_num(s[4], sizeof s[4], jnum(c, "jensenshannon"));
            snprintf(s[5], sizeof s[5], "%.2f %%", 100 * jnum(c, "null_share_reference"));
            snprintf(s[6], sizeof s[6], "%.2f %%", 100 * jnum(c, "null_share_current"));
            svg_buf_printf(b, "<tr%s><td class=\"t\">", dc[i].drifted ? " class=\"drifted\"" : "");
            esc(b, jstr(c, "name"));
            svg_buf_puts(b, "</td><td class=\"t\">");
            esc(b, jstr(c, "type"));
            svg_buf_puts(b, "</td><td class=\"t\">");
            esc(b, jstr(c, "method"));
            svg_buf_printf(b,
                           "</td><td>%s</td><td>%s</td><td>%s</td><td class=\"t\">%s</td>"
                           "<td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                           s[0], s[1], s[2], dc[i].drifted ? "yes" : "no", s[3], s[4], s[5], s[6]);
        }
        svg_buf_puts(b, "</table>\n<div class=\"grid\">");
        size_t shown = n < 12 ? n : 12;
        for (size_t i = 0; i < shown; i++) {
            figure_begin(b);
            drift_chart(b, dc[i].col, (int)i);
            figure_end(b, NULL);
        }
        svg_buf_puts(b, "</div>\n");
        if (n > shown)
            svg_buf_printf(b,
                           "<p>Distributions of the first %zu columns (drifted first); the "
                           "table lists all %zu.</p>\n",
                           shown, n);
    }
    free(dc);
    section_end(b);
}
