/* run_lock.h — one live writer per output folder. A run that appends to files of
 * a folder (hpcml-train: metrics.jsonl, checkpoints/) holds a POSIX record lock
 * (fcntl F_SETLK) on "<dir>/<name>" for its whole life; a second run into the same
 * folder finds it held and stops before writing anything. The kernel (or the NFS /
 * Lustre lock manager) drops the lock when the holder dies, SIGKILL and node loss
 * included, so a requeued job is never locked out by a dead one. The file holds
 * "pid N on HOST" of the holder, for the message. Not collective: one rank takes it. */
#ifndef HPCML_IO_RUN_LOCK_H
#define HPCML_IO_RUN_LOCK_H

typedef struct {
    int fd;            /* -1: not held */
    int created_dirs;  /* folders acquire made (dir and the missing parents above it) */
    char dir[4096];
    char path[4400];
} run_lock;

/* Create dir if needed, open or create "<dir>/<name>" and lock it. HPCML_OK when
 * locked, or when the file system has no record locks (a warning; l->fd is then
 * -1); HPCML_EPREEMPTED (75, try later) when another process holds it, naming
 * that process; HPCML_EIO when the folder or file cannot be made. */
int run_lock_acquire(run_lock *l, const char *dir, const char *name, const char *what);

/* Release (closing the descriptor). With failed set, a run that wrote nothing else
 * leaves nothing: the lock file is removed and so are the folders acquire created,
 * when they are empty then. */
void run_lock_release(run_lock *l, int failed);

#endif
