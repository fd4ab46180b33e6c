/* atomic_file.c — temp name, fsync, rename, fsync the directory. See atomic_file.h. */
#include "core/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/log.h"
#include "core/status.h"

static void host_name(char *host, size_t n)
{
    if (gethostname(host, n - 1) != 0) snprintf(host, n, "localhost");
    host[n - 1] = '\0';
    for (char *p = host; *p; p++) /* a name part: no '/' */
        if (*p == '/') *p = '_';
}

void atomic_tmp_name(char *out, size_t n, const char *path, long token)
{
    char host[128];
    host_name(host, sizeof host);
    snprintf(out, n, "%s.tmp.%s.%ld", path, host, token);
}

/* ---- temp files of dead owners ------------------------------------------------ */

/* The owner of a temp name made by atomic_tmp_name: 1 with host and pid
 * filled in, 0 when name is not such a temp name. */
static int atomic_tmp_owner(const char *name, char *host, size_t host_n, long *pid)
{
    const char *tag = NULL;
    for (const char *p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp."))
        tag = p;
    if (!tag) return 0;
    const char *h = tag + 5, *dot = strrchr(h, '.');
    if (!dot || dot == h || !dot[1]) return 0;
    for (const char *d = dot + 1; *d; d++)
        if (*d < '0' || *d > '9') return 0;
    snprintf(host, host_n, "%.*s", (int)(dot - h), h);
    *pid = strtol(dot + 1, NULL, 10);
    return *pid > 0;
}

int atomic_tmp_remove_stale(const char *dir, const char *prefix, int *removed)
{
    if (removed) *removed = 0;
    DIR *d = opendir(dir);
    if (!d) return HPCML_OK; /* no directory: nothing stale */
    char me[128];
    host_name(me, sizeof me);
    const size_t plen = prefix ? strlen(prefix) : 0;
    int rc = HPCML_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char host[128];
        long pid;
        if (plen && strncmp(e->d_name, prefix, plen) != 0) continue;
        if (!atomic_tmp_owner(e->d_name, host, sizeof host, &pid) || strcmp(host, me) != 0)
            continue; /* not a temp name, or another host's: its owner may live */
        if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno == EPERM) continue;
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0 && errno != ENOENT) {
            rc = HPCML_FAIL(HPCML_EIO, "cannot remove the stale temp file %s: %s", path,
                            strerror(errno));
            break;
        }
        log_warn("removed %s: a temp file of process %ld, which no longer runs", path, pid);
        if (removed) (*removed)++;
    }
    closedir(d);
    return rc;
}

/* ---- temps removed by a signal (core/preempt.c) ---------------------------------- */

#define TRACKED_MAX 32
static char tracked[TRACKED_MAX][4400];
static volatile sig_atomic_t tracked_used[TRACKED_MAX];

void atomic_tmp_track(const char *tmp_path)
{
    for (int i = 0; i < TRACKED_MAX; i++)
        if (!tracked_used[i]) {
            snprintf(tracked[i], sizeof tracked[i], "%s", tmp_path);
            tracked_used[i] = 1;
            return;
        }
}

void atomic_tmp_untrack(const char *tmp_path)
{
    for (int i = 0; i < TRACKED_MAX; i++)
        if (tracked_used[i] && strcmp(tracked[i], tmp_path) == 0) tracked_used[i] = 0;
}

void atomic_tmp_unlink_tracked(void)
{
    for (int i = 0; i < TRACKED_MAX; i++) /* unlink is async-signal-safe */
        if (tracked_used[i]) unlink(tracked[i]);
}

static int fsync_dir_of(const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return HPCML_FAIL(HPCML_EIO, "cannot open directory %s: %s", dir, strerror(errno));
    /* Some file systems refuse fsync on directories (EINVAL); the rename is
     * still atomic there, only its durability is the file system's affair. */
    if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
        int e = errno;
        close(fd);
        return HPCML_FAIL(HPCML_EIO, "cannot fsync directory %s: %s", dir, strerror(e));
    }
    close(fd);
    return HPCML_OK;
}

int atomic_rename_durable(const char *tmp_path, const char *path)
{
    int fd = open(tmp_path, O_RDONLY);
    HPCML_CHECK(fd >= 0, HPCML_EIO, "cannot open %s: %s", tmp_path, strerror(errno));
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return HPCML_FAIL(HPCML_EIO, "cannot fsync %s: %s", tmp_path, strerror(e));
    }
    close(fd);
    HPCML_CHECK(rename(tmp_path, path) == 0, HPCML_EIO, "cannot rename %s to %s: %s", tmp_path,
                path, strerror(errno));
    return fsync_dir_of(path);
}

int atomic_file_open(atomic_file *af, const char *path)
{
    memset(af, 0, sizeof *af);
    HPCML_CHECK(strlen(path) < sizeof af->path, HPCML_EUSAGE, "path too long: %.80s...", path);
    snprintf(af->path, sizeof af->path, "%s", path);
    atomic_tmp_name(af->tmp_path, sizeof af->tmp_path, path, (long)getpid());
    atomic_tmp_track(af->tmp_path);
    af->fp = fopen(af->tmp_path, "wb");
    if (!af->fp) atomic_tmp_untrack(af->tmp_path);
    HPCML_CHECK(af->fp != NULL, HPCML_EIO, "cannot create %s: %s", af->tmp_path, strerror(errno));
    return HPCML_OK;
}

int atomic_file_commit(atomic_file *af)
{
    HPCML_CHECK(af->fp != NULL, HPCML_EINTERNAL, "atomic_file_commit on a closed file");
    int failed = ferror(af->fp);
    int e = errno;
    if (fflush(af->fp) != 0) failed = 1, e = errno;
    if (!failed && fsync(fileno(af->fp)) != 0) failed = 1, e = errno;
    if (fclose(af->fp) != 0 && !failed) failed = 1, e = errno;
    af->fp = NULL;
    atomic_tmp_untrack(af->tmp_path); /* from here on: renamed or removed below */
    if (failed) {
        unlink(af->tmp_path);
        return HPCML_FAIL(HPCML_EIO, "cannot write %s: %s", af->path, strerror(e));
    }
    if (rename(af->tmp_path, af->path) != 0) {
        e = errno;
        unlink(af->tmp_path);
        return HPCML_FAIL(HPCML_EIO, "cannot rename %s to %s: %s", af->tmp_path, af->path,
                          strerror(e));
    }
    return fsync_dir_of(af->path);
}

void atomic_file_abort(atomic_file *af)
{
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp_path[0]) {
        unlink(af->tmp_path);
        atomic_tmp_untrack(af->tmp_path);
    }
}

int atomic_write_text(const char *path, const char *text)
{
    atomic_file af;
    HPCML_TRY(atomic_file_open(&af, path));
    size_t n = strlen(text);
    if (fwrite(text, 1, n, af.fp) != n) {
        int e = errno;
        atomic_file_abort(&af);
        return HPCML_FAIL(HPCML_EIO, "cannot write %s: %s", path, strerror(e));
    }
    return atomic_file_commit(&af);
}

int atomic_write_json(const char *path, const json_t *root, size_t flags)
{
    char *text = json_dumps(root, flags);
    HPCML_CHECK(text, HPCML_EINTERNAL, "cannot format %s (out of memory?)", path);
    atomic_file af;
    int rc = atomic_file_open(&af, path);
    if (rc == HPCML_OK) {
        if (fputs(text, af.fp) < 0 || fputc('\n', af.fp) == EOF) {
            int e = errno;
            atomic_file_abort(&af);
            rc = HPCML_FAIL(HPCML_EIO, "cannot write %s: %s", path, strerror(e));
        } else {
            rc = atomic_file_commit(&af);
        }
    }
    free(text);
    return rc;
}

int fs_mkdir_p(const char *dir)
{
    char buf[4096];
    HPCML_CHECK(strlen(dir) < sizeof buf, HPCML_EUSAGE, "path too long: %.80s...", dir);
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return HPCML_FAIL(HPCML_EIO, "cannot create directory %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return HPCML_FAIL(HPCML_EIO, "cannot create directory %s: %s", buf, strerror(errno));
    struct stat st;
    HPCML_CHECK(stat(buf, &st) == 0 && S_ISDIR(st.st_mode), HPCML_EIO,
                "%s exists and is not a directory", buf);
    return HPCML_OK;
}
