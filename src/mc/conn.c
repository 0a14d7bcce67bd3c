/* conn.c -- one connection: dial, send, read into a buffer, and the retry
 * rule (attempts in a row, backoff, giving up). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backoff.h"
#include "conn.h"
#include "log.h"
#include "mcproto.h"

/* Replies are read this much at a time. A reply line is far shorter (and
 * the read-back takes a long value in parts), so a full buffer that
 * nothing could be taken from is garbage. */
#define IN_CAP (64 * 1024)

struct conn {
	struct dialer dl; /* the server, its timeout, and whether to ask who it is */
	struct server_watch watch;
	int attempts;
	int fd;       /* -1 while not connected */
	int down;     /* given up: every further request fails at once */
	int failures; /* connection failures since the last answer */

	const struct conn_ops *ops;
	const struct conn_words *words;
	void *ctx;

	char in[IN_CAP];
	size_t in_len;
};

struct conn *conn_new(const struct server_addr *addr, int timeout_ms, int attempts,
		      const struct conn_ops *ops, const struct conn_words *words, void *ctx)
{
	struct conn *c = calloc(1, sizeof(*c));

	_Static_assert(IN_CAP >= MCPROTO_LINE_MAX + 2, "in holds any reply line");
	if (c == NULL)
		return NULL;
	c->dl.addr = addr;
	c->dl.timeout_ms = timeout_ms;
	c->dl.identify = 1;
	c->attempts = attempts;
	c->fd = -1;
	c->ops = ops;
	c->words = words;
	c->ctx = ctx;
	return c;
}

void conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

void conn_set_dial(struct conn *c, dialer_fn *dial, void *ctx)
{
	c->dl.dial = dial;
	c->dl.ctx = ctx;
}

void conn_identify(struct conn *c, int on)
{
	c->dl.identify = on;
}

int conn_identifies(const struct conn *c)
{
	return c->dl.identify;
}

struct server_watch *conn_watch(struct conn *c)
{
	return &c->watch;
}

void conn_answered(struct conn *c)
{
	c->failures = 0;
}

int conn_down(const struct conn *c)
{
	return c->down;
}

const char *conn_spec(const struct conn *c)
{
	return c->dl.addr->spec;
}

/* Close the connection; the next one starts by sending every request not
 * answered yet. */
static void drop(struct conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->in_len = 0;
	c->ops->dropped(c->ctx);
}

void conn_hang_up(struct conn *c)
{
	drop(c);
}

static void give_up(struct conn *c, const char *why)
{
	size_t n = c->ops->give_up(c->ctx);

	log_error("%s: %s after %d attempts: %s; %zu records in flight and the rest of this "
		  "server's %s fail",
		  c->dl.addr->spec, c->words->giving_up, c->attempts, why, n, c->words->rest);
	c->down = 1;
}

/* The connection is lost or unusable: drop it, and give up on the server
 * once every attempt is spent. */
static void failed(struct conn *c, const char *why)
{
	drop(c);
	c->failures++;
	if (c->failures >= c->attempts) {
		give_up(c, why);
		return;
	}
	long backoff = backoff_ms(c->failures);
	log_warn("%s: %s (attempt %d of %d); %s %zu records in %ld ms", c->dl.addr->spec, why,
		 c->failures, c->attempts, c->words->retry, c->ops->waiting(c->ctx), backoff);
	backoff_sleep(backoff);
}

void conn_fail(struct conn *c, enum conn_step step, const char *why)
{
	switch (step) {
	case CONN_GO_ON:
		break;
	case CONN_AGAIN:
		drop(c);
		break;
	case CONN_FAILED:
		failed(c, why);
		break;
	case CONN_GIVE_UP:
		drop(c);
		give_up(c, why);
		break;
	}
}

/* Connect, learn who answers, and let the owner speak to it. 0 with c->fd
 * set, or -1 after the failure was dealt with: a server that does not
 * answer "stats" (twemproxy closes the connection) is not asked again, and
 * no attempt is spent. */
static int connect_server(struct conn *c)
{
	char why[256];
	int fd = dialer_connect(&c->dl, &c->watch, why, sizeof(why));

	if (fd < 0) {
		conn_fail(c, fd == DIALER_NO_STATS ? CONN_AGAIN : CONN_FAILED, why);
		return -1;
	}
	c->fd = fd;
	if (c->ops->reconnected != NULL) {
		enum conn_step step = c->ops->reconnected(c->ctx, &c->dl, fd, why, sizeof(why));
		if (step != CONN_GO_ON) {
			conn_fail(c, step, why);
			return -1;
		}
	}
	return 0;
}

/* Hand what is in the buffer to the owner. 0, or -1 when that dropped the
 * connection (after counting what could be counted). */
static int take_replies(struct conn *c)
{
	char why[256];
	size_t took = 0;
	enum conn_step step = c->ops->replies(c->ctx, c->in, c->in_len, &took, why, sizeof(why));

	if (step != CONN_GO_ON) {
		conn_fail(c, step, why);
		return -1;
	}
	memmove(c->in, c->in + took, c->in_len - took);
	c->in_len -= took;
	if (c->in_len == IN_CAP) {
		failed(c, "reply line too long");
		return -1;
	}
	return 0;
}

/* Read what has come. 1 when something was, 0 when nothing has yet, or -1
 * after the connection was dropped; DRAIN: read until nothing more is
 * there. */
static int read_replies(struct conn *c, int drain)
{
	ssize_t r;

	do {
		r = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
		if (r > 0) {
			c->in_len += (size_t)r;
			if (take_replies(c) < 0)
				return -1;
		}
	} while (drain && r > 0);
	if (r > 0 || drain)
		return r > 0;
	if (r == 0) {
		failed(c, "connection closed by server");
		return -1;
	}
	if (errno != EAGAIN && errno != EINTR) {
		char why[256];
		snprintf(why, sizeof(why), "recv: %s", strerror(errno));
		failed(c, why);
		return -1;
	}
	return 0;
}

void conn_pump(struct conn *c, int block)
{
	char why[256];
	const char *out;
	size_t unsent;

	if (c->fd < 0 && connect_server(c) < 0)
		return;
	if (c->ops->unsent(c->ctx, block, &out, &unsent) < 0) {
		conn_fail(c, CONN_GIVE_UP, "out of memory");
		return;
	}
	if (block && addr_wait(c->fd, POLLIN | (unsent > 0 ? POLLOUT : 0), c->dl.timeout_ms) == 0) {
		snprintf(why, sizeof(why), "no reply within %d ms", c->dl.timeout_ms);
		failed(c, why);
		return;
	}
	while (unsent > 0) {
		ssize_t w = send(c->fd, out, unsent, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (w <= 0) {
			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			/* A server that answered and then closed: what it said
			 * still counts, or it would be asked again. */
			if (read_replies(c, 1) >= 0)
				failed(c, why);
			return;
		}
		c->ops->sent(c->ctx, (size_t)w);
		if ((size_t)w < unsent)
			break; /* the socket is full */
		if (c->ops->unsent(c->ctx, block, &out, &unsent) < 0) {
			conn_fail(c, CONN_GIVE_UP, "out of memory");
			return;
		}
	}
	(void)read_replies(c, 0);
}

int conn_confirm(struct conn *c)
{
	char why[256];

	while (!c->down && c->dl.identify && c->watch.have_id) {
		if (c->fd < 0) {
			if (connect_server(c) == 0)
				return 0;
			continue;
		}
		switch (dialer_probe(&c->dl, c->fd, &c->watch, why, sizeof(why))) {
		case 0:
			return 0;
		case DIALER_NO_STATS:
			drop(c);
			return 0;
		default:
			failed(c, why);
		}
	}
	return c->down && c->watch.have_id;
}
