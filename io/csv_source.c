/* csv_source.c — input file expansion and byte reading. See csv_source.h. */
#include "io/csv_source.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/log.h"
#include "core/status.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int has_wildcard(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static int add_file(csv_input_file **files, int *n, int *cap, const char *path)
{
    struct stat st;
    HPCML_CHECK(stat(path, &st) == 0, HPCML_EIO, "cannot read input file %s: %s", path,
                strerror(errno));
    HPCML_CHECK(S_ISREG(st.st_mode), HPCML_EIO, "input %s is not a regular file", path);
    for (int i = 0; i < *n; i++) {
        const csv_input_file *o = &(*files)[i];
        if (o->dev != (uint64_t)st.st_dev || o->ino != (uint64_t)st.st_ino) continue;
        if (strcmp(o->path, path) != 0) /* the identical string is the same glob twice */
            log_warn("input %s is the same file as %s: read once", path, o->path);
        return HPCML_OK;
    }
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 16;
        csv_input_file *nf = realloc(*files, (size_t)nc * sizeof *nf);
        HPCML_ALLOC_CHECK(nf, (size_t)nc * sizeof *nf);
        *files = nf;
        *cap = nc;
    }
    csv_input_file *f = &(*files)[(*n)++];
    f->path = strdup(path);
    HPCML_ALLOC_CHECK(f->path, strlen(path) + 1);
    f->size_bytes = (int64_t)st.st_size;
    f->gz = ends_with(path, ".gz");
    f->dev = (uint64_t)st.st_dev;
    f->ino = (uint64_t)st.st_ino;
    return HPCML_OK;
}

int csv_source_expand(const char *const *patterns, int n_patterns, csv_input_file **files,
                      int *n_files)
{
    *files = NULL;
    *n_files = 0;
    int cap = 0, rc = HPCML_OK;
    if (n_patterns == 0) return HPCML_FAIL(HPCML_EUSAGE, "etl.input names no files");
    for (int p = 0; p < n_patterns && rc == HPCML_OK; p++) {
        if (!has_wildcard(patterns[p])) {
            rc = add_file(files, n_files, &cap, patterns[p]);
            continue;
        }
        glob_t g;
        int grc = glob(patterns[p], GLOB_ERR, NULL, &g); /* glob sorts its matches */
        if (grc == GLOB_NOMATCH) {
            rc = HPCML_FAIL(HPCML_EIO, "no input file matches '%s'", patterns[p]);
        } else if (grc != 0) {
            rc = HPCML_FAIL(HPCML_EIO, "cannot expand '%s': %s", patterns[p],
                            grc == GLOB_NOSPACE ? "out of memory" : "read error");
        } else {
            for (size_t i = 0; i < g.gl_pathc && rc == HPCML_OK; i++)
                rc = add_file(files, n_files, &cap, g.gl_pathv[i]);
        }
        if (grc != GLOB_NOMATCH) globfree(&g);
    }
    if (rc != HPCML_OK) {
        csv_source_free(*files, *n_files);
        *files = NULL;
        *n_files = 0;
    }
    return rc;
}

void csv_source_free(csv_input_file *files, int n_files)
{
    for (int i = 0; i < n_files; i++)
        free(files[i].path);
    free(files);
}

int csv_reader_open(csv_reader *r, const char *path, int gz, int64_t offset)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->fd = -1;
    if (!gz) {
        r->fd = open(path, O_RDONLY);
        HPCML_CHECK(r->fd >= 0, HPCML_EIO, "cannot open %s: %s", path, strerror(errno));
        r->pos = offset;
        return HPCML_OK;
    }
    gzFile g = gzopen(path, "rb");
    HPCML_CHECK(g != NULL, HPCML_EIO, "cannot open %s: %s", path, strerror(errno));
    gzbuffer(g, 1u << 20);
    r->gz = g;
    char skip[65536];
    while (r->pos < offset) {
        int64_t want = offset - r->pos;
        size_t got = 0;
        int rc = csv_reader_read(r, skip, want < (int64_t)sizeof skip ? (size_t)want : sizeof skip,
                                 &got);
        if (rc != HPCML_OK) {
            csv_reader_close(r);
            return rc;
        }
        if (got == 0) break;
    }
    return HPCML_OK;
}

int csv_reader_read(csv_reader *r, char *buf, size_t n, size_t *got)
{
    *got = 0;
    if (r->gz) {
        while (*got < n) {
            size_t want = n - *got;
            if (want > (1u << 30)) want = 1u << 30;
            int k = gzread((gzFile)r->gz, buf + *got, (unsigned)want);
            if (k < 0) {
                int errnum = 0;
                const char *msg = gzerror((gzFile)r->gz, &errnum);
                return HPCML_FAIL(errnum == Z_DATA_ERROR ? HPCML_EDATA : HPCML_EIO,
                                  "cannot read %s: %s", r->path,
                                  errnum == Z_ERRNO ? strerror(errno) : msg);
            }
            if (k == 0) {
                /* gzread returns 0 both at a clean end and at a truncated
                 * stream; gzerror tells them apart. */
                int errnum = 0;
                const char *msg = gzerror((gzFile)r->gz, &errnum);
                HPCML_CHECK(errnum == Z_OK || errnum == Z_STREAM_END, HPCML_EDATA,
                            "%s: corrupt or truncated gzip data: %s", r->path, msg);
                break;
            }
            *got += (size_t)k;
            r->pos += k;
        }
        return HPCML_OK;
    }
    while (*got < n) {
        ssize_t k = pread(r->fd, buf + *got, n - *got, (off_t)r->pos);
        if (k < 0 && errno == EINTR) continue;
        HPCML_CHECK(k >= 0, HPCML_EIO, "cannot read %s at byte %lld: %s", r->path,
                    (long long)r->pos, strerror(errno));
        if (k == 0) break;
        *got += (size_t)k;
        r->pos += k;
    }
    return HPCML_OK;
}

int csv_reader_shrunk(const csv_reader *r, int64_t planned)
{
    struct stat st;
    long long now = r->fd >= 0 && fstat(r->fd, &st) == 0 ? (long long)st.st_size : (long long)r->pos;
    return HPCML_FAIL(HPCML_EIO, "%s changed size while being read (planned %lld bytes, now %lld)",
                      r->path, (long long)planned, now);
}

void csv_reader_close(csv_reader *r)
{
    if (r->gz) gzclose((gzFile)r->gz);
    if (r->fd >= 0) close(r->fd);
    r->gz = NULL;
    r->fd = -1;
}
