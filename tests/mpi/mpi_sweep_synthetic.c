/* mpi_sweep_synthetic.c — hpcml-sweep with a placeholder trial runner, for
 * tests only: the same program (sweep_app_run: --trial N, --pool, --status,
 * the journal, the reports) with a synthetic learning curve in place of the
 * trainer, so the scheduler and the journal can be tested end to end in
 * seconds and without a dataset.
 *
 *   mpi_sweep_synthetic -c CFG [-s k=v]... [--trial N | --pool | --status]
 *
 * The curve of a trial is a deterministic function of its config:
 *   ceiling  q = 0.95 - 0.06 * (log10(train.lr) + 2.5)^2 - 0.1 * train.dropout
 *   speed    tau = 0.7 + 2.5 * train.dropout + 0.3 * (number of hidden layers)
 *   value(e) = q - (q - 0.5) * exp(-e / tau) + 0.004 * (u - 0.5), u from
 *              Philox on (train.seed, the trial's directory name, e)
 * and train.lr > 0.5 "diverges": NaN from epoch 2 on. Every rank computes
 * the same value (as the trainer's allreduced metrics are). Rank 0 keeps
 * train.output_dir/synthetic.ckpt (the epochs done) so a re-run resumes.
 *
 * Environment (tests only):
 *   HPCML_SYNTH_EPOCH_S   seconds of "training" per epoch (default 0.01)
 *   HPCML_SYNTH_DIE_AT    "T:E": trial T's process dies (SIGKILL) right
 *                         after epoch E's decision came back, before its
 *                         checkpoint: the re-run must not record E twice
 *   HPCML_SYNTH_DIE_AFTER_STOP  set: the process dies right after writing
 *                         the checkpoint of the epoch it was told to stop
 *                         at, before the trial's end is recorded: the re-run
 *                         must record the end and train nothing */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/app.h"
#include "core/atomic_file.h"
#include "core/hpcml_mpi.h"
#include "core/rng.h"
#include "core/status.h"
#include "sweep/sweep_app.h"

static double synth_value(const hpcml_config *cfg, const char *dir, int64_t epoch)
{
    double lr = cfg_float(cfg, "train.lr"), dropout = cfg_float(cfg, "train.dropout");
    const int64_t *hidden;
    int layers = cfg_int_list(cfg, "train.hidden", &hidden);
    if (lr > 0.5 && epoch >= 2) return NAN;
    double l = log10(lr) + 2.5;
    double q = 0.95 - 0.06 * l * l - 0.1 * dropout;
    double tau = 0.7 + 2.5 * dropout + 0.3 * layers;
    uint64_t key = rng_hash_bytes(dir, strlen(dir), (uint64_t)cfg_int(cfg, "train.seed"));
    double u = rng_uniform(key, RNG_STREAM_SWEEP, (uint64_t)epoch, 0);
    return q - (q - 0.5) * exp(-(double)epoch / tau) + 0.004 * (u - 0.5);
}

static int64_t trial_of(const char *dir)
{
    const char *p = strrchr(dir, '-');
    return p ? strtoll(p + 1, NULL, 10) : -1;
}

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

static int synth_run(void *self, MPI_Comm comm, const hpcml_config *cfg, sweep_epoch_fn on_epoch,
                     void *arg)
{
    (void)self;
    int rank = hpcml_mpi_rank(comm);
    const char *dir = cfg_str(cfg, "train.output_dir");
    char ckpt[4200];
    snprintf(ckpt, sizeof ckpt, "%s/synthetic.ckpt", dir);
    long long done = 0;
    int rc = HPCML_OK;
    if (rank == 0) {
        rc = fs_mkdir_p(dir);
        FILE *f = fopen(ckpt, "r");
        if (f) {
            if (fscanf(f, "%lld", &done) != 1) done = 0;
            fclose(f);
        }
    }
    HPCML_TRY(hpcml_mpi_agree(comm, rc));
    HPCML_MPI_CHECK(MPI_Bcast(&done, 1, MPI_LONG_LONG, 0, comm));
    const char *s = getenv("HPCML_SYNTH_EPOCH_S");
    double epoch_s = s ? atof(s) : 0.01;
    long long die_trial = -1, die_epoch = -1;
    const char *die = getenv("HPCML_SYNTH_DIE_AT");
    if (die) sscanf(die, "%lld:%lld", &die_trial, &die_epoch);
    int64_t epochs = cfg_int(cfg, "train.epochs"), trial = trial_of(dir);
    for (int64_t e = done + 1; e <= epochs; e++) {
        sleep_s(epoch_s);
        int stop = 0;
        HPCML_TRY(on_epoch(arg, e, synth_value(cfg, dir, e), &stop));
        if (trial == die_trial && e == die_epoch) raise(SIGKILL);
        if (rank == 0) {
            char text[32];
            snprintf(text, sizeof text, "%lld\n", (long long)e);
            rc = atomic_write_text(ckpt, text);
        }
        HPCML_TRY(hpcml_mpi_agree(comm, rc));
        if (stop && getenv("HPCML_SYNTH_DIE_AFTER_STOP")) raise(SIGKILL);
        if (stop) break;
    }
    return HPCML_OK;
}

static const sweep_trial_runner synthetic_runner = {"synthetic curve", synth_run, NULL};

static int run(app_ctx *ctx)
{
    return sweep_app_run(ctx, &synthetic_runner);
}

int main(int argc, char **argv)
{
    static const app_def def = {
        .name = "mpi_sweep_synthetic",
        .summary = "hpcml-sweep with a synthetic learning curve instead of the trainer (tests)",
        .options = sweep_app_options,
        .run = run,
    };
    return app_main(&def, argc, argv);
}
