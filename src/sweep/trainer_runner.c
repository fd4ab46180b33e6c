/* trainer_runner.c — the trainer behind the sweep_trial_runner interface. */
#include "sweep/trainer_runner.h"

#include "core/status.h"
#include "train/monitor.h"
#include "train/trainer.h"

typedef struct {
    sweep_epoch_fn report;
    void *report_arg;
    int metric; /* monitor_metric_index of sweep.metric */
} epoch_bridge;

static int bridge_epoch(const train_epoch_metrics *m, void *user, int *stop)
{
    epoch_bridge *b = user;
    return b->report(b->report_arg, m->epoch, monitor_metric_value(m, b->metric), stop);
}

static int run_trial(void *self, MPI_Comm comm, const hpcml_config *cfg, sweep_epoch_fn report,
                     void *report_arg)
{
    (void)self;
    const char *metric = cfg_str(cfg, "sweep.metric");
    epoch_bridge b = {report, report_arg, monitor_metric_index(metric)};
    HPCML_CHECK(b.metric >= 0, HPCML_EUSAGE,
                "sweep.metric \"%s\" is not a metric of hpcml-train (e.g. val_auc, val_pr_auc, "
                "val_f1, val_loss)",
                metric);
    trainer_hooks hooks = {.on_epoch = bridge_epoch, .user = &b, .no_outputs = 1};
    return trainer_run(comm, cfg, &hooks);
}

const sweep_trial_runner sweep_trainer_runner = {"hpcml trainer", run_trial, NULL};
