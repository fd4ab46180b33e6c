/* run_lock.c — one live writer per output folder (fcntl record lock). See run_lock.h. */
#include "io/run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/status.h"
#include "io/atomic_file.h"

static int lock_fd(int fd, short type)
{
    struct flock l;
    memset(&l, 0, sizeof l);
    l.l_type = type;
    l.l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
    return fcntl(fd, F_SETLK, &l);
}

int run_lock_acquire(const char *dir, const char *name, const char *what, int *fd)
{
    *fd = -1;
    HPCML_TRY(fs_mkdir_p(dir));
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0)
        return HPCML_FAIL(HPCML_EIO, "cannot open the lock file %s: %s", path, strerror(errno));
    if (lock_fd(f, F_WRLCK) != 0) {
        const int err = errno;
        if (err == EACCES || err == EAGAIN) {
            char owner[256] = "";
            ssize_t n = pread(f, owner, sizeof owner - 1, 0);
            owner[n > 0 ? n : 0] = '\0';
            owner[strcspn(owner, "\n")] = '\0';
            close(f);
            HPCML_FAIL(HPCML_EPREEMPTED,
                       "%s %s is in use by another run (%s holds %s): two runs would mix "
                       "their files; this one starts nothing",
                       what, dir, *owner ? owner : "a process", path);
            return hpcml_error_context("run again when that run has ended (exit 75: try later)");
        }
        /* ENOLCK / EOPNOTSUPP / EINVAL: a file system without record locks. */
        log_warn("%s: no file locks on this file system (%s): two runs into %s at once would "
                 "not be noticed", path, strerror(err), dir);
        close(f);
        return HPCML_OK;
    }
    char me[300], host[128];
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    int len = snprintf(me, sizeof me, "pid %ld on %s\n", (long)getpid(), host);
    if (ftruncate(f, 0) != 0 || pwrite(f, me, (size_t)len, 0) != len)
        log_warn("%s: cannot record the owner: %s", path, strerror(errno)); /* the lock holds */
    *fd = f;
    return HPCML_OK;
}

void run_lock_release(int fd)
{
    if (fd >= 0) close(fd);
}
