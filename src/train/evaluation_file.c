/* evaluation_file.c — evaluation.json. See evaluation_file.h. */
#include "train/evaluation_file.h"

#include <jansson.h>

#include "core/atomic_file.h"
#include "core/status.h"

int evaluation_file_write(const char *path, const split_metrics *test, const evaluation_model *m)
{
    json_t *root = json_object(), *model = json_object();
    if (!root || !model) {
        json_decref(root);
        json_decref(model);
        return HPCML_FAIL(HPCML_EINTERNAL, "out of memory for %s", path);
    }
    json_object_set_new(root, "test", dist_metrics_json(test));
    json_object_set_new(root, "threshold", json_real(m->threshold));
    json_object_set_new(model, "weights", json_string(m->weights));
    json_object_set_new(model, "epoch", json_integer(m->epoch));
    json_object_set_new(model, "selection_metric", json_string(m->selection_metric));
    json_object_set_new(model, "epochs_trained", json_integer(m->epochs_trained));
    json_object_set_new(model, "stop_reason", json_string(m->stop_reason));
    json_object_set_new(root, "model", model);
    int rc = atomic_write_json(path, root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(root);
    return rc;
}
