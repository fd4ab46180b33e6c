/* preempt.h — preemption signals, handled for the whole run of every program.
 *
 * app_main installs one handler first thing, before MPI_Init, for SIGTERM,
 * SIGUSR1 and SIGUSR2 (what Slurm sends — `--signal`, preemption, scancel —
 * and what mpirun forwards to the ranks) and SIGINT. The handler records the
 * first signal in a sig_atomic_t flag; what follows depends on the program:
 *
 *   - a program that cannot resume (hpcml-gen, -etl, -predict, -export,
 *     -report): the handler unlinks the temp files tracked with
 *     atomic_tmp_track and _exits with 75 (HPCML_EPREEMPTED): nothing partial
 *     is left and a requeued job starts over. Every rank gets the signal from
 *     Slurm or mpirun; a rank signalled alone exits and mpirun ends the others
 *     (with SIGTERM, the same path).
 *   - a program that polls (app_def.polls_preemption: hpcml-train,
 *     hpcml-sweep): the handler only sets the flag. The program reads it at
 *     safe points with preempt_agree (collective: any rank's signal counts, so
 *     the ranks stop together and none waits alone), writes what it resumes
 *     from and returns HPCML_EPREEMPTED; app_main's final agreement counts a
 *     signal that came after the last safe point too, so such a run also ends
 *     with 75 (its outputs are complete then).
 *
 * SIGINT (an interactive ^C) always takes the first path, with exit 130.
 * Nothing in the handler allocates, locks or does anything but unlink, write
 * and _exit (async-signal-safe). */
#ifndef HPCML_CORE_PREEMPT_H
#define HPCML_CORE_PREEMPT_H

#include <mpi.h>

/* Install the handler (app_main, before MPI_Init). program and rank (the
 * launcher's; 0 when started alone) name the one line the handler prints when
 * it ends the process; polls: the program reads the flag itself (see above). */
int preempt_install(const char *program, int rank, int polls);

/* The first preemption signal this process received, or 0. */
int preempt_pending(void);

/* Collective on comm: the signal any rank received (the highest number when
 * several did), 0 when none did. A failed MPI call aborts (it is used inside
 * collective phases). */
int preempt_agree(MPI_Comm comm);

/* "SIGTERM", "SIGUSR1", ... for a preemption signal number. */
const char *preempt_signal_name(int signo);

/* Narrow the preemption signals to SIGTERM and name ("TERM", "USR1" or
 * "USR2"; hpcml-train's train.preempt_signal): the other one of USR1/USR2
 * gets its default action back, and if it came meanwhile it acts now. */
int preempt_only(const char *name);

/* Test hook: when HPCML_PAUSE names this point ("name" or "name@rank", rank
 * in MPI_COMM_WORLD, several specs separated by commas), print
 * "hpcml: paused at NAME on rank R (pid P)" to stderr and wait until a
 * preemption signal arrives, the file HPCML_PAUSE_RELEASE (when set) exists,
 * or 120 s have passed. Lets a test signal a program at a chosen moment
 * instead of after a guessed delay. No effect without HPCML_PAUSE. */
void hpcml_pause_point(const char *name);

#endif
