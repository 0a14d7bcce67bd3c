/* log.c -- timestamped log lines shared by the supervisor and its workers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_out = STDERR_FILENO;
static enum log_level log_max = LEVEL_INFO;
static int log_erase;

int log_open(const char *path, enum log_level level, char *err, size_t errlen)
{
	log_max = level;
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
	line[n++] = '\n';

	/* One write per line keeps concurrent writers from interleaving; a
	 * short write to a full disk is not worth a retry loop. */
	ssize_t w;
	do
		w = write(log_out, line, n);
	while (w < 0 && errno == EINTR);
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
}
