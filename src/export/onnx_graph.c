/* onnx_graph.c — ONNX messages (ModelProto, GraphProto, NodeProto,
 * TensorProto, ValueInfoProto, AttributeProto, OperatorSetIdProto,
 * StringStringEntryProto). Field numbers are those of onnx/onnx.proto, which
 * only ever adds fields. See onnx_graph.h. */
#include "export/onnx_graph.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* onnx.proto field numbers */
enum {
    MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_PRODUCER_VERSION = 3,
    MODEL_DOC = 6, MODEL_GRAPH = 7, MODEL_OPSET_IMPORT = 8, MODEL_METADATA = 14,
    OPSET_DOMAIN = 1, OPSET_VERSION = 2,
    ENTRY_KEY = 1, ENTRY_VALUE = 2,
    GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12,
    NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5,
    NODE_DOMAIN = 7,
    ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_INTS = 8, ATTR_STRINGS = 9, ATTR_TYPE = 20,
    TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_STRING_DATA = 6, TENSOR_NAME = 8,
    TENSOR_RAW_DATA = 9,
    VALUE_NAME = 1, VALUE_TYPE = 2,
    TYPE_TENSOR = 1, TYPE_TENSOR_ELEM = 1, TYPE_TENSOR_SHAPE = 2,
    SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2,
};
/* AttributeProto.AttributeType */
enum { ATTR_TYPE_FLOAT = 1, ATTR_TYPE_INT = 2, ATTR_TYPE_INTS = 7, ATTR_TYPE_STRINGS = 8 };

#define IR_VERSION 8

void onnx_graph_init(onnx_graph *g)
{
    pb_init(&g->body);
}

void onnx_graph_free(onnx_graph *g)
{
    pb_free(&g->body);
}

static void value_info(onnx_graph *g, int field, const char *name, int elem_type,
                       const int64_t *dims, int n_dims)
{
    pb_buf shape, tensor, type, vi;
    pb_init(&shape);
    pb_init(&tensor);
    pb_init(&type);
    pb_init(&vi);
    for (int d = 0; d < n_dims; d++) {
        pb_buf dim;
        pb_init(&dim);
        if (dims[d] == ONNX_DIM_BATCH)
            pb_string(&dim, DIM_PARAM, "N");
        else
            pb_varint(&dim, DIM_VALUE, dims[d]);
        pb_message(&shape, SHAPE_DIM, &dim);
        pb_free(&dim);
    }
    pb_varint(&tensor, TYPE_TENSOR_ELEM, elem_type);
    pb_message(&tensor, TYPE_TENSOR_SHAPE, &shape);
    pb_message(&type, TYPE_TENSOR, &tensor);
    pb_string(&vi, VALUE_NAME, name);
    pb_message(&vi, VALUE_TYPE, &type);
    pb_message(&g->body, field, &vi);
    pb_free(&shape);
    pb_free(&tensor);
    pb_free(&type);
    pb_free(&vi);
}

void onnx_graph_input(onnx_graph *g, const char *name, int elem_type, const int64_t *dims,
                      int n_dims)
{
    value_info(g, GRAPH_INPUT, name, elem_type, dims, n_dims);
}

void onnx_graph_output(onnx_graph *g, const char *name, int elem_type, const int64_t *dims,
                       int n_dims)
{
    value_info(g, GRAPH_OUTPUT, name, elem_type, dims, n_dims);
}

static size_t element_count(const int64_t *dims, int n_dims)
{
    size_t n = 1;
    for (int d = 0; d < n_dims; d++)
        n *= (size_t)dims[d];
    return n;
}

static void tensor_head(pb_buf *t, const char *name, int type, const int64_t *dims, int n_dims)
{
    pb_init(t);
    for (int d = 0; d < n_dims; d++)
        pb_varint(t, TENSOR_DIMS, dims[d]);
    pb_varint(t, TENSOR_DATA_TYPE, type);
    pb_string(t, TENSOR_NAME, name);
}

/* A numeric initializer: width bytes per element, encoded by le. */
static void const_raw(onnx_graph *g, const char *name, int type, const int64_t *dims, int n_dims,
                      size_t width, const void *v,
                      void (*le)(uint8_t *, const void *, size_t))
{
    size_t n = element_count(dims, n_dims);
    uint8_t *raw = malloc(n * width + 1);
    if (!raw) {
        g->body.failed = 1;
        return;
    }
    le(raw, v, n);
    pb_buf t;
    tensor_head(&t, name, type, dims, n_dims);
    pb_bytes(&t, TENSOR_RAW_DATA, raw, n * width);
    pb_message(&g->body, GRAPH_INITIALIZER, &t);
    pb_free(&t);
    free(raw);
}

static void le_f32(uint8_t *o, const void *v, size_t n) { pb_le_floats(o, v, n); }
static void le_f64(uint8_t *o, const void *v, size_t n) { pb_le_doubles(o, v, n); }
static void le_i64(uint8_t *o, const void *v, size_t n) { pb_le_int64s(o, v, n); }

void onnx_const_floats(onnx_graph *g, const char *name, const int64_t *dims, int n_dims,
                       const float *v)
{
    const_raw(g, name, ONNX_FLOAT, dims, n_dims, 4, v, le_f32);
}

void onnx_const_doubles(onnx_graph *g, const char *name, const int64_t *dims, int n_dims,
                        const double *v)
{
    const_raw(g, name, ONNX_DOUBLE, dims, n_dims, 8, v, le_f64);
}

void onnx_const_int64s(onnx_graph *g, const char *name, const int64_t *dims, int n_dims,
                       const int64_t *v)
{
    const_raw(g, name, ONNX_INT64, dims, n_dims, 8, v, le_i64);
}

void onnx_const_strings(onnx_graph *g, const char *name, const int64_t *dims, int n_dims,
                        const char *const *v)
{
    size_t n = element_count(dims, n_dims);
    pb_buf t;
    tensor_head(&t, name, ONNX_STRING, dims, n_dims);
    for (size_t i = 0; i < n; i++)
        pb_string(&t, TENSOR_STRING_DATA, v[i]);
    pb_message(&g->body, GRAPH_INITIALIZER, &t);
    pb_free(&t);
}

void onnx_const_double(onnx_graph *g, const char *name, double v)
{
    onnx_const_doubles(g, name, NULL, 0, &v);
}

void onnx_const_int64(onnx_graph *g, const char *name, int64_t v)
{
    onnx_const_int64s(g, name, NULL, 0, &v);
}

void onnx_node_begin(onnx_node *n, const char *op_type, const char *domain, const char *name)
{
    pb_init(&n->body);
    pb_string(&n->body, NODE_OP_TYPE, op_type);
    if (domain && *domain) pb_string(&n->body, NODE_DOMAIN, domain);
    if (name && *name) pb_string(&n->body, NODE_NAME, name);
}

void onnx_node_input(onnx_node *n, const char *name)
{
    pb_string(&n->body, NODE_INPUT, name);
}

void onnx_node_output(onnx_node *n, const char *name)
{
    pb_string(&n->body, NODE_OUTPUT, name);
}

static void attribute(onnx_node *n, const pb_buf *a)
{
    pb_message(&n->body, NODE_ATTRIBUTE, a);
}

void onnx_attr_int(onnx_node *n, const char *name, int64_t v)
{
    pb_buf a;
    pb_init(&a);
    pb_string(&a, ATTR_NAME, name);
    pb_varint(&a, ATTR_I, v);
    pb_varint(&a, ATTR_TYPE, ATTR_TYPE_INT);
    attribute(n, &a);
    pb_free(&a);
}

void onnx_attr_float(onnx_node *n, const char *name, float v)
{
    pb_buf a;
    pb_init(&a);
    pb_string(&a, ATTR_NAME, name);
    pb_float(&a, ATTR_F, v);
    pb_varint(&a, ATTR_TYPE, ATTR_TYPE_FLOAT);
    attribute(n, &a);
    pb_free(&a);
}

void onnx_attr_ints(onnx_node *n, const char *name, const int64_t *v, size_t count)
{
    pb_buf a;
    pb_init(&a);
    pb_string(&a, ATTR_NAME, name);
    pb_packed_int64(&a, ATTR_INTS, v, count);
    pb_varint(&a, ATTR_TYPE, ATTR_TYPE_INTS);
    attribute(n, &a);
    pb_free(&a);
}

void onnx_attr_strings(onnx_node *n, const char *name, const char *const *v, size_t count)
{
    pb_buf a;
    pb_init(&a);
    pb_string(&a, ATTR_NAME, name);
    for (size_t i = 0; i < count; i++)
        pb_string(&a, ATTR_STRINGS, v[i]);
    pb_varint(&a, ATTR_TYPE, ATTR_TYPE_STRINGS);
    attribute(n, &a);
    pb_free(&a);
}

void onnx_node_end(onnx_graph *g, onnx_node *n)
{
    pb_message(&g->body, GRAPH_NODE, &n->body);
    pb_free(&n->body);
}

void onnx_op(onnx_graph *g, const char *op_type, const char *out, ...)
{
    onnx_node n;
    onnx_node_begin(&n, op_type, NULL, NULL);
    va_list ap;
    va_start(ap, out);
    for (const char *in = va_arg(ap, const char *); in; in = va_arg(ap, const char *))
        onnx_node_input(&n, in);
    va_end(ap);
    onnx_node_output(&n, out);
    onnx_node_end(g, &n);
}

static void opset(pb_buf *model, const char *domain, int64_t version)
{
    pb_buf o;
    pb_init(&o);
    pb_string(&o, OPSET_DOMAIN, domain);
    pb_varint(&o, OPSET_VERSION, version);
    pb_message(model, MODEL_OPSET_IMPORT, &o);
    pb_free(&o);
}

int onnx_model_encode(const onnx_graph *g, const onnx_model_info *info, pb_buf *out)
{
    pb_init(out);
    pb_varint(out, MODEL_IR_VERSION, IR_VERSION);
    pb_string(out, MODEL_PRODUCER_NAME, "hpcml");
    pb_string(out, MODEL_PRODUCER_VERSION, info->producer_version);
    if (info->doc) pb_string(out, MODEL_DOC, info->doc);
    pb_buf graph;
    pb_init(&graph);
    if (g->body.failed) graph.failed = 1;
    pb_string(&graph, GRAPH_NAME, info->graph_name);
    /* the graph's fields after its name: a reader merges repeated fields in order */
    pb_append(&graph, &g->body);
    pb_message(out, MODEL_GRAPH, &graph);
    pb_free(&graph);
    opset(out, "", info->opset);
    if (info->ml_opset > 0) opset(out, "ai.onnx.ml", info->ml_opset);
    for (int i = 0; i < info->n_meta; i++) {
        pb_buf e;
        pb_init(&e);
        pb_string(&e, ENTRY_KEY, info->meta[i].key);
        pb_string(&e, ENTRY_VALUE, info->meta[i].value);
        pb_message(out, MODEL_METADATA, &e);
        pb_free(&e);
    }
    return pb_ok(out) ? 0 : -1;
}
