/* status.h — error codes, the error record, and the check macros.
 *
 * Every hpcml function that can fail returns an hpcml_status. The first
 * failure records a message with the file and line of the check that
 * caught it (later HPCML_FAIL calls do not replace it: the root cause is
 * what the user needs). Callers on the way up may add context lines with
 * hpcml_error_context ("while reading checkpoint X", a hint what to do);
 * a program's main prints the message and its context once, on rank 0, and
 * exits with the status as the exit code (docs/exit-codes.md).
 *
 * The one family of checks: HPCML_CHECK / HPCML_TRY / HPCML_TRY_GOTO and the
 * HPCML_ALLOC_* macros here; HPCML_MPI_CHECK* and HPCML_ALLOC_ABORT for MPI
 * calls and collective phases in core/hpcml_mpi.h. */
#ifndef HPCML_STATUS_H
#define HPCML_STATUS_H

#include <stddef.h>

typedef enum {
    HPCML_OK = 0,
    HPCML_EUSAGE = 1,     /* bad command line or configuration */
    HPCML_EDATA = 2,      /* bad input data */
    HPCML_EIO = 3,        /* file system or I/O failure */
    HPCML_EINTERNAL = 4,  /* bug, out of memory, MPI failure */
    HPCML_EPREEMPTED = 75 /* checkpoint written, please requeue (EX_TEMPFAIL) */
} hpcml_status;

#define HPCML_ERRMSG_MAX 1024

/* Records the first error of this thread (later ones are ignored until
 * hpcml_error_clear) and returns code, so it can be used in a return. */
int hpcml_error_set(int code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds a context line to the recorded error ("while ...", or what to do about
 * it), kept in the order added: the innermost caller's first. Does nothing
 * when no error is recorded. Returns the recorded code, so a caller can
 * `return hpcml_error_context(...)`. */
int hpcml_error_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Replace the whole record (an error handed over from another rank or a
 * helper thread); context may be NULL. */
void hpcml_error_adopt(int code, const char *message, const char *where, const char *context);
void hpcml_error_clear(void);
int hpcml_error_code(void);
const char *hpcml_error_message(void); /* "" when none */
const char *hpcml_error_where(void);   /* "src/x.c:12" of the check */
/* The context lines, each ending in '\n' ("" when none). */
const char *hpcml_error_context_text(void);
const char *hpcml_status_name(int code);

#define HPCML_FAIL(code, ...) hpcml_error_set((code), __FILE__, __LINE__, __VA_ARGS__)

/* Return with an error unless cond holds. */
#define HPCML_CHECK(cond, code, ...)                                                               \
    do {                                                                                           \
        if (!(cond)) return HPCML_FAIL((code), __VA_ARGS__);                                       \
    } while (0)

/* Propagate a failing status from a call. */
#define HPCML_TRY(expr)                                                                            \
    do {                                                                                           \
        int hpcml_rc_ = (expr);                                                                    \
        if (hpcml_rc_ != HPCML_OK) return hpcml_rc_;                                               \
    } while (0)

/* Jump to a cleanup label on failure, keeping the status in rc. */
#define HPCML_TRY_GOTO(rc, expr, label)                                                            \
    do {                                                                                           \
        (rc) = (expr);                                                                             \
        if ((rc) != HPCML_OK) goto label;                                                          \
    } while (0)

/* Allocation checks: out of memory is an internal error naming the size. */
#define HPCML_ALLOC_CHECK(ptr, bytes)                                                              \
    HPCML_CHECK((ptr) != NULL, HPCML_EINTERNAL, "out of memory allocating %zu bytes",              \
                (size_t)(bytes))

/* ptr = malloc(count elements) (at least one byte), or return the error. */
#define HPCML_ALLOC_ARRAY(ptr, count)                                                              \
    do {                                                                                           \
        size_t bytes_ = (size_t)(count) * sizeof *(ptr);                                           \
        (ptr) = malloc(bytes_ ? bytes_ : 1);                                                       \
        HPCML_ALLOC_CHECK((ptr), bytes_);                                                          \
    } while (0)

#endif
