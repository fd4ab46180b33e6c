/* hpcml_mpi.h — MPI error agreement and small collective helpers.
 *
 * The rule that keeps jobs from hanging: code between two agreement points
 * makes no collective calls, and every rank reaches the next agreement point
 * with its local status. hpcml_mpi_agree() then returns the same status on
 * every rank; when some rank failed, the message of the lowest-numbered rank
 * with the highest exit code is copied to all, so main prints it once (on
 * rank 0) and every rank exits with the same code, without MPI_Abort.
 * Errors inside a collective phase, where peers may already wait in a
 * different call, use hpcml_mpi_abort() instead. */
#ifndef HPCML_MPI_H
#define HPCML_MPI_H

#include <mpi.h>

#include "core/status.h"

/* The MPI half of the one check family (status.h has the rest; PETSc's
 * PetscCallMPI is the model). MPI_ERRORS_RETURN is set on every communicator
 * hpcml uses, so every MPI call's return is checked with one of these:
 *
 *   HPCML_MPI_CHECK(call)              return the error (between agreement points)
 *   HPCML_MPI_CHECK_GOTO(rc, call, l)  keep it in rc and jump to cleanup label l
 *   HPCML_MPI_CHECK_ABORT(comm, call)  inside a collective phase, where peers
 *                                      may already wait in another call: record
 *                                      the error and abort the job
 *   HPCML_ALLOC_ABORT(comm, ptr, what) an allocation inside a collective phase
 *
 * Outside collective phases an allocation failure is an ordinary error
 * (HPCML_ALLOC_CHECK); every rank then reaches the next hpcml_mpi_agree with
 * its status, never returning early between two collectives. */
int hpcml_mpi_fail(int mpi_rc, const char *call, const char *file, int line);

#define HPCML_MPI_CHECK(call)                                                                      \
    do {                                                                                           \
        int hpcml_mpi_rc_ = (call);                                                                \
        if (hpcml_mpi_rc_ != MPI_SUCCESS)                                                          \
            return hpcml_mpi_fail(hpcml_mpi_rc_, #call, __FILE__, __LINE__);                       \
    } while (0)

#define HPCML_MPI_CHECK_GOTO(rc, call, label)                                                      \
    do {                                                                                           \
        int hpcml_mpi_rc_ = (call);                                                                \
        if (hpcml_mpi_rc_ != MPI_SUCCESS) {                                                        \
            (rc) = hpcml_mpi_fail(hpcml_mpi_rc_, #call, __FILE__, __LINE__);                       \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

#define HPCML_MPI_CHECK_ABORT(comm, call)                                                          \
    do {                                                                                           \
        int hpcml_mpi_rc_ = (call);                                                                \
        if (hpcml_mpi_rc_ != MPI_SUCCESS) {                                                        \
            hpcml_mpi_fail(hpcml_mpi_rc_, #call, __FILE__, __LINE__);                              \
            hpcml_mpi_abort((comm), HPCML_EINTERNAL);                                              \
        }                                                                                          \
    } while (0)

#define HPCML_ALLOC_ABORT(comm, ptr, what)                                                         \
    do {                                                                                           \
        if (!(ptr)) {                                                                              \
            hpcml_error_set(HPCML_EINTERNAL, __FILE__, __LINE__, "out of memory %s", (what));      \
            hpcml_mpi_abort((comm), HPCML_EINTERNAL);                                              \
        }                                                                                          \
    } while (0)

/* Collective: returns the agreed status (0 when every rank passed 0). */
int hpcml_mpi_agree(MPI_Comm comm, int local_status);
/* Non-collective last resort: print the error and abort the job with code. */
_Noreturn void hpcml_mpi_abort(MPI_Comm comm, int code);

/* Collective: the temp name of path for a file every rank of comm opens
 * together (MPI-IO, parallel HDF5): rank 0 makes it (atomic_tmp_name with
 * its own host and pid) and broadcasts it, so ranks on other nodes open the
 * same file. n must be the same on every rank. */
int hpcml_mpi_tmp_name(MPI_Comm comm, const char *path, char *out, size_t n);

int hpcml_mpi_rank(MPI_Comm comm);
int hpcml_mpi_size(MPI_Comm comm);

/* Test-only fault injection: when HPCML_FAULT="name@rank" (rank may be '*')
 * names this point and this rank, returns an error of the given code. */
int hpcml_fault_point(const char *name, int rank, int code);

#endif
