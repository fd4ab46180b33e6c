/* status.c — the first-error record behind status.h (message, where, context
 * lines), one per thread (a helper thread — streaming reads, sweep
 * heartbeats — records its own errors and hands them over explicitly,
 * hpcml_error_adopt). */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local int g_code;
static _Thread_local char g_message[HPCML_ERRMSG_MAX];
static _Thread_local char g_where[256];
static _Thread_local char g_context[HPCML_ERRMSG_MAX];

static const char *short_path(const char *file)
{
    /* Show paths relative to the source tree: ".../src/etl/x.c" -> "src/etl/x.c". */
    const char *roots[] = {"/src/", "/io/", "/cuda/", "/tests/", "/benchmarks/"};
    const char *best = NULL;
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        const char *p = strstr(file, roots[i]);
        if (p && (!best || p > best)) best = p;
    }
    return best ? best + 1 : file;
}

int hpcml_error_set(int code, const char *file, int line, const char *fmt, ...)
{
    if (code == HPCML_OK) return HPCML_OK;
    if (g_code != HPCML_OK) return code; /* keep the first, root-cause message */
    g_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_message, sizeof g_message, fmt, ap);
    va_end(ap);
    snprintf(g_where, sizeof g_where, "%s:%d", short_path(file), line);
    return code;
}

int hpcml_error_context(const char *fmt, ...)
{
    if (g_code == HPCML_OK) return HPCML_OK;
    size_t used = strlen(g_context);
    if (used + 2 >= sizeof g_context) return g_code; /* full: the first lines matter most */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(g_context + used, sizeof g_context - used - 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        g_context[used] = '\0';
        return g_code;
    }
    used = strlen(g_context);
    g_context[used] = '\n';
    g_context[used + 1] = '\0';
    return g_code;
}

void hpcml_error_adopt(int code, const char *message, const char *where, const char *context)
{
    g_code = code;
    snprintf(g_message, sizeof g_message, "%s", message ? message : "");
    snprintf(g_where, sizeof g_where, "%s", where ? where : "");
    snprintf(g_context, sizeof g_context, "%s", context ? context : "");
}

void hpcml_error_clear(void)
{
    g_code = HPCML_OK;
    g_message[0] = '\0';
    g_where[0] = '\0';
    g_context[0] = '\0';
}

int hpcml_error_code(void)
{
    return g_code;
}
const char *hpcml_error_message(void)
{
    return g_message;
}
const char *hpcml_error_where(void)
{
    return g_where;
}
const char *hpcml_error_context_text(void)
{
    return g_context;
}

const char *hpcml_status_name(int code)
{
    switch (code) {
    case HPCML_OK: return "ok";
    case HPCML_EUSAGE: return "usage or configuration error";
    case HPCML_EDATA: return "bad input data";
    case HPCML_EIO: return "I/O error";
    case HPCML_EINTERNAL: return "internal or MPI error";
    case HPCML_EPREEMPTED: return "preempted";
    default: return "unknown error";
    }
}
