/* verify.c -- a sample read back over one connection: gets pipelined, the
 * unanswered asked again after a lost connection, a dead server given up. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backoff.h"
#include "log.h"
#include "mcproto.h"
#include "readback.h"
#include "verify.h"

/* At most this many records, or bytes of keys and values, waiting for their
 * answer: a worker stays small (its RSS under 32 MB in all, with a verifier
 * per server), and that is still several gets in flight, enough to keep the
 * server busy. */
#define MAX_RECORDS READBACK_MAX
#define MAX_BYTES   (512 * 1024)
/* Replies are read this much at a time; readback.c needs only a line's room. */
#define IN_CAP (64 * 1024)

struct verifier {
	struct dialer dl; /* the server, its timeout, and whether to ask who it is */
	int attempts;
	int fd;       /* -1 while not connected */
	int down;     /* gave up: every further record fails at once */
	int failures; /* connection failures since the last answer */

	struct readback *rb; /* the records not counted yet */
	uint64_t counted;    /* answers counted by rb, when last seen */

	struct mcproto_get get; /* the get being written */
	size_t get_sent;        /* its bytes written; get.len when none is */

	char in[IN_CAP];
	size_t in_len;

	struct verify_stats stats; /* sampled, failed and server; rb has the rest */
};

struct verifier *verifier_new(const struct server_addr *addr, int timeout_ms, int attempts)
{
	struct verifier *v = calloc(1, sizeof(*v));

	_Static_assert(IN_CAP >= MCPROTO_LINE_MAX + 2, "in holds any reply line");
	if (v == NULL)
		return NULL;
	v->rb = readback_new(addr->spec);
	if (v->rb == NULL) {
		free(v);
		return NULL;
	}
	v->dl.addr = addr;
	v->dl.timeout_ms = timeout_ms;
	v->dl.identify = 1;
	v->attempts = attempts;
	v->fd = -1;
	return v;
}

void verifier_free(struct verifier *v)
{
	if (v == NULL)
		return;
	if (v->fd >= 0)
		close(v->fd);
	readback_free(v->rb);
	free(v);
}

void verifier_set_dial(struct verifier *v, dialer_fn *dial, void *ctx)
{
	v->dl.dial = dial;
	v->dl.ctx = ctx;
}

void verifier_identify(struct verifier *v, int on)
{
	v->dl.identify = on;
}

void verifier_watch_from(struct verifier *v, const struct server_watch *w)
{
	v->stats.server = *w;
}

void verifier_get_stats(const struct verifier *v, struct verify_stats *out)
{
	struct readback_counts c;

	readback_get_counts(v->rb, &c);
	*out = v->stats;
	out->equal = c.equal;
	out->missing = c.missing;
	out->different = c.different;
}

/* Close the connection; the next one starts by asking for every record not
 * counted yet. */
static void drop_connection(struct verifier *v)
{
	if (v->fd >= 0) {
		close(v->fd);
		v->fd = -1;
	}
	v->in_len = 0;
	v->get.len = v->get_sent = 0;
	readback_restart(v->rb);
}

/* The connection is lost or unusable: drop it, and give up on the server
 * once every attempt is spent: every record not counted yet fails. */
static void conn_failed(struct verifier *v, const char *why)
{
	drop_connection(v);
	v->failures++;
	if (v->failures >= v->attempts) {
		size_t n = readback_drop(v->rb);
		log_error("%s: giving up reading back after %d attempts: %s; %zu records in "
			  "flight and the rest of this server's sample fail",
			  v->dl.addr->spec, v->attempts, why, n);
		v->stats.failed += n;
		v->down = 1;
		return;
	}
	long backoff = backoff_ms(v->failures);
	log_warn("%s: %s (attempt %d of %d); asking again for %zu records in %ld ms",
		 v->dl.addr->spec, why, v->failures, v->attempts, readback_waiting(v->rb), backoff);
	backoff_sleep(backoff);
}

/* Connect, and learn who answers (a server that does not answer "stats" is
 * not asked again; no attempt is spent). 0 with v->fd set, or -1 after the
 * failure was dealt with. */
static int connect_server(struct verifier *v)
{
	char why[256];
	int fd = dialer_connect(&v->dl, &v->stats.server, why, sizeof(why));

	if (fd >= 0) {
		v->fd = fd;
		return 0;
	}
	if (fd == DIALER_FAILED)
		conn_failed(v, why);
	return -1;
}

/* Count what the replies in in say. 0, or -1 when they were out of step
 * and the connection was dropped (after counting what could be counted). */
static int take_replies(struct verifier *v)
{
	struct readback_counts c;
	char why[256];
	long took = readback_feed(v->rb, v->in, v->in_len, why, sizeof(why));

	readback_get_counts(v->rb, &c);
	if (c.equal + c.missing + c.different != v->counted) {
		v->counted = c.equal + c.missing + c.different;
		v->failures = 0; /* the server answers */
	}
	if (took < 0) {
		conn_failed(v, why);
		return -1;
	}
	memmove(v->in, v->in + took, v->in_len - (size_t)took);
	v->in_len -= (size_t)took;
	return 0;
}

/* Count every reply that has already arrived. 0, or -1 when that dropped
 * the connection. */
static int read_arrived(struct verifier *v)
{
	ssize_t r;

	while ((r = recv(v->fd, v->in + v->in_len, IN_CAP - v->in_len, 0)) > 0) {
		v->in_len += (size_t)r;
		if (take_replies(v) < 0)
			return -1;
	}
	return 0;
}

/* When no get is being written, make the next one: only a full one, unless
 * FLUSH. */
static void next_get(struct verifier *v, int flush)
{
	if (v->get_sent < v->get.len ||
	    readback_unasked(v->rb) < (flush ? 1 : MCPROTO_GET_KEYS))
		return;
	if (readback_next_get(v->rb, &v->get) > 0)
		v->get_sent = 0;
}

/* One round of I/O: write what the socket takes, read what has come. With
 * BLOCK, ask for every record waiting, and first wait (up to the timeout)
 * until one of them can happen. 0 while the connection is usable, -1 after
 * it was dropped. */
static int pump(struct verifier *v, int block)
{
	char why[256];

	if (v->fd < 0 && connect_server(v) < 0)
		return -1;
	next_get(v, block);
	if (block) {
		short events = POLLIN | (v->get_sent < v->get.len ? POLLOUT : 0);
		if (addr_wait(v->fd, events, v->dl.timeout_ms) == 0) {
			snprintf(why, sizeof(why), "no reply within %d ms", v->dl.timeout_ms);
			conn_failed(v, why);
			return -1;
		}
	}
	while (v->get_sent < v->get.len) {
		ssize_t w =
		    send(v->fd, v->get.cmd + v->get_sent, v->get.len - v->get_sent, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (w <= 0) {
			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			/* A server that answered and then closed: what it said
			 * still counts, or it would be asked again. */
			if (read_arrived(v) == 0)
				conn_failed(v, why);
			return -1;
		}
		v->get_sent += (size_t)w;
		next_get(v, block);
	}
	ssize_t r = recv(v->fd, v->in + v->in_len, IN_CAP - v->in_len, 0);
	if (r > 0) {
		v->in_len += (size_t)r;
		return take_replies(v);
	}
	if (r == 0) {
		conn_failed(v, "connection closed by server");
		return -1;
	}
	if (errno != EAGAIN && errno != EINTR) {
		snprintf(why, sizeof(why), "recv: %s", strerror(errno));
		conn_failed(v, why);
		return -1;
	}
	return 0;
}

void verifier_check(struct verifier *v, const char *key, size_t keylen, const uint8_t *value,
		    size_t valuelen)
{
	v->stats.sampled++;
	if (keylen == 0 || keylen > MCPROTO_KEY_MAX) {
		log_error("%s: cannot read back a key of %zu bytes", v->dl.addr->spec, keylen);
		v->stats.failed++;
		return;
	}
	/* Keep what is in flight bounded, whatever the server's speed; a record
	 * over the bound goes alone. */
	while (!v->down && readback_waiting(v->rb) > 0 &&
	       (readback_waiting(v->rb) == MAX_RECORDS ||
		readback_bytes(v->rb) + keylen + valuelen > MAX_BYTES))
		pump(v, 1);
	if (v->down) {
		v->stats.failed++;
		return;
	}
	if (readback_add(v->rb, key, keylen, value, valuelen) < 0) {
		log_error("%s: out of memory queueing a record to read back", v->dl.addr->spec);
		v->stats.failed++;
		return;
	}
	if (readback_unasked(v->rb) >= MCPROTO_GET_KEYS)
		pump(v, 0);
}

void verifier_finish(struct verifier *v)
{
	struct readback_counts c;

	while (!v->down && readback_waiting(v->rb) > 0)
		pump(v, 1);
	readback_get_counts(v->rb, &c);
	log_nth_total(v->dl.addr->spec, "was missing", c.missing);
}

int verify_wilson(uint64_t missing, uint64_t sampled, double *lo, double *hi)
{
	const double z = 1.959964;

	if (sampled == 0 || missing > sampled)
		return -1;
	double n = (double)sampled, p = (double)missing / n, z2 = z * z;
	double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
	double half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
	/* The bounds are 0 and 1 exactly at the ends, not a rounding away. */
	*lo = missing == 0 ? 0.0 : centre - half;
	*hi = missing == sampled ? 1.0 : centre + half;
	return 0;
}
