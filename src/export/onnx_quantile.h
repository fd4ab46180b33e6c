/* onnx_quantile.h — the quantile transform (scale = "quantile",
 * etl_quantile.h) as ONNX operators, for hpcml-export.
 *
 * etl_quantile_normal's steps, in double: the counts of quantiles <= x and
 * < x (LessOrEqual, Less, ReduceSum) give the ascending and the descending
 * interpolation's knots (Gather of the quantiles, levels and slopes, which
 * the exporter computes in C as numpy.interp does); u = their mean; the
 * bounds (Where); z = Phi^-1(u) by AS241's three rational forms (Log, Sqrt,
 * Horner's rule with Mul/Add, Where), u first clamped to [P, 1 - P] with
 * P = 1e-7 - 2^-52 so no branch sees log(0); z clipped to
 * [Phi^-1(P), -Phi^-1(P)]; NaN stays NaN. docs/export.md states the bound. */
#ifndef HPCML_EXPORT_ONNX_QUANTILE_H
#define HPCML_EXPORT_ONNX_QUANTILE_H

#include <stdint.h>

#include "export/onnx_graph.h"

/* AS241's coefficients and shared scalars as initializers ("hpcml/as241/..."),
 * once per graph, before the first onnx_quantile_normal. */
void onnx_quantile_constants(onnx_graph *g);

/* x: a double [N,1] tensor; out: the double [N,1] result. prefix names the
 * column's tensors ("hpcml/c3/quantile"). q: the n_q sorted quantiles.
 * Returns 0, or -1 when memory runs out. */
int onnx_quantile_normal(onnx_graph *g, const char *prefix, const char *x, const double *q,
                         int64_t n_q, const char *out);

#endif
