/* export_run.h — hpcml-export's work: read model.h5 (io/model_file.h),
 * build the ONNX graph (export_onnx.h), write it atomically. Rank 0 does
 * everything (a model is small); other ranks return at once and the
 * program agrees on the status (core/app.h). */
#ifndef HPCML_EXPORT_RUN_H
#define HPCML_EXPORT_RUN_H

#include <mpi.h>

#include "core/config.h"

typedef struct {
    const char *model;  /* NULL: export.model */
    const char *output; /* NULL: export.output */
    int network_only;   /* 1: --network-only (or export.network_only) */
} export_request;

/* Exit codes: 2 for a model file that is not a readable hpcml model of this
 * format version (or is truncated, corrupt); 3 for an output that cannot be
 * written (nothing is left behind: the temp file is removed). */
int export_run(MPI_Comm comm, const hpcml_config *cfg, const export_request *req);

#endif
