/* journal_lock.c — O_EXCL lock file with stale-lock breaking by rename. */
#include "sweep/journal_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/status.h"

#define BACKOFF_MIN_S 0.0005
#define BACKOFF_MAX_S 0.05

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static uint64_t random_token(void)
{
    uint64_t t = 0;
    if (getrandom(&t, sizeof t, GRND_NONBLOCK) != (ssize_t)sizeof t || t == 0)
        t = rng_mix64((uint64_t)getpid() ^ (uint64_t)(wall_s() * 1e9));
    return t ? t : 1;
}

void journal_lock_init(journal_lock *l, const char *path, double stale_s)
{
    memset(l, 0, sizeof *l);
    snprintf(l->path, sizeof l->path, "%s", path);
    l->stale_s = stale_s;
}

/* The owner text of the lock file at path ("" when unreadable). */
static void read_owner(const char *path, char *out, size_t n)
{
    out[0] = '\0';
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    ssize_t got = read(fd, out, n - 1);
    close(fd);
    out[got > 0 ? got : 0] = '\0';
}

static int token_of(const char *owner, uint64_t *token)
{
    char host[256];
    int pid;
    unsigned long long t;
    if (sscanf(owner, "%255s %d %llx", host, &pid, &t) != 3) return 0;
    *token = t;
    return 1;
}

/* Move the file at l->path aside under a unique name; 1 when we got it. */
static int take_aside(journal_lock *l, char *aside, size_t n)
{
    snprintf(aside, n, "%s.gone.%d.%016llx", l->path, (int)getpid(),
             (unsigned long long)random_token());
    return rename(l->path, aside) == 0;
}

/* We took a lock file that we must not destroy: put it back unless a newer
 * one has appeared, then drop our name for it. */
static void put_back(const char *aside, const char *path)
{
    if (link(aside, path) != 0 && errno != EEXIST)
        log_warn("journal lock: cannot restore %s: %s", path, strerror(errno));
    unlink(aside);
}

static void break_if_stale(journal_lock *l, const struct stat *seen, const char *seen_owner)
{
    char aside[4300], owner[256];
    if (!take_aside(l, aside, sizeof aside)) return; /* released or broken by another */
    struct stat st;
    read_owner(aside, owner, sizeof owner);
    if (stat(aside, &st) == 0 && st.st_ino == seen->st_ino && st.st_dev == seen->st_dev &&
        st.st_mtim.tv_sec == seen->st_mtim.tv_sec && st.st_mtim.tv_nsec == seen->st_mtim.tv_nsec &&
        strcmp(owner, seen_owner) == 0) {
        unlink(aside);
        l->broken_stale++;
        char *nl = strchr(owner, '\n');
        if (nl) *nl = '\0';
        log_warn("journal lock: broke a stale lock %s (owner \"%s\", older than %.3g s)", l->path,
                 owner, l->stale_s);
    } else {
        put_back(aside, l->path); /* a fresh lock replaced the stale one meanwhile */
    }
}

int journal_lock_acquire(journal_lock *l)
{
    char host[128] = "?";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    uint64_t token = random_token();
    int len = snprintf(l->owner, sizeof l->owner, "%s %d %016llx %.3f\n", host, (int)getpid(),
                       (unsigned long long)token, wall_s());
    double t0 = hpcml_mono_s(), backoff = BACKOFF_MIN_S;
    double cap = l->stale_s / 20 < BACKOFF_MAX_S ? l->stale_s / 20 : BACKOFF_MAX_S;
    uint64_t jitter = token;
    int waited = 0;
    for (;;) {
        int fd = open(l->path, O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd >= 0) {
            ssize_t w = write(fd, l->owner, (size_t)len);
            int rc_close = close(fd);
            if (w != len || rc_close != 0) {
                int e = errno;
                unlink(l->path);
                return HPCML_FAIL(HPCML_EIO, "cannot write the journal lock %s: %s", l->path,
                                  strerror(e));
            }
            l->token = token;
            l->acquired++;
            l->contended += waited;
            l->wait_s += hpcml_mono_s() - t0;
            return HPCML_OK;
        }
        HPCML_CHECK(errno == EEXIST, HPCML_EIO, "cannot create the journal lock %s: %s", l->path,
                    strerror(errno));
        waited = 1;
        struct stat st;
        if (stat(l->path, &st) != 0) {
            HPCML_CHECK(errno == ENOENT, HPCML_EIO, "cannot stat %s: %s", l->path, strerror(errno));
            continue; /* released between our open and stat */
        }
        double age = wall_s() - ((double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec);
        if (age > l->stale_s) {
            char owner[256];
            read_owner(l->path, owner, sizeof owner);
            break_if_stale(l, &st, owner);
            continue;
        }
        jitter = rng_mix64(jitter);
        sleep_s(backoff * (0.5 + (double)(jitter >> 11) * 0x1.0p-53));
        backoff = backoff * 2 < cap ? backoff * 2 : cap;
    }
}

int journal_lock_still_held(journal_lock *l)
{
    char owner[256];
    uint64_t t;
    read_owner(l->path, owner, sizeof owner);
    return l->token && token_of(owner, &t) && t == l->token;
}

int journal_lock_release(journal_lock *l)
{
    HPCML_CHECK(l->token, HPCML_EINTERNAL, "journal lock released without being held");
    uint64_t mine = l->token;
    l->token = 0;
    char aside[4300], owner[256];
    uint64_t t;
    if (!take_aside(l, aside, sizeof aside)) {
        HPCML_CHECK(errno == ENOENT, HPCML_EIO, "cannot release the journal lock %s: %s", l->path,
                    strerror(errno));
        l->lost++;
        log_warn("journal lock %s was broken while held (held longer than sweep.lock_stale_s?)",
                 l->path);
        return HPCML_OK;
    }
    read_owner(aside, owner, sizeof owner);
    if (token_of(owner, &t) && t == mine) {
        HPCML_CHECK(unlink(aside) == 0, HPCML_EIO, "cannot remove %s: %s", aside, strerror(errno));
        return HPCML_OK;
    }
    put_back(aside, l->path);
    l->lost++;
    log_warn("journal lock %s was broken while held and is now another process's", l->path);
    return HPCML_OK;
}
