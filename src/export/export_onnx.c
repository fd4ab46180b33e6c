/* export_onnx.c — model.h5 to an ONNX graph. See export_onnx.h.
 *
 * Each numeric column: Unsqueeze to [N,1], Cast to double, IsNaN + Where
 * (imputation), Sub + Mul ((x - offset) * mul as model.h5 stores them), Cast
 * to float: the arithmetic of etl_encode_rows, in the same precision. Each
 * category column: LabelEncoder (ai.onnx.ml) from the text to the vocabulary
 * index (0, the unknown slot, by default; the null markers to the index
 * nulls get), then OneHot or the index as a number. Concat gives the feature
 * row; Gemm (+ Relu, or GELU through Erf) per layer; Softmax. The label is
 * P(class 1) >= threshold for two classes (compared in double, as
 * hpcml-predict does), else the first largest probability. Internal tensor
 * names start with "hpcml/", so they cannot meet a column's name. */
#include "export/export_onnx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "core/version.h"
#include "export/onnx_graph.h"
#include "export/onnx_quantile.h"

#define NAME_MAX_LEN 96

static const int64_t DIM_BATCH_1[2] = {ONNX_DIM_BATCH, 1};

static int is_numeric(etl_col_type t)
{
    return t == ETL_COL_FLOAT || t == ETL_COL_INT;
}

/* Numeric column c of the schema: raw float input -> [N,1] float feature. */
static int numeric_column(onnx_graph *g, int c, const etl_column_spec *col,
                          const etl_col_fit *f, const char *out)
{
    char x[NAME_MAX_LEN], xd[NAME_MAX_LEN], nan[NAME_MAX_LEN], imp[NAME_MAX_LEN],
        xi[NAME_MAX_LEN], off[NAME_MAX_LEN], mul[NAME_MAX_LEN], sub[NAME_MAX_LEN],
        z[NAME_MAX_LEN];
#define NM(buf, what) snprintf(buf, sizeof buf, "hpcml/c%d/%s", c, what)
    NM(x, "x");
    NM(xd, "x_double");
    NM(nan, "is_nan");
    NM(imp, "impute_value");
    NM(xi, "imputed");
    NM(off, "offset");
    NM(mul, "mul");
    NM(sub, "centered");
    NM(z, "scaled");
    onnx_node n;
    onnx_node_begin(&n, "Unsqueeze", NULL, NULL);
    onnx_node_input(&n, col->name);
    onnx_node_input(&n, "hpcml/axis1");
    onnx_node_output(&n, x);
    onnx_node_end(g, &n);
    onnx_node_begin(&n, "Cast", NULL, NULL);
    onnx_node_input(&n, x);
    onnx_node_output(&n, xd);
    onnx_attr_int(&n, "to", ONNX_DOUBLE);
    onnx_node_end(g, &n);
    const char *v = xd;
    if (!isnan(f->impute_value)) {
        onnx_const_double(g, imp, f->impute_value);
        onnx_op(g, "IsNaN", nan, xd, NULL);
        onnx_op(g, "Where", xi, nan, imp, xd, NULL);
        v = xi;
    }
    if (col->scale == ETL_SCALE_QUANTILE) {
        char prefix[NAME_MAX_LEN];
        NM(prefix, "quantile");
        if (onnx_quantile_normal(g, prefix, v, f->quantiles, f->n_quantiles, z) != 0)
            return HPCML_FAIL(HPCML_EINTERNAL, "out of memory building the ONNX graph");
    } else {
        onnx_const_double(g, off, f->offset);
        onnx_const_double(g, mul, f->mul);
        onnx_op(g, "Sub", sub, v, off, NULL);
        onnx_op(g, "Mul", z, sub, mul, NULL);
    }
    onnx_node_begin(&n, "Cast", NULL, NULL);
    onnx_node_input(&n, z);
    onnx_node_output(&n, out);
    onnx_attr_int(&n, "to", ONNX_FLOAT);
    onnx_node_end(g, &n);
    return HPCML_OK;
}

/* Category column c: string input -> [N, vocab+1] one-hot or [N,1] index. */
static int category_column(onnx_graph *g, int c, const etl_column_spec *col,
                           const etl_col_fit *f, const char *const *null_markers,
                           const char *out)
{
    char idx[NAME_MAX_LEN], depth[NAME_MAX_LEN], idxf[NAME_MAX_LEN];
    NM(idx, "index");
    NM(depth, "depth");
    NM(idxf, "index_float");
    int n_markers = 0;
    while (null_markers && null_markers[n_markers])
        n_markers++;
    int nv = f->vocab.n;
    const char **keys = calloc((size_t)(nv + n_markers) + 1, sizeof *keys);
    int64_t *vals = calloc((size_t)(nv + n_markers) + 1, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return HPCML_FAIL(HPCML_EINTERNAL, "out of memory building the ONNX graph");
    }
    int nk = 0;
    for (int k = 0; k < nv; k++) {
        keys[nk] = f->vocab.entries[k].bytes;
        vals[nk++] = k + 1;
    }
    /* A null marker never is a vocabulary word (the ETL does not intern
     * nulls); it maps to the index a null gets (etl_encode_rows). */
    for (int k = 0; k < n_markers; k++) {
        keys[nk] = null_markers[k];
        vals[nk++] = (int64_t)f->impute_value;
    }
    onnx_node n;
    onnx_node_begin(&n, "LabelEncoder", "ai.onnx.ml", NULL);
    onnx_node_input(&n, col->name);
    onnx_node_output(&n, idx);
    onnx_attr_strings(&n, "keys_strings", keys, (size_t)nk);
    onnx_attr_ints(&n, "values_int64s", vals, (size_t)nk);
    onnx_attr_int(&n, "default_int64", 0);
    onnx_node_end(g, &n);
    free(keys);
    free(vals);
    if (f->n_features > 1) {
        onnx_const_int64(g, depth, f->n_features);
        onnx_node_begin(&n, "OneHot", NULL, NULL);
        onnx_node_input(&n, idx);
        onnx_node_input(&n, depth);
        onnx_node_input(&n, "hpcml/off_on");
        onnx_node_output(&n, out);
        onnx_attr_int(&n, "axis", -1);
        onnx_node_end(g, &n);
    } else {
        onnx_node_begin(&n, "Cast", NULL, NULL);
        onnx_node_input(&n, idx);
        onnx_node_output(&n, idxf);
        onnx_attr_int(&n, "to", ONNX_FLOAT);
        onnx_node_end(g, &n);
        onnx_node_begin(&n, "Unsqueeze", NULL, NULL);
        onnx_node_input(&n, idxf);
        onnx_node_input(&n, "hpcml/axis1");
        onnx_node_output(&n, out);
        onnx_node_end(g, &n);
    }
    return HPCML_OK;
}
#undef NM

/* The transform: raw column inputs -> "hpcml/features" [N, F]. */
static int transform(onnx_graph *g, const etl_schema *s, const etl_fit *fit,
                     const export_options *o)
{
    const int64_t axis1 = 1;
    const float off_on[2] = {0.0f, 1.0f};
    const int64_t two = 2;
    onnx_const_int64s(g, "hpcml/axis1", (int64_t[]){1}, 1, &axis1);
    onnx_const_floats(g, "hpcml/off_on", &two, 1, off_on);
    /* columns in feature order */
    int *order = malloc(((size_t)s->n_cols + 1) * sizeof *order);
    char(*outs)[NAME_MAX_LEN] = calloc((size_t)s->n_cols + 1, sizeof *outs);
    if (!order || !outs) {
        free(order);
        free(outs);
        return HPCML_FAIL(HPCML_EINTERNAL, "out of memory building the ONNX graph");
    }
    int n = 0;
    for (int c = 0; c < s->n_cols; c++)
        if (fit->cols[c].n_features > 0) order[n++] = c;
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && fit->cols[order[k - 1]].first_feature >
                                     fit->cols[order[k]].first_feature;
             k--) {
            int t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    int rc = HPCML_OK;
    for (int i = 0; i < n; i++)
        if (s->cols[order[i]].scale == ETL_SCALE_QUANTILE && is_numeric(s->cols[order[i]].type)) {
            onnx_quantile_constants(g);
            break;
        }
    for (int i = 0; i < n && rc == HPCML_OK; i++) {
        int c = order[i];
        const etl_column_spec *col = &s->cols[c];
        const etl_col_fit *f = &fit->cols[c];
        snprintf(outs[i], NAME_MAX_LEN, "hpcml/c%d/feature", c);
        if (is_numeric(col->type)) {
            onnx_graph_input(g, col->name, ONNX_FLOAT, DIM_BATCH_1, 1);
            rc = numeric_column(g, c, col, f, outs[i]);
        } else {
            onnx_graph_input(g, col->name, ONNX_STRING, DIM_BATCH_1, 1);
            rc = category_column(g, c, col, f, o->null_markers, outs[i]);
        }
    }
    if (rc == HPCML_OK) {
        onnx_node nd;
        onnx_node_begin(&nd, "Concat", NULL, NULL);
        for (int i = 0; i < n; i++)
            onnx_node_input(&nd, outs[i]);
        onnx_node_output(&nd, "hpcml/features");
        onnx_attr_int(&nd, "axis", 1);
        onnx_node_end(g, &nd);
    }
    free(order);
    free(outs);
    return rc;
}

/* Gemm + activation per layer, Softmax: input -> "probabilities". */
static void network(onnx_graph *g, const model_file *m, const char *input)
{
    const mlp_shape *sh = &m->shape;
    int widths[MLP_MAX_HIDDEN + 2];
    int nl = sh->n_hidden + 1;
    widths[0] = sh->n_inputs;
    for (int i = 0; i < sh->n_hidden; i++)
        widths[i + 1] = sh->hidden[i];
    widths[nl] = sh->n_classes;
    const float half = 0.5f, one = 1.0f, inv_sqrt2 = 0.70710678118654752440f;
    if (sh->act == NN_ACT_GELU) {
        onnx_const_floats(g, "hpcml/half", NULL, 0, &half);
        onnx_const_floats(g, "hpcml/one", NULL, 0, &one);
        onnx_const_floats(g, "hpcml/inv_sqrt2", NULL, 0, &inv_sqrt2);
    }
    const float *p = m->params;
    char prev[NAME_MAX_LEN];
    snprintf(prev, sizeof prev, "%s", input);
    for (int k = 0; k < nl; k++) {
        char w[NAME_MAX_LEN], b[NAME_MAX_LEN], z[NAME_MAX_LEN];
        snprintf(w, sizeof w, "hpcml/layer%d.weight", k);
        snprintf(b, sizeof b, "hpcml/layer%d.bias", k);
        snprintf(z, sizeof z, k + 1 < nl ? "hpcml/layer%d.z" : "hpcml/logits", k);
        int64_t wd[2] = {widths[k + 1], widths[k]};
        int64_t bd[1] = {widths[k + 1]};
        /* mlp flat layout: weight [out][in] then bias, per layer (nn/mlp.h) */
        onnx_const_floats(g, w, wd, 2, p);
        p += wd[0] * wd[1];
        onnx_const_floats(g, b, bd, 1, p);
        p += bd[0];
        onnx_node n;
        onnx_node_begin(&n, "Gemm", NULL, NULL);
        onnx_node_input(&n, prev);
        onnx_node_input(&n, w);
        onnx_node_input(&n, b);
        onnx_node_output(&n, z);
        onnx_attr_int(&n, "transB", 1);
        onnx_node_end(g, &n);
        if (k + 1 == nl) break;
        char a[NAME_MAX_LEN];
        snprintf(a, sizeof a, "hpcml/layer%d.a", k);
        if (sh->act == NN_ACT_GELU) {
            /* 0.5f * z * (1 + erf(z / sqrt 2)), in the order of nn/elementwise.h */
            char t1[NAME_MAX_LEN], t2[NAME_MAX_LEN], t3[NAME_MAX_LEN], t4[NAME_MAX_LEN];
            snprintf(t1, sizeof t1, "hpcml/layer%d.gelu_arg", k);
            snprintf(t2, sizeof t2, "hpcml/layer%d.gelu_erf", k);
            snprintf(t3, sizeof t3, "hpcml/layer%d.gelu_1p", k);
            snprintf(t4, sizeof t4, "hpcml/layer%d.gelu_halfz", k);
            onnx_op(g, "Mul", t1, z, "hpcml/inv_sqrt2", NULL);
            onnx_op(g, "Erf", t2, t1, NULL);
            onnx_op(g, "Add", t3, "hpcml/one", t2, NULL);
            onnx_op(g, "Mul", t4, "hpcml/half", z, NULL);
            onnx_op(g, "Mul", a, t4, t3, NULL);
        } else {
            onnx_op(g, "Relu", a, z, NULL);
        }
        snprintf(prev, sizeof prev, "%s", a);
    }
    onnx_node n;
    onnx_node_begin(&n, "Softmax", NULL, NULL);
    onnx_node_input(&n, "hpcml/logits");
    onnx_node_output(&n, "probabilities");
    onnx_attr_int(&n, "axis", 1);
    onnx_node_end(g, &n);
}

/* "probabilities" -> "label" (the class name), hpcml-predict's rule. */
static void decision(onnx_graph *g, const model_file *m)
{
    int64_t nc = m->n_classes;
    onnx_const_strings(g, "hpcml/class_names", &nc, 1, (const char *const *)m->class_names);
    onnx_node n;
    if (nc == 2) {
        onnx_const_int64(g, "hpcml/one_i", 1);
        onnx_const_double(g, "hpcml/threshold", m->threshold);
        onnx_node_begin(&n, "Gather", NULL, NULL);
        onnx_node_input(&n, "probabilities");
        onnx_node_input(&n, "hpcml/one_i");
        onnx_node_output(&n, "hpcml/p1");
        onnx_attr_int(&n, "axis", 1);
        onnx_node_end(g, &n);
        onnx_node_begin(&n, "Cast", NULL, NULL);
        onnx_node_input(&n, "hpcml/p1");
        onnx_node_output(&n, "hpcml/p1_double");
        onnx_attr_int(&n, "to", ONNX_DOUBLE);
        onnx_node_end(g, &n);
        onnx_op(g, "GreaterOrEqual", "hpcml/positive", "hpcml/p1_double", "hpcml/threshold",
                NULL);
        onnx_node_begin(&n, "Cast", NULL, NULL);
        onnx_node_input(&n, "hpcml/positive");
        onnx_node_output(&n, "hpcml/class");
        onnx_attr_int(&n, "to", ONNX_INT64);
        onnx_node_end(g, &n);
    } else {
        onnx_node_begin(&n, "ArgMax", NULL, NULL);
        onnx_node_input(&n, "probabilities");
        onnx_node_output(&n, "hpcml/class");
        onnx_attr_int(&n, "axis", 1);
        onnx_attr_int(&n, "keepdims", 0);
        onnx_node_end(g, &n);
    }
    onnx_node_begin(&n, "Gather", NULL, NULL);
    onnx_node_input(&n, "hpcml/class_names");
    onnx_node_input(&n, "hpcml/class");
    onnx_node_output(&n, "label");
    onnx_attr_int(&n, "axis", 0);
    onnx_node_end(g, &n);
}

/* A JSON array of strings (names are escaped for '"' and '\\' and control
 * characters). NULL when memory runs out. */
static char *json_strings(char *const *v, int n)
{
    size_t cap = 3;
    for (int i = 0; i < n; i++)
        cap += 6 * strlen(v[i]) + 3;
    char *out = malloc(cap), *p = out;
    if (!out) return NULL;
    *p++ = '[';
    for (int i = 0; i < n; i++) {
        if (i) *p++ = ',';
        *p++ = '"';
        for (const unsigned char *c = (const unsigned char *)v[i]; *c; c++) {
            if (*c == '"' || *c == '\\') {
                *p++ = '\\';
                *p++ = (char)*c;
            } else if (*c < 0x20) {
                p += sprintf(p, "\\u%04x", *c);
            } else {
                *p++ = (char)*c;
            }
        }
        *p++ = '"';
    }
    *p++ = ']';
    *p = '\0';
    return out;
}

int export_onnx_build(const model_file *m, const etl_schema *s, const etl_fit *fit,
                      const export_options *o, pb_buf *out)
{
    pb_init(out);
    if (!o->network_only)
        for (int c = 0; c < s->n_cols; c++) {
            const char *nm = s->cols[c].name;
            if (fit->cols[c].n_features > 0 &&
                (!strcmp(nm, "probabilities") || !strcmp(nm, "label") || !strncmp(nm, "hpcml/", 6)))
                return HPCML_FAIL(HPCML_EDATA,
                                  "%s: column '%s' has the name of an output or internal tensor "
                                  "of the ONNX graph (export with --network-only)",
                                  o->model_path, nm);
        }
    onnx_graph g;
    onnx_graph_init(&g);
    int rc = HPCML_OK;
    const char *features = "hpcml/features";
    if (o->network_only) {
        features = "features";
        int64_t d[2] = {ONNX_DIM_BATCH, m->n_features};
        onnx_graph_input(&g, features, ONNX_FLOAT, d, 2);
    } else {
        rc = transform(&g, s, fit, o);
    }
    if (rc == HPCML_OK) {
        network(&g, m, features);
        decision(&g, m);
        int64_t pd[2] = {ONNX_DIM_BATCH, m->n_classes};
        onnx_graph_output(&g, "probabilities", ONNX_FLOAT, pd, 2);
        onnx_graph_output(&g, "label", ONNX_STRING, DIM_BATCH_1, 1);
    }
    char *fnames = json_strings(fit->feature_names, fit->n_features);
    char *cnames = json_strings(m->class_names, m->n_classes);
    char *inputs = json_strings(m->col_names, m->n_cols);
    char thr[64], nf[32];
    snprintf(thr, sizeof thr, "%.17g", m->threshold);
    snprintf(nf, sizeof nf, "%d", m->n_features);
    if (rc == HPCML_OK && (!fnames || !cnames || !inputs))
        rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory building the ONNX graph");
    if (rc == HPCML_OK) {
        const onnx_meta meta[] = {
            {"hpcml_version", hpcml_version_string()},
            {"hpcml_model_version", o->model_version},
            {"hpcml_train_config_hash", o->train_config_hash},
            {"hpcml_graph", o->network_only ? "network" : "transform+network"},
            {"feature_names", fnames},
            {"n_features", nf},
            {"input_columns", o->network_only ? "[\"features\"]" : inputs},
            {"class_names", cnames},
            {"label_column", m->label_column},
            {"threshold", thr},
        };
        const onnx_model_info info = {
            .graph_name = "hpcml",
            .producer_version = hpcml_version_string(),
            .doc = o->network_only
                       ? "hpcml MLP: features [N, n_features] (the transformed row) -> "
                         "probabilities [N, classes], label [N]"
                       : "hpcml model with its training transform: one input per raw column "
                         "(float32, NaN = missing; or string) -> probabilities, label",
            .opset = EXPORT_OPSET,
            .ml_opset = o->network_only ? 0 : EXPORT_ML_OPSET,
            .meta = meta,
            .n_meta = (int)(sizeof meta / sizeof meta[0]),
        };
        pb_free(out);
        if (onnx_model_encode(&g, &info, out) != 0)
            rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory encoding the ONNX model");
    }
    free(fnames);
    free(cnames);
    free(inputs);
    onnx_graph_free(&g);
    return rc;
}
