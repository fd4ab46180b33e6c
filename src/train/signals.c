/* signals.c — flag-only handlers for preemption signals. See signals.h. */
#include "train/signals.h"

#include <signal.h>
#include <string.h>

#include "core/status.h"

static volatile sig_atomic_t pending_signal;
static struct sigaction old_term, old_extra;
static int extra_signo, installed;

static void on_signal(int signo)
{
    if (pending_signal == 0) pending_signal = signo;
}

int signals_install(const char *signal_name)
{
    int signo = 0;
    if (strcmp(signal_name, "USR1") == 0)
        signo = SIGUSR1;
    else if (strcmp(signal_name, "USR2") == 0)
        signo = SIGUSR2;
    else if (strcmp(signal_name, "TERM") == 0)
        signo = SIGTERM;
    HPCML_CHECK(signo != 0, HPCML_EUSAGE, "train.preempt_signal: unknown signal '%s'", signal_name);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* system calls in progress go on; the flag is read later */
    HPCML_CHECK(sigaction(SIGTERM, &sa, &old_term) == 0, HPCML_EINTERNAL,
                "cannot install the SIGTERM handler");
    extra_signo = signo == SIGTERM ? 0 : signo;
    if (extra_signo)
        HPCML_CHECK(sigaction(extra_signo, &sa, &old_extra) == 0, HPCML_EINTERNAL,
                    "cannot install the SIG%s handler", signal_name);
    installed = 1;
    return HPCML_OK;
}

void signals_uninstall(void)
{
    if (!installed) return;
    sigaction(SIGTERM, &old_term, NULL);
    if (extra_signo) sigaction(extra_signo, &old_extra, NULL);
    installed = 0;
}

int signals_pending(void)
{
    return (int)pending_signal;
}
