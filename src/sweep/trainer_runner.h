/* trainer_runner.h — a sweep trial is a training run through the trainer
 * library (train/trainer.h), not a subprocess: this adapter reports each
 * epoch's sweep.metric to the scheduler and stops the run when told. */
#ifndef HPCML_SWEEP_TRAINER_RUNNER_H
#define HPCML_SWEEP_TRAINER_RUNNER_H

#include "sweep/sweep_run.h"

extern const sweep_trial_runner sweep_trainer_runner;

#endif
