/* etl_manifest.c — inputs against hpcml-gen's manifest.json (see etl_manifest.h). */
#include "etl/etl_manifest.h"

#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/status.h"

#define MANIFEST_FORMAT "hpcml-gen-manifest"
#define MAX_LISTED      5 /* missing shards named in a message */

/* The directory part of path ("." when none) into out. */
static void dir_part(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, n, ".");
    else if (slash == path)
        snprintf(out, n, "/");
    else
        snprintf(out, n, "%.*s", (int)(slash - path), path);
}

static const char *base_part(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* part-NNNNN.csv: hpcml-gen's shard names. */
static int looks_like_shard(const char *name)
{
    long long s;
    int n = 0;
    return sscanf(name, "part-%lld.csv%n", &s, &n) == 1 && name[n] == '\0';
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The input path that a shard of the manifest in dir has (as glob spells it). */
static void shard_path(const char *dir, const char *file, char *out, size_t n)
{
    if (strcmp(dir, ".") == 0)
        snprintf(out, n, "%s", file);
    else if (strcmp(dir, "/") == 0)
        snprintf(out, n, "/%s", file);
    else
        snprintf(out, n, "%s/%s", dir, file);
}

static int load_manifest(const char *path, json_t **root, json_t **shards)
{
    json_error_t e;
    *root = json_load_file(path, 0, &e);
    HPCML_CHECK(*root, HPCML_EDATA, "%s:%d:%d: not a valid hpcml-gen manifest: %s", path, e.line,
                e.column, e.text);
    const char *format = json_string_value(json_object_get(*root, "format"));
    json_t *version = json_object_get(*root, "version");
    *shards = json_object_get(*root, "shards");
    HPCML_CHECK(format && strcmp(format, MANIFEST_FORMAT) == 0, HPCML_EDATA,
                "%s: not an hpcml-gen manifest (\"format\" is not \"%s\")", path, MANIFEST_FORMAT);
    HPCML_CHECK(json_is_integer(version) && json_integer_value(version) == 1, HPCML_EDATA,
                "%s: manifest version %lld is not supported (this hpcml-etl reads version 1)",
                path, json_is_integer(version) ? (long long)json_integer_value(version) : -1LL);
    HPCML_CHECK(json_is_array(*shards), HPCML_EDATA, "%s: no \"shards\" list", path);
    size_t i;
    json_t *s;
    json_array_foreach(*shards, i, s)
    {
        HPCML_CHECK(json_is_string(json_object_get(s, "file")) &&
                        json_is_integer(json_object_get(s, "bytes")),
                    HPCML_EDATA, "%s: shards[%zu] lacks \"file\" or \"bytes\"", path, i);
    }
    return HPCML_OK;
}

static json_t *find_shard(json_t *shards, const char *name)
{
    size_t i;
    json_t *s;
    json_array_foreach(shards, i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "file")), name) == 0) return s;
    }
    return NULL;
}

/* Checks the inputs that lie in dir against its manifest (loaded). */
static int check_dir(const char *dir, const char *mpath, json_t *shards,
                     const char *const *patterns, int n_patterns, const csv_input_file *files,
                     int n_files, etl_manifest_check *out)
{
    char d[4096];
    for (int f = 0; f < n_files; f++) {
        dir_part(files[f].path, d, sizeof d);
        if (strcmp(d, dir) != 0) continue;
        const char *name = base_part(files[f].path);
        json_t *s = find_shard(shards, name);
        HPCML_CHECK(s, HPCML_EDATA,
                    "%s is not a shard listed in %s (%zu shards): a file from another "
                    "hpcml-gen run or another program? (etl.check_manifest = \"off\" skips this "
                    "check)",
                    files[f].path, mpath, json_array_size(shards));
        int64_t want = (int64_t)json_integer_value(json_object_get(s, "bytes"));
        HPCML_CHECK(files[f].size_bytes == want, HPCML_EDATA,
                    "%s: %lld bytes, but %s records %lld: the shard is incomplete or was changed "
                    "after hpcml-gen wrote it",
                    files[f].path, (long long)files[f].size_bytes, mpath, (long long)want);
        const char *sha = json_string_value(json_object_get(s, "sha256"));
        if (sha && strlen(sha) == 64) {
            out->expected_sha256[f] = strdup(sha);
            HPCML_ALLOC_CHECK(out->expected_sha256[f], 65);
        }
    }
    /* Completeness: shards that a pattern matches must be inputs. */
    char missing[600] = "";
    size_t n_missing = 0, len = 0;
    size_t i;
    json_t *s;
    json_array_foreach(shards, i, s)
    {
        char p[4200];
        shard_path(dir, json_string_value(json_object_get(s, "file")), p, sizeof p);
        int wanted = 0;
        for (int k = 0; k < n_patterns && !wanted; k++)
            wanted = fnmatch(patterns[k], p, FNM_PATHNAME | FNM_PERIOD) == 0;
        if (!wanted) continue;
        int present = 0;
        for (int f = 0; f < n_files && !present; f++)
            present = strcmp(files[f].path, p) == 0;
        if (present) continue;
        if (n_missing < MAX_LISTED && len < sizeof missing)
            len += (size_t)snprintf(missing + len, sizeof missing - len, "%s%s",
                                    n_missing ? ", " : "", p);
        n_missing++;
    }
    HPCML_CHECK(n_missing == 0, HPCML_EDATA,
                "incomplete input: %s lists %zu shards; %zu of them, matched by etl.input, are "
                "missing: %s%s (hpcml-gen did not finish, or shards were removed)",
                mpath, json_array_size(shards), n_missing, missing,
                n_missing > MAX_LISTED ? ", ..." : "");
    return HPCML_OK;
}

int etl_manifest_check_inputs(etl_manifest_mode mode, const char *const *patterns, int n_patterns,
                              const csv_input_file *files, int n_files, etl_manifest_check *out)
{
    memset(out, 0, sizeof *out);
    out->n_files = n_files;
    out->expected_sha256 = calloc((size_t)n_files + 1, sizeof *out->expected_sha256);
    out->manifests = calloc((size_t)n_files + 1, sizeof *out->manifests);
    HPCML_CHECK(out->expected_sha256 && out->manifests, HPCML_EINTERNAL,
                "out of memory for %d input files", n_files);
    if (mode == ETL_MANIFEST_OFF) return HPCML_OK;

    char dir[4096], prev[4096], mpath[4200];
    int rc = HPCML_OK;
    for (int f = 0; f < n_files && rc == HPCML_OK; f++) {
        dir_part(files[f].path, dir, sizeof dir);
        /* each directory once */
        int seen = 0;
        for (int g = 0; g < f && !seen; g++) {
            dir_part(files[g].path, prev, sizeof prev);
            seen = strcmp(prev, dir) == 0;
        }
        if (seen) continue;
        shard_path(dir, "manifest.json", mpath, sizeof mpath);
        char running[4200];
        shard_path(dir, ETL_GEN_RUNNING_MARK, running, sizeof running);
        /* hpcml-gen writes this mark before its first shard and removes it
         * after its manifest: a mark without a manifest is a run that failed
         * or was killed, whose new shards may sit beside an older run's. */
        HPCML_CHECK(file_exists(mpath) || !file_exists(running), HPCML_EDATA,
                    "%s: the hpcml-gen run that wrote %s did not finish (%s is there, no "
                    "manifest.json): its shards may be mixed with an earlier run's; run hpcml-gen "
                    "again (etl.check_manifest = \"off\" skips this check)",
                    files[f].path, dir, running);
        if (!file_exists(mpath)) {
            HPCML_CHECK(mode != ETL_MANIFEST_REQUIRE, HPCML_EDATA,
                        "%s: no manifest.json in %s (etl.check_manifest = \"require\"): the input "
                        "was not written by a finished hpcml-gen run",
                        files[f].path, dir);
            if (looks_like_shard(base_part(files[f].path)))
                log_warn("no %s: cannot check that hpcml-gen finished writing %s", mpath, dir);
            continue;
        }
        json_t *root = NULL, *shards = NULL;
        rc = load_manifest(mpath, &root, &shards);
        if (rc == HPCML_OK)
            rc = check_dir(dir, mpath, shards, patterns, n_patterns, files, n_files, out);
        json_decref(root);
        if (rc == HPCML_OK) {
            char *copy = strdup(mpath);
            HPCML_ALLOC_CHECK(copy, strlen(mpath) + 1);
            out->manifests[out->n_manifests++] = copy;
        }
    }
    return rc;
}

int etl_manifest_check_sha256(const etl_manifest_check *m, const csv_input_file *files,
                              int n_files, char *const *sha256)
{
    for (int f = 0; f < n_files && f < m->n_files; f++) {
        const char *want = m->expected_sha256[f];
        if (!want) continue;
        char dir[4096], mpath[4200];
        dir_part(files[f].path, dir, sizeof dir);
        shard_path(dir, "manifest.json", mpath, sizeof mpath);
        HPCML_CHECK(strcmp(want, sha256[f]) == 0, HPCML_EDATA,
                    "%s: SHA-256 %.16s... differs from %.16s... recorded in %s: the shard was "
                    "changed after hpcml-gen wrote it",
                    files[f].path, sha256[f], want, mpath);
    }
    return HPCML_OK;
}

void etl_manifest_check_free(etl_manifest_check *m)
{
    for (int i = 0; i < m->n_manifests; i++)
        free(m->manifests[i]);
    if (m->expected_sha256)
        for (int f = 0; f < m->n_files; f++)
            free(m->expected_sha256[f]);
    free(m->manifests);
    free(m->expected_sha256);
    memset(m, 0, sizeof *m);
}
