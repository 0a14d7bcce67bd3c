/* serverid.c -- a server's identity and evictions, from "stats". */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "log.h"
#include "mcproto.h"
#include "serverid.h"

/* A stats reply is about 2 KiB; a longer one is not what was asked for. */
#define REPLY_CAP (32 * 1024)

/* The value of "STAT NAME VALUE" when LINE is that line. */
static int stat_value(const char *line, size_t len, const char *name, long long *value)
{
	size_t n = strlen(name);
	char num[32];
	char *end;

	if (len < 5 + n + 2 || memcmp(line, "STAT ", 5) != 0 || memcmp(line + 5, name, n) != 0 ||
	    line[5 + n] != ' ' || len - 6 - n >= sizeof(num))
		return 0;
	memcpy(num, line + 6 + n, len - 6 - n);
	num[len - 6 - n] = '\0';
	errno = 0;
	*value = strtoll(num, &end, 10);
	return errno == 0 && *end == '\0' && end != num;
}

int serverid_parse(const char *buf, size_t len, struct server_id *id)
{
	long long pid = -1, now = -1, uptime = -1, evictions = 0, v;
	const char *line;
	size_t at = 0, used, n;

	while ((used = mcproto_next_line(buf + at, len - at, &line, &n)) > 0) {
		at += used;
		if (n == 3 && memcmp(line, "END", 3) == 0) {
			if (pid <= 0 || now < 0 || uptime < 0 || at != len)
				return -1;
			id->pid = (uint32_t)pid;
			id->started = now - uptime;
			id->evictions = (uint64_t)evictions;
			return 1;
		}
		if (n < 5 || memcmp(line, "STAT ", 5) != 0)
			return -1;
		if (stat_value(line, n, "pid", &v))
			pid = v;
		else if (stat_value(line, n, "time", &v))
			now = v;
		else if (stat_value(line, n, "uptime", &v))
			uptime = v;
		else if (stat_value(line, n, "evictions", &v) && v >= 0)
			evictions = v;
	}
	return len < REPLY_CAP ? 0 : -1;
}

int serverid_same(const struct server_id *a, const struct server_id *b)
{
	return a->pid == b->pid && a->started == b->started;
}

int serverid_probe(int fd, int timeout_ms, struct server_id *id, char *err, size_t errlen)
{
	static const char cmd[] = "stats\r\n";
	char *buf = malloc(REPLY_CAP);
	size_t len = 0;
	int rc = -1;

	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (addr_wait(fd, POLLOUT, timeout_ms) <= 0 ||
	    send(fd, cmd, sizeof(cmd) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(cmd) - 1)) {
		snprintf(err, errlen, "stats: cannot send");
		goto out;
	}
	for (;;) {
		int ready = addr_wait(fd, POLLIN, timeout_ms);
		if (ready == 0) {
			snprintf(err, errlen, "no reply to stats within %d ms", timeout_ms);
			goto out;
		}
		ssize_t r = recv(fd, buf + len, REPLY_CAP - len, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			snprintf(err, errlen, "stats: recv: %s", strerror(errno));
			goto out;
		}
		if (r == 0) {
			rc = 1; /* closed on "stats": a proxy that does not speak it */
			goto out;
		}
		len += (size_t)r;
		const char *line;
		size_t n;
		if (mcproto_next_line(buf, len, &line, &n) > 0 &&
		    mcproto_classify(line, n) == MCPROTO_BUSY) {
			snprintf(err, errlen, "the server is at its connection limit (%.*s)", (int)n,
				 line);
			goto out;
		}
		int got = serverid_parse(buf, len, id);
		if (got != 0) {
			rc = got > 0 ? 0 : 1;
			goto out;
		}
	}
out:
	free(buf);
	return rc;
}

int serverid_note(struct server_watch *w, const struct server_id *id, const char *spec)
{
	int restarted = 0;

	if (!w->have_id) {
		w->have_id = 1;
		w->first = *id;
		w->first_last_evictions = id->evictions;
		w->evict_base = id->evictions;
	} else if (!serverid_same(&w->now, id)) {
		uint64_t before = w->evicted_before;
		restarted = 1;
		w->evicted_before = serverid_evicted(w);
		if (w->restarts > 0) /* the process that ended was not the first */
			w->evicted_between += w->evicted_before - before;
		w->restarts++;
		w->evict_base = id->evictions;
		log_warn("%s restarted during the load (pid %u, now pid %u): the records it "
			 "acknowledged before are lost, and are sent again",
			 spec, (unsigned)w->now.pid, (unsigned)id->pid);
	} else if (w->restarts == 0) {
		w->first_last_evictions = id->evictions;
	}
	w->now = *id;
	return restarted;
}

uint64_t serverid_evicted(const struct server_watch *w)
{
	uint64_t now = w->have_id && w->now.evictions > w->evict_base ? w->now.evictions - w->evict_base : 0;

	return w->evicted_before + now;
}

void serverid_log_unknown(const char *spec)
{
	log_info("%s does not answer \"stats\" (a proxy?): a restart of the server behind it "
		 "cannot be detected",
		 spec);
}
