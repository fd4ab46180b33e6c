/* etl_manifest.h — checking the ETL's inputs against hpcml-gen's manifest.json.
 *
 * hpcml-gen writes its shards first and manifest.json last (after every rank
 * succeeded, through a durable rename), and removes a stale manifest before
 * it starts. So a directory of part-*.csv files with a manifest is a complete
 * run, and the manifest lists what that run wrote: every shard's file name,
 * byte size and SHA-256. hpcml-etl uses it (etl.check_manifest) to refuse
 * input that is not what the generator wrote:
 *
 *   - for every directory that holds an input file, <dir>/manifest.json is
 *     read if it exists ("auto", the default; "require": it must exist, for
 *     pipelines that always run gen first; "off": no check);
 *   - every input in that directory must be a shard the manifest lists, with
 *     the byte size it records (a truncated or rewritten shard fails here,
 *     before any parsing);
 *   - every shard the manifest lists that one of the etl.input patterns
 *     matches (fnmatch) must be among the inputs: a glob over a directory with
 *     a missing shard is an incomplete input. Naming single shards explicitly
 *     still works: shards no pattern matches are not required;
 *   - the SHA-256 that the ETL computes anyway for /meta/source_sha256 must
 *     equal the manifest's (checked after hashing; a shard changed in place
 *     with the same size fails here).
 * Failures are bad data (exit 2) with a message naming the file, the
 * manifest and what differs. "auto" without a manifest beside files named
 * part-NNNNN.csv only warns: hpcml-gen may not have finished.
 *
 * No MPI: rank 0 runs the checks, the caller agrees on the status. */
#ifndef HPCML_ETL_MANIFEST_H
#define HPCML_ETL_MANIFEST_H

#include "io/csv_source.h"

typedef enum {
    ETL_MANIFEST_AUTO = 0,
    ETL_MANIFEST_REQUIRE,
    ETL_MANIFEST_OFF
} etl_manifest_mode;

/* hpcml-gen's in-progress mark: created (rank 0) before any shard is
 * written, removed after manifest.json is in place. Present without a
 * manifest: that run failed or was killed; the folder is refused unless
 * etl.check_manifest = "off". */
#define ETL_GEN_RUNNING_MARK "hpcml-gen.running"

typedef struct {
    int n_manifests;
    char **manifests; /* paths of the manifests used, in order of first input */
    char **expected_sha256; /* [file]: hex from a manifest, or NULL */
    int n_files;
} etl_manifest_check;

/* Checks the expanded inputs (files, in order) of the patterns as above and
 * remembers the expected digests. out is always initialized; free it with
 * etl_manifest_check_free. */
int etl_manifest_check_inputs(etl_manifest_mode mode, const char *const *patterns, int n_patterns,
                              const csv_input_file *files, int n_files, etl_manifest_check *out);

/* sha256[f]: the hex digest of file f as read. HPCML_EDATA on a mismatch. */
int etl_manifest_check_sha256(const etl_manifest_check *m, const csv_input_file *files,
                              int n_files, char *const *sha256);

void etl_manifest_check_free(etl_manifest_check *m);

#endif
