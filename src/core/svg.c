/* svg.c — charts as SVG text (svg.h): buffer, escaping, ticks, axes, marks, legend. */
#include "core/svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text buffer ---------------------------------------------------------------- */

void svg_buf_init(svg_buf *b)
{
    memset(b, 0, sizeof *b);
}

void svg_buf_free(svg_buf *b)
{
    free(b->data);
    svg_buf_init(b);
}

static int buf_reserve(svg_buf *b, size_t extra)
{
    if (b->oom) return 0;
    if (b->len + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = 1;
        return 0;
    }
    b->data = d;
    b->cap = cap;
    return 1;
}

static void buf_write(svg_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void svg_buf_puts(svg_buf *b, const char *s)
{
    buf_write(b, s, strlen(s));
}

void svg_buf_printf(svg_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        buf_write(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void svg_buf_escape(svg_buf *b, const char *s)
{
    if (!s) return;
    const char *run = s;
    for (; *s; s++) {
        const char *ent = NULL;
        switch (*s) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&#39;"; break;
        default:
            /* control characters other than tab/newline are not allowed in XML 1.0 */
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n') ent = "?";
        }
        if (ent) {
            buf_write(b, run, (size_t)(s - run));
            svg_buf_puts(b, ent);
            run = s + 1;
        }
    }
    buf_write(b, run, (size_t)(s - run));
}

char *svg_buf_take(svg_buf *b)
{
    if (!b->oom && !b->data) buf_reserve(b, 0);
    if (b->oom) {
        svg_buf_free(b);
        return NULL;
    }
    b->data[b->len] = '\0';
    char *d = b->data;
    svg_buf_init(b);
    return d;
}

/* ---- colours ---------------------------------------------------------------------- */

const char *svg_palette(int i)
{
    static const char *const tableau10[SVG_PALETTE_N] = {
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
        "#edc948", "#b07aa1", "#9c755f", "#ff9da7", "#bab0ac",
    };
    if (i < 0) i = -i;
    return tableau10[i % SVG_PALETTE_N];
}

/* ---- ticks -------------------------------------------------------------------------- */

double svg_tick_step(double lo, double hi, int target, int integer_only)
{
    if (target < 1) target = 1;
    double span = hi - lo;
    if (!(span > 0) || !isfinite(span)) return 1;
    double raw = span / target;
    double mag = pow(10, floor(log10(raw)));
    static const double mult[] = {1, 2, 2.5, 5, 10};
    double step = 10 * mag;
    for (size_t i = 0; i < sizeof mult / sizeof mult[0]; i++) {
        double s = mult[i] * mag;
        if (integer_only && s != floor(s)) continue;
        if (s >= raw * (1 - 1e-9)) {
            step = s;
            break;
        }
    }
    if (integer_only && step < 1) step = 1;
    return step;
}

int svg_ticks(double lo, double hi, double step, double *out, int cap)
{
    if (!(step > 0) || !isfinite(lo) || !isfinite(hi)) return 0;
    double tol = step * 1e-6;
    double k0 = ceil((lo - tol) / step), k1 = floor((hi + tol) / step);
    int n = 0;
    for (double k = k0; k <= k1 && n < cap; k++) {
        double v = k * step;
        if (fabs(v) < tol) v = 0;
        out[n++] = v;
    }
    return n;
}

static int step_decimals(double step)
{
    for (int d = 0; d < 12; d++) {
        double s = step * pow(10, d);
        if (fabs(s - round(s)) <= 1e-6 * s) return d;
    }
    return 12;
}

/* Whether a tick label at this magnitude gets a k/M/G/T suffix. */
static int big_unit(double top)
{
    return top >= 1e4;
}

void svg_tick_label(char *out, size_t n, double v, double step)
{
    if (!(step > 0)) step = fabs(v) > 0 ? fabs(v) : 1;
    if (fabs(v) < step * 1e-6) v = 0;
    if (v == 0) {
        snprintf(out, n, "%.*f", big_unit(fmax(fabs(v), step)) ? 0 : step_decimals(step), 0.0);
        return;
    }
    static const struct {
        double scale;
        const char *suffix;
    } big[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
    double top = fmax(fabs(v), step);
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        if (top >= big[i].scale * (big[i].scale == 1e3 ? 10 : 1)) {
            snprintf(out, n, "%.*f%s", step_decimals(step / big[i].scale), v / big[i].scale,
                     big[i].suffix);
            return;
        }
    snprintf(out, n, "%.*f", step_decimals(step), v);
}

/* ---- charts ------------------------------------------------------------------------ */

/* Rough width of sans-serif text at the given size, for layout only. */
static double text_width(const char *s, double font_px)
{
    size_t chars = 0;
    for (; s && *s; s++)
        chars += ((unsigned char)*s & 0xC0) != 0x80; /* UTF-8 code points */
    return (double)chars * font_px * 0.58;
}

static void widen(double *lo, double *hi, int integer_only)
{
    if (!isfinite(*lo) || !isfinite(*hi) || *lo > *hi) {
        *lo = 0;
        *hi = 1;
    }
    if (*hi - *lo <= 1e-12 * fmax(1, fabs(*hi))) {
        double d = integer_only || *lo == 0 ? 1 : fabs(*lo) * 0.1;
        *lo -= d;
        *hi += d;
    }
}

static void axis_range(double lo, double hi, int exact, int integer_only, int target,
                       double *out_lo, double *out_hi, double *step)
{
    widen(&lo, &hi, integer_only);
    *step = svg_tick_step(lo, hi, target, integer_only);
    if (!exact) {
        lo = floor(lo / *step + 1e-9) * *step;
        hi = ceil(hi / *step - 1e-9) * *step;
        if (hi <= lo) hi = lo + *step;
    }
    *out_lo = lo;
    *out_hi = hi;
}

double svg_plot_x(const svg_plot *p, double x)
{
    return p->left + (p->right - p->left) * (x - p->x0) / (p->x1 - p->x0);
}

double svg_plot_y(const svg_plot *p, double y)
{
    if (p->ax.n_y_categories > 0) /* band 0 at the top */
        return p->top + (p->bottom - p->top) * (y - p->y0) / (p->y1 - p->y0);
    return p->bottom - (p->bottom - p->top) * (y - p->y0) / (p->y1 - p->y0);
}

static void escaped_attr(svg_buf *b, const char *name, const char *value)
{
    if (!value || !*value) return;
    svg_buf_printf(b, " %s=\"", name);
    svg_buf_escape(b, value);
    svg_buf_puts(b, "\"");
}

void svg_plot_begin(svg_plot *p, svg_buf *out, const svg_axes *ax)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->ax = *ax;
    double W = ax->width > 0 ? ax->width : 640, H = ax->height > 0 ? ax->height : 360;
    p->ax.width = W;
    p->ax.height = H;
    p->top = ax->title ? 46 : 16;
    p->bottom = H - (ax->x_label ? 46 : 28);
    p->right = W - (ax->legend_width > 0 ? ax->legend_width + 16 : 18);

    /* y axis first: its labels decide the left margin */
    double ystep = 1, yt[64];
    int nyt = 0;
    double left_need = 0;
    if (ax->n_y_categories > 0) {
        p->y0 = 0;
        p->y1 = ax->n_y_categories;
        for (int i = 0; i < ax->n_y_categories; i++)
            left_need = fmax(left_need, text_width(ax->y_categories[i], 12));
    } else {
        int target = (int)fmax(2, (p->bottom - p->top) / 50);
        axis_range(ax->y_min, ax->y_max, ax->y_exact, ax->y_integer, target, &p->y0, &p->y1,
                   &ystep);
        nyt = svg_ticks(p->y0, p->y1, ystep, yt, 64);
        for (int i = 0; i < nyt; i++) {
            char s[48];
            svg_tick_label(s, sizeof s, yt[i], ystep);
            left_need = fmax(left_need, text_width(s, 12));
        }
    }
    p->left = ax->left_margin > 0 ? ax->left_margin : left_need + 14 + (ax->y_label ? 24 : 0);
    if (p->left < 40) p->left = 40;

    double xstep = 1, xt[64];
    int nxt = 0;
    if (ax->n_x_categories > 0) {
        p->x0 = 0;
        p->x1 = ax->n_x_categories;
    } else {
        int target = (int)fmax(2, (p->right - p->left) / 80);
        axis_range(ax->x_min, ax->x_max, ax->x_exact, ax->x_integer, target, &p->x0, &p->x1,
                   &xstep);
        nxt = svg_ticks(p->x0, p->x1, xstep, xt, 64);
    }

    if (ax->standalone) svg_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    svg_buf_printf(out,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%.0f\" "
                   "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
                   "font-size=\"12\" fill=\"" SVG_INK "\"",
                   W, H, W, H);
    escaped_attr(out, "id", ax->id);
    svg_buf_puts(out, " role=\"img\">\n");
    if (ax->title) {
        svg_buf_puts(out, "<title>");
        svg_buf_escape(out, ax->title);
        svg_buf_puts(out, "</title>\n");
    }
    svg_buf_printf(out, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", W, H);
    if (ax->title) {
        svg_buf_printf(out, "<text x=\"%.1f\" y=\"22\" font-size=\"15\" font-weight=\"bold\">",
                       p->left);
        svg_buf_escape(out, ax->title);
        svg_buf_puts(out, "</text>\n");
    }

    /* grid and tick labels */
    svg_buf_puts(out, "<g class=\"axes\">\n");
    for (int i = 0; i < nyt; i++) {
        char s[48];
        svg_tick_label(s, sizeof s, yt[i], ystep);
        double y = svg_plot_y(p, yt[i]);
        svg_buf_printf(out,
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" SVG_GRID
                       "\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                       p->left, y, p->right, y, p->left - 6, y + 4, s);
    }
    for (int i = 0; i < ax->n_y_categories; i++) {
        svg_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", p->left - 6,
                       svg_plot_y(p, i + 0.5) + 4);
        svg_buf_escape(out, ax->y_categories[i]);
        svg_buf_puts(out, "</text>\n");
    }
    for (int i = 0; i < nxt; i++) {
        char s[48];
        svg_tick_label(s, sizeof s, xt[i], xstep);
        double x = svg_plot_x(p, xt[i]);
        svg_buf_printf(out,
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" SVG_GRID
                       "\"/><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" SVG_INK
                       "\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                       x, p->top, x, p->bottom, x, p->bottom, x, p->bottom + 4, x, p->bottom + 17,
                       s);
    }
    /* category labels: shortened to their band when they would collide */
    double band = ax->n_x_categories > 0 ? (p->right - p->left) / ax->n_x_categories : 0;
    for (int i = 0; i < ax->n_x_categories; i++) {
        const char *name = ax->x_categories[i];
        char shortened[64];
        size_t max_chars = (size_t)fmax(2, band / (12 * 0.58));
        if (strlen(name) > max_chars && max_chars + 4 < sizeof shortened) {
            snprintf(shortened, sizeof shortened, "%.*s\xE2\x80\xA6", (int)(max_chars - 1), name);
            name = shortened;
        }
        svg_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                       svg_plot_x(p, i + 0.5), p->bottom + 17);
        if (name != ax->x_categories[i]) {
            svg_buf_puts(out, "<title>");
            svg_buf_escape(out, ax->x_categories[i]);
            svg_buf_puts(out, "</title>");
        }
        svg_buf_escape(out, name);
        svg_buf_puts(out, "</text>\n");
    }
    svg_buf_printf(out,
                   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                   "stroke=\"" SVG_INK "\"/>\n",
                   p->left, p->top, p->right - p->left, p->bottom - p->top);
    if (ax->x_label) {
        svg_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                       (p->left + p->right) / 2, H - 10);
        svg_buf_escape(out, ax->x_label);
        svg_buf_puts(out, "</text>\n");
    }
    if (ax->y_label) {
        svg_buf_printf(out,
                       "<text transform=\"translate(16 %.1f) rotate(-90)\" "
                       "text-anchor=\"middle\">",
                       (p->top + p->bottom) / 2);
        svg_buf_escape(out, ax->y_label);
        svg_buf_puts(out, "</text>\n");
    }
    svg_buf_puts(out, "</g>\n");
}

static const char *style_color(const svg_style *st)
{
    return st && st->color ? st->color : svg_palette(0);
}

static double style_width(const svg_style *st)
{
    return st && st->width > 0 ? st->width : 1.8;
}

void svg_plot_legend(svg_plot *p, const svg_style *st, int box)
{
    if (!st || !st->label || p->n_legend >= SVG_LEGEND_MAX) return;
    for (int i = 0; i < p->n_legend; i++)
        if (strcmp(p->legend[i].label, st->label) == 0) return;
    svg_legend_entry *e = &p->legend[p->n_legend++];
    snprintf(e->label, sizeof e->label, "%s", st->label);
    snprintf(e->color, sizeof e->color, "%s", style_color(st));
    snprintf(e->dash, sizeof e->dash, "%s", st->dash ? st->dash : "");
    e->width = st->width < 0 ? -1 : style_width(st);
    e->marker = st->marker;
    e->box = box;
}

/* Stroke attributes of a style: stroke, width, dash, opacity, class. */
static void stroke_attrs(svg_buf *b, const svg_style *st)
{
    svg_buf_printf(b, " stroke=\"%s\" stroke-width=\"%.2g\"", style_color(st), style_width(st));
    if (st && st->dash) svg_buf_printf(b, " stroke-dasharray=\"%s\"", st->dash);
    if (st && st->opacity > 0 && st->opacity < 1)
        svg_buf_printf(b, " stroke-opacity=\"%.2f\"", st->opacity);
    if (st) escaped_attr(b, "class", st->cls);
}

static void title_element(svg_buf *b, const svg_style *st)
{
    if (!st || !st->title) return;
    svg_buf_puts(b, "<title>");
    svg_buf_escape(b, st->title);
    svg_buf_puts(b, "</title>");
}

static int in_frame(const svg_plot *p, double x, double y)
{
    double xl = fmin(p->x0, p->x1), xh = fmax(p->x0, p->x1);
    double yl = fmin(p->y0, p->y1), yh = fmax(p->y0, p->y1);
    double tx = 1e-9 * (xh - xl), ty = 1e-9 * (yh - yl);
    return isfinite(x) && isfinite(y) && x >= xl - tx && x <= xh + tx && y >= yl - ty &&
           y <= yh + ty;
}

static void marker_at(svg_buf *b, svg_marker m, double x, double y, double r)
{
    switch (m) {
    case SVG_MARK_CROSS:
        svg_buf_printf(b, "<path d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f\" fill=\"none\"/>",
                       x - r, y - r, x + r, y + r, x - r, y + r, x + r, y - r);
        break;
    case SVG_MARK_SQUARE:
        svg_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x - r,
                       y - r, 2 * r, 2 * r);
        break;
    default: svg_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"/>", x, y, r);
    }
}

void svg_plot_line(svg_plot *p, const double *x, const double *y, size_t n, const svg_style *st)
{
    svg_buf *b = p->out;
    int open = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in_frame(p, x[i], y[i])) {
            if (open) svg_buf_puts(b, "\"/>\n");
            open = 0;
            continue;
        }
        if (!open) {
            svg_buf_puts(b, "<polyline fill=\"none\" stroke-linejoin=\"round\"");
            stroke_attrs(b, st);
            svg_buf_puts(b, " points=\"");
        }
        svg_buf_printf(b, "%s%.1f,%.1f", open ? " " : "", svg_plot_x(p, x[i]), svg_plot_y(p, y[i]));
        open = 1;
    }
    if (open) svg_buf_puts(b, "\"/>\n");
    if (st && st->marker)
        svg_plot_points(p, x, y, n,
                        &(svg_style){.color = st->color,
                                     .marker = st->marker,
                                     .width = st->width,
                                     .opacity = st->opacity});
    svg_plot_legend(p, st, 0);
}

void svg_plot_points(svg_plot *p, const double *x, const double *y, size_t n, const svg_style *st)
{
    svg_buf *b = p->out;
    svg_marker m = st && st->marker ? st->marker : SVG_MARK_CIRCLE;
    const char *c = style_color(st);
    if (m == SVG_MARK_CROSS)
        svg_buf_printf(b, "<g fill=\"none\" stroke=\"%s\" stroke-width=\"%.2g\"", c,
                       style_width(st));
    else
        svg_buf_printf(b, "<g fill=\"%s\" stroke=\"white\" stroke-width=\"0.6\"", c);
    if (st && st->opacity > 0 && st->opacity < 1)
        svg_buf_printf(b, " opacity=\"%.2f\"", st->opacity);
    if (st) escaped_attr(b, "class", st->cls);
    svg_buf_puts(b, ">");
    title_element(b, st);
    for (size_t i = 0; i < n; i++)
        if (in_frame(p, x[i], y[i]))
            marker_at(b, m, svg_plot_x(p, x[i]), svg_plot_y(p, y[i]), m == SVG_MARK_CROSS ? 4 : 3);
    svg_buf_puts(b, "</g>\n");
    if (st && st->label) {
        svg_style legend = *st;
        legend.marker = m;
        legend.width = -1; /* marker only */
        svg_plot_legend(p, &legend, 0);
    }
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void svg_plot_bar(svg_plot *p, double x_lo, double x_hi, double y_lo, double y_hi,
                  const svg_style *st)
{
    if (!isfinite(x_lo) || !isfinite(x_hi) || !isfinite(y_lo) || !isfinite(y_hi)) return;
    double ax = clampd(svg_plot_x(p, x_lo), p->left, p->right);
    double bx = clampd(svg_plot_x(p, x_hi), p->left, p->right);
    double ay = clampd(svg_plot_y(p, y_lo), p->top, p->bottom);
    double by = clampd(svg_plot_y(p, y_hi), p->top, p->bottom);
    svg_buf *b = p->out;
    svg_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"",
                   fmin(ax, bx), fmin(ay, by), fabs(bx - ax), fabs(by - ay), style_color(st));
    if (st && st->opacity > 0 && st->opacity < 1)
        svg_buf_printf(b, " fill-opacity=\"%.2f\"", st->opacity);
    if (st) escaped_attr(b, "class", st->cls);
    if (st && st->title) {
        svg_buf_puts(b, ">");
        title_element(b, st);
        svg_buf_puts(b, "</rect>\n");
    } else {
        svg_buf_puts(b, "/>\n");
    }
    svg_plot_legend(p, st, 1);
}

void svg_plot_whisker(svg_plot *p, double x_lo, double x_hi, double y, const svg_style *st)
{
    if (!isfinite(x_lo) || !isfinite(x_hi) || !isfinite(y)) return;
    double a = clampd(svg_plot_x(p, x_lo), p->left, p->right);
    double c = clampd(svg_plot_x(p, x_hi), p->left, p->right);
    double py = svg_plot_y(p, y);
    svg_buf_printf(p->out,
                   "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f\" fill=\"none\"", a, py,
                   c, a, py - 4, py + 4, c, py - 4, py + 4);
    stroke_attrs(p->out, st);
    svg_buf_puts(p->out, "/>\n");
    svg_plot_legend(p, st, 0);
}

static void small_text(svg_buf *b, double x, double y, const char *anchor, const char *color,
                       const char *text)
{
    svg_buf_printf(b,
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"%s\" fill=\"%s\">",
                   x, y, anchor, color);
    svg_buf_escape(b, text);
    svg_buf_puts(b, "</text>\n");
}

void svg_plot_vline(svg_plot *p, double x, const char *text, const svg_style *st)
{
    if (!in_frame(p, x, p->y0)) return;
    double px = svg_plot_x(p, x);
    svg_buf_printf(p->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"", px, p->top, px,
                   p->bottom);
    stroke_attrs(p->out, st);
    svg_buf_puts(p->out, ">");
    title_element(p->out, st);
    svg_buf_puts(p->out, "</line>\n");
    if (text) {
        const char *anchor = px > p->right - 30 ? "end" : px < p->left + 30 ? "start" : "middle";
        small_text(p->out, px, p->top - 5, anchor, style_color(st), text);
    }
    svg_plot_legend(p, st, 0);
}

void svg_plot_hline(svg_plot *p, double y, const char *text, const svg_style *st)
{
    if (!in_frame(p, p->x0, y)) return;
    double py = svg_plot_y(p, y);
    svg_buf_printf(p->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"", p->left, py,
                   p->right, py);
    stroke_attrs(p->out, st);
    svg_buf_puts(p->out, ">");
    title_element(p->out, st);
    svg_buf_puts(p->out, "</line>\n");
    if (text) small_text(p->out, p->right - 4, py - 4, "end", style_color(st), text);
    svg_plot_legend(p, st, 0);
}

void svg_plot_text(svg_plot *p, double x, double y, const char *anchor, const char *text,
                   const svg_style *st)
{
    if (!anchor) anchor = "start";
    double dx = !strcmp(anchor, "start") ? 4 : !strcmp(anchor, "end") ? -4 : 0;
    small_text(p->out, svg_plot_x(p, x) + dx, svg_plot_y(p, y) + 4, anchor,
               st && st->color ? st->color : SVG_INK, text);
}

void svg_plot_group_begin(svg_plot *p, const svg_style *st)
{
    svg_buf_puts(p->out, "<g fill=\"none\"");
    stroke_attrs(p->out, st);
    if (st) escaped_attr(p->out, "id", st->id);
    svg_buf_puts(p->out, ">");
    title_element(p->out, st);
    svg_buf_puts(p->out, "\n");
}

void svg_plot_group_end(svg_plot *p)
{
    svg_buf_puts(p->out, "</g>\n");
}

void svg_plot_end(svg_plot *p)
{
    svg_buf *b = p->out;
    if (p->n_legend > 0) {
        const double row = 18, swatch = 24;
        double w = 0;
        for (int i = 0; i < p->n_legend; i++)
            w = fmax(w, text_width(p->legend[i].label, 12));
        double x, y;
        size_t max_chars = sizeof p->legend[0].label;
        if (p->ax.legend_width > 0) {
            x = p->right + 12;
            y = p->top + 4;
            max_chars = (size_t)fmax(4, (p->ax.legend_width - swatch - 6) / (12 * 0.52));
        } else {
            w += swatch + 16;
            double h = row * p->n_legend + 6;
            int right =
                p->ax.legend_corner == SVG_TOP_RIGHT || p->ax.legend_corner == SVG_BOTTOM_RIGHT;
            int top = p->ax.legend_corner == SVG_TOP_RIGHT || p->ax.legend_corner == SVG_TOP_LEFT;
            x = right ? p->right - w - 8 : p->left + 8;
            y = top ? p->top + 8 : p->bottom - h - 8;
            svg_buf_printf(b,
                           "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                           "fill=\"white\" fill-opacity=\"0.88\" stroke=\"" SVG_GRID "\"/>\n",
                           x, y, w, h);
            x += 6;
            y += 3;
        }
        svg_buf_puts(b, "<g class=\"legend\">\n");
        for (int i = 0; i < p->n_legend; i++) {
            svg_legend_entry *e = &p->legend[i];
            double cy = y + row * i + row / 2;
            if (e->box) {
                svg_buf_printf(b,
                               "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"12\" "
                               "fill=\"%s\"/>",
                               x + 5, cy - 6, e->color);
            } else {
                if (e->width > 0) {
                    svg_buf_printf(b,
                                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                   "stroke=\"%s\" stroke-width=\"%.2g\"",
                                   x, cy, x + swatch, cy, e->color, e->width);
                    if (e->dash[0]) svg_buf_printf(b, " stroke-dasharray=\"%s\"", e->dash);
                    svg_buf_puts(b, "/>");
                }
                if (e->marker) {
                    if (e->marker == SVG_MARK_CROSS)
                        svg_buf_printf(b, "<g fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\">",
                                       e->color);
                    else
                        svg_buf_printf(b, "<g fill=\"%s\">", e->color);
                    marker_at(b, e->marker, x + swatch / 2, cy,
                              e->marker == SVG_MARK_CROSS ? 4 : 3);
                    svg_buf_puts(b, "</g>");
                }
            }
            svg_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", x + swatch + 6, cy + 4);
            if (strlen(e->label) > max_chars) {
                char cut[sizeof e->label + 4];
                snprintf(cut, sizeof cut, "%.*s\xE2\x80\xA6", (int)max_chars - 1, e->label);
                svg_buf_escape(b, cut);
            } else {
                svg_buf_escape(b, e->label);
            }
            svg_buf_puts(b, "</text>\n");
        }
        svg_buf_puts(b, "</g>\n");
    }
    svg_buf_puts(b, "</svg>\n");
}
