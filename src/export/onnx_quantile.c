/* onnx_quantile.c — the quantile transform as ONNX operators. See onnx_quantile.h. */
#include "export/onnx_quantile.h"

#include <stdio.h>
#include <stdlib.h>

#include "etl/etl_quantile.h"

#define NAME_LEN 128
#define MAX_NAMES 192

typedef struct {
    char (*names)[NAME_LEN];
    int n;
    const char *prefix;
} namer;

static const char *fresh(namer *nm, const char *what)
{
    char *s = nm->names[nm->n < MAX_NAMES - 1 ? nm->n++ : MAX_NAMES - 1];
    snprintf(s, NAME_LEN, "%s/%s%d", nm->prefix, what, nm->n);
    return s;
}

static void cast(onnx_graph *g, const char *in, const char *out, int to)
{
    onnx_node n;
    onnx_node_begin(&n, "Cast", NULL, NULL);
    onnx_node_input(&n, in);
    onnx_node_output(&n, out);
    onnx_attr_int(&n, "to", to);
    onnx_node_end(g, &n);
}

void onnx_quantile_constants(onnx_graph *g)
{
    char name[64];
    for (int f = 0; f < 6; f++)
        for (int k = 0; k < 8; k++) {
            snprintf(name, sizeof name, "hpcml/as241/c%d_%d", f, k);
            onnx_const_double(g, name, etl_as241_coef[f][k]);
        }
    onnx_const_double(g, "hpcml/as241/split1", ETL_AS241_SPLIT1);
    onnx_const_double(g, "hpcml/as241/split2", ETL_AS241_SPLIT2);
    onnx_const_double(g, "hpcml/as241/const1", ETL_AS241_CONST1);
    onnx_const_double(g, "hpcml/as241/shift2", 1.6);
    onnx_const_double(g, "hpcml/as241/half", 0.5);
    onnx_const_double(g, "hpcml/as241/one", 1.0);
    onnx_const_double(g, "hpcml/as241/zero", 0.0);
    onnx_const_double(g, "hpcml/as241/p_lo", ETL_QUANTILE_CLIP_P);
    onnx_const_double(g, "hpcml/as241/p_hi", 1.0 - ETL_QUANTILE_CLIP_P);
    double clip = etl_norm_ppf(ETL_QUANTILE_CLIP_P);
    onnx_const_double(g, "hpcml/as241/z_lo", clip);
    onnx_const_double(g, "hpcml/as241/z_hi", -clip);
    onnx_const_double(g, "hpcml/as241/bounds", ETL_QUANTILE_BOUNDS);
    int64_t one = 1;
    onnx_const_int64s(g, "hpcml/as241/axes1", &one, 1, &one);
}

/* Horner's rule over table f: ((c7 r + c6) r + ...) r + c0, as etl_quantile.c's. */
static const char *horner(onnx_graph *g, namer *nm, int f, const char *r)
{
    char c[64];
    snprintf(c, sizeof c, "hpcml/as241/c%d_7", f);
    const char *v = NULL;
    for (int k = 6; k >= 0; k--) {
        const char *m = fresh(nm, "mul");
        onnx_op(g, "Mul", m, v ? v : c, r, NULL);
        snprintf(c, sizeof c, "hpcml/as241/c%d_%d", f, k);
        const char *a = fresh(nm, "add");
        onnx_op(g, "Add", a, m, c, NULL);
        v = a;
    }
    return v;
}

/* Phi^-1(u) for u in [P, 1 - P], AS241 (etl_norm_ppf). */
static const char *as241(onnx_graph *g, namer *nm, const char *u)
{
    const char *q = fresh(nm, "q");
    onnx_op(g, "Sub", q, u, "hpcml/as241/half", NULL);
    /* central */
    const char *qq = fresh(nm, "qq"), *r1 = fresh(nm, "r1");
    onnx_op(g, "Mul", qq, q, q, NULL);
    onnx_op(g, "Sub", r1, "hpcml/as241/const1", qq, NULL);
    const char *num1 = horner(g, nm, 0, r1), *den1 = horner(g, nm, 1, r1);
    const char *qa = fresh(nm, "qa"), *z1 = fresh(nm, "z_central");
    onnx_op(g, "Mul", qa, q, num1, NULL);
    onnx_op(g, "Div", z1, qa, den1, NULL);
    /* tails: r = sqrt(-log(q < 0 ? u : 1 - u)) */
    const char *neg = fresh(nm, "below"), *omu = fresh(nm, "one_minus_u"),
               *rr = fresh(nm, "tail_p");
    onnx_op(g, "Less", neg, q, "hpcml/as241/zero", NULL);
    onnx_op(g, "Sub", omu, "hpcml/as241/one", u, NULL);
    onnx_op(g, "Where", rr, neg, u, omu, NULL);
    const char *lg = fresh(nm, "log"), *nl = fresh(nm, "neg_log"), *rs = fresh(nm, "r");
    onnx_op(g, "Log", lg, rr, NULL);
    onnx_op(g, "Neg", nl, lg, NULL);
    onnx_op(g, "Sqrt", rs, nl, NULL);
    const char *r2 = fresh(nm, "r2"), *r3 = fresh(nm, "r3");
    onnx_op(g, "Sub", r2, rs, "hpcml/as241/shift2", NULL);
    onnx_op(g, "Sub", r3, rs, "hpcml/as241/split2", NULL);
    const char *num2 = horner(g, nm, 2, r2), *den2 = horner(g, nm, 3, r2);
    const char *num3 = horner(g, nm, 4, r3), *den3 = horner(g, nm, 5, r3);
    const char *z2 = fresh(nm, "z_tail"), *z3 = fresh(nm, "z_far");
    onnx_op(g, "Div", z2, num2, den2, NULL);
    onnx_op(g, "Div", z3, num3, den3, NULL);
    const char *near = fresh(nm, "near"), *zt = fresh(nm, "zt"), *nzt = fresh(nm, "neg_zt"),
               *zs = fresh(nm, "z_signed");
    onnx_op(g, "LessOrEqual", near, rs, "hpcml/as241/split2", NULL);
    onnx_op(g, "Where", zt, near, z2, z3, NULL);
    onnx_op(g, "Neg", nzt, zt, NULL);
    onnx_op(g, "Where", zs, neg, nzt, zt, NULL);
    const char *aq = fresh(nm, "abs_q"), *cen = fresh(nm, "central"), *z = fresh(nm, "z");
    onnx_op(g, "Abs", aq, q, NULL);
    onnx_op(g, "LessOrEqual", cen, aq, "hpcml/as241/split1", NULL);
    onnx_op(g, "Where", z, cen, z1, zs, NULL);
    return z;
}

/* count of quantiles (a [1, n] row) that compare true with x ([N,1]): [N,1] int64 */
static const char *count(onnx_graph *g, namer *nm, const char *op, const char *qrow,
                         const char *x)
{
    const char *b = fresh(nm, "cmp"), *i = fresh(nm, "cmp_i"), *s = fresh(nm, "count");
    onnx_op(g, op, b, qrow, x, NULL);
    cast(g, b, i, ONNX_INT64);
    onnx_node n;
    onnx_node_begin(&n, "ReduceSum", NULL, NULL);
    onnx_node_input(&n, i);
    onnx_node_input(&n, "hpcml/as241/axes1");
    onnx_node_output(&n, s);
    onnx_attr_int(&n, "keepdims", 1);
    onnx_node_end(g, &n);
    return s;
}

static const char *gather(onnx_graph *g, namer *nm, const char *table, const char *idx)
{
    const char *o = fresh(nm, "at");
    onnx_node n;
    onnx_node_begin(&n, "Gather", NULL, NULL);
    onnx_node_input(&n, table);
    onnx_node_input(&n, idx);
    onnx_node_output(&n, o);
    onnx_attr_int(&n, "axis", 0);
    onnx_node_end(g, &n);
    return o;
}

/* numpy.interp's value at the knot idx (or the segment from idx towards idx + step),
 * as etl_quantile.c computes it. */
int onnx_quantile_normal(onnx_graph *g, const char *prefix, const char *x, const double *q,
                         int64_t n_q, const char *out)
{
    namer nm = {calloc(MAX_NAMES, NAME_LEN), 0, prefix};
    if (!nm.names) return -1;
    const char *isnan_x = fresh(&nm, "is_nan");
    onnx_op(g, "IsNaN", isnan_x, x, NULL);
    if (n_q <= 0) { /* no train values: everything maps to 0 */
        onnx_op(g, "Where", out, isnan_x, x, "hpcml/as241/zero", NULL);
        free(nm.names);
        return 0;
    }
    char qn[NAME_LEN], qr[NAME_LEN], pn[NAME_LEN], sn[NAME_LEN], lo[NAME_LEN], hi[NAME_LEN];
    snprintf(qn, sizeof qn, "%s/quantiles", prefix);
    snprintf(qr, sizeof qr, "%s/quantiles_row", prefix);
    snprintf(pn, sizeof pn, "%s/levels", prefix);
    snprintf(sn, sizeof sn, "%s/slopes", prefix);
    snprintf(lo, sizeof lo, "%s/q_first", prefix);
    snprintf(hi, sizeof hi, "%s/q_last", prefix);
    onnx_const_double(g, lo, q[0]);
    onnx_const_double(g, hi, q[n_q - 1]);
    const char *u;
    if (n_q == 1) {
        /* both interpolations give p_0 = 0 inside the bounds */
        u = fresh(&nm, "u");
        onnx_op(g, "Sub", u, x, x, NULL);
    } else {
        double *p = malloc((size_t)n_q * sizeof *p), *slope = malloc((size_t)n_q * sizeof *slope);
        if (!p || !slope) {
            free(p);
            free(slope);
            free(nm.names);
            return -1;
        }
        for (int64_t k = 0; k < n_q; k++)
            p[k] = etl_quantile_level(n_q, k);
        /* numpy.interp's slope of segment k; only segments with q[k] < q[k + 1] are
         * ever used (a tie is a knot), so the inf of a tied pair never is */
        for (int64_t k = 0; k + 1 < n_q; k++)
            slope[k] = (p[k + 1] - p[k]) / (q[k + 1] - q[k]);
        slope[n_q - 1] = 0.0;
        int64_t d1 = n_q, d2[2] = {1, n_q};
        onnx_const_doubles(g, qn, &d1, 1, q);
        onnx_const_doubles(g, qr, d2, 2, q);
        onnx_const_doubles(g, pn, &d1, 1, p);
        onnx_const_doubles(g, sn, &d1, 1, slope);
        free(p);
        free(slope);
        char c0[NAME_LEN], c1[NAME_LEN], cmax[NAME_LEN], cmax1[NAME_LEN];
        snprintf(c0, sizeof c0, "%s/i0", prefix);
        snprintf(c1, sizeof c1, "%s/i1", prefix);
        snprintf(cmax, sizeof cmax, "%s/i_last", prefix);
        snprintf(cmax1, sizeof cmax1, "%s/i_last_seg", prefix);
        onnx_const_int64(g, c0, 0);
        onnx_const_int64(g, c1, 1);
        onnx_const_int64(g, cmax, n_q - 1);
        onnx_const_int64(g, cmax1, n_q - 2);
        /* ascending: j = the last knot <= x, clamped to a segment [0, n-2] */
        const char *le = count(g, &nm, "LessOrEqual", qr, x);
        const char *j0 = fresh(&nm, "j"), *j1 = fresh(&nm, "j"), *j = fresh(&nm, "j");
        onnx_op(g, "Sub", j0, le, c1, NULL);
        onnx_op(g, "Max", j1, j0, c0, NULL);
        onnx_op(g, "Min", j, j1, cmax1, NULL);
        const char *qj = gather(g, &nm, qn, j), *pj = gather(g, &nm, pn, j),
                   *sj = gather(g, &nm, sn, j);
        const char *dx = fresh(&nm, "dx"), *sdx = fresh(&nm, "sdx"), *lin = fresh(&nm, "asc_lin"),
                   *eq = fresh(&nm, "asc_knot"), *asc = fresh(&nm, "asc");
        onnx_op(g, "Sub", dx, x, qj, NULL);
        onnx_op(g, "Mul", sdx, sj, dx, NULL);
        onnx_op(g, "Add", lin, sdx, pj, NULL);
        onnx_op(g, "Equal", eq, qj, x, NULL);
        onnx_op(g, "Where", asc, eq, pj, lin, NULL);
        /* descending: k = the first knot >= x, clamped to [1, n-1];
         * -(slope (-x + q_k) + (-p_k)) = p_k - slope (q_k - x), exactly */
        const char *lt = count(g, &nm, "Less", qr, x);
        const char *k1 = fresh(&nm, "k"), *k = fresh(&nm, "k"), *km1 = fresh(&nm, "k");
        onnx_op(g, "Max", k1, lt, c1, NULL);
        onnx_op(g, "Min", k, k1, cmax, NULL);
        onnx_op(g, "Sub", km1, k, c1, NULL);
        const char *qk = gather(g, &nm, qn, k), *pk = gather(g, &nm, pn, k),
                   *sk = gather(g, &nm, sn, km1);
        const char *dxk = fresh(&nm, "dxk"), *sdxk = fresh(&nm, "sdxk"),
                   *lk = fresh(&nm, "desc_lin"), *eqk = fresh(&nm, "desc_knot"),
                   *desc = fresh(&nm, "desc");
        onnx_op(g, "Sub", dxk, qk, x, NULL);
        onnx_op(g, "Mul", sdxk, sk, dxk, NULL);
        onnx_op(g, "Sub", lk, pk, sdxk, NULL);
        onnx_op(g, "Equal", eqk, qk, x, NULL);
        onnx_op(g, "Where", desc, eqk, pk, lk, NULL);
        const char *sum = fresh(&nm, "sum");
        u = fresh(&nm, "u");
        onnx_op(g, "Add", sum, asc, desc, NULL);
        onnx_op(g, "Mul", u, "hpcml/as241/half", sum, NULL);
    }
    /* bounds: 1 where x + 1e-7 > q_last, then 0 where x - 1e-7 < q_0 */
    const char *xp = fresh(&nm, "x_plus"), *xm = fresh(&nm, "x_minus"), *up = fresh(&nm, "above"),
               *dn = fresh(&nm, "below_q0"), *u1 = fresh(&nm, "u_hi"), *u2 = fresh(&nm, "u_lo");
    onnx_op(g, "Add", xp, x, "hpcml/as241/bounds", NULL);
    onnx_op(g, "Sub", xm, x, "hpcml/as241/bounds", NULL);
    onnx_op(g, "Greater", up, xp, hi, NULL);
    onnx_op(g, "Less", dn, xm, lo, NULL);
    onnx_op(g, "Where", u1, up, "hpcml/as241/one", u, NULL);
    onnx_op(g, "Where", u2, dn, "hpcml/as241/zero", u1, NULL);
    /* clamp u so that no branch of AS241 sees log(0); Phi^-1 is increasing, so the
     * clip of z below is what it was for the u clamped here */
    const char *uc1 = fresh(&nm, "u_c"), *uc = fresh(&nm, "u_c");
    onnx_op(g, "Max", uc1, u2, "hpcml/as241/p_lo", NULL);
    onnx_op(g, "Min", uc, uc1, "hpcml/as241/p_hi", NULL);
    const char *z = as241(g, &nm, uc);
    const char *zc1 = fresh(&nm, "z_c"), *zc = fresh(&nm, "z_c");
    onnx_op(g, "Max", zc1, z, "hpcml/as241/z_lo", NULL);
    onnx_op(g, "Min", zc, zc1, "hpcml/as241/z_hi", NULL);
    onnx_op(g, "Where", out, isnan_x, x, zc, NULL);
    int overflow = nm.n >= MAX_NAMES - 1;
    free(nm.names);
    return overflow ? -1 : 0;
}
