/* drift_report.c — the effects around drift.c: options from the config, the
 * MPI merge of a summary set, drift.json and drift.svg (drift_report.h). */
#include "monitor/drift_report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic_file.h"
#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "core/svg.h"

int drift_options_load(const hpcml_config *cfg, drift_options *o)
{
    drift_options_default(o);
    const char *nm = cfg_str(cfg, "monitoring.numeric_method");
    const char *cm = cfg_str(cfg, "monitoring.categorical_method");
    if (drift_method_parse(nm, &o->numeric_method) != 0 ||
        o->numeric_method == DRIFT_METHOD_CHISQUARE)
        return HPCML_FAIL(HPCML_EUSAGE,
                          "monitoring.numeric_method = \"%s\": expected auto, ks, psi or "
                          "jensenshannon",
                          nm);
    if (drift_method_parse(cm, &o->categorical_method) != 0 ||
        o->categorical_method == DRIFT_METHOD_KS)
        return HPCML_FAIL(HPCML_EUSAGE,
                          "monitoring.categorical_method = \"%s\": expected auto, chisquare, psi "
                          "or jensenshannon",
                          cm);
    o->auto_max_rows = cfg_int(cfg, "monitoring.auto_max_rows");
    o->ks_threshold = cfg_float(cfg, "monitoring.ks_threshold");
    o->chisquare_threshold = cfg_float(cfg, "monitoring.chisquare_threshold");
    o->psi_threshold = cfg_float(cfg, "monitoring.psi_threshold");
    o->jensenshannon_threshold = cfg_float(cfg, "monitoring.jensenshannon_threshold");
    o->bins = (int)cfg_int(cfg, "monitoring.bins");
    o->drift_share = cfg_float(cfg, "monitoring.drift_share");
    return HPCML_OK;
}

int drift_set_allreduce(MPI_Comm comm, drift_set *set)
{
    int64_t n = drift_set_n_words(set);
    int64_t *w = malloc((size_t)(n > 0 ? n : 1) * sizeof *w);
    int rc = w ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory (drift summary)");
    HPCML_TRY(hpcml_mpi_agree(comm, rc));
    drift_set_pack(set, w);
    /* in pieces below 2^31 elements (MPI counts are int) */
    for (int64_t lo = 0; lo < n && rc == HPCML_OK; lo += 1 << 30) {
        int count = (int)(n - lo < (1 << 30) ? n - lo : (1 << 30));
        if (MPI_Allreduce(MPI_IN_PLACE, w + lo, count, MPI_INT64_T, MPI_SUM, comm) != MPI_SUCCESS)
            rc = HPCML_FAIL(HPCML_EINTERNAL, "MPI_Allreduce of the drift summary failed");
    }
    if (rc == HPCML_OK) drift_set_unpack(set, w);
    free(w);
    return rc;
}

/* ---- drift.json ------------------------------------------------------------------ */
static json_t *real_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *int_array(const int64_t *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

/* numeric: {"edges", "counts"}; categorical: {"categories", "counts"} with the
 * unknown slot (slot 0) moved last, as the drift.json contract orders them */
static json_t *distribution(const drift_column_result *c, const int64_t *counts)
{
    json_t *d = json_object();
    if (c->type == DRIFT_NUMERIC) {
        json_t *e = json_array();
        for (int i = 0; i <= c->n_bins; i++)
            json_array_append_new(e, real_or_null(c->edges[i]));
        json_object_set_new(d, "edges", e);
        json_object_set_new(d, "counts", int_array(counts, c->n_bins));
        return d;
    }
    json_t *names = json_array(), *n = json_array();
    for (int k = 1; k <= c->n_bins; k++) {
        int slot = k < c->n_bins ? k : 0;
        const char *name = c->categories ? c->categories[slot] : NULL;
        char num[24];
        if (!name) {
            snprintf(num, sizeof num, "%d", slot);
            name = num;
        }
        json_array_append_new(names, json_string(slot == 0 ? "<unknown>" : name));
        json_array_append_new(n, json_integer((json_int_t)counts[slot]));
    }
    json_object_set_new(d, "categories", names);
    json_object_set_new(d, "counts", n);
    return d;
}

static json_t *column_json(const drift_column_result *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name ? c->name : ""));
    json_object_set_new(o, "type",
                        json_string(c->type == DRIFT_NUMERIC ? "numeric" : "categorical"));
    json_object_set_new(o, "method", json_string(drift_method_name(c->method)));
    json_object_set_new(o, "statistic", real_or_null(c->statistic));
    json_object_set_new(o, "p_value", real_or_null(c->p_value));
    json_object_set_new(o, "threshold", json_real(c->threshold));
    json_object_set_new(o, "drifted", json_boolean(c->drifted));
    json_object_set_new(o, "psi", real_or_null(c->psi));
    json_object_set_new(o, "jensenshannon", real_or_null(c->jensenshannon));
    if (c->type == DRIFT_NUMERIC) {
        json_object_set_new(o, "ks", real_or_null(c->ks));
        json_object_set_new(o, "ks_p_value", real_or_null(c->ks_p_value));
    } else {
        json_object_set_new(o, "chisquare", real_or_null(c->chisquare));
        json_object_set_new(o, "chisquare_p_value", real_or_null(c->chisquare_p_value));
        json_object_set_new(o, "chisquare_df", real_or_null(c->chisquare_df));
    }
    json_object_set_new(o, "rows_reference", json_integer((json_int_t)c->rows_reference));
    json_object_set_new(o, "rows_current", json_integer((json_int_t)c->rows_current));
    json_object_set_new(o, "null_share_reference", real_or_null(c->null_share_reference));
    json_object_set_new(o, "null_share_current", real_or_null(c->null_share_current));
    json_object_set_new(o, "reference", distribution(c, c->reference_counts));
    json_object_set_new(o, "current", distribution(c, c->current_counts));
    return o;
}

int drift_write_json(const char *path, const char *model, const drift_result *r)
{
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(DRIFT_JSON_FORMAT));
    json_object_set_new(root, "version", json_integer(DRIFT_JSON_VERSION));
    json_object_set_new(root, "model", json_string(model ? model : ""));
    json_object_set_new(root, "rows_reference", json_integer((json_int_t)r->rows_reference));
    json_object_set_new(root, "rows_current", json_integer((json_int_t)r->rows_current));
    json_object_set_new(root, "dataset_drift", json_boolean(r->dataset_drift));
    json_object_set_new(root, "drifted_columns", json_integer(r->drifted_columns));
    json_object_set_new(root, "columns_total", json_integer(r->n_cols));
    json_object_set_new(root, "drift_share", json_real(r->drift_share));
    json_object_set_new(root, "summary_alpha", json_real(DRIFT_ALPHA));
    json_t *cols = json_array();
    for (int i = 0; i < r->n_cols; i++)
        json_array_append_new(cols, column_json(&r->cols[i]));
    json_object_set_new(root, "columns", cols);
    int rc = atomic_write_json(path, root,
                               JSON_PRESERVE_ORDER | JSON_INDENT(1) | JSON_REAL_PRECISION(15));
    json_decref(root);
    return rc;
}

/* ---- drift.svg ---------------------------------------------------------------------- */
#define SVG_CHART_W        460
#define SVG_CHART_H        270
#define SVG_COLS           2
#define SVG_MAX_CATEGORIES 30 /* the most used slots of a wide vocabulary, unknown always */
#define SVG_DRIFT_RED      "#d62728"

/* Slots to draw for a categorical column: all, or the unknown slot and the
 * SVG_MAX_CATEGORIES - 1 slots with the largest share in either sample. */
static int pick_slots(const drift_column_result *c, int *slots)
{
    int n = c->n_bins;
    int64_t nr = 0, nc = 0;
    for (int k = 0; k < n; k++) {
        nr += c->reference_counts[k];
        nc += c->current_counts[k];
    }
    if (n <= SVG_MAX_CATEGORIES) {
        for (int k = 0; k < n; k++)
            slots[k] = k == n - 1 ? 0 : k + 1; /* unknown last, as in drift.json */
        return n;
    }
    int m = 0;
    for (int k = 1; k < n; k++) {
        double s = fmax(nr ? (double)c->reference_counts[k] / (double)nr : 0,
                        nc ? (double)c->current_counts[k] / (double)nc : 0);
        /* insertion into the top list, largest first (ties: lower slot) */
        int pos = m < SVG_MAX_CATEGORIES - 1 ? m : SVG_MAX_CATEGORIES - 1;
        while (pos > 0) {
            int q = slots[pos - 1];
            double sq = fmax(nr ? (double)c->reference_counts[q] / (double)nr : 0,
                             nc ? (double)c->current_counts[q] / (double)nc : 0);
            if (sq >= s) break;
            if (pos < SVG_MAX_CATEGORIES - 1) slots[pos] = q;
            pos--;
        }
        if (pos < SVG_MAX_CATEGORIES - 1) {
            slots[pos] = k;
            if (m < SVG_MAX_CATEGORIES - 1) m++;
        }
    }
    slots[m++] = 0;
    return m;
}

static void column_chart(svg_buf *b, const drift_column_result *c)
{
    int n = c->n_bins;
    int *slots = malloc((size_t)(n > 0 ? n : 1) * sizeof *slots);
    const char **labels = malloc((size_t)(n > 0 ? n : 1) * sizeof *labels);
    if (!slots || !labels) {
        free(slots);
        free(labels);
        b->oom = 1;
        return;
    }
    int shown = n;
    if (c->type == DRIFT_CATEGORICAL) {
        shown = pick_slots(c, slots);
        for (int i = 0; i < shown; i++)
            labels[i] = slots[i] == 0 ? "<unknown>" : c->categories ? c->categories[slots[i]] : "?";
    } else {
        for (int i = 0; i < n; i++)
            slots[i] = i;
    }
    int64_t nr = 0, nc = 0;
    for (int k = 0; k < n; k++) {
        nr += c->reference_counts[k];
        nc += c->current_counts[k];
    }
    double ymax = 0;
    for (int i = 0; i < shown; i++) {
        int k = slots[i];
        if (nr) ymax = fmax(ymax, (double)c->reference_counts[k] / (double)nr);
        if (nc) ymax = fmax(ymax, (double)c->current_counts[k] / (double)nc);
    }
    char title[400], xlabel[200];
    char stat[64];
    if (isfinite(c->statistic))
        snprintf(stat, sizeof stat, "%.4g", c->statistic);
    else
        snprintf(stat, sizeof stat, "n/a");
    if (c->p_value == c->p_value)
        snprintf(title, sizeof title, "%s%s: %s %s, p = %.3g (drift if p < %g)",
                 c->drifted ? "DRIFT  " : "", c->name ? c->name : "", drift_method_name(c->method),
                 stat, c->p_value, c->threshold);
    else
        snprintf(title, sizeof title, "%s%s: %s %s (drift if >= %g)", c->drifted ? "DRIFT  " : "",
                 c->name ? c->name : "", drift_method_name(c->method), stat, c->threshold);
    if (c->type == DRIFT_NUMERIC)
        snprintf(xlabel, sizeof xlabel, "bin (reference quantiles), %.4g .. %.4g",
                 n > 0 ? c->edges[0] : 0.0, n > 0 ? c->edges[n] : 0.0);
    else
        snprintf(xlabel, sizeof xlabel, "category%s",
                 shown < n ? " (the most frequent and <unknown>)" : "");
    svg_plot p;
    svg_plot_begin(&p, b,
                   &(svg_axes){.width = SVG_CHART_W,
                               .height = SVG_CHART_H,
                               .title = title,
                               .x_label = xlabel,
                               .y_label = "share of rows",
                               .x_min = 0,
                               .x_max = shown > 0 ? shown : 1,
                               .x_exact = 1,
                               .x_integer = 1,
                               .y_min = 0,
                               .y_max = ymax > 0 ? ymax * 1.4 : 1, /* room for the legend */
                               .x_categories = c->type == DRIFT_CATEGORICAL ? labels : NULL,
                               .n_x_categories = c->type == DRIFT_CATEGORICAL ? shown : 0});
    svg_style ref = {.color = svg_palette(0), .label = "reference (train)"};
    svg_style cur = {.color = svg_palette(1), .label = "current"};
    for (int i = 0; i < shown; i++) {
        int k = slots[i];
        if (nr)
            svg_plot_bar(&p, i + 0.1, i + 0.5, 0, (double)c->reference_counts[k] / (double)nr,
                         &ref);
        if (nc)
            svg_plot_bar(&p, i + 0.5, i + 0.9, 0, (double)c->current_counts[k] / (double)nc, &cur);
    }
    svg_plot_legend(&p, &ref, 1);
    svg_plot_legend(&p, &cur, 1);
    if (c->drifted)
        svg_plot_text(&p, 0.2, ymax > 0 ? ymax * 1.3 : 0.95, "start", "drifted",
                      &(svg_style){.color = SVG_DRIFT_RED, .cls = "drifted"});
    svg_plot_end(&p);
    free(slots);
    free(labels);
}

int drift_write_svg(const char *path, const drift_result *r)
{
    int rows = (r->n_cols + SVG_COLS - 1) / SVG_COLS;
    double top = 40, w = SVG_COLS * SVG_CHART_W, h = top + rows * SVG_CHART_H;
    svg_buf b;
    svg_buf_init(&b);
    svg_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    svg_buf_printf(&b,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                   "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
                   w, h, w, h);
    svg_buf_printf(&b,
                   "<text x=\"12\" y=\"26\" font-size=\"16\" fill=\"%s\">data drift: %s "
                   "(%d of %d columns drifted, dataset drift when share &gt;= %g); "
                   "reference %lld rows, current %lld rows</text>\n",
                   r->dataset_drift ? SVG_DRIFT_RED : SVG_INK,
                   r->dataset_drift ? "DATASET DRIFT" : "no dataset drift", r->drifted_columns,
                   r->n_cols, r->drift_share, (long long)r->rows_reference,
                   (long long)r->rows_current);
    for (int i = 0; i < r->n_cols; i++) {
        const drift_column_result *c = &r->cols[i];
        svg_buf_printf(&b, "<g transform=\"translate(%d %.0f)\" class=\"column%s\">\n",
                       (i % SVG_COLS) * SVG_CHART_W, top + (i / SVG_COLS) * SVG_CHART_H,
                       c->drifted ? " drifted" : "");
        column_chart(&b, c);
        if (c->drifted) /* after the chart, which paints its own background */
            svg_buf_printf(&b,
                           "<rect x=\"2\" y=\"2\" width=\"%d\" height=\"%d\" fill=\"none\" "
                           "stroke=\"%s\" stroke-width=\"2\"/>\n",
                           SVG_CHART_W - 4, SVG_CHART_H - 4, SVG_DRIFT_RED);
        svg_buf_puts(&b, "</g>\n");
    }
    svg_buf_puts(&b, "</svg>\n");
    char *text = svg_buf_take(&b);
    if (!text) return HPCML_FAIL(HPCML_EINTERNAL, "out of memory drawing %s", path);
    int rc = atomic_write_text(path, text);
    free(text);
    return rc;
}
