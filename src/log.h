/* log.h -- "[YYYY.MM.DD HH:MM:SS] L message" lines, one write(2) each, or
 * messages to syslog(3).
 *
 * The log descriptor is opened once by the supervisor and inherited by every
 * worker; because each line is a single write() to an O_APPEND file (or to
 * stderr), lines from concurrent processes never interleave. With syslog,
 * each message is one datagram, which carries the pid of the process that
 * sent it (glibc asks getpid() for every message, so a forked worker's are
 * its own).
 *
 * A line that cannot be written whole is not retried but counted, in each
 * process on its own: a worker starts its count at zero and sends it to the
 * supervisor in its reports (report.h), which adds it to its own. At the
 * end the supervisor says once on stderr how many lines were lost, and the
 * exit status is 1. */
#ifndef MEMC_LOAD_LOG_H
#define MEMC_LOAD_LOG_H

#include <stddef.h>
#include <stdint.h>

/* Not LOG_*: <syslog.h> uses those names for its own priorities. */
enum log_level { LEVEL_ERROR, LEVEL_WARN, LEVEL_INFO, LEVEL_DEBUG };

/* Log to PATH (appending), or to stderr when PATH is NULL. 0 or -1 with err. */
int log_open(const char *path, enum log_level level, char *err, size_t errlen);
/* Log to syslog instead: ident "memc_load", the pid in each message,
 * facility daemon, each level its priority (LOG_ERR ... LOG_DEBUG). With
 * ALSO_STDERR, the lines go to stderr as well. Cannot fail: syslog(3)
 * reports nothing, so its messages are never counted as lost. */
void log_open_syslog(enum log_level level, int also_stderr);
/* True when messages of LEVEL are written: lets callers skip costly formatting. */
int log_enabled(enum log_level level);
/* Write one line at LEVEL. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_close(void);

/* Lines not written whole (a failed or short write) by this process, and
 * the ones added by log_failures_add; *FIRST_ERRNO, if not NULL, gets the
 * errno of the first failed write (0 when there were only short writes). */
uint64_t log_failures(int *first_errno);
/* Start the count afresh: in a new worker, so that it counts its own lines
 * only, not its parent's. */
void log_failures_reset(void);
/* Add N lines a worker could not write, FIRST_ERRNO the first's errno. */
void log_failures_add(uint64_t n, int first_errno);
/* When any line was lost, say so once on stderr ("memc_load: cannot write
 * to the log FILE: reason; N log lines lost", tried once) and return 1;
 * else return 0. */
int log_report_failures(void);
/* Start each line with "\r" and erase-line, over a status line on the same
 * terminal (see progress.c). Inherited by workers forked after the call. */
void log_erase_line(int on);

/* Warnings that may come once per record (a server rejecting records) are
 * capped per file and server: the first LOG_FEW are warnings, the rest
 * debug messages, and log_nth_total() gives the count at the end. A server
 * out of memory would otherwise log a line per record, even with -q. */
#define LOG_FEW 5
#define log_nth(n, ...) log_msg((n) <= LOG_FEW ? LEVEL_WARN : LEVEL_DEBUG, __VA_ARGS__)
/* "SPEC rejected N records of this file in all; ...", when N > LOG_FEW. */
void log_nth_total(const char *spec, const char *what, unsigned long long n);

#define log_error(...) log_msg(LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LEVEL_DEBUG, __VA_ARGS__)

#endif
