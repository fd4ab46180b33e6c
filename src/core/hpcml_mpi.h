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

#define HPCML_MPI_CHECK(call)                                                                      \
    do {                                                                                           \
        int hpcml_mpi_rc_ = (call);                                                                \
        if (hpcml_mpi_rc_ != MPI_SUCCESS) {                                                        \
            char hpcml_mpi_msg_[MPI_MAX_ERROR_STRING];                                             \
            int hpcml_mpi_len_ = 0;                                                                \
            MPI_Error_string(hpcml_mpi_rc_, hpcml_mpi_msg_, &hpcml_mpi_len_);                      \
            return HPCML_FAIL(HPCML_EINTERNAL, "%s failed: %s", #call, hpcml_mpi_msg_);           \
        }                                                                                          \
    } while (0)

/* Collective: returns the agreed status (0 when every rank passed 0). */
int hpcml_mpi_agree(MPI_Comm comm, int local_status);
/* Non-collective last resort: print the error and abort the job with code. */
_Noreturn void hpcml_mpi_abort(MPI_Comm comm, int code);

int hpcml_mpi_rank(MPI_Comm comm);
int hpcml_mpi_size(MPI_Comm comm);

/* Test-only fault injection: when HPCML_FAULT="name@rank" (rank may be '*')
 * names this point and this rank, returns an error of the given code. */
int hpcml_fault_point(const char *name, int rank, int code);

#endif
