/* monitor.h — what happens with each epoch's metrics: the metrics.jsonl
 * record, the alert rules of monitoring.alerts, early stopping.
 *
 * metrics.jsonl (train.output_dir) holds one JSON object per line, written
 * by rank 0 and flushed at once so `tail -f` shows progress:
 *   {"epoch": 3, "global_step": ..., "train_loss": ..., "val_loss": ...,
 *    "val_accuracy", "val_precision", "val_recall", "val_f1", "val_auc",
 *    "val_pr_auc", "val_confusion": [[tn, fp], [fn, tp]], "lr", "epoch_s",
 *    "train_s", "samples_per_s", "allreduce_s", "allreduce_share",
 *    "overlap_window_s"}
 * Undefined values are null. An alert adds a record of its own:
 *   {"alert": "val_loss above 1 for 3 epochs", "epoch": 3, "metric":
 *    "val_loss", "value": ..., "threshold": 1, "direction": "above",
 *    "window": 3, "action": "stop"}
 * Readers that want epoch records skip lines with an "alert" key. On resume
 * the file keeps only the records up to the checkpoint's epoch.
 *
 * Every decision here (alerts, early stopping) is a function of metrics
 * that are identical on every rank, so all ranks decide the same. */
#ifndef HPCML_TRAIN_MONITOR_H
#define HPCML_TRAIN_MONITOR_H

#include <stdio.h>

#include "core/config.h"
#include "train/trainer.h"

typedef struct {
    char metric[64];
    int field; /* index into the metric table */
    double threshold;
    int above; /* 1: alert when the value is above the threshold */
    int window;
    int stop;
    int drift; /* >= 0: a drift metric (monitor_drift_alerts), field is then -1 */
} alert_rule;

/* drift_share, drifted_columns, dataset_drift (0/1): the values of
 * monitor_drift_alerts, in this order */
#define MONITOR_DRIFT_METRICS 3

typedef struct {
    FILE *fp; /* rank 0 only */
    int rank;
    int n_rules;
    alert_rule rules[TRAIN_MAX_ALERTS];
} monitor;

/* The metric table: names as in metrics.jsonl. */
int monitor_metric_index(const char *name); /* -1 when unknown */
const char *monitor_metric_name(int index);
double monitor_metric_value(const train_epoch_metrics *m, int index);
int monitor_metric_higher_is_better(int index); /* losses and times: 0 */

/* Parse monitoring.alerts (every rank; unknown metrics are HPCML_EUSAGE). */
int monitor_init(monitor *mo, const hpcml_config *cfg, int rank);
/* Rank 0: open output_dir/metrics.jsonl for appending, first keeping only
 * the records with epoch <= keep_epochs (0: start a new file). */
int monitor_open_file(monitor *mo, const char *output_dir, long long keep_epochs);
void monitor_close(monitor *mo);

/* Rank 0 writes the epoch record (other ranks: no-op). */
int monitor_write_epoch(monitor *mo, const train_epoch_metrics *m, long long global_step,
                        const double *val_confusion, int classes);

/* Update the per-rule runs of bad epochs (run[], saved in checkpoints),
 * write and log an alert for each rule whose run reaches its window, and
 * set *stop when one of them has action "stop". */
int monitor_check_alerts(monitor *mo, const train_epoch_metrics *m, int64_t *run, int *stop);

/* hpcml-predict: check the rules on the drift metrics (values in the order
 * drift_share, drifted_columns, dataset_drift); each one on the bad side
 * logs "ALERT drift: ..." (rank 0) and appends a record like
 * metrics.jsonl's alert records (without epoch and window) to records (a
 * JSON array, may be NULL). Window and action do not apply: one check per
 * run, and the run exits 0 either way. Returns the number of alerts. */
struct json_t;
int monitor_drift_alerts(const monitor *mo, const double values[MONITOR_DRIFT_METRICS],
                         struct json_t *records);

#endif
