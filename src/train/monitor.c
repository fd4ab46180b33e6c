/* monitor.c — metrics.jsonl, alert rules. See monitor.h. */
#include "train/monitor.h"

#include <errno.h>
#include <jansson.h>
#include <libconfig.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic_file.h"
#include "core/log.h"
#include "core/status.h"

static const struct {
    const char *name;
    size_t offset;
    int higher_is_better;
} metric_table[] = {
    {"train_loss", offsetof(train_epoch_metrics, train_loss), 0},
    {"val_loss", offsetof(train_epoch_metrics, val_loss), 0},
    {"val_accuracy", offsetof(train_epoch_metrics, val_accuracy), 1},
    {"val_precision", offsetof(train_epoch_metrics, val_precision), 1},
    {"val_recall", offsetof(train_epoch_metrics, val_recall), 1},
    {"val_f1", offsetof(train_epoch_metrics, val_f1), 1},
    {"val_auc", offsetof(train_epoch_metrics, val_auc), 1},
    {"val_pr_auc", offsetof(train_epoch_metrics, val_pr_auc), 1},
    {"lr", offsetof(train_epoch_metrics, lr), 0},
    {"epoch_s", offsetof(train_epoch_metrics, epoch_s), 0},
    {"train_s", offsetof(train_epoch_metrics, train_s), 0},
    {"samples_per_s", offsetof(train_epoch_metrics, samples_per_s), 1},
    {"allreduce_s", offsetof(train_epoch_metrics, allreduce_s), 0},
    {"allreduce_share", offsetof(train_epoch_metrics, allreduce_share), 0},
    {"overlap_window_s", offsetof(train_epoch_metrics, overlap_window_s), 0},
};
#define N_METRICS ((int)(sizeof metric_table / sizeof metric_table[0]))

/* Metrics of hpcml-predict's drift check (monitor_drift_alerts), not of epochs. */
static const char *const drift_metric_names[MONITOR_DRIFT_METRICS] = {
    "drift_share", "drifted_columns", "dataset_drift"};

static int drift_metric_index(const char *name)
{
    for (int i = 0; i < MONITOR_DRIFT_METRICS; i++)
        if (strcmp(drift_metric_names[i], name) == 0) return i;
    return -1;
}

int monitor_metric_index(const char *name)
{
    for (int i = 0; i < N_METRICS; i++)
        if (strcmp(metric_table[i].name, name) == 0) return i;
    return -1;
}

const char *monitor_metric_name(int index)
{
    return metric_table[index].name;
}

double monitor_metric_value(const train_epoch_metrics *m, int index)
{
    return *(const double *)((const char *)m + metric_table[index].offset);
}

int monitor_metric_higher_is_better(int index)
{
    return metric_table[index].higher_is_better;
}

int monitor_init(monitor *mo, const hpcml_config *cfg, int rank)
{
    memset(mo, 0, sizeof *mo);
    mo->rank = rank;
    const config_setting_t *list = cfg_setting(cfg, "monitoring.alerts");
    int n = list ? config_setting_length(list) : 0;
    HPCML_CHECK(n <= TRAIN_MAX_ALERTS, HPCML_EUSAGE, "monitoring.alerts: %d rules, at most %d", n,
                TRAIN_MAX_ALERTS);
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        alert_rule *r = &mo->rules[i];
        const char *metric = "", *direction = "above", *action = "warn";
        double threshold = 0;
        int window = 1;
        config_setting_lookup_string(g, "metric", &metric);
        config_setting_lookup_float(g, "threshold", &threshold);
        config_setting_lookup_string(g, "direction", &direction);
        config_setting_lookup_int(g, "window", &window);
        config_setting_lookup_string(g, "action", &action);
        r->field = monitor_metric_index(metric);
        r->drift = drift_metric_index(metric);
        if (r->field < 0 && r->drift < 0) {
            char known[1024] = "";
            for (int k = 0; k < N_METRICS; k++) {
                strncat(known, metric_table[k].name, sizeof known - strlen(known) - 3);
                strcat(known, ", ");
            }
            strcat(known, "drift_share, drifted_columns, dataset_drift");
            return HPCML_FAIL(HPCML_EUSAGE,
                              "monitoring.alerts[%d]: unknown metric '%s' (known: %s)", i, metric,
                              known);
        }
        snprintf(r->metric, sizeof r->metric, "%s", metric);
        r->threshold = threshold;
        r->above = strcmp(direction, "above") == 0;
        r->window = window > 0 ? window : 1;
        r->stop = strcmp(action, "stop") == 0;
    }
    mo->n_rules = n;
    return HPCML_OK;
}

/* Keep the first records of an existing file whose epoch <= keep; a torn
 * last line (no newline, or not JSON) is dropped. */
static int truncate_records(const char *path, long long keep)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return HPCML_OK;
    size_t cap = 1 << 16, len = 0;
    char *kept = malloc(cap);
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t n;
    int rc = HPCML_OK;
    if (!kept) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory reading %s", path);
    while (rc == HPCML_OK && (n = getline(&line, &line_cap, fp)) > 0) {
        if (line[n - 1] != '\n') break;
        json_t *rec = json_loads(line, 0, NULL);
        json_t *ep = rec ? json_object_get(rec, "epoch") : NULL;
        int keep_line = ep && json_is_integer(ep) && json_integer_value(ep) <= keep;
        json_decref(rec);
        if (!keep_line) continue;
        if (len + (size_t)n + 1 > cap) {
            while (len + (size_t)n + 1 > cap)
                cap *= 2;
            char *grown = realloc(kept, cap);
            if (!grown) {
                rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory reading %s", path);
                break;
            }
            kept = grown;
        }
        memcpy(kept + len, line, (size_t)n);
        len += (size_t)n;
    }
    free(line);
    fclose(fp);
    if (rc == HPCML_OK) {
        kept[len] = '\0';
        rc = atomic_write_text(path, kept);
    }
    free(kept);
    return rc;
}

int monitor_open_file(monitor *mo, const char *output_dir, long long keep_epochs)
{
    if (mo->rank != 0) return HPCML_OK;
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", output_dir);
    if (keep_epochs > 0) HPCML_TRY(truncate_records(path, keep_epochs));
    mo->fp = fopen(path, keep_epochs > 0 ? "ab" : "wb");
    HPCML_CHECK(mo->fp != NULL, HPCML_EIO, "cannot open %s: %s", path, strerror(errno));
    return HPCML_OK;
}

void monitor_close(monitor *mo)
{
    if (mo->fp) fclose(mo->fp);
    mo->fp = NULL;
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static int write_record(monitor *mo, json_t *rec)
{
    char *text = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(rec);
    HPCML_CHECK(text != NULL, HPCML_EINTERNAL, "cannot format a metrics record");
    int bad = fputs(text, mo->fp) < 0 || fputc('\n', mo->fp) == EOF || fflush(mo->fp) != 0;
    free(text);
    HPCML_CHECK(!bad, HPCML_EIO, "cannot write metrics.jsonl: %s", strerror(errno));
    return HPCML_OK;
}

int monitor_write_epoch(monitor *mo, const train_epoch_metrics *m, long long global_step,
                        const double *val_confusion, int classes)
{
    if (mo->rank != 0 || !mo->fp) return HPCML_OK;
    json_t *rec = json_object();
    json_object_set_new(rec, "epoch", json_integer(m->epoch));
    json_object_set_new(rec, "global_step", json_integer(global_step));
    for (int i = 0; i < 8; i++) /* train_loss .. val_pr_auc */
        json_object_set_new(rec, metric_table[i].name, num(monitor_metric_value(m, i)));
    if (val_confusion) {
        json_t *cm = json_array();
        for (int r = 0; r < classes; r++) {
            json_t *row = json_array();
            for (int c = 0; c < classes; c++)
                json_array_append_new(row,
                                      json_integer((json_int_t)val_confusion[r * classes + c]));
            json_array_append_new(cm, row);
        }
        json_object_set_new(rec, "val_confusion", cm);
    } else {
        json_object_set_new(rec, "val_confusion", json_null());
    }
    for (int i = 8; i < N_METRICS; i++)
        json_object_set_new(rec, metric_table[i].name, num(monitor_metric_value(m, i)));
    return write_record(mo, rec);
}

int monitor_check_alerts(monitor *mo, const train_epoch_metrics *m, int64_t *run, int *stop)
{
    *stop = 0;
    for (int i = 0; i < mo->n_rules; i++) {
        const alert_rule *r = &mo->rules[i];
        if (r->field < 0) continue; /* a drift rule: hpcml-predict checks it */
        double v = monitor_metric_value(m, r->field);
        /* NaN (undefined) counts as bad: a metric that stops existing is news too. */
        int bad = isnan(v) || (r->above ? v > r->threshold : v < r->threshold);
        run[i] = bad ? run[i] + 1 : 0;
        if (run[i] < r->window) continue;
        char what[256];
        snprintf(what, sizeof what, "%s %s %g for %d epoch%s", r->metric,
                 r->above ? "above" : "below", r->threshold, r->window, r->window == 1 ? "" : "s");
        if (mo->rank == 0)
            log_warn("ALERT epoch %lld: %s (now %g)%s", (long long)m->epoch, what, v,
                     r->stop ? ": stopping" : "");
        if (r->stop) *stop = 1;
        if (mo->rank == 0 && mo->fp) {
            json_t *rec = json_object();
            json_object_set_new(rec, "alert", json_string(what));
            json_object_set_new(rec, "epoch", json_integer(m->epoch));
            json_object_set_new(rec, "metric", json_string(r->metric));
            json_object_set_new(rec, "value", num(v));
            json_object_set_new(rec, "threshold", json_real(r->threshold));
            json_object_set_new(rec, "direction", json_string(r->above ? "above" : "below"));
            json_object_set_new(rec, "window", json_integer(r->window));
            json_object_set_new(rec, "action", json_string(r->stop ? "stop" : "warn"));
            HPCML_TRY(write_record(mo, rec));
        }
    }
    return HPCML_OK;
}

int monitor_drift_alerts(const monitor *mo, const double values[MONITOR_DRIFT_METRICS],
                         json_t *records)
{
    int fired = 0;
    for (int i = 0; i < mo->n_rules; i++) {
        const alert_rule *r = &mo->rules[i];
        if (r->drift < 0) continue;
        double v = values[r->drift];
        int bad = isnan(v) || (r->above ? v > r->threshold : v < r->threshold);
        if (!bad) continue;
        fired++;
        char what[256];
        snprintf(what, sizeof what, "%s %s %g", r->metric, r->above ? "above" : "below",
                 r->threshold);
        if (mo->rank == 0) log_warn("ALERT drift: %s (now %g)", what, v);
        if (!records) continue;
        json_t *rec = json_object();
        json_object_set_new(rec, "alert", json_string(what));
        json_object_set_new(rec, "metric", json_string(r->metric));
        json_object_set_new(rec, "value", num(v));
        json_object_set_new(rec, "threshold", json_real(r->threshold));
        json_object_set_new(rec, "direction", json_string(r->above ? "above" : "below"));
        json_object_set_new(rec, "action", json_string(r->stop ? "stop" : "warn"));
        json_array_append_new(records, rec);
    }
    return fired;
}
