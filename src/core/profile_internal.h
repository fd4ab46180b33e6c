/* profile_internal.h — what profile_pmpi.c (the MPI interposers, linked into
 * each executable) and profile.c (in the library) share.
 *
 * The counters live in profile.c, not in profile_pmpi.c: code in the library
 * that calls profile_begin must still link into executables built without the
 * interposers (the unit tests); there the counters simply stay zero and
 * profile.json says "mpi_intercepted": false. */
#ifndef HPCML_PROFILE_INTERNAL_H
#define HPCML_PROFILE_INTERNAL_H

/* Every intercepted MPI function, by the suffix after "MPI_". */
#define HPCML_PMPI_FUNCS(X)                                                                        \
    X(Allreduce)                                                                                   \
    X(Iallreduce)                                                                                  \
    X(Reduce)                                                                                      \
    X(Bcast)                                                                                       \
    X(Barrier)                                                                                     \
    X(Allgather)                                                                                   \
    X(Allgatherv)                                                                                  \
    X(Gather)                                                                                      \
    X(Gatherv)                                                                                     \
    X(Alltoall)                                                                                    \
    X(Alltoallv)                                                                                   \
    X(Scan)                                                                                        \
    X(Exscan)                                                                                      \
    X(Wait)                                                                                        \
    X(Waitall)                                                                                     \
    X(Send)                                                                                        \
    X(Recv)                                                                                        \
    X(Sendrecv)                                                                                    \
    X(File_open)                                                                                   \
    X(File_close)                                                                                  \
    X(File_set_view)                                                                               \
    X(File_write_at)                                                                               \
    X(File_read_at)                                                                                \
    X(File_write_at_all)                                                                           \
    X(File_read_at_all)                                                                            \
    X(File_write_all)                                                                              \
    X(File_read_all)

enum {
#define HPCML_PMPI_ENUM(name) HPCML_PMPI_##name,
    HPCML_PMPI_FUNCS(HPCML_PMPI_ENUM)
#undef HPCML_PMPI_ENUM
        HPCML_PMPI_COUNT
};

typedef struct {
    double seconds;
    long long calls;
} hpcml_pmpi_counter;

/* Written by the interposers of the calling thread (MPI calls are made from
 * the main thread in hpcml), read by profile.c. */
extern hpcml_pmpi_counter hpcml_pmpi_counters[HPCML_PMPI_COUNT];
extern double hpcml_pmpi_total_s;
extern int hpcml_pmpi_linked; /* set by a constructor in profile_pmpi.c */
extern const char *const hpcml_pmpi_names[HPCML_PMPI_COUNT];

/* Seconds spent inside intercepted MPI calls so far (= profile_mpi_seconds). */
double hpcml_pmpi_seconds(void);

#endif
