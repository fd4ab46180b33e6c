/* run_lock.h — one live writer per output folder. A run that appends to files of
 * a folder (hpcml-train: metrics.jsonl, checkpoints/) holds a POSIX record lock
 * (fcntl F_SETLK) on "<dir>/<name>" for its whole life; a second run into the same
 * folder finds it held and stops before writing anything. The kernel (or the NFS /
 * Lustre lock manager) drops the lock when the holder dies, SIGKILL and node loss
 * included, so a requeued job is never locked out by a dead one. The file holds
 * "pid host" of the holder, for the message. Not collective: one rank takes it. */
#ifndef HPCML_IO_RUN_LOCK_H
#define HPCML_IO_RUN_LOCK_H

/* Create dir if needed, open or create "<dir>/<name>" and lock it. *fd gets the
 * open descriptor (keep it open for the run; close it, or exit, to release).
 * HPCML_OK when locked, or when the file system has no locks (a warning; *fd
 * is then -1); HPCML_EPREEMPTED (75, try later) when another process holds it,
 * naming that process; HPCML_EIO when the folder or file cannot be made. */
int run_lock_acquire(const char *dir, const char *name, const char *what, int *fd);

/* Release: close the descriptor (-1 is ignored). The file stays. */
void run_lock_release(int fd);

#endif
