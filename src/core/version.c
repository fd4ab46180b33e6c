/* version.c — see version.h. The only file that includes the generated header, so a
 * new commit recompiles this file alone (and relinks). */
#include "core/version.h"

#include "hpcml_git_commit.h" /* HPCML_GIT_COMMIT, in <build>/generated */

const char *hpcml_version(void)
{
    return HPCML_VERSION;
}

const char *hpcml_git_commit(void)
{
    return HPCML_GIT_COMMIT;
}

const char *hpcml_version_string(void)
{
    return HPCML_VERSION " (git " HPCML_GIT_COMMIT ")";
}
