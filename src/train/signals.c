/* signals.c — flag-only handlers for preemption signals. See signals.h. */
#include "train/signals.h"

#include <signal.h>
#include <string.h>

#include "core/status.h"

/* The signals a preemption can come as (train.preempt_signal's values). */
static const int known[] = {SIGTERM, SIGUSR1, SIGUSR2};
#define N_KNOWN ((int)(sizeof known / sizeof known[0]))

static volatile sig_atomic_t pending_signal;
static struct sigaction saved[N_KNOWN]; /* the dispositions before ours */
static int ours[N_KNOWN];               /* on_signal is installed for known[i] */

static void on_signal(int signo)
{
    if (pending_signal == 0) pending_signal = signo;
}

static int take(int i)
{
    if (ours[i]) return HPCML_OK;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* system calls in progress go on; the flag is read later */
    HPCML_CHECK(sigaction(known[i], &sa, &saved[i]) == 0, HPCML_EINTERNAL,
                "cannot install the handler of signal %d", known[i]);
    ours[i] = 1;
    return HPCML_OK;
}

static void give_back(int i)
{
    if (!ours[i]) return;
    sigaction(known[i], &saved[i], NULL);
    ours[i] = 0;
}

int signals_install_early(void)
{
    for (int i = 0; i < N_KNOWN; i++)
        HPCML_TRY(take(i));
    return HPCML_OK;
}

int signals_install(const char *signal_name)
{
    static const char *const names[] = {"TERM", "USR1", "USR2"};
    int signo = 0;
    for (int i = 0; i < N_KNOWN; i++)
        if (strcmp(signal_name, names[i]) == 0) signo = known[i];
    HPCML_CHECK(signo != 0, HPCML_EUSAGE, "train.preempt_signal: unknown signal '%s'", signal_name);
    for (int i = 0; i < N_KNOWN; i++) {
        if (known[i] == SIGTERM || known[i] == signo) {
            HPCML_TRY(take(i));
            continue;
        }
        /* Taken early, before the configuration was known: give it back,
         * and one that arrived meanwhile acts as it would have then. */
        give_back(i);
        if (pending_signal == known[i]) {
            pending_signal = 0;
            raise(known[i]);
        }
    }
    return HPCML_OK;
}

void signals_uninstall(void)
{
    for (int i = 0; i < N_KNOWN; i++)
        give_back(i);
}

int signals_pending(void)
{
    return (int)pending_signal;
}
