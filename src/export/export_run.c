/* export_run.c — hpcml-export: model.h5 -> model.onnx. See export_run.h. */
#include "export/export_run.h"

#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic_file.h"
#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/status.h"
#include "etl/etl_schema.h"
#include "export/export_onnx.h"
#include "io/h5_util.h"
#include "io/model_file.h"

typedef struct {
    model_file m;
    hpcml_config *etl_cfg, *train_cfg;
    etl_options o;
    int have_options;
    etl_schema s;
    etl_fit fit;
    char *model_version;
    char hash[32];
} export_job;

/* The model, its ETL options, the schema of its columns and the fit. */
static int load(export_job *j, const char *path)
{
    HPCML_TRY(model_file_open(path, &j->m));
    model_file *m = &j->m;
    j->model_version = h5_attr_string(m->file, "hpcml_version");
    if (hpcml_config_load_string(&j->etl_cfg, m->etl_config, path, NULL, 0) != HPCML_OK)
        return HPCML_FAIL(HPCML_EDATA, "%s: the ETL config stored in the model does not load: %s",
                          path, hpcml_error_message());
    if (hpcml_config_load_string(&j->train_cfg, m->train_config, path, NULL, 0) != HPCML_OK)
        return HPCML_FAIL(HPCML_EDATA,
                          "%s: the training config stored in the model does not load: %s", path,
                          hpcml_error_message());
    snprintf(j->hash, sizeof j->hash, "%016" PRIx64, hpcml_config_hash(j->train_cfg));
    HPCML_TRY(etl_options_load(j->etl_cfg, &j->o));
    j->have_options = 1;
    HPCML_TRY(etl_schema_resolve_scoring(&j->o, m->col_names, m->n_cols, path, m->col_names,
                                         m->col_types, m->n_cols, NULL, 0, &j->s));
    HPCML_TRY(model_file_load_fit(m, &j->s, &j->fit));
    HPCML_CHECK(j->fit.n_features == m->shape.n_inputs, HPCML_EDATA,
                "%s: the transform gives %d features, the network takes %d", path,
                j->fit.n_features, m->shape.n_inputs);
    return HPCML_OK;
}

static int write_file(const char *path, const pb_buf *bytes)
{
    char *copy = strdup(path);
    HPCML_CHECK(copy, HPCML_EINTERNAL, "out of memory");
    int rc = fs_mkdir_p(dirname(copy));
    free(copy);
    HPCML_TRY(rc);
    atomic_file af;
    HPCML_TRY(atomic_file_open(&af, path));
    if (fwrite(bytes->data, 1, bytes->len, af.fp) != bytes->len) {
        atomic_file_abort(&af);
        return HPCML_FAIL(HPCML_EIO, "%s: cannot write the ONNX file", path);
    }
    return atomic_file_commit(&af);
}

static void job_free(export_job *j)
{
    etl_fit_free(&j->fit);
    etl_schema_free(&j->s);
    if (j->have_options) etl_options_free(&j->o);
    hpcml_config_free(j->etl_cfg);
    hpcml_config_free(j->train_cfg);
    free(j->model_version);
    model_file_close(&j->m);
}

int export_run(MPI_Comm comm, const hpcml_config *cfg, const export_request *req)
{
    int rank = 0;
    HPCML_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    if (rank != 0) return HPCML_OK;
    const char *model = req->model ? req->model : cfg_str(cfg, "export.model");
    const char *output = req->output ? req->output : cfg_str(cfg, "export.output");
    export_job j;
    memset(&j, 0, sizeof j);
    j.m.file = -1;
    pb_buf bytes = {0};
    int rc = load(&j, model);
    if (rc == HPCML_OK) {
        const export_options eo = {
            .network_only = req->network_only || cfg_bool(cfg, "export.network_only"),
            .model_path = model,
            .model_version = j.model_version ? j.model_version : "",
            .train_config_hash = j.hash,
            .null_markers = j.o.null_markers,
        };
        rc = export_onnx_build(&j.m, &j.s, &j.fit, &eo, &bytes);
        if (rc == HPCML_OK) rc = write_file(output, &bytes);
        if (rc == HPCML_OK)
            log_info("wrote %s (%zu bytes): %s, %d features, %d classes, opset %d", output,
                     bytes.len, eo.network_only ? "network only" : "transform and network",
                     j.m.n_features, j.m.n_classes, EXPORT_OPSET);
    }
    pb_free(&bytes);
    job_free(&j);
    return rc;
}
