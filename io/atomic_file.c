/* atomic_file.c — temp name, fsync, rename, fsync the directory. See atomic_file.h. */
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"

void atomic_tmp_name(char *out, size_t n, const char *path, long token)
{
    snprintf(out, n, "%s.tmp.%ld", path, token);
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
    af->fp = fopen(af->tmp_path, "wb");
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
    if (af->tmp_path[0]) unlink(af->tmp_path);
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
