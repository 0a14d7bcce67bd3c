/* log.c -- timestamped log lines shared by the supervisor and its workers,
 * or the same messages to syslog. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_out = STDERR_FILENO;
static const char *log_name; /* the -l FILE, or NULL for stderr */
static enum log_level log_max = LEVEL_INFO;
static int log_erase;
static int log_syslog; /* messages go to syslog(3) */
static int log_stderr = 1; /* lines go to log_out */
static uint64_t lost;  /* lines not written whole */
static int lost_errno; /* the first errno among them; 0: only short writes */
static int lost_told;  /* log_report_failures said so already */

int log_open(const char *path, enum log_level level, char *err, size_t errlen)
{
	log_max = level;
	log_name = path;
	log_syslog = 0;
	log_stderr = 1;
	if (path == NULL) {
		log_out = STDERR_FILENO;
		return 0;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open log file %s: %s", path, strerror(errno));
		return -1;
	}
	log_out = fd;
	return 0;
}

void log_open_syslog(enum log_level level, int also_stderr)
{
	log_max = level;
	log_name = NULL;
	log_out = STDERR_FILENO;
	log_syslog = 1;
	log_stderr = also_stderr;
	/* Connected at the first message, in whichever process sends it; a
	 * worker forked after that shares the socket, which is fine for
	 * datagrams. */
	openlog("memc_load", LOG_PID, LOG_DAEMON);
}

/* Send the message at MSG (up to the line's end, N bytes) to syslog. */
static void to_syslog(enum log_level level, const char *msg, size_t n)
{
	static const int priority[] = {
		[LEVEL_ERROR] = LOG_ERR,
		[LEVEL_WARN] = LOG_WARNING,
		[LEVEL_INFO] = LOG_INFO,
		[LEVEL_DEBUG] = LOG_DEBUG,
	};

	syslog(priority[level], "%.*s", (int)n, msg);
}

uint64_t log_failures(int *first_errno)
{
	if (first_errno != NULL)
		*first_errno = lost_errno;
	return lost;
}

void log_failures_reset(void)
{
	lost = 0;
	lost_errno = 0;
	lost_told = 0;
}

void log_failures_add(uint64_t n, int first_errno)
{
	lost += n;
	if (lost_errno == 0)
		lost_errno = first_errno;
}

int log_report_failures(void)
{
	char msg[1024];
	int n;

	if (lost == 0)
		return 0;
	if (lost_told)
		return 1;
	lost_told = 1;
	n = snprintf(msg, sizeof(msg),
		     "memc_load: cannot write to the log%s%s: %s; %llu log line%s lost\n",
		     log_name ? " " : " on ", log_name ? log_name : "standard error",
		     lost_errno ? strerror(lost_errno) : "short write", (unsigned long long)lost,
		     lost == 1 ? "" : "s");
	if (n < 0)
		return 1;
	if ((size_t)n >= sizeof(msg)) {
		n = (int)sizeof(msg) - 1;
		msg[n - 1] = '\n';
	}
	/* One try: when stderr is the log that failed, there is nowhere else
	 * to say it, and the exit status alone tells. */
	ssize_t w = write(STDERR_FILENO, msg, (size_t)n);
	(void)w;
	return 1;
}

int log_enabled(enum log_level level)
{
	return level <= log_max;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char letter[] = "EWID";
	/* Writes of up to PIPE_BUF bytes to a pipe are atomic: longer lines
	 * from concurrent workers could interleave, so none is longer. */
	char line[PIPE_BUF];
	struct tm tm;
	time_t now;
	size_t n;
	va_list ap;

	if (!log_enabled(level))
		return;
	now = time(NULL);
	localtime_r(&now, &tm);
	n = 0;
	if (log_erase) {
		/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): bytes, not a string */
		memcpy(line, "\r\033[K", 4);
		n = 4;
	}
	n += strftime(line + n, sizeof(line) - n, "[%Y.%m.%d %H:%M:%S] ", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%c ", letter[level]);
	size_t msg = n; /* where the message starts: syslog has its own prefix */

	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	if ((size_t)m >= sizeof(line) - n - 1) {
		/* Cut, visibly, rather than split one message over several writes. */
		n = sizeof(line) - 5;
		/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): as above */
		memcpy(line + n, "...", 3);
		n += 3;
	} else {
		n += (size_t)m;
	}
	if (log_syslog)
		to_syslog(level, line + msg, n - msg);
	if (!log_stderr)
		return;
	line[n++] = '\n';

	/* One write per line keeps concurrent writers from interleaving; a
	 * short write to a full disk is not worth a retry loop, but it is
	 * counted, as a failed write is, and reported at the end. */
	ssize_t w;
	do
		w = write(log_out, line, n);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)n)
		log_failures_add(1, w < 0 ? errno : 0);
}

void log_nth_total(const char *spec, const char *what, unsigned long long n)
{
	if (n > LOG_FEW)
		log_warn("%s %s %llu records of this file in all; the first %d are named above, -v "
			 "names every one",
			 spec, what, n, LOG_FEW);
}

void log_erase_line(int on)
{
	log_erase = on && log_out == STDERR_FILENO;
}

void log_close(void)
{
	if (log_out != STDERR_FILENO)
		close(log_out);
	log_out = STDERR_FILENO;
	if (log_syslog)
		closelog();
	log_syslog = 0;
	log_stderr = 1;
}
