/* signals.h — preemption requests: a signal handler that only sets a flag.
 *
 * SIGTERM and the configured signal (train.preempt_signal, SIGUSR1 by
 * default: what Slurm's --signal=B:USR1@grace sends) set a sig_atomic_t
 * flag and nothing else; nothing that allocates, locks or does I/O runs in
 * the handler. The trainer reads the flag at step boundaries and agrees on
 * it across ranks (any rank's request counts), then writes a checkpoint
 * outside the handler and exits with HPCML_EPREEMPTED (75). */
#ifndef HPCML_TRAIN_SIGNALS_H
#define HPCML_TRAIN_SIGNALS_H

/* Install the handlers for SIGTERM and signal_name ("USR1", "USR2" or
 * "TERM"); the previous handlers are kept for signals_uninstall. */
int signals_install(const char *signal_name);
void signals_uninstall(void);

/* The signal number that was received first, or 0. */
int signals_pending(void);
#endif
