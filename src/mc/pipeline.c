/* pipeline.c -- sets pipelined on one connection (conn.h), with exact
 * counts: choosing the protocol, what to send, what the replies say. */
#include <stdio.h>
#include <stdlib.h>

#include "acks.h"
#include "conn.h"
#include "log.h"
#include "mcproto.h"
#include "pipeline.h"
#include "window.h"

/* At most this many bytes unacknowledged on one connection (and at most
 * WINDOW_RECORDS records). */
#define MAX_OUT_BYTES (1024 * 1024)
/* Queued bytes worth a write() without waiting for more. */
#define SEND_CHUNK (64 * 1024)

struct pipeline {
	struct conn *conn;
	const char *spec; /* the server, for messages */

	enum protocol protocol; /* --protocol */
	int ask_meta;  /* ask new connections "mn": off once a server closed on it */
	int meta;      /* the last connection spoke the meta protocol */
	int loud_left; /* records still to send answered, after an error in a quiet batch */

	struct window *w; /* every record not counted yet */

	struct ack_counts acks;
	struct pipeline_stats stats;
};

static const struct conn_ops pipeline_ops;
static const struct conn_words pipeline_words = {"retrying", "giving up", "records"};

struct pipeline *pipeline_new(const struct server_addr *addr, int timeout_ms, int attempts)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->w = window_new();
	p->conn = conn_new(addr, timeout_ms, attempts, &pipeline_ops, &pipeline_words, p);
	if (p->w == NULL || p->conn == NULL) {
		pipeline_free(p);
		return NULL;
	}
	p->spec = addr->spec;
	pipeline_protocol(p, PROTOCOL_AUTO);
	return p;
}

void pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	conn_free(p->conn);
	window_free(p->w);
	free(p);
}

void pipeline_get_stats(const struct pipeline *p, struct pipeline_stats *out)
{
	*out = p->stats;
	out->server = *conn_watch(p->conn);
	out->stored = p->acks.stored;
	out->rejected = p->acks.rejected;
	out->too_large = p->acks.too_large;
}

void pipeline_identify(struct pipeline *p, int on)
{
	conn_identify(p->conn, on);
}

void pipeline_on_too_large(struct pipeline *p, acks_too_large_fn *fn, void *ctx)
{
	p->acks.on_too_large = fn;
	p->acks.ctx = ctx;
}

void pipeline_set_dial(struct pipeline *p, dialer_fn *dial, void *ctx)
{
	conn_set_dial(p->conn, dial, ctx);
}

void pipeline_protocol(struct pipeline *p, enum protocol protocol)
{
	p->protocol = protocol;
	p->ask_meta = protocol != PROTOCOL_TEXT;
	/* Records are encoded before the first connection: as it will
	 * most likely speak, and again if it does not. */
	p->meta = protocol != PROTOCOL_TEXT;
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

/* conn_ops: learn what the new connection speaks, and make the window
 * speak it too. A server that closed on "mn" is connected to again at
 * once, for the text protocol. */
static enum conn_step reconnected(void *ctx, struct dialer *d, int fd, char *why, size_t whylen)
{
	struct pipeline *p = ctx;

	switch (dialer_protocol(d, fd, p->protocol, &p->ask_meta, why, whylen)) {
	case DIALER_META:
		p->meta = 1;
		break;
	case DIALER_TEXT:
		p->meta = 0;
		break;
	case DIALER_NO_META:
		return CONN_AGAIN;
	default:
		return CONN_FAILED;
	}
	enum window_kind kind = !p->meta ? WINDOW_SET : p->loud_left > 0 ? WINDOW_LOUD : WINDOW_QUIET;
	if (window_recode(p->w, kind) < 0) {
		snprintf(why, whylen, "out of memory");
		return CONN_GIVE_UP;
	}
	window_rewind(p->w);
	return CONN_GO_ON;
}

/* conn_ops: what is queued and not sent; before a wait, the open quiet
 * batch is ended, so that its MN comes. */
static int unsent(void *ctx, int flush, const char **out, size_t *len)
{
	struct pipeline *p = ctx;

	if (flush && window_close_batch(p->w) < 0)
		return -1;
	*out = window_unsent(p->w, len);
	return 0;
}

static void sent(void *ctx, size_t n)
{
	struct pipeline *p = ctx;

	window_sent(p->w, n);
}

/* conn_ops: match every complete reply line to its records. */
static enum conn_step replies(void *ctx, const char *buf, size_t len, size_t *took, char *why,
			      size_t whylen)
{
	struct pipeline *p = ctx;
	const char *line;
	size_t used, n;

	while ((used = mcproto_next_line(buf + *took, len - *took, &line, &n)) > 0) {
		*took += used;
		if (window_entries(p->w) == 0) {
			snprintf(why, whylen, "reply without a request");
			return CONN_FAILED;
		}
		switch (acks_line(p->w, line, n, &p->acks, p->spec)) {
		case ACK_OK:
			conn_answered(p->conn);
			break;
		case ACK_RESYNC:
			/* The server misread a command: resynchronize on a fresh
			 * connection. That is no failure of the server's, so no
			 * attempt is spent. */
			conn_answered(p->conn);
			return CONN_AGAIN;
		case ACK_UNKNOWN:
			/* The records are sent again, each answered, in order:
			 * a later record of the same key must not be overwritten
			 * by an earlier one. The run of loud records after it
			 * keeps a server that rejects many from costing a
			 * connection per batch. */
			log_debug("%s: '%.*s' in a quiet batch names no record: sending %zu records "
				  "again, each answered",
				  p->spec, n > 60 ? 60 : (int)n, line, window_records(p->w));
			p->loud_left = WINDOW_RECORDS;
			return CONN_AGAIN;
		case ACK_BUSY:
			snprintf(why, whylen, "the server is at its connection limit (ERROR Too many "
					      "open connections)");
			return CONN_FAILED;
		case ACK_GARBAGE:
			snprintf(why, whylen, "unexpected reply '%.*s'", n > 40 ? 40 : (int)n, line);
			return CONN_FAILED;
		}
	}
	return CONN_GO_ON;
}

static void dropped(void *ctx)
{
	struct pipeline *p = ctx;

	window_rewind(p->w);
}

/* conn_ops: the server is given up: every record not counted fails. */
static size_t give_up(void *ctx)
{
	struct pipeline *p = ctx;
	size_t n = window_records(p->w);

	p->stats.failed += n;
	window_clear(p->w);
	return n;
}

static size_t waiting(void *ctx)
{
	const struct pipeline *p = ctx;

	return window_records(p->w);
}

static const struct conn_ops pipeline_ops = {
	.unsent = unsent,
	.sent = sent,
	.replies = replies,
	.reconnected = reconnected,
	.dropped = dropped,
	.give_up = give_up,
	.waiting = waiting,
};

void pipeline_put(struct pipeline *p, const char *key, size_t keylen, const uint8_t *value,
		  size_t valuelen)
{
	size_t queued;

	/* Keep what is in flight bounded, whatever the server's speed. */
	while (!conn_down(p->conn) && (window_records(p->w) == WINDOW_RECORDS ||
				       window_bytes(p->w) >= MAX_OUT_BYTES))
		conn_pump(p->conn, 1);
	if (conn_down(p->conn)) {
		p->stats.failed++;
		return;
	}
	if (window_put(p->w, put_kind(p), key, keylen, value, valuelen) < 0) {
		log_error("%s: out of memory queueing a record", p->spec);
		p->stats.failed++;
		return;
	}
	(void)window_unsent(p->w, &queued);
	if (queued >= SEND_CHUNK)
		conn_pump(p->conn, 0);
}

void pipeline_flush(struct pipeline *p)
{
	while (!conn_down(p->conn) && window_entries(p->w) > 0)
		conn_pump(p->conn, 1);
}

void pipeline_hang_up(struct pipeline *p)
{
	conn_hang_up(p->conn);
}

void pipeline_finish(struct pipeline *p)
{
	pipeline_flush(p);
	log_nth_total(p->spec, "rejected", p->acks.rejected + p->acks.too_large);
	if (conn_confirm(p->conn))
		p->stats.unconfirmed = 1;
}
