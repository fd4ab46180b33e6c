/* svg.h — the project's one SVG drawing module: a growable text buffer,
 * XML escaping, "nice" axis ticks, and charts made of a frame with two
 * linear (or category) axes, polylines, scatter points, bars, reference
 * lines and a legend, all in one colour palette.
 *
 * Pure: it writes text into a buffer and nothing else (no files, no MPI, no
 * global state), so the sweep's curves.svg, hpcml-predict's drift.svg and
 * every chart of hpcml-report come out of the same code and look alike.
 *
 *   svg_buf b; svg_buf_init(&b);
 *   svg_plot p;
 *   svg_plot_begin(&p, &b, &(svg_axes){.title = "loss per epoch", .x_label = "epoch",
 *                                      .y_label = "loss", .x_min = 0, .x_max = 10,
 *                                      .y_min = 0, .y_max = 0.7, .x_integer = 1});
 *   svg_plot_line(&p, x, y, n, &(svg_style){.color = svg_palette(0), .label = "train"});
 *   svg_plot_end(&p);
 *   char *text = svg_buf_take(&b);  // NULL when memory ran out
 *
 * Coordinates given to svg_plot_* are data values; the plot maps them to
 * pixels. A NaN, infinite or out-of-range point breaks a line rather than
 * being drawn outside the frame. */
#ifndef HPCML_SVG_H
#define HPCML_SVG_H

#include <stddef.h>

/* ---- text buffer ---------------------------------------------------------------- */

/* A growable, NUL-terminated text buffer. After a failed allocation it stops
 * growing and remembers the failure (oom); svg_buf_take then returns NULL, so
 * callers check once at the end. */
typedef struct {
    char *data;
    size_t len, cap;
    int oom;
} svg_buf;

void svg_buf_init(svg_buf *b);
void svg_buf_free(svg_buf *b);
void svg_buf_puts(svg_buf *b, const char *s);
void svg_buf_printf(svg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with & < > " ' written as entities: safe in XML/HTML text and attributes. */
void svg_buf_escape(svg_buf *b, const char *s);
/* The text (caller frees), or NULL after an allocation failure; b is empty after. */
char *svg_buf_take(svg_buf *b);

/* ---- colours ---------------------------------------------------------------------- */

/* The categorical palette (Tableau 10: distinguishable, and kind to the common
 * colour-vision deficiencies); i wraps around. Series keep their colour across
 * charts: index 0 for training/"the" series, 1 for validation/current, ... */
const char *svg_palette(int i);
#define SVG_PALETTE_N 10
#define SVG_INK       "#333333" /* text, axes */
#define SVG_GRID      "#e4e4e4" /* grid lines */
#define SVG_MUTED     "#9a9a9a" /* de-emphasised data (stopped trials, chance lines) */

/* ---- ticks (pure, exposed for tests) --------------------------------------------- */

/* Tick step from {1, 2, 2.5, 5} x 10^k giving about target ticks over
 * [lo, hi]; integer_only forces a step >= 1 that is a whole number. */
double svg_tick_step(double lo, double hi, int target, int integer_only);
/* Tick values: the multiples of step within [lo, hi] (with a tolerance of a
 * millionth of a step). Returns the count written (at most cap). */
int svg_ticks(double lo, double hi, double step, double *out, int cap);
/* A tick label: as many decimals as step needs, no "-0", digits below 10000,
 * then k/M/G/T suffixes (25k, 1.5M). */
void svg_tick_label(char *out, size_t n, double v, double step);

/* ---- charts ------------------------------------------------------------------------ */

typedef enum { SVG_TOP_RIGHT = 0, SVG_BOTTOM_RIGHT, SVG_BOTTOM_LEFT, SVG_TOP_LEFT } svg_corner;

/* What a chart shows. Sizes in pixels (0: the defaults 640 x 360). Labels
 * should carry units: "wall time (s)", "peak RSS (MiB)". */
typedef struct {
    const char *id; /* prefix of element ids, unique within a page (NULL: none) */
    double width, height;
    const char *title; /* drawn above the frame; NULL: none */
    const char *x_label, *y_label;
    /* Data range of each axis. Unless *_exact, it is widened to whole tick
     * steps (so a range [0.13, 0.71] shows as 0.1 .. 0.8). */
    double x_min, x_max, y_min, y_max;
    int x_exact, y_exact;
    int x_integer, y_integer; /* ticks only at whole numbers (epochs, counts) */
    /* Category axes: when given, the axis has one band per name (band i spans
     * [i, i+1] in data units, label at its middle) and its range is ignored. */
    const char *const *x_categories;
    int n_x_categories;
    const char *const *y_categories;
    int n_y_categories;
    double legend_width; /* > 0: the legend goes in a column this wide right of the
                            frame; 0: inside the frame, in the corner legend_corner */
    svg_corner legend_corner;
    double left_margin; /* 0: fits the y tick labels (or category names) */
    int standalone;     /* 1: starts with the <?xml?> declaration (an .svg file) */
} svg_axes;

typedef enum { SVG_MARK_NONE = 0, SVG_MARK_CIRCLE, SVG_MARK_CROSS, SVG_MARK_SQUARE } svg_marker;

typedef struct {
    const char *color; /* NULL: palette 0 */
    double width;      /* stroke width (px); 0: 1.8 */
    const char *dash;  /* stroke-dasharray, e.g. "6 4"; NULL: solid */
    double opacity;    /* 0: 1 */
    svg_marker marker; /* drawn at each point of a line or scatter */
    const char *cls;   /* class attribute of the element or group */
    const char *id;    /* id attribute of a group (svg_plot_group_begin) */
    const char *title; /* tooltip (<title>) */
    const char *label; /* legend entry; NULL: not in the legend */
} svg_style;

#define SVG_LEGEND_MAX 16

typedef struct {
    char label[96];
    char color[32];
    char dash[16];
    double width; /* < 0: marker only */
    svg_marker marker;
    int box; /* a filled square (bars) rather than a line */
} svg_legend_entry;

typedef struct {
    svg_buf *out;
    svg_axes ax;
    double left, right, top, bottom; /* frame edges in pixels */
    double x0, x1, y0, y1;           /* axis ranges after widening */
    int n_legend;
    svg_legend_entry legend[SVG_LEGEND_MAX];
} svg_plot;

/* Opens <svg>, draws the title, frame, grid, ticks and axis labels. */
void svg_plot_begin(svg_plot *p, svg_buf *out, const svg_axes *ax);
/* Data -> pixel. */
double svg_plot_x(const svg_plot *p, double x);
double svg_plot_y(const svg_plot *p, double y);
/* A line through (x[i], y[i]); non-finite or out-of-range points break it. */
void svg_plot_line(svg_plot *p, const double *x, const double *y, size_t n, const svg_style *st);
/* Markers at (x[i], y[i]) (style.marker, default circles). */
void svg_plot_points(svg_plot *p, const double *x, const double *y, size_t n, const svg_style *st);
/* A filled rectangle [x_lo, x_hi] x [y_lo, y_hi] in data units, clamped to the frame. */
void svg_plot_bar(svg_plot *p, double x_lo, double x_hi, double y_lo, double y_hi,
                  const svg_style *st);
/* A horizontal error whisker from x_lo to x_hi at height y (data units), with end ticks. */
void svg_plot_whisker(svg_plot *p, double x_lo, double x_hi, double y, const svg_style *st);
/* Full-height / full-width reference lines, with an optional label at the frame's edge. */
void svg_plot_vline(svg_plot *p, double x, const char *text, const svg_style *st);
void svg_plot_hline(svg_plot *p, double y, const char *text, const svg_style *st);
/* A small label at a data position, vertically centred on y and set 4 px off
 * x on its anchor's side ("start": right of x, "end": left of x, "middle"). */
void svg_plot_text(svg_plot *p, double x, double y, const char *anchor, const char *text,
                   const svg_style *st);
/* <g> with the style's class, id, stroke and title; ended by svg_plot_group_end. */
void svg_plot_group_begin(svg_plot *p, const svg_style *st);
void svg_plot_group_end(svg_plot *p);
/* A legend entry without drawing anything (box: a filled square). Entries are
 * also added by any call whose style has a label; a label already present is
 * not added twice. */
void svg_plot_legend(svg_plot *p, const svg_style *st, int box);
/* Draws the legend and closes </svg>. */
void svg_plot_end(svg_plot *p);

#endif
