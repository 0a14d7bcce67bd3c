/* pipeline.c -- memcached's text protocol, pipelined, with exact counts. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backoff.h"
#include "dialer.h"
#include "log.h"
#include "mcproto.h"
#include "pipeline.h"

/* At most this many records, or bytes, unacknowledged on one connection:
 * enough to keep the server busy (4096 was no faster here), small enough to
 * keep a worker small. nutcracker 0.5.0 stalled with 4096 sets in flight
 * from one client and ran at full speed with 1024. */
#define MAX_IN_FLIGHT 1024
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

	/* Commands of every unacknowledged record, oldest first, from out[base]. */
	char *out;
	size_t base, len, cap;
	size_t sent; /* bytes of out written on this connection */

	/* The length in out of each unacknowledged record, as a ring. */
	uint32_t *lens;
	size_t head, count;

	char in[IN_CAP];
	size_t in_len;

	struct pipeline_stats stats;
};

struct pipeline *pipeline_new(const struct server_addr *addr, int timeout_ms, int attempts)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->lens = malloc(MAX_IN_FLIGHT * sizeof(*p->lens));
	p->cap = MAX_OUT_BYTES;
	p->out = malloc(p->cap);
	if (p->lens == NULL || p->out == NULL) {
		pipeline_free(p);
		return NULL;
	}
	p->dl.addr = addr;
	p->dl.identify = 1;
	p->dl.timeout_ms = timeout_ms;
	p->attempts = attempts;
	p->fd = -1;
	return p;
}

void pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p->out);
	free(p->lens);
	free(p);
}

void pipeline_get_stats(const struct pipeline *p, struct pipeline_stats *out)
{
	*out = p->stats;
}

void pipeline_identify(struct pipeline *p, int on)
{
	p->dl.identify = on;
}

void pipeline_set_dial(struct pipeline *p, dialer_fn *dial, void *ctx)
{
	p->dl.dial = dial;
	p->dl.ctx = ctx;
}

/* Drop every unacknowledged record as failed: the server is given up. */
static void give_up(struct pipeline *p, const char *why)
{
	log_error("%s: giving up after %d attempts: %s; %zu records in flight and the rest of "
		  "this server's records fail",
		  p->dl.addr->spec, p->attempts, why, p->count);
	p->stats.failed += p->count;
	p->count = p->head = 0;
	p->base = p->len = p->sent = 0;
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
	p->sent = p->base;
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
		 p->failures, p->attempts, p->count, backoff);
	backoff_sleep(backoff);
}

/* Connect, and learn who answers. 0 with p->fd set, or -1 after the
 * failure was dealt with: a server that does not answer "stats" (twemproxy
 * closes the connection) is not asked again, and no attempt is spent. */
static int connect_server(struct pipeline *p)
{
	char why[256];
	int fd = dialer_connect(&p->dl, &p->stats.server, why, sizeof(why));

	if (fd >= 0) {
		p->fd = fd;
		return 0;
	}
	if (fd == DIALER_NO_STATS)
		drop_connection(p);
	else
		conn_failed(p, why);
	return -1;
}

/* The oldest record got its reply: drop its bytes. */
static void ack_oldest(struct pipeline *p)
{
	p->base += p->lens[p->head];
	p->head = (p->head + 1) % MAX_IN_FLIGHT;
	p->count--;
	p->failures = 0;
	if (p->count == 0 && p->sent == p->len)
		p->base = p->len = p->sent = 0;
}

/* Log a rejection with the key, read back from the oldest record's command. */
static void log_rejected(struct pipeline *p, const char *reply, size_t len, uint64_t *count)
{
	size_t keylen;
	const char *key = mcproto_set_key(p->out + p->base, p->lens[p->head], &keylen);

	++*count;
	log_nth(*count, "%s rejected %.*s: %.*s", p->dl.addr->spec, (int)keylen, key, (int)len,
		reply);
}

/* Match every complete reply line to its record. 0, or -1 when the
 * connection must be dropped (after counting what could be counted). */
static int parse_replies(struct pipeline *p)
{
	const char *line;
	size_t at = 0, used, len;

	while ((used = mcproto_next_line(p->in + at, p->in_len - at, &line, &len)) > 0) {
		at += used;
		if (p->count == 0) {
			conn_failed(p, "reply without a request");
			return -1;
		}
		switch (mcproto_classify(line, len)) {
		case MCPROTO_STORED:
			p->stats.stored++;
			ack_oldest(p);
			break;
		case MCPROTO_REJECTED:
			log_rejected(p, line, len, &p->stats.rejected);
			ack_oldest(p);
			break;
		case MCPROTO_TOO_LARGE:
			log_rejected(p, line, len, &p->stats.too_large);
			ack_oldest(p);
			break;
		case MCPROTO_RESYNC:
			/* The server misread a command: count this one rejected,
			 * then resynchronize on a fresh connection. That is no
			 * failure of the server's, so no attempt is spent. */
			log_rejected(p, line, len, &p->stats.rejected);
			ack_oldest(p);
			drop_connection(p);
			return -1;
		case MCPROTO_BUSY:
			conn_failed(p, "the server is at its connection limit (ERROR Too many open "
				       "connections)");
			return -1;
		case MCPROTO_GARBAGE: {
			char why[128];
			snprintf(why, sizeof(why), "unexpected reply '%.*s'", len > 40 ? 40 : (int)len,
				 line);
			conn_failed(p, why);
			return -1;
		}
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
 * With BLOCK, first wait (up to the timeout) until one of them can happen.
 * Returns 0 while the connection is usable, -1 after it was dropped. */
static int pump(struct pipeline *p, int block)
{
	char why[256];

	if (p->fd < 0 && connect_server(p) < 0)
		return -1;
	if (block) {
		short events = POLLIN | (p->sent < p->len ? POLLOUT : 0);
		int n = addr_wait(p->fd, events, p->dl.timeout_ms);
		if (n == 0) {
			snprintf(why, sizeof(why), "no reply within %d ms", p->dl.timeout_ms);
			conn_failed(p, why);
			return -1;
		}
	}
	if (p->sent < p->len) {
		ssize_t w = send(p->fd, p->out + p->sent, p->len - p->sent, MSG_NOSIGNAL);
		if (w > 0) {
			p->sent += (size_t)w;
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

/* Make room for NEED more bytes of commands. 0, or -1 when out of memory. */
static int reserve(struct pipeline *p, size_t need)
{
	if (p->len + need <= p->cap)
		return 0;
	if (p->base > 0) {
		memmove(p->out, p->out + p->base, p->len - p->base);
		p->len -= p->base;
		p->sent -= p->base;
		p->base = 0;
	}
	if (p->len + need <= p->cap)
		return 0;
	size_t cap = p->cap;
	while (cap < p->len + need)
		cap *= 2;
	char *out = realloc(p->out, cap);
	if (out == NULL)
		return -1;
	p->out = out;
	p->cap = cap;
	return 0;
}

void pipeline_put(struct pipeline *p, const char *key, size_t keylen, const uint8_t *value,
		  size_t valuelen)
{
	/* Keep what is in flight bounded, whatever the server's speed. */
	while (!p->down && (p->count == MAX_IN_FLIGHT || p->len - p->base >= MAX_OUT_BYTES))
		pump(p, 1);
	if (p->down) {
		p->stats.failed++;
		return;
	}

	if (reserve(p, MCPROTO_SET_MAX(keylen, valuelen)) < 0) {
		log_error("%s: out of memory queueing a record", p->dl.addr->spec);
		p->stats.failed++;
		return;
	}
	size_t n = mcproto_encode_set(p->out + p->len, key, keylen, value, valuelen);
	p->len += n;
	p->lens[(p->head + p->count) % MAX_IN_FLIGHT] = (uint32_t)n;
	p->count++;

	if (p->len - p->sent >= SEND_CHUNK)
		pump(p, 0);
}

void pipeline_flush(struct pipeline *p)
{
	while (!p->down && p->count > 0)
		pump(p, 1);
}

void pipeline_finish(struct pipeline *p)
{
	char why[256];

	pipeline_flush(p);
	log_nth_total(p->dl.addr->spec, "rejected", p->stats.rejected + p->stats.too_large);
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
