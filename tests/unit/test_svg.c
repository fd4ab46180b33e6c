/* test_svg.c — the SVG module: buffer growth, escaping, tick steps and
 * labels, data-to-pixel mapping, lines broken at gaps, bars clamped to the
 * frame, legend entries, determinism. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/svg.h"

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_buffer(void)
{
    svg_buf b;
    svg_buf_init(&b);
    for (int i = 0; i < 5000; i++)
        svg_buf_printf(&b, "%04d,", i % 10000);
    svg_buf_printf(&b, "%s", "");
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    svg_buf_printf(&b, "[%s]", big); /* longer than printf's stack buffer */
    char *s = svg_buf_take(&b);
    CHECK(s != NULL);
    CHECK_EQ_INT(strlen(s), 5000 * 5 + 2 + 1999);
    CHECK(strncmp(s, "0000,0001,0002,", 15) == 0);
    CHECK(strncmp(s + 4999 * 5, "4999,[xx", 8) == 0);
    CHECK(b.data == NULL && b.len == 0);
    free(s);

    svg_buf_init(&b);
    char *empty = svg_buf_take(&b);
    CHECK(empty && empty[0] == '\0');
    free(empty);
}

static void test_escape(void)
{
    svg_buf b;
    svg_buf_init(&b);
    svg_buf_escape(&b, "a<b & \"c\" 'd'> \x01z");
    char *s = svg_buf_take(&b);
    CHECK_EQ_STR(s, "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt; ?z");
    free(s);
}

static void test_ticks(void)
{
    CHECK_NEAR(svg_tick_step(0, 1, 5, 0), 0.2, 1e-15);
    CHECK_NEAR(svg_tick_step(0.13, 0.71, 6, 0), 0.1, 1e-15);
    CHECK_NEAR(svg_tick_step(0, 10, 4, 0), 2.5, 1e-15);
    CHECK_NEAR(svg_tick_step(0, 10, 4, 1), 5, 0); /* 2.5 is not whole */
    CHECK_NEAR(svg_tick_step(0, 3, 12, 1), 1, 0); /* never below 1 */
    CHECK_NEAR(svg_tick_step(0, 1e6, 5, 0), 2e5, 1e-6);
    CHECK_NEAR(svg_tick_step(5, 5, 5, 0), 1, 0); /* empty span */

    double t[64];
    int n = svg_ticks(0, 1, 0.2, t, 64);
    CHECK_EQ_INT(n, 6);
    CHECK_NEAR(t[5], 1.0, 1e-12);
    n = svg_ticks(-0.3, 0.3, 0.1, t, 64);
    CHECK_EQ_INT(n, 7);
    CHECK(t[3] == 0 && !signbit(t[3]));
    CHECK_EQ_INT(svg_ticks(0, 1, 0.2, t, 3), 3);

    char s[48];
    svg_tick_label(s, sizeof s, 0.2, 0.2);
    CHECK_EQ_STR(s, "0.2");
    svg_tick_label(s, sizeof s, 1, 0.25);
    CHECK_EQ_STR(s, "1.00");
    svg_tick_label(s, sizeof s, -1e-18, 0.1);
    CHECK_EQ_STR(s, "0.0");
    svg_tick_label(s, sizeof s, 250000, 50000);
    CHECK_EQ_STR(s, "250k");
    svg_tick_label(s, sizeof s, 7500, 2500);
    CHECK_EQ_STR(s, "7500");
    svg_tick_label(s, sizeof s, 0, 20000);
    CHECK_EQ_STR(s, "0");
    svg_tick_label(s, sizeof s, 12500, 2500);
    CHECK_EQ_STR(s, "12.5k");
    svg_tick_label(s, sizeof s, 2500000, 500000);
    CHECK_EQ_STR(s, "2.5M");
    svg_tick_label(s, sizeof s, 3e9, 1e9);
    CHECK_EQ_STR(s, "3G");
    svg_tick_label(s, sizeof s, 0.0005, 0.0001);
    CHECK_EQ_STR(s, "0.0005");
}

static char *line_chart(svg_plot *p)
{
    svg_buf b;
    svg_buf_init(&b);
    svg_plot_begin(p, &b,
                   &(svg_axes){.id = "t",
                               .width = 600,
                               .height = 400,
                               .title = "loss <per> epoch",
                               .x_label = "epoch",
                               .y_label = "loss",
                               .x_min = 1,
                               .x_max = 10,
                               .x_integer = 1,
                               .y_min = 0.13,
                               .y_max = 0.71});
    double x[] = {1, 2, 3, 4, 5, 6};
    double y[] = {0.7, 0.5, NAN, 0.3, 5.0, 0.2}; /* a gap, then a point out of range */
    svg_plot_line(p, x, y, 6, &(svg_style){.color = svg_palette(1), .label = "train & val"});
    svg_plot_line(p, x, y, 2, &(svg_style){.color = svg_palette(1), .label = "train & val"});
    svg_plot_points(p, x, y, 6, &(svg_style){.color = svg_palette(2), .label = "points"});
    svg_plot_vline(p, 3, "rung 1", &(svg_style){.cls = "rung", .dash = "6 4"});
    svg_plot_vline(p, 30, "outside", NULL); /* not drawn */
    svg_plot_bar(p, 8, 9, -5, 0.4, &(svg_style){.color = svg_palette(3)});
    svg_plot_end(p);
    return svg_buf_take(&b);
}

static void test_line_chart(void)
{
    svg_plot p;
    char *s = line_chart(&p);
    CHECK(s != NULL);
    CHECK(strncmp(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
    CHECK(strcmp(s + strlen(s) - 7, "</svg>\n") == 0);
    /* y range widened to whole steps: 0.1 .. 0.8 */
    CHECK_NEAR(p.y0, 0.1, 1e-12);
    CHECK_NEAR(p.y1, 0.8, 1e-12);
    CHECK_NEAR(svg_plot_y(&p, 0.1), p.bottom, 1e-9);
    CHECK_NEAR(svg_plot_y(&p, 0.8), p.top, 1e-9);
    CHECK_NEAR(svg_plot_x(&p, p.x0), p.left, 1e-9);
    CHECK_NEAR(svg_plot_x(&p, p.x1), p.right, 1e-9);
    /* 6 points with a NaN and an out-of-range value: pieces {1,2}, {4}, {6};
     * plus the second call's {1,2} */
    CHECK_EQ_INT(count(s, "<polyline"), 4);
    CHECK_EQ_INT(count(s, "<circle"), 4 + 1); /* 4 points in range, 1 in the legend */
    CHECK_EQ_INT(count(s, "class=\"rung\""), 1);
    CHECK(strstr(s, ">rung 1</text>") != NULL);
    CHECK(strstr(s, "outside") == NULL);
    CHECK(strstr(s, "loss &lt;per&gt; epoch") != NULL);
    /* legend: one entry per label, escaped */
    CHECK_EQ_INT(p.n_legend, 2);
    CHECK_EQ_INT(count(s, ">train &amp; val</text>"), 1);
    /* the bar is clamped to the frame: its bottom is the frame's bottom */
    char want[80];
    snprintf(want, sizeof want, "height=\"%.1f\" fill=\"%s\"", p.bottom - svg_plot_y(&p, 0.4),
             svg_palette(3));
    CHECK_MSG(strstr(s, want) != NULL, "no bar with %s", want);
    /* tick labels of the y axis at 0.1 steps */
    CHECK(strstr(s, ">0.5</text>") != NULL);
    CHECK(strstr(s, ">0.8</text>") != NULL);

    svg_plot q;
    char *again = line_chart(&q);
    CHECK(again && strcmp(s, again) == 0); /* same input, same bytes */
    free(again);
    free(s);
}

static void test_categories(void)
{
    static const char *const stages[] = {"read", "transform", "a very long stage name here"};
    svg_buf b;
    svg_buf_init(&b);
    svg_plot p;
    svg_plot_begin(&p, &b,
                   &(svg_axes){.x_label = "wall time (s)",
                               .x_min = 0,
                               .x_max = 12.5,
                               .y_categories = stages,
                               .n_y_categories = 3,
                               .legend_width = 160});
    CHECK_NEAR(p.y0, 0, 0);
    CHECK_NEAR(p.y1, 3, 0);
    CHECK(svg_plot_y(&p, 0) < svg_plot_y(&p, 1)); /* band 0 at the top */
    CHECK(p.left > 100);                          /* room for the longest name */
    svg_plot_bar(&p, 0, 10, 0.2, 0.8, &(svg_style){.label = "mean over ranks"});
    svg_plot_whisker(&p, 8, 12, 0.5, &(svg_style){.color = SVG_INK, .label = "min..max"});
    svg_plot_end(&p);
    char *s = svg_buf_take(&b);
    CHECK(s && strstr(s, ">a very long stage name here</text>") != NULL);
    CHECK(strstr(s, ">mean over ranks</text>") != NULL);
    CHECK(strstr(s, "standalone") == NULL && strstr(s, "<?xml") == NULL);
    free(s);

    static const char *const classes[] = {"negative", "positive"};
    svg_buf_init(&b);
    svg_plot_begin(&p, &b,
                   &(svg_axes){.width = 200,
                               .y_label = "rows",
                               .y_min = 0,
                               .y_max = 99,
                               .y_integer = 1,
                               .x_categories = classes,
                               .n_x_categories = 2,
                               .standalone = 1});
    svg_plot_end(&p);
    s = svg_buf_take(&b);
    CHECK(s && strncmp(s, "<?xml", 5) == 0);
    CHECK(strstr(s, ">negative</text>") != NULL);
    CHECK_NEAR(p.y1, 100, 0);
    free(s);
}

int main(void)
{
    test_buffer();
    test_escape();
    test_ticks();
    test_line_chart();
    test_categories();
    CHECK_DONE();
}
