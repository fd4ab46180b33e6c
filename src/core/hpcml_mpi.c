/* hpcml_mpi.c — error agreement across ranks. See hpcml_mpi.h. */
#include "core/hpcml_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

    char msg[HPCML_ERRMSG_MAX + 320];
    if (in.rank == out.rank) {
        snprintf(msg, sizeof msg, "%s", hpcml_error_message());
        size_t n = strlen(msg) + 1;
        snprintf(msg + n, sizeof msg - n, "%s", hpcml_error_where());
    }
    if (MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, out.rank, comm) != MPI_SUCCESS)
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    msg[sizeof msg - 1] = '\0';
    const char *where = msg + strlen(msg) + 1;
    char where_rank[400];
    snprintf(where_rank, sizeof where_rank, "%s, rank %d", where, out.rank);
    hpcml_error_adopt(out.code, msg, where_rank);
    return out.code;
}

_Noreturn void hpcml_mpi_abort(MPI_Comm comm, int code)
{
    int rank = hpcml_mpi_rank(MPI_COMM_WORLD);
    if (hpcml_error_code() != HPCML_OK)
        fprintf(stderr, "error (rank %d): %s [%s]\n", rank, hpcml_error_message(),
                hpcml_error_where());
    fflush(stderr);
    MPI_Abort(comm, code);
    exit(code); /* not reached with a working MPI */
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
