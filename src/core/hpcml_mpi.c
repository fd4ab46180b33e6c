/* hpcml_mpi.c — error agreement across ranks. See hpcml_mpi.h. */
#include "core/hpcml_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/log.h"
#include "core/status.h"

int hpcml_mpi_rank(MPI_Comm comm)
{
    int r = 0;
    MPI_Comm_rank(comm, &r);
    return r;
}

int hpcml_mpi_size(MPI_Comm comm)
{
    int n = 1;
    MPI_Comm_size(comm, &n);
    return n;
}

int hpcml_mpi_agree(MPI_Comm comm, int local_status)
{
    /* MAXLOC picks the highest code and, on ties, the lowest rank: the one
     * message everybody will print is deterministic. */
    struct {
        int code;
        int rank;
    } in = {local_status, hpcml_mpi_rank(comm)}, out;
    if (MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MAXLOC, comm) != MPI_SUCCESS)
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    if (out.code == HPCML_OK) return HPCML_OK;

    /* message, where and context: three NUL-terminated fields in fixed slots */
    enum { MSG_AT = 0, WHERE_AT = HPCML_ERRMSG_MAX, CONTEXT_AT = HPCML_ERRMSG_MAX + 256 };
    char buf[CONTEXT_AT + HPCML_ERRMSG_MAX];
    if (in.rank == out.rank) {
        snprintf(buf + MSG_AT, WHERE_AT - MSG_AT, "%s", hpcml_error_message());
        snprintf(buf + WHERE_AT, CONTEXT_AT - WHERE_AT, "%s", hpcml_error_where());
        snprintf(buf + CONTEXT_AT, sizeof buf - CONTEXT_AT, "%s", hpcml_error_context_text());
    }
    if (MPI_Bcast(buf, (int)sizeof buf, MPI_CHAR, out.rank, comm) != MPI_SUCCESS)
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    buf[WHERE_AT - 1] = buf[CONTEXT_AT - 1] = buf[sizeof buf - 1] = '\0';
    char where_rank[320];
    snprintf(where_rank, sizeof where_rank, "%.255s, rank %d", buf + WHERE_AT, out.rank);
    hpcml_error_adopt(out.code, buf + MSG_AT, where_rank, buf + CONTEXT_AT);
    return out.code;
}

_Noreturn void hpcml_mpi_abort(MPI_Comm comm, int code)
{
    int rank = hpcml_mpi_rank(MPI_COMM_WORLD);
    if (hpcml_error_code() != HPCML_OK) {
        fprintf(stderr, "error (rank %d): %s [%s]\n", rank, hpcml_error_message(),
                hpcml_error_where());
        for (const char *c = hpcml_error_context_text(); *c;) {
            const char *nl = strchr(c, '\n');
            int len = nl ? (int)(nl - c) : (int)strlen(c);
            fprintf(stderr, "error (rank %d):   %.*s\n", rank, len, c);
            c += len + (nl != NULL);
        }
    }
    fflush(stderr);
    MPI_Abort(comm, code);
    exit(code); /* not reached with a working MPI */
}

int hpcml_mpi_fail(int mpi_rc, const char *call, const char *file, int line)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(mpi_rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error %d", mpi_rc);
    return hpcml_error_set(HPCML_EINTERNAL, file, line, "%s failed: %s", call, text);
}

int hpcml_fault_point(const char *name, int rank, int code)
{
    const char *spec = getenv("HPCML_FAULT");
    if (!spec || !*spec) return HPCML_OK;
    const char *at = strrchr(spec, '@');
    size_t name_len = at ? (size_t)(at - spec) : strlen(spec);
    if (strlen(name) != name_len || strncmp(spec, name, name_len) != 0) return HPCML_OK;
    if (at && strcmp(at + 1, "*") != 0 && atoi(at + 1) != rank) return HPCML_OK;
    return HPCML_FAIL(code, "injected fault at %s on rank %d (HPCML_FAULT=%s)", name, rank, spec);
}

int hpcml_mpi_tmp_name(MPI_Comm comm, const char *path, char *out, size_t n)
{
    if (hpcml_mpi_rank(comm) == 0) atomic_tmp_name(out, n, path, (long)getpid());
    HPCML_MPI_CHECK(MPI_Bcast(out, (int)n, MPI_CHAR, 0, comm));
    out[n - 1] = '\0';
    return HPCML_OK;
}
