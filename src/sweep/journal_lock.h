/* journal_lock.h — a mutual-exclusion lock for processes on many nodes that
 * share only a file system (NFS, Lustre, GPFS, local disks).
 *
 * The lock is a file created with open(O_CREAT | O_EXCL), which is atomic on
 * the server for NFSv3+ and on Lustre, unlike fcntl/flock, whose NFS support
 * depends on lockd/NLM being configured and whose Lustre support depends on
 * the mount's flock option. The file holds its owner ("host pid token
 * time"), so a person can see who holds it.
 *
 * A holder that dies leaves the file behind. Waiters judge it stale when its
 * mtime is older than stale_s by their clock (so clocks must agree within
 * stale_s, which NTP gives), and break it by renaming it to a unique name,
 * checking that what they renamed is the very file they judged stale (same
 * inode and owner text), and only then unlinking it. Release works the same
 * way. Why rename-then-unlink and not unlink: rename is one atomic operation
 * on the server, so of all the processes that race to break or release the
 * same lock exactly one gets the file, and after the rename nobody else can
 * touch it, so the winner can look at it before destroying it. A plain
 * unlink cannot be checked first: a waiter that judged lock A stale could
 * unlink lock B that someone created a moment after A was released,
 * and two processes would then hold the lock. If the renamed file turns out
 * to be a fresh lock, it is put back with link() (which fails rather than
 * overwrite a newer one).
 *
 * Holders can re-check that the lock is still theirs (lock_still_held)
 * just before they write; see docs/sweep.md for what remains possible when a
 * live holder is slower than stale_s. */
#ifndef HPCML_SWEEP_JOURNAL_LOCK_H
#define HPCML_SWEEP_JOURNAL_LOCK_H

#include <stdint.h>

typedef struct {
    char path[4096];
    double stale_s;
    uint64_t token; /* this holder's random id, 0 when not held */
    char owner[256];
    /* statistics */
    int64_t acquired, broken_stale, lost, contended;
    double wait_s;
} journal_lock;

void journal_lock_init(journal_lock *l, const char *path, double stale_s);
/* Block until the lock is ours (breaking stale locks). HPCML_EIO when the
 * directory cannot be used. */
int journal_lock_acquire(journal_lock *l);
/* 1 when the lock file still names this holder. */
int journal_lock_still_held(journal_lock *l);
/* Give the lock back. A lock that was broken meanwhile is left alone (and
 * counted in lost). */
int journal_lock_release(journal_lock *l);

#endif
