/* path_guard.c — outputs never replace inputs. See path_guard.h. */
#include "io/path_guard.h"

#include <sys/stat.h>

#include "core/status.h"

/* 1 when a and b both exist and are the same file (stat follows
 * symlinks; equal st_dev and st_ino), else 0. */
static int fs_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int fs_refuse_overwrite(const char *out, const char *out_what, const char *in, const char *in_what)
{
    HPCML_CHECK(!fs_same_file(out, in), HPCML_EUSAGE,
                "%s %s is the same file as %s (%s): refusing to overwrite it; choose another %s",
                out_what, out, in, in_what, out_what);
    return HPCML_OK;
}
