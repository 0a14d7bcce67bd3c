/* progress.c -- the status line, redrawn in place with "\r" and erase-line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "progress.h"

#define REDRAW_SECONDS 0.25

static int enabled;
static double last_draw;

/* "1.2M", "532k", "17": short counts for a narrow line. */
static void human(char *buf, size_t size, double v)
{
	if (v >= 1e9)
		snprintf(buf, size, "%.1fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, size, "%.1fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, size, "%.0fk", v / 1e3);
	else
		snprintf(buf, size, "%.0f", v);
}

void progress_format(char *buf, size_t size, const struct progress_view *v)
{
	char records[16], rate[16], eta[32] = "--:--";
	double secs = v->elapsed > 0 ? v->elapsed : 0;
	double mbps = secs > 0 ? (double)v->bytes_in / 1e6 / secs : 0;

	human(records, sizeof(records), (double)v->records);
	human(rate, sizeof(rate), secs > 0 ? (double)v->records / secs : 0);
	if (v->bytes_in > 0 && v->bytes_total >= v->bytes_in && secs > 0) {
		double left = (double)(v->bytes_total - v->bytes_in) / ((double)v->bytes_in / secs);
		long s = (long)(left + 0.5);
		snprintf(eta, sizeof(eta), "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	}
	snprintf(buf, size, "files %zu/%zu done, %zu running | %s records, %s/s | %.1f MB/s in | ETA %s",
		 v->files_done, v->files_total, v->running, records, rate, mbps, eta);
}

static void put(const char *s, size_t n)
{
	ssize_t w;

	do
		w = write(STDERR_FILENO, s, n);
	while (w < 0 && errno == EINTR);
}

void progress_enable(void)
{
	enabled = 1;
	/* Log lines on the same terminal erase the status line first. */
	log_erase_line(1);
}

void progress_show(const struct progress_view *v, int force)
{
	char line[256];
	double now;

	if (!enabled)
		return;
	now = clock_seconds();
	if (!force && now - last_draw < REDRAW_SECONDS)
		return;
	last_draw = now;
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): progress_format ends it */
	memcpy(line, "\r\033[K", 4);
	progress_format(line + 4, sizeof(line) - 4, v);
	put(line, strlen(line));
}

void progress_done(void)
{
	if (!enabled)
		return;
	put("\r\033[K", 4);
	enabled = 0;
	log_erase_line(0);
}
