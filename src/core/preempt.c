/* preempt.c — the whole-run preemption handler. See preempt.h. */
#include "core/preempt.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/hpcml_mpi.h"
#include "core/status.h"

/* The preemption signals (train.preempt_signal's values) and ^C. */
static const int handled[] = {SIGTERM, SIGUSR1, SIGUSR2, SIGINT};
#define N_HANDLED ((int)(sizeof handled / sizeof handled[0]))

static volatile sig_atomic_t pending_signal;
static volatile sig_atomic_t polling; /* the program reads the flag itself */
/* "<program>: preempted by " on the launcher's rank 0, empty elsewhere: one
 * line per job from a handler that may not call stdio. */
static char exit_note[128];
static size_t exit_note_len;

const char *preempt_signal_name(int signo)
{
    switch (signo) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGINT: return "SIGINT";
    default: return "a signal";
    }
}

static void say(const char *s)
{
    ssize_t n = write(STDERR_FILENO, s, strlen(s)); /* write and strlen are async-signal-safe */
    (void)n;
}

static void on_signal(int signo)
{
    if (pending_signal == 0) pending_signal = signo;
    if (polling && signo != SIGINT) return; /* read at the program's next safe point */
    atomic_tmp_unlink_tracked();
    if (exit_note_len) {
        say(exit_note);
        say(preempt_signal_name(signo));
        say(signo == SIGINT ? ": temp files removed (exit 130)\n"
                            : ": temp files removed; requeue to run again (exit 75)\n");
    }
    _exit(signo == SIGINT ? 128 + SIGINT : HPCML_EPREEMPTED);
}

static int take(int signo)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigfillset(&sa.sa_mask);  /* one handler at a time */
    sa.sa_flags = SA_RESTART; /* system calls in progress go on; the flag is read later */
    HPCML_CHECK(sigaction(signo, &sa, NULL) == 0, HPCML_EINTERNAL,
                "cannot install the handler of signal %d", signo);
    return HPCML_OK;
}

int preempt_install(const char *program, int rank, int polls)
{
    polling = polls != 0;
    exit_note_len = 0;
    if (rank == 0) {
        snprintf(exit_note, sizeof exit_note, "%s: preempted by ", program);
        exit_note_len = strlen(exit_note);
    }
    for (int i = 0; i < N_HANDLED; i++)
        HPCML_TRY(take(handled[i]));
    return HPCML_OK;
}

int preempt_pending(void)
{
    return (int)pending_signal;
}

int preempt_agree(MPI_Comm comm)
{
    int sig = (int)pending_signal;
    if (hpcml_mpi_size(comm) > 1)
        HPCML_MPI_CHECK_ABORT(comm, MPI_Allreduce(MPI_IN_PLACE, &sig, 1, MPI_INT, MPI_MAX, comm));
    return sig;
}

int preempt_only(const char *name)
{
    static const char *const names[] = {"TERM", "USR1", "USR2"};
    static const int numbers[] = {SIGTERM, SIGUSR1, SIGUSR2};
    int signo = 0;
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) signo = numbers[i];
    HPCML_CHECK(signo != 0, HPCML_EUSAGE, "train.preempt_signal: unknown signal '%s'", name);
    for (int i = 0; i < 3; i++) {
        if (numbers[i] == SIGTERM || numbers[i] == signo) continue;
        /* Not a preemption signal in this configuration: its default action,
         * and one that arrived before the configuration was read acts now. */
        signal(numbers[i], SIG_DFL);
        if (pending_signal == numbers[i]) {
            pending_signal = 0;
            raise(numbers[i]);
        }
    }
    return HPCML_OK;
}

/* ---- the test hook ------------------------------------------------------------------ */

/* Does spec ("a,b@1,c@*") name point on this world rank? */
static int pause_wanted(const char *spec, const char *point, int rank)
{
    const size_t plen = strlen(point);
    for (const char *s = spec; *s;) {
        size_t n = strcspn(s, ",");
        const char *at = memchr(s, '@', n);
        size_t name_n = at ? (size_t)(at - s) : n;
        if (name_n == plen && strncmp(s, point, plen) == 0 &&
            (!at || at[1] == '*' || atoi(at + 1) == rank))
            return 1;
        s += n + (s[n] == ',');
    }
    return 0;
}

void hpcml_pause_point(const char *name)
{
    static const char *spec;
    static int looked;
    if (!looked) {
        spec = getenv("HPCML_PAUSE");
        looked = 1;
    }
    if (!spec || !*spec) return;
    int rank = 0, up = 0;
    MPI_Initialized(&up);
    if (up) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (!pause_wanted(spec, name, rank)) return;
    const char *release = getenv("HPCML_PAUSE_RELEASE");
    struct stat st;
    if (release && *release && stat(release, &st) == 0) return; /* released already */
    fprintf(stderr, "hpcml: paused at %s on rank %d (pid %ld)\n", name, rank, (long)getpid());
    fflush(stderr);
    for (int i = 0; i < 12000 && !pending_signal; i++) { /* 120 s at most */
        if (release && *release && stat(release, &st) == 0) break;
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
}
