/* log.c — see log.h. Writes whole lines to stderr with one fprintf so lines
 * from different ranks interleave only at line boundaries. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "core/clock.h"

static int g_rank;
static log_level g_level = LOG_INFO;
static double g_t0_s;
static int g_started;

void log_init(int rank, log_level level)
{
    g_rank = rank;
    g_level = level;
    g_t0_s = hpcml_mono_s();
    g_started = 1;
}

void log_set_level(log_level level) { g_level = level; }
log_level log_get_level(void) { return g_level; }

static double log_elapsed_s(void)
{
    if (!g_started) log_init(g_rank, g_level);
    return hpcml_mono_s() - g_t0_s;
}

static void emit(log_level level, const char *tag, const char *fmt, va_list ap)
{
    if (level > g_level) return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "[%8.3fs r%d %-5s] %s\n", log_elapsed_s(), g_rank, tag, msg);
    fflush(stderr);
}

#define LOG_BODY(level, tag)                                                                       \
    va_list ap;                                                                                    \
    va_start(ap, fmt);                                                                             \
    emit(level, tag, fmt, ap);                                                                     \
    va_end(ap)

void log_error(const char *fmt, ...) { LOG_BODY(LOG_ERROR, "ERROR"); }
void log_warn(const char *fmt, ...) { LOG_BODY(LOG_WARN, "WARN"); }
void log_rank_info(const char *fmt, ...) { LOG_BODY(LOG_INFO, "INFO"); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_DEBUG, "DEBUG"); }

void log_info(const char *fmt, ...)
{
    if (g_rank != 0) return;
    LOG_BODY(LOG_INFO, "INFO");
}
