/* verify.c -- a sample read back over one connection (conn.h): gets
 * pipelined, the unanswered asked again after a lost connection. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "conn.h"
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

struct verifier {
	struct conn *conn;
	const char *spec; /* the server, for messages */

	struct readback *rb; /* the records not counted yet */
	uint64_t counted;    /* answers counted by rb, when last seen */

	struct mcproto_get get; /* the get being written */
	size_t get_sent;        /* its bytes written; get.len when none is */

	struct verify_stats stats; /* sampled and failed; rb and conn have the rest */
};

static const struct conn_ops verifier_ops;
static const struct conn_words verifier_words = {"asking again for", "giving up reading back",
						  "sample"};

struct verifier *verifier_new(const struct server_addr *addr, int timeout_ms, int attempts)
{
	struct verifier *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	v->rb = readback_new(addr->spec);
	v->conn = conn_new(addr, timeout_ms, attempts, &verifier_ops, &verifier_words, v);
	if (v->rb == NULL || v->conn == NULL) {
		verifier_free(v);
		return NULL;
	}
	v->spec = addr->spec;
	return v;
}

void verifier_free(struct verifier *v)
{
	if (v == NULL)
		return;
	conn_free(v->conn);
	readback_free(v->rb);
	free(v);
}

void verifier_set_dial(struct verifier *v, dialer_fn *dial, void *ctx)
{
	conn_set_dial(v->conn, dial, ctx);
}

void verifier_identify(struct verifier *v, int on)
{
	conn_identify(v->conn, on);
}

void verifier_watch_from(struct verifier *v, const struct server_watch *w)
{
	*conn_watch(v->conn) = *w;
}

void verifier_get_stats(const struct verifier *v, struct verify_stats *out)
{
	struct readback_counts c;

	readback_get_counts(v->rb, &c);
	*out = v->stats;
	out->server = *conn_watch(v->conn);
	out->equal = c.equal;
	out->missing = c.missing;
	out->different = c.different;
}

/* conn_ops: the connection is gone; the next one starts by asking for
 * every record not counted yet. */
static void dropped(void *ctx)
{
	struct verifier *v = ctx;

	v->get.len = v->get_sent = 0;
	readback_restart(v->rb);
}

/* conn_ops: the server is given up: every record not counted yet fails. */
static size_t give_up(void *ctx)
{
	struct verifier *v = ctx;
	size_t n = readback_drop(v->rb);

	v->stats.failed += n;
	return n;
}

static size_t waiting(void *ctx)
{
	const struct verifier *v = ctx;

	return readback_waiting(v->rb);
}

/* conn_ops: count what the replies say. */
static enum conn_step replies(void *ctx, const char *buf, size_t len, size_t *took, char *why,
			      size_t whylen)
{
	struct verifier *v = ctx;
	struct readback_counts c;
	long n = readback_feed(v->rb, buf, len, why, whylen);

	readback_get_counts(v->rb, &c);
	if (c.equal + c.missing + c.different != v->counted) {
		v->counted = c.equal + c.missing + c.different;
		conn_answered(v->conn);
	}
	if (n < 0)
		return CONN_FAILED;
	*took = (size_t)n;
	return CONN_GO_ON;
}

/* conn_ops: the rest of the get being written; when none is, the next one
 * (only a full one, unless FLUSH). */
static int unsent(void *ctx, int flush, const char **out, size_t *len)
{
	struct verifier *v = ctx;

	if (v->get_sent == v->get.len &&
	    readback_unasked(v->rb) >= (flush ? 1 : MCPROTO_GET_KEYS) &&
	    readback_next_get(v->rb, &v->get) > 0)
		v->get_sent = 0;
	*out = v->get.cmd + v->get_sent;
	*len = v->get.len - v->get_sent;
	return 0;
}

static void sent(void *ctx, size_t n)
{
	struct verifier *v = ctx;

	v->get_sent += n;
}

static const struct conn_ops verifier_ops = {
	.unsent = unsent,
	.sent = sent,
	.replies = replies,
	.dropped = dropped,
	.give_up = give_up,
	.waiting = waiting,
};

void verifier_check(struct verifier *v, const char *key, size_t keylen, const uint8_t *value,
		    size_t valuelen)
{
	v->stats.sampled++;
	if (keylen == 0 || keylen > MCPROTO_KEY_MAX) {
		log_error("%s: cannot read back a key of %zu bytes", v->spec, keylen);
		v->stats.failed++;
		return;
	}
	/* Keep what is in flight bounded, whatever the server's speed; a record
	 * over the bound goes alone. */
	while (!conn_down(v->conn) && readback_waiting(v->rb) > 0 &&
	       (readback_waiting(v->rb) == MAX_RECORDS ||
		readback_bytes(v->rb) + keylen + valuelen > MAX_BYTES))
		conn_pump(v->conn, 1);
	if (conn_down(v->conn)) {
		v->stats.failed++;
		return;
	}
	if (readback_add(v->rb, key, keylen, value, valuelen) < 0) {
		log_error("%s: out of memory queueing a record to read back", v->spec);
		v->stats.failed++;
		return;
	}
	if (readback_unasked(v->rb) >= MCPROTO_GET_KEYS)
		conn_pump(v->conn, 0);
}

void verifier_finish(struct verifier *v)
{
	struct readback_counts c;

	while (!conn_down(v->conn) && readback_waiting(v->rb) > 0)
		conn_pump(v->conn, 1);
	readback_get_counts(v->rb, &c);
	log_nth_total(v->spec, "was missing", c.missing);
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
