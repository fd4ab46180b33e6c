/* export_onnx.h — a model package (model.h5) as one ONNX graph: the
 * training transform (imputation, scaling, categorical encoding with the
 * vocabulary and its unknown slot), the MLP, softmax and the decision rule
 * of hpcml-predict. docs/export.md describes the graph and its bounds.
 *
 * Pure: builds bytes in memory from structures the caller read
 * (io/model_file.h); the program (export_run.c) does the I/O. */
#ifndef HPCML_EXPORT_ONNX_H
#define HPCML_EXPORT_ONNX_H

#include "etl/etl_schema.h"
#include "etl/etl_transform.h"
#include "export/onnx_pb.h"
#include "io/model_file.h"

/* The opsets the graph uses: within what Debian 12's python3-onnx (1.12)
 * checks and ONNX Runtime runs. IR version 8 is set by onnx_graph.c. */
#define EXPORT_OPSET 17
#define EXPORT_ML_OPSET 3

typedef struct {
    int network_only;          /* input: the transformed feature row */
    const char *model_path;    /* for messages and the metadata */
    const char *model_version; /* hpcml_version attribute of model.h5 ("" when absent) */
    const char *train_config_hash; /* hex */
    const char *const *null_markers; /* etl.null_markers of the model, NULL-terminated */
} export_options;

/* Builds the ModelProto into out (initialised here; the caller frees it).
 * s and fit: the model's columns (model_file_load_fit); m: the network.
 * Errors: HPCML_EDATA for a model the graph cannot express (a column whose
 * name collides with an output), HPCML_EINTERNAL when memory runs out. */
int export_onnx_build(const model_file *m, const etl_schema *s, const etl_fit *fit,
                      const export_options *o, pb_buf *out);

#endif
