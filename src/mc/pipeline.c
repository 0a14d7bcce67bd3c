/* pipeline.c -- sets pipelined on one connection, with exact counts:
 * connecting, choosing the protocol, sending, reading, the retry rule. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acks.h"
#include "backoff.h"
#include "dialer.h"
#include "log.h"
#include "mcproto.h"
#include "pipeline.h"
#include "window.h"

/* At most this many bytes unacknowledged on one connection (and at most
 * WINDOW_RECORDS records). */
#define MAX_OUT_BYTES (1024 * 1024)
/* Queued bytes worth a write() without waiting for more. */
#define SEND_CHUNK (64 * 1024)
/* Replies are short ("STORED\r\n"); a longer unterminated one is garbage. */
#define IN_CAP (64 * 1024)

struct pipeline {
	struct dialer dl; /* the server, its timeout, and whether to ask who it is */
	int attempts;
	int fd;       /* -1 while not connected */
	int down;     /* gave up: every further record fails at once */
	int failures; /* connection failures since the last reply */

	enum protocol protocol; /* --protocol */
	int ask_meta;  /* ask new connections "mn": off once a server closed on it */
	int meta;      /* the last connection spoke the meta protocol */
	int loud_left; /* records still to send answered, after an error in a quiet batch */

	struct window *w; /* every record not counted yet */

	char in[IN_CAP];
	size_t in_len;

	struct ack_counts acks;
	struct pipeline_stats stats;
};

struct pipeline *pipeline_new(const struct server_addr *addr, int timeout_ms, int attempts)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->w = window_new();
	if (p->w == NULL) {
		pipeline_free(p);
		return NULL;
	}
	p->dl.addr = addr;
	p->dl.identify = 1;
	p->dl.timeout_ms = timeout_ms;
	p->attempts = attempts;
	p->fd = -1;
	pipeline_protocol(p, PROTOCOL_AUTO);
	return p;
}

void pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	if (p->fd >= 0)
		close(p->fd);
	window_free(p->w);
	free(p);
}

void pipeline_get_stats(const struct pipeline *p, struct pipeline_stats *out)
{
	*out = p->stats;
	out->stored = p->acks.stored;
	out->rejected = p->acks.rejected;
	out->too_large = p->acks.too_large;
}

void pipeline_identify(struct pipeline *p, int on)
{
	p->dl.identify = on;
}

void pipeline_on_too_large(struct pipeline *p, acks_too_large_fn *fn, void *ctx)
{
	p->acks.on_too_large = fn;
	p->acks.ctx = ctx;
}

void pipeline_set_dial(struct pipeline *p, dialer_fn *dial, void *ctx)
{
	p->dl.dial = dial;
	p->dl.ctx = ctx;
}

void pipeline_protocol(struct pipeline *p, enum protocol protocol)
{
	p->protocol = protocol;
	p->ask_meta = protocol != PROTOCOL_TEXT;
	/* Records are encoded before the first connection: as it will
	 * most likely speak, and again if it does not. */
	p->meta = protocol != PROTOCOL_TEXT;
}

/* Drop every unacknowledged record as failed: the server is given up. */
static void give_up(struct pipeline *p, const char *why)
{
	log_error("%s: giving up after %d attempts: %s; %zu records in flight and the rest of "
		  "this server's records fail",
		  p->dl.addr->spec, p->attempts, why, window_records(p->w));
	p->stats.failed += window_records(p->w);
	window_clear(p->w);
	p->down = 1;
}

/* Close the connection; the next one starts by sending every record not
 * acknowledged yet. */
static void drop_connection(struct pipeline *p)
{
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	p->in_len = 0;
	window_rewind(p->w);
}

/* The connection is lost or unusable: drop it, and give up on the server
 * once every attempt is spent. */
static void conn_failed(struct pipeline *p, const char *why)
{
	drop_connection(p);
	p->failures++;
	if (p->failures >= p->attempts) {
		give_up(p, why);
		return;
	}
	long backoff = backoff_ms(p->failures);
	log_warn("%s: %s (attempt %d of %d); retrying %zu records in %ld ms", p->dl.addr->spec, why,
		 p->failures, p->attempts, window_records(p->w), backoff);
	backoff_sleep(backoff);
}

/* How a new record is sent on the connection now. */
static enum window_kind put_kind(struct pipeline *p)
{
	if (!p->meta)
		return WINDOW_SET;
	if (p->loud_left > 0) {
		p->loud_left--;
		return WINDOW_LOUD;
	}
	return WINDOW_QUIET;
}

/* Connect, learn who answers and what it speaks, and make the window speak
 * it too. 0 with p->fd set, or -1 after the failure was dealt with: a
 * server that does not answer "stats" (twemproxy closes the connection) is
 * not asked again, and no attempt is spent. */
static int connect_server(struct pipeline *p)
{
	char why[256];
	int fd = dialer_connect(&p->dl, &p->stats.server, why, sizeof(why));

	if (fd < 0) {
		if (fd == DIALER_NO_STATS)
			drop_connection(p);
		else
			conn_failed(p, why);
		return -1;
	}
	switch (dialer_protocol(&p->dl, fd, p->protocol, &p->ask_meta, why, sizeof(why))) {
	case DIALER_META:
		p->meta = 1;
		break;
	case DIALER_TEXT:
		p->meta = 0;
		break;
	case DIALER_NO_META: /* closed: connect again at once */
		drop_connection(p);
		return -1;
	default:
		conn_failed(p, why);
		return -1;
	}
	enum window_kind kind = !p->meta ? WINDOW_SET : p->loud_left > 0 ? WINDOW_LOUD : WINDOW_QUIET;
	if (window_recode(p->w, kind) < 0) {
		close(fd);
		give_up(p, "out of memory");
		return -1;
	}
	p->fd = fd;
	window_rewind(p->w);
	return 0;
}

/* Match every complete reply line to its records. 0, or -1 when the
 * connection must be dropped (after counting what could be counted). */
static int parse_replies(struct pipeline *p)
{
	const char *line;
	size_t at = 0, used, len;
	char why[128];

	while ((used = mcproto_next_line(p->in + at, p->in_len - at, &line, &len)) > 0) {
		at += used;
		if (window_entries(p->w) == 0) {
			conn_failed(p, "reply without a request");
			return -1;
		}
		switch (acks_line(p->w, line, len, &p->acks, p->dl.addr->spec)) {
		case ACK_OK:
			p->failures = 0;
			break;
		case ACK_RESYNC:
			/* The server misread a command: resynchronize on a fresh
			 * connection. That is no failure of the server's, so no
			 * attempt is spent. */
			p->failures = 0;
			drop_connection(p);
			return -1;
		case ACK_UNKNOWN:
			/* The records are sent again, each answered, in order:
			 * a later record of the same key must not be overwritten
			 * by an earlier one. The run of loud records after it
			 * keeps a server that rejects many from costing a
			 * connection per batch. */
			log_debug("%s: '%.*s' in a quiet batch names no record: sending %zu records "
				  "again, each answered",
				  p->dl.addr->spec, len > 60 ? 60 : (int)len, line,
				  window_records(p->w));
			p->loud_left = WINDOW_RECORDS;
			drop_connection(p);
			return -1;
		case ACK_BUSY:
			conn_failed(p, "the server is at its connection limit (ERROR Too many open "
				       "connections)");
			return -1;
		case ACK_GARBAGE:
			snprintf(why, sizeof(why), "unexpected reply '%.*s'", len > 40 ? 40 : (int)len,
				 line);
			conn_failed(p, why);
			return -1;
		}
	}
	memmove(p->in, p->in + at, p->in_len - at);
	p->in_len -= at;
	if (p->in_len == IN_CAP) {
		conn_failed(p, "reply line too long");
		return -1;
	}
	return 0;
}

/* Count every reply that has already arrived. 0, or -1 when that dropped
 * the connection. */
static int read_arrived(struct pipeline *p)
{
	ssize_t r;

	while ((r = recv(p->fd, p->in + p->in_len, IN_CAP - p->in_len, 0)) > 0) {
		p->in_len += (size_t)r;
		if (parse_replies(p) < 0)
			return -1;
	}
	return 0;
}

/* One round of I/O: write what the socket takes, read what has come.
 * With BLOCK, first end the open quiet batch, so that its MN comes, and
 * wait (up to the timeout) until one of them can happen. Returns 0 while
 * the connection is usable, -1 after it was dropped. */
static int pump(struct pipeline *p, int block)
{
	char why[256];
	size_t unsent;
	const char *out;

	if (p->fd < 0 && connect_server(p) < 0)
		return -1;
	if (block) {
		if (window_close_batch(p->w) < 0) {
			drop_connection(p);
			give_up(p, "out of memory");
			return -1;
		}
		(void)window_unsent(p->w, &unsent);
		int n = addr_wait(p->fd, POLLIN | (unsent > 0 ? POLLOUT : 0), p->dl.timeout_ms);
		if (n == 0) {
			snprintf(why, sizeof(why), "no reply within %d ms", p->dl.timeout_ms);
			conn_failed(p, why);
			return -1;
		}
	}
	out = window_unsent(p->w, &unsent);
	if (unsent > 0) {
		ssize_t w = send(p->fd, out, unsent, MSG_NOSIGNAL);
		if (w > 0) {
			window_sent(p->w, (size_t)w);
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			/* A server that answered and then closed: what it said still
			 * counts, or stored records would be sent again. */
			if (read_arrived(p) == 0)
				conn_failed(p, why);
			return -1;
		}
	}
	ssize_t r = recv(p->fd, p->in + p->in_len, IN_CAP - p->in_len, 0);
	if (r > 0) {
		p->in_len += (size_t)r;
		return parse_replies(p);
	}
	if (r == 0) {
		conn_failed(p, "connection closed by server");
		return -1;
	}
	if (errno != EAGAIN && errno != EINTR) {
		snprintf(why, sizeof(why), "recv: %s", strerror(errno));
		conn_failed(p, why);
		return -1;
	}
	return 0;
}

void pipeline_put(struct pipeline *p, const char *key, size_t keylen, const uint8_t *value,
		  size_t valuelen)
{
	size_t unsent;

	/* Keep what is in flight bounded, whatever the server's speed. */
	while (!p->down && (window_records(p->w) == WINDOW_RECORDS ||
			    window_bytes(p->w) >= MAX_OUT_BYTES))
		pump(p, 1);
	if (p->down) {
		p->stats.failed++;
		return;
	}
	if (window_put(p->w, put_kind(p), key, keylen, value, valuelen) < 0) {
		log_error("%s: out of memory queueing a record", p->dl.addr->spec);
		p->stats.failed++;
		return;
	}
	(void)window_unsent(p->w, &unsent);
	if (unsent >= SEND_CHUNK)
		pump(p, 0);
}

void pipeline_flush(struct pipeline *p)
{
	while (!p->down && window_entries(p->w) > 0)
		pump(p, 1);
}

void pipeline_hang_up(struct pipeline *p)
{
	drop_connection(p);
}

void pipeline_finish(struct pipeline *p)
{
	char why[256];

	pipeline_flush(p);
	log_nth_total(p->dl.addr->spec, "rejected", p->acks.rejected + p->acks.too_large);
	while (!p->down && p->dl.identify && p->stats.server.have_id) {
		if (p->fd < 0) {
			if (connect_server(p) == 0)
				return;
			continue;
		}
		switch (dialer_probe(&p->dl, p->fd, &p->stats.server, why, sizeof(why))) {
		case 0:
			return;
		case DIALER_NO_STATS:
			drop_connection(p);
			return;
		default:
			conn_failed(p, why);
		}
	}
	if (p->down && p->stats.server.have_id)
		p->stats.unconfirmed = 1;
}
