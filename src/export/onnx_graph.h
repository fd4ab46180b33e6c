/* onnx_graph.h — building an ONNX ModelProto (IR 8) out of nodes, constant
 * tensors and typed graph inputs/outputs, on top of the wire encoder
 * (onnx_pb.h).
 *
 * GraphProto's repeated fields (node, initializer, input, output) may
 * interleave on the wire, so a graph is one growing buffer: every call
 * appends its message at once and nodes stay in the order they are added
 * (which must be a topological order, as ONNX requires). Pure: no I/O. */
#ifndef HPCML_EXPORT_ONNX_GRAPH_H
#define HPCML_EXPORT_ONNX_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "export/onnx_pb.h"

/* TensorProto.DataType values used here */
enum { ONNX_FLOAT = 1, ONNX_INT64 = 7, ONNX_STRING = 8, ONNX_BOOL = 9, ONNX_DOUBLE = 11 };

/* A dimension of a graph input or output: >= 0 a fixed size, ONNX_DIM_BATCH
 * the symbolic batch dimension "N". */
#define ONNX_DIM_BATCH (-1)

typedef struct {
    pb_buf body; /* GraphProto fields */
} onnx_graph;

typedef struct {
    pb_buf body; /* NodeProto fields */
} onnx_node;

void onnx_graph_init(onnx_graph *g);
void onnx_graph_free(onnx_graph *g);

/* Graph inputs and outputs: name, element type, shape. */
void onnx_graph_input(onnx_graph *g, const char *name, int elem_type, const int64_t *dims,
                      int n_dims);
void onnx_graph_output(onnx_graph *g, const char *name, int elem_type, const int64_t *dims,
                       int n_dims);

/* Constant tensors (initializers); numbers as little-endian raw_data. */
void onnx_const_floats(onnx_graph *g, const char *name, const int64_t *dims, int n_dims,
                       const float *v);
void onnx_const_doubles(onnx_graph *g, const char *name, const int64_t *dims, int n_dims,
                        const double *v);
void onnx_const_int64s(onnx_graph *g, const char *name, const int64_t *dims, int n_dims,
                       const int64_t *v);
void onnx_const_strings(onnx_graph *g, const char *name, const int64_t *dims, int n_dims,
                        const char *const *v);
/* Scalars (rank 0). */
void onnx_const_double(onnx_graph *g, const char *name, double v);
void onnx_const_int64(onnx_graph *g, const char *name, int64_t v);

/* A node: begin, inputs and outputs (in order), attributes, end (appends it
 * to g). domain NULL or "" is the default domain ai.onnx. */
void onnx_node_begin(onnx_node *n, const char *op_type, const char *domain, const char *name);
void onnx_node_input(onnx_node *n, const char *name);
void onnx_node_output(onnx_node *n, const char *name);
void onnx_attr_int(onnx_node *n, const char *name, int64_t v);
void onnx_attr_float(onnx_node *n, const char *name, float v);
void onnx_attr_ints(onnx_node *n, const char *name, const int64_t *v, size_t count);
void onnx_attr_strings(onnx_node *n, const char *name, const char *const *v, size_t count);
void onnx_node_end(onnx_graph *g, onnx_node *n);

/* The common case: one output, inputs ended by NULL, no attributes. */
void onnx_op(onnx_graph *g, const char *op_type, const char *out, ...);

typedef struct {
    const char *key, *value;
} onnx_meta;

typedef struct {
    const char *graph_name;
    const char *producer_version;
    const char *doc;
    int64_t opset;    /* ai.onnx */
    int64_t ml_opset; /* ai.onnx.ml; 0: not imported */
    const onnx_meta *meta;
    int n_meta;
} onnx_model_info;

/* The ModelProto (IR version 8, producer "hpcml") holding g, into out
 * (initialised here; the caller frees it). Returns 0, or -1 when memory ran
 * out while building g or the model. */
int onnx_model_encode(const onnx_graph *g, const onnx_model_info *info, pb_buf *out);

#endif
