/* profile.h — per-stage profiling and traces.
 *
 * profile_begin("stage") / profile_end() bracket a stage (they nest). Each
 * stage records wall time, CPU user/sys, peak RSS, bytes read and written
 * (/proc/self/io rchar/wchar) and time spent inside MPI calls (intercepted
 * through the MPI profiling interface, PMPI, so HDF5's MPI-IO counts too).
 *
 * profile_write(comm, dir) reduces the stages across ranks (min/mean/max and
 * the slowest rank) and rank 0 writes dir/profile.json atomically; every rank
 * contributes its events to dir/trace.json (Chrome trace-event format, one
 * track per rank, opens in Perfetto), written collectively with MPI-IO. Stage
 * names must be the same sequence on every rank (they are: all ranks run the
 * same program). Each rank keeps at most 100,000 trace events
 * (HPCML_PROFILE_MAX_EVENTS overrides); profile.json still counts every
 * occurrence. A begin/end pair costs about 12 us (it reads /proc/self/io):
 * bracket phases, epochs or steps, not inner loops. */
#ifndef HPCML_PROFILE_H
#define HPCML_PROFILE_H

#include <mpi.h>

void profile_init(const char *program); /* after MPI_Init */
/* Which files profile_write writes (monitoring.profile: profile.json,
 * monitoring.trace: trace.json; both by default); app_main sets them from
 * the config after profile_init. The same on every rank. */
void profile_set_outputs(int json, int trace);
void profile_begin(const char *stage);
void profile_end(void); /* closes the innermost open stage */
/* Seconds spent inside intercepted MPI calls so far by this process. */
double profile_mpi_seconds(void);
/* Collective over comm. Writes profile.json and trace.json under dir. */
int profile_write(MPI_Comm comm, const char *dir);
/* The same with the file names prefixed: dir/<prefix>profile.json and
 * dir/<prefix>trace.json (hpcml-etl names them after its output). */
int profile_write_as(MPI_Comm comm, const char *dir, const char *prefix);

#endif
