/* version.h — which hpcml a program or a file comes from.
 *
 * The release is the CMake project VERSION; the commit is read from git at build
 * time (cmake/hpcml_git_commit.cmake): 12 hex digits, "-dirty" appended when tracked
 * files differed from it, "unknown" outside a git checkout. Every file format that
 * records its producer (profile.json, checkpoints, dataset.h5 /meta, model files)
 * stores hpcml_version_string() under the name "hpcml_version". */
#ifndef HPCML_CORE_VERSION_H
#define HPCML_CORE_VERSION_H

/* "0.1.0": the release (CMake's PROJECT_VERSION). */
const char *hpcml_version(void);

/* "1a2b3c4d5e6f", "1a2b3c4d5e6f-dirty" or "unknown". */
const char *hpcml_git_commit(void);

/* "0.1.0 (git 1a2b3c4d5e6f)": what --version prints after the program name and what
 * output files record as "hpcml_version". */
const char *hpcml_version_string(void);

#endif
