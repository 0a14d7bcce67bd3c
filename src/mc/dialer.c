/* dialer.c -- a connection to a memcached server, who answers it, and
 * whether it speaks the meta protocol. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dialer.h"
#include "log.h"
#include "mcproto.h"

int dialer_probe(struct dialer *d, int fd, struct server_watch *w, char *err, size_t errlen)
{
	struct server_id id;

	switch (serverid_probe(fd, d->timeout_ms, &id, err, errlen)) {
	case 0:
		serverid_note(w, &id, d->addr->spec);
		return 0;
	case 1:
		serverid_log_unknown(d->addr->spec);
		d->identify = 0;
		return DIALER_NO_STATS;
	default:
		return DIALER_FAILED;
	}
}

int dialer_connect(struct dialer *d, struct server_watch *w, char *err, size_t errlen)
{
	int fd = d->dial != NULL ? d->dial(d->addr, d->timeout_ms, err, errlen, d->ctx)
				 : addr_dial(d->addr, d->timeout_ms, err, errlen);

	if (fd < 0)
		return DIALER_FAILED;
	if (!d->identify)
		return fd;
	int rc = dialer_probe(d, fd, w, err, errlen);
	if (rc == 0)
		return fd;
	close(fd);
	return rc;
}

/* Read the first reply line from FD into BUF (CAP bytes): its length in
 * *LEN. 1 when a line is there, 0 when the server closed the connection
 * first (WHY says so), -1 when it failed or timed out (WHY says why). */
static int read_line(int fd, int timeout_ms, char *buf, size_t cap, size_t *len, char *why,
		     size_t whylen)
{
	const char *line;
	size_t n;

	*len = 0;
	while (mcproto_next_line(buf, *len, &line, &n) == 0) {
		if (*len == cap) {
			snprintf(why, whylen, "a reply over %zu bytes", cap);
			return -1;
		}
		if (addr_wait(fd, POLLIN, timeout_ms) == 0) {
			snprintf(why, whylen, "no reply within %d ms", timeout_ms);
			return -1;
		}
		ssize_t r = recv(fd, buf + *len, cap - *len, 0);
		/* A proxy that closes with our command unread resets the connection. */
		if (r == 0 || (r < 0 && errno == ECONNRESET && *len == 0)) {
			snprintf(why, whylen, "it closed the connection");
			return 0;
		}
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(why, whylen, "recv: %s", strerror(errno));
			return -1;
		}
		if (r > 0)
			*len += (size_t)r;
	}
	return 1;
}

int dialer_meta(struct dialer *d, int fd, char *why, size_t whylen)
{
	char buf[MCPROTO_LINE_MAX + 2], reason[128];
	const char *line;
	size_t len, n, used;
	long opaque;

	if (addr_wait(fd, POLLOUT, d->timeout_ms) <= 0 ||
	    send(fd, MCPROTO_MN, MCPROTO_MN_LEN, MSG_NOSIGNAL) != MCPROTO_MN_LEN) {
		snprintf(why, whylen, "mn: cannot send");
		return DIALER_FAILED;
	}
	switch (read_line(fd, d->timeout_ms, buf, sizeof(buf), &len, reason, sizeof(reason))) {
	case 0:
		snprintf(why, whylen, "%s on mn", reason);
		return DIALER_NO_META;
	case -1:
		snprintf(why, whylen, "mn: %s", reason);
		return DIALER_FAILED;
	default:
		break;
	}
	used = mcproto_next_line(buf, len, &line, &n);
	switch (mcproto_classify_meta(line, n, &opaque)) {
	case MCPROTO_META_NOOP:
		if (used == len)
			return DIALER_META;
		mcproto_next_line(buf + used, len - used, &line, &n);
		if (n == 0) /* no whole line: as much as came */
			line = buf + used, n = len - used;
		snprintf(why, whylen, "it answered 'MN' to mn and then '%.*s'", n > 40 ? 40 : (int)n,
			 line);
		return DIALER_NO_META;
	case MCPROTO_META_BUSY:
		snprintf(why, whylen, "the server is at its connection limit (%.*s)", (int)n, line);
		return DIALER_FAILED;
	case MCPROTO_META_RESYNC:
	case MCPROTO_META_FAILED:
	case MCPROTO_META_TOO_LARGE:
		/* One error line and nothing after it: the text protocol's
		 * answer to a command it does not know. */
		if (used == len) {
			snprintf(why, whylen, "%.*s", n > 60 ? 60 : (int)n, line);
			return DIALER_TEXT;
		}
		break;
	default:
		break;
	}
	snprintf(why, whylen, "it answered '%.*s' to mn", n > 40 ? 40 : (int)n, line);
	return DIALER_NO_META;
}

int dialer_protocol(struct dialer *d, int fd, enum protocol want, int *ask, char *why,
		    size_t whylen)
{
	const char *spec = d->addr->spec;
	char answer[200];

	if (want == PROTOCOL_TEXT || !*ask) {
		log_debug("%s: text protocol (%s)", spec,
			  want == PROTOCOL_TEXT ? "--protocol text" : d->no_meta);
		return DIALER_TEXT;
	}
	int rc = dialer_meta(d, fd, answer, sizeof(answer));
	if (rc == DIALER_META) {
		log_debug("%s: meta protocol", spec);
		return rc;
	}
	if (rc == DIALER_FAILED) {
		snprintf(why, whylen, "%s", answer);
	} else if (want == PROTOCOL_META) {
		snprintf(why, whylen, "the server does not speak the meta protocol (%s), and "
				      "--protocol meta is given", answer);
		log_error("%s: %s", spec, why);
		rc = DIALER_FAILED;
	} else if (rc == DIALER_NO_META) {
		/* Like a server that closes on "stats": not asked again. */
		*ask = 0;
		snprintf(d->no_meta, sizeof(d->no_meta), "no meta protocol: %s", answer);
		log_debug("%s: no meta protocol (%s): connecting again", spec, answer);
	} else {
		log_debug("%s: text protocol (the server does not speak meta: %s)", spec, answer);
	}
	return rc;
}
