/* run_lock.c — one live writer per output folder (fcntl record lock). See run_lock.h. */
#include "io/run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/log.h"
#include "core/status.h"

static int lock_fd(int fd, short type)
{
    struct flock k;
    memset(&k, 0, sizeof k);
    k.l_type = type;
    k.l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
    return fcntl(fd, F_SETLK, &k);
}

/* How many of dir's trailing components do not exist yet. */
static int missing_dirs(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    int n = 0;
    struct stat st;
    while (stat(p, &st) != 0 && errno == ENOENT && n < 64) {
        n++;
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", p);
        snprintf(p, sizeof p, "%s", dirname(copy));
        if (!strcmp(p, ".") || !strcmp(p, "/")) break;
    }
    return n;
}

int run_lock_acquire(run_lock *l, const char *dir, const char *name, const char *what)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    snprintf(l->dir, sizeof l->dir, "%s", dir);
    snprintf(l->path, sizeof l->path, "%s/%s", dir, name);
    l->created_dirs = missing_dirs(dir);
    HPCML_TRY(fs_mkdir_p(dir));
    int f = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0)
        return HPCML_FAIL(HPCML_EIO, "cannot open the lock file %s: %s", l->path, strerror(errno));
    if (lock_fd(f, F_WRLCK) != 0) {
        const int err = errno;
        if (err == EACCES || err == EAGAIN) {
            char owner[256] = "";
            ssize_t n = pread(f, owner, sizeof owner - 1, 0);
            owner[n > 0 ? n : 0] = '\0';
            owner[strcspn(owner, "\n")] = '\0';
            close(f);
            l->created_dirs = 0; /* the holder's, not ours */
            HPCML_FAIL(HPCML_EPREEMPTED,
                       "%s %s is in use by another run (%s holds %s): two runs would mix "
                       "their files; this one starts nothing",
                       what, dir, *owner ? owner : "a process", l->path);
            return hpcml_error_context("run again when that run has ended (exit 75: try later)");
        }
        /* ENOLCK / EOPNOTSUPP / EINVAL: a file system without record locks. */
        log_warn("%s: no file locks on this file system (%s): two runs into %s at once would "
                 "not be noticed",
                 l->path, strerror(err), dir);
        close(f);
        return HPCML_OK;
    }
    char me[300], host[128];
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    int len = snprintf(me, sizeof me, "pid %ld on %s\n", (long)getpid(), host);
    if (ftruncate(f, 0) != 0 || pwrite(f, me, (size_t)len, 0) != len)
        log_warn("%s: cannot record the owner: %s", l->path, strerror(errno)); /* still locked */
    l->fd = f;
    return HPCML_OK;
}

void run_lock_release(run_lock *l, int failed)
{
    if (l->fd < 0) return;
    if (failed) {
        /* Unlinked while still held: a run starting now creates a new file and
         * holds that one, which is right, since this run is over. */
        unlink(l->path);
        char p[4096];
        snprintf(p, sizeof p, "%s", l->dir);
        for (int i = 0; i < l->created_dirs && rmdir(p) == 0; i++) {
            char copy[4096];
            snprintf(copy, sizeof copy, "%s", p);
            snprintf(p, sizeof p, "%s", dirname(copy));
        }
    }
    close(l->fd);
    l->fd = -1;
}
