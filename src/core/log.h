/* log.h — leveled logging with rank and elapsed seconds.
 *
 * Lines look like "[   1.234s r2 WARN ] message". log_info prints on
 * rank 0 only (the job's narrative); log_rank_info prints on every rank that
 * calls it; warnings and errors print on the rank that has them; debug
 * prints on every rank when -v is given. */
#ifndef HPCML_LOG_H
#define HPCML_LOG_H

typedef enum { LOG_QUIET = 0, LOG_ERROR = 1, LOG_WARN = 2, LOG_INFO = 3, LOG_DEBUG = 4 } log_level;

void log_init(int rank, log_level level); /* starts the elapsed-time clock */
void log_set_level(log_level level);
log_level log_get_level(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_rank_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
