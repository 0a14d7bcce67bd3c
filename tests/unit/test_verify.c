/* test_verify.c -- the read-back over a socketpair with a scripted server:
 * every sampled record counted once as equal, missing, different or
 * failed, whatever the server holds, however it splits its replies and
 * whenever it hangs up; and the Wilson interval against values computed
 * independently (Python, from the formula). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "mc/mcproto.h"
#include "peer.h"
#include "mc/verify.h"

#define MAX_CONN  8
#define VALUE_MAX (2 * 1024 * 1024)
/* More than verify.c's 1024 records in flight. */
#define MANY 3000

struct peer;

/* The server's end of connection number k (1 for the first dial). */
struct conn {
	struct peer *peer;
	int k;
	int fd;
	struct peer_thread thread;
	int *keys; /* key number of every key asked for, in order */
	size_t nkeys, capkeys;
	size_t gets;	  /* get commands received */
	size_t max_keys;  /* most keys in one get */
	size_t max_bytes; /* longest get command, "\r\n" included */
	int bad;	  /* commands that were not what the verifier should send */
	int resume;	  /* after a hangup: the first key not answered for sure */
	size_t cut_get;	  /* ... and the first key of the get it was in (position) */
	char *out;	  /* replies not written yet */
	size_t out_len, out_cap;
};

/* What the server holds for key N: its bytes at V and their length, or -1
 * when it does not have the key. */
typedef long holds_fn(int n, uint8_t *v);

struct peer {
	holds_fn *holds;
	int cut_at;		/* connection 1 hangs up mid-reply at this key (by position) */
	int error_at;		/* or answers from this key on with ERROR_LINE instead */
	const char *error_line;
	int silent;		/* never answers a get */
	size_t chunk;		/* bytes per write of replies; 0: as they come */
	useconds_t gap;		/* pause between those writes */
	int refuse;		/* every dial fails */
	int stats;		/* answer "stats" */
	uint32_t pid[MAX_CONN]; /* the pid each connection's "stats" says */
	int dials;
	struct conn conn[MAX_CONN];
};

struct fixture {
	struct peer peer;
	struct verifier *v;
};

static const struct server_addr addr = {.host = "peer", .spec = "peer"};

/* The value sent for key N: every byte value turns up, "\r", "\n" and NUL
 * among them, and the reply's own words: "END" after "\r\n". */
static size_t value_for(int n, uint8_t *v)
{
	static const char end[] = "\r\nEND\r\n";
	size_t len = 1 + (size_t)(n * 7) % 64;

	for (size_t j = 0; j < len; j++)
		v[j] = (uint8_t)(n * 31 + (int)j * 17);
	if (n % 5 == 0) { /* the whole reply's ending, inside and at the end */
		memcpy(v + len, end, 7);
		memcpy(v + len + 7, "VALUE k1 0 1\r\n", 14);
		memcpy(v + len + 21, end, 7);
		len += 28;
	}
	return len;
}

/* Big values: every seventh key's value is longer than the verifier's
 * reply buffer (64 KiB), and so compared as it comes. */
static size_t big_value_for(int n, uint8_t *v)
{
	if (n % 7 != 3)
		return value_for(n, v);
	size_t len = 70000 + (size_t)n * 13;
	for (size_t j = 0; j < len; j++)
		v[j] = (uint8_t)(n + (int)(j * 7 / 3));
	memcpy(v + len / 2, "\r\nEND\r\n", 7);
	return len;
}

static long holds_all(int n, uint8_t *v)
{
	return (long)value_for(n, v);
}

/* What the server of the "mixed" script holds: some keys missing, some
 * with other bytes (of the same length or not). */
static int is_missing(int n)
{
	return n % 7 == 3 || n % 13 == 0;
}

static int is_different(int n)
{
	return !is_missing(n) && (n % 11 == 5 || n % 17 == 8);
}

static long holds_mixed(int n, uint8_t *v)
{
	if (is_missing(n))
		return -1;
	size_t len = value_for(n, v);
	if (n % 11 == 5)
		v[len / 2] ^= 0x20;
	else if (n % 17 == 8)
		len--;
	return (long)len;
}

static long holds_big(int n, uint8_t *v)
{
	if (n % 9 == 4)
		return -1;
	size_t len = big_value_for(n, v);
	if (n % 7 == 3 && n % 2 == 0)
		v[len - 1] ^= 1; /* the last byte of a long value differs */
	return (long)len;
}

static void out_add(struct conn *c, const void *p, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		while (c->out_len + n > c->out_cap)
			c->out_cap = c->out_cap ? 2 * c->out_cap : 65536;
		c->out = realloc(c->out, c->out_cap);
		if (c->out == NULL)
			abort();
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

/* Write the replies gathered, in the script's chunks. -1 when the verifier
 * hung up first. */
static int out_flush(struct conn *c)
{
	if (peer_send(c->fd, c->out, c->out_len, c->peer->chunk, c->peer->gap) < 0)
		return -1;
	c->out_len = 0;
	return 0;
}

/* "get kA kB ...": record the keys. -1 when it is not such a command. */
static int parse_get(struct conn *c, const char *line, size_t len)
{
	size_t nkeys = 0;

	if (len < 5 || memcmp(line, "get k", 5) != 0)
		return -1;
	for (size_t at = 3; at < len;) {
		char *end;
		if (line[at] != ' ' || line[at + 1] != 'k')
			return -1;
		long n = strtol(line + at + 2, &end, 10);
		if (end == line + at + 2 || n < 0 || n > 1000000)
			return -1;
		peer_note(&c->keys, &c->nkeys, &c->capkeys, (int)n);
		nkeys++;
		at = (size_t)(end - line);
	}
	c->gets++;
	if (nkeys > c->max_keys)
		c->max_keys = nkeys;
	if (len + 2 > c->max_bytes)
		c->max_bytes = len + 2;
	return 0;
}

/* Answer the keys FROM.. of this connection (one get). -1 to hang up. */
static int answer_get(struct conn *c, size_t from, uint8_t *v)
{
	struct peer *pe = c->peer;
	size_t decided = from; /* keys up to here are answered for sure */
	char head[64];

	if (pe->silent)
		return 0;
	for (size_t i = from; i < c->nkeys; i++) {
		int n = c->keys[i];
		long len = pe->holds(n, v);
		int hlen = snprintf(head, sizeof(head), "VALUE k%d %d %ld\r\n", n, (n % 3) * 12345,
				    len);
		if (c->k == 1 && (long)i == pe->cut_at) {
			if (len >= 0) { /* half the value, then hang up */
				out_add(c, head, (size_t)hlen);
				out_add(c, v, (size_t)len / 2);
			}
			c->resume = c->keys[decided];
			c->cut_get = from;
			return -1;
		}
		if (c->k == 1 && (long)i == pe->error_at) {
			out_add(c, pe->error_line, strlen(pe->error_line));
			c->resume = c->keys[decided];
			c->cut_get = from;
			return 0;
		}
		if (len < 0)
			continue;
		out_add(c, head, (size_t)hlen);
		out_add(c, v, (size_t)len);
		out_add(c, "\r\n", 2);
		decided = i + 1;
	}
	out_add(c, "END\r\n", 5);
	return 0;
}

static void answer_stats(struct conn *c)
{
	char reply[256];
	int n = snprintf(reply, sizeof(reply),
			 "STAT pid %u\r\nSTAT uptime 100\r\nSTAT time 1000000\r\n"
			 "STAT evictions 0\r\nEND\r\n",
			 (unsigned)c->peer->pid[c->k - 1]);

	out_add(c, reply, (size_t)n);
}

/* The server: read commands until EOF, answer each as the script says. */
static void *serve(void *arg)
{
	struct conn *c = arg;
	char *in = malloc(MCPROTO_GET_BYTES * 2);
	uint8_t *v = malloc(VALUE_MAX);
	size_t in_len = 0;
	int hangup = 0;

	if (in == NULL || v == NULL)
		abort();
	while (!hangup) {
		ssize_t r = recv(c->fd, in + in_len, MCPROTO_GET_BYTES * 2 - in_len, 0);
		if (r <= 0)
			break;
		in_len += (size_t)r;
		char *nl;
		size_t at = 0;
		while (!hangup && (nl = memchr(in + at, '\n', in_len - at)) != NULL) {
			size_t len = (size_t)(nl - (in + at));
			const char *line = in + at;
			at += len + 1;
			if (len == 0 || line[len - 1] != '\r') {
				c->bad++;
				continue;
			}
			len--;
			size_t from = c->nkeys;
			if (len == 5 && memcmp(line, "stats", 5) == 0 && !c->peer->stats)
				hangup = 1; /* as twemproxy does */
			else if (len == 5 && memcmp(line, "stats", 5) == 0)
				answer_stats(c);
			else if (parse_get(c, line, len) < 0)
				c->bad++;
			else if (answer_get(c, from, v) < 0)
				hangup = 1;
		}
		memmove(in, in + at, in_len - at);
		in_len -= at;
		if (out_flush(c) < 0)
			break;
	}
	if (hangup)
		out_flush(c);
	close(c->fd);
	free(in);
	free(v);
	return NULL;
}

/* The verifier's dial: a socketpair whose other end the scripted server
 * serves from its own thread. */
static int dial(const struct server_addr *a, int timeout_ms, char *err, size_t errlen, void *ctx)
{
	struct peer *pe = ctx;

	(void)a;
	(void)timeout_ms;
	int k = ++pe->dials;
	if (pe->refuse || k > MAX_CONN) {
		snprintf(err, errlen, "connection %d refused by the test", k);
		return -1;
	}
	struct conn *c = &pe->conn[k - 1];
	c->peer = pe;
	c->k = k;
	c->resume = -1;
	return peer_dial(&c->thread, &c->fd, 0, serve, c, err, errlen);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->peer.holds = holds_all;
	f->peer.cut_at = -1;
	f->peer.error_at = -1;
	*state = f;
	return 0;
}

/* Close the verifier's end, so every server thread reads EOF, and join
 * them: after this the test may read what the servers received. */
static void finish(struct fixture *f)
{
	verifier_free(f->v);
	f->v = NULL;
	for (int i = 0; i < MAX_CONN; i++)
		peer_join(&f->peer.conn[i].thread);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	finish(f);
	for (int i = 0; i < MAX_CONN; i++) {
		free(f->peer.conn[i].keys);
		free(f->peer.conn[i].out);
	}
	free(f);
	return 0;
}

static struct verifier *start(struct fixture *f, int timeout_ms, int attempts)
{
	f->v = verifier_new(&addr, timeout_ms, attempts);
	assert_non_null(f->v);
	verifier_set_dial(f->v, dial, &f->peer);
	verifier_identify(f->v, f->peer.stats);
	return f->v;
}

/* Check keys FROM..TO-1 with the values VALUE gives, then finish. */
static void check_range(struct verifier *v, int from, int to, size_t (*value)(int, uint8_t *))
{
	uint8_t *buf = malloc(VALUE_MAX);
	char key[32];

	assert_non_null(buf);
	for (int i = from; i < to; i++) {
		int keylen = snprintf(key, sizeof(key), "k%d", i);
		size_t len = value(i, buf);
		verifier_check(v, key, (size_t)keylen, buf, len);
		memset(buf, 0xEE, len); /* the caller reuses its buffer at once */
	}
	free(buf);
}

static void assert_counts(struct verifier *v, uint64_t equal, uint64_t missing,
			  uint64_t different, uint64_t failed)
{
	struct verify_stats st;

	verifier_get_stats(v, &st);
	assert_int_equal(st.equal, equal);
	assert_int_equal(st.missing, missing);
	assert_int_equal(st.different, different);
	assert_int_equal(st.failed, failed);
	assert_int_equal(st.sampled, equal + missing + different + failed);
}

/* Connection K (1-based) was asked for exactly keys FROM..TO-1, in order,
 * in gets within the bounds. */
static void assert_asked(const struct fixture *f, int k, int from, int to)
{
	const struct conn *c = &f->peer.conn[k - 1];

	assert_int_equal(c->bad, 0);
	assert_int_equal(c->nkeys, (size_t)(to - from));
	for (size_t i = 0; i < c->nkeys; i++)
		assert_int_equal(c->keys[i], from + (int)i);
	assert_true(c->max_keys <= MCPROTO_GET_KEYS);
	assert_true(c->max_bytes <= MCPROTO_GET_BYTES);
}

/* The counts the mixed script gives for keys FROM..TO-1. */
static void mixed_counts(int from, int to, uint64_t *equal, uint64_t *missing, uint64_t *different)
{
	*equal = *missing = *different = 0;
	for (int i = from; i < to; i++) {
		if (is_missing(i))
			++*missing;
		else if (is_different(i))
			++*different;
		else
			++*equal;
	}
}

static void all_equal(void **state)
{
	struct fixture *f = *state;
	struct verifier *v = start(f, 5000, 3);

	check_range(v, 0, 250, value_for);
	verifier_finish(v);
	assert_counts(v, 250, 0, 0, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 1);
	assert_asked(f, 1, 0, 250);
	/* Two full gets as the checks came, the rest at the finish. */
	assert_int_equal(f->peer.conn[0].gets, 3);
	assert_int_equal(f->peer.conn[0].max_keys, MCPROTO_GET_KEYS);
}

/* Nothing to read back: no connection at all. */
static void finish_of_nothing(void **state)
{
	struct fixture *f = *state;
	struct verifier *v = start(f, 5000, 3);

	verifier_finish(v);
	assert_counts(v, 0, 0, 0, 0);
	assert_int_equal(f->peer.dials, 0);
}

/* Missing keys are left out of the VALUEs, different ones have other
 * bytes (flags vary and are not compared); more records than in flight. */
static void missing_and_different(void **state)
{
	struct fixture *f = *state;
	struct verifier *v = start(f, 5000, 3);
	uint64_t equal, missing, different;

	f->peer.holds = holds_mixed;
	check_range(v, 0, MANY, value_for);
	verifier_finish(v);
	mixed_counts(0, MANY, &equal, &missing, &different);
	assert_true(missing > 300 && different > 300);
	assert_counts(v, equal, missing, different, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 1);
	assert_asked(f, 1, 0, MANY);
}

/* Keys the server has none of: every get answered with END alone. */
static long holds_nothing(int n, uint8_t *v)
{
	(void)n;
	(void)v;
	return -1;
}

static void all_missing(void **state)
{
	struct fixture *f = *state;
	struct verifier *v = start(f, 5000, 3);

	f->peer.holds = holds_nothing;
	check_range(v, 0, 321, value_for);
	verifier_finish(v);
	assert_counts(v, 0, 321, 0, 0);
}

/* A key checked twice with two values: the server holds the later one,
 * and answers the same key twice in one get. */
static long holds_later(int n, uint8_t *v)
{
	return (long)value_for(n == 1 ? 1001 : n, v);
}

static void key_twice(void **state)
{
	struct fixture *f = *state;
	struct verifier *v = start(f, 5000, 3);
	uint8_t buf[128];

	f->peer.holds = holds_later;
	verifier_check(v, "k1", 2, buf, value_for(1, buf));
	verifier_check(v, "k2", 2, buf, value_for(2, buf));
	verifier_check(v, "k1", 2, buf, value_for(1001, buf));
	verifier_finish(v);
	assert_counts(v, 2, 0, 1, 0);
	finish(f);
	assert_int_equal(f->peer.conn[0].nkeys, 3);
	assert_int_equal(f->peer.conn[0].gets, 1);
}

/* Every byte of the replies in a write of its own (mostly: a read may
 * still find several). */
static void replies_byte_by_byte(void **state)
{
	struct fixture *f = *state;
	struct verifier *v = start(f, 5000, 3);
	uint64_t equal, missing, different;

	f->peer.holds = holds_mixed;
	f->peer.chunk = 1;
	f->peer.gap = 20;
	check_range(v, 0, 120, value_for);
	verifier_finish(v);
	mixed_counts(0, 120, &equal, &missing, &different);
	assert_counts(v, equal, missing, different, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 1);
	assert_asked(f, 1, 0, 120);
}

/* Values longer than the reply buffer, some differing in their last byte,
 * written in odd pieces; and over the 512 kB of values in flight. */
static void long_values(void **state)
{
	struct fixture *f = *state;
	struct verifier *v = start(f, 5000, 3);
	uint64_t equal = 0, missing = 0, different = 0;

	f->peer.holds = holds_big;
	f->peer.chunk = 4093;
	check_range(v, 0, 400, big_value_for);
	verifier_finish(v);
	for (int i = 0; i < 400; i++) {
		if (i % 9 == 4)
			missing++;
		else if (i % 7 == 3 && i % 2 == 0)
			different++;
		else
			equal++;
	}
	assert_counts(v, equal, missing, different, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 1);
	assert_asked(f, 1, 0, 400);
}

/* Connection 1 stopped answering at key AT (the keys came in order, so key
 * N was at position N), in a get that started at key FROM: the first key
 * not known to be answered, since the last value before AT in that get. */
static int first_unanswered(int at, int from)
{
	while (at > from && is_missing(at - 1))
		at--;
	return at;
}

/* The first connection hangs up in the middle of a value at key AT: what
 * was answered for sure counts, the rest is asked again, and nothing is
 * counted twice. */
static void reset_at(struct fixture *f, int at, size_t chunk)
{
	struct verifier *v = start(f, 5000, 2);
	uint64_t equal, missing, different;

	f->peer.holds = holds_mixed;
	f->peer.cut_at = at;
	f->peer.chunk = chunk;
	check_range(v, 0, MANY, value_for);
	verifier_finish(v);
	mixed_counts(0, MANY, &equal, &missing, &different);
	assert_counts(v, equal, missing, different, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 2);
	const struct conn *c1 = &f->peer.conn[0];
	assert_int_equal(c1->bad, 0);
	assert_true(c1->nkeys > (size_t)at);
	for (int i = 0; i <= at; i++)
		assert_int_equal(c1->keys[i], i);
	/* The keys after the last value written whole were asked again, and
	 * no other: the ones before it were counted, missing or not. */
	int resume = first_unanswered(at, (int)c1->cut_get);
	assert_int_equal(c1->resume, resume);
	assert_asked(f, 2, resume, MANY);
}

/* The cut falls inside the value of key 1234, after that of 1233: the
 * second connection starts at 1234. */
static void reset_mid_value(void **state)
{
	assert_true(!is_missing(1233) && !is_missing(1234));
	reset_at(*state, 1234, 0);
}

/* The cut falls inside the value of key 1236, after missing 1235: unless
 * 1235 ended the get before (then its END said so), no value came after
 * it, so it is not known to be missing, and is asked again. Replies in
 * small pieces. */
static void reset_after_missing_key(void **state)
{
	assert_true(!is_missing(1234) && is_missing(1235) && !is_missing(1236));
	reset_at(*state, 1236, 7);
}

/* Out of step: LINE instead of the reply to key AT and after. The records
 * answered before it count, the rest are asked again. */
static void out_of_step(struct fixture *f, const char *line, int at)
{
	struct verifier *v = start(f, 5000, 2);
	uint64_t equal, missing, different;

	f->peer.holds = holds_mixed;
	f->peer.error_line = line;
	f->peer.error_at = at;
	check_range(v, 0, 1500, value_for);
	verifier_finish(v);
	mixed_counts(0, 1500, &equal, &missing, &different);
	assert_counts(v, equal, missing, different, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 2);
	int resume = first_unanswered(at, (int)f->peer.conn[0].cut_get);
	assert_int_equal(f->peer.conn[0].resume, resume);
	assert_asked(f, 2, resume, 1500);
}

static void error_mid_reply(void **state)
{
	assert_true(!is_missing(557) && !is_missing(558));
	out_of_step(*state, "SERVER_ERROR out of memory writing get response\r\n", 558);
}

/* A value for a key not asked for: the stream cannot be trusted. */
static void value_not_asked_for(void **state)
{
	assert_true(!is_missing(1101) && is_missing(1102));
	out_of_step(*state, "VALUE k999 0 1\r\nx\r\nEND\r\n", 1103);
}

/* memcached at its connection limit says so and closes: retried. */
static void busy_server(void **state)
{
	out_of_step(*state, "ERROR Too many open connections\r\n", 0);
}

static void dead_server(void **state)
{
	struct fixture *f = *state;
	struct verifier *v = start(f, 5000, 3);

	f->peer.refuse = 1;
	check_range(v, 0, 10, value_for);
	verifier_finish(v);
	assert_int_equal(f->peer.dials, 3);
	assert_counts(v, 0, 0, 0, 10);
	/* Given up: later records fail at once, with no dial. */
	check_range(v, 10, 12, value_for);
	verifier_finish(v);
	assert_int_equal(f->peer.dials, 3);
	assert_counts(v, 0, 0, 0, 12);
}

/* A server that reads every get and answers none: the verifier has at
 * most 1024 records in flight, so the first connection is asked for that
 * many and no more; then every record fails. */
static void in_flight_bound(void **state)
{
	struct fixture *f = *state;
	struct verifier *v = start(f, 200, 2);

	f->peer.silent = 1;
	check_range(v, 0, MANY, value_for);
	verifier_finish(v);
	assert_counts(v, 0, 0, 0, MANY);
	finish(f);
	assert_int_equal(f->peer.dials, 2);
	assert_asked(f, 1, 0, 1024);
	assert_asked(f, 2, 0, 1024);
}

/* The same with long values: at most 512 kB of them in flight, so five of
 * 100 kB. */
static size_t value_100k(int n, uint8_t *v)
{
	memset(v, n, 100000);
	return 100000;
}

static void in_flight_byte_bound(void **state)
{
	struct fixture *f = *state;
	struct verifier *v = start(f, 200, 1);

	f->peer.silent = 1;
	check_range(v, 0, 50, value_100k);
	verifier_finish(v);
	assert_counts(v, 0, 0, 0, 50);
	finish(f);
	assert_int_equal(f->peer.dials, 1);
	assert_asked(f, 1, 0, 5);
}

/* A record longer than the 512 kB in flight goes alone. */
static size_t value_1500k(int n, uint8_t *v)
{
	if (n != 1)
		return value_for(n, v);
	for (size_t j = 0; j < 1500000; j++)
		v[j] = (uint8_t)(j * 11);
	return 1500000;
}

static long holds_1500k(int n, uint8_t *v)
{
	return (long)value_1500k(n, v);
}

static void record_over_byte_bound(void **state)
{
	struct fixture *f = *state;
	struct verifier *v = start(f, 5000, 1);

	f->peer.holds = holds_1500k;
	check_range(v, 0, 300, value_1500k);
	verifier_finish(v);
	assert_counts(v, 300, 0, 0, 0);
	finish(f);
	assert_asked(f, 1, 0, 300);
}

/* A key memcached cannot hold is not asked for: it fails alone. */
static void invalid_key(void **state)
{
	struct fixture *f = *state;
	struct verifier *v = start(f, 5000, 1);
	char key[MCPROTO_KEY_MAX + 1];

	memset(key, 'k', sizeof(key));
	verifier_check(v, key, sizeof(key), (const uint8_t *)"x", 1);
	verifier_check(v, key, 0, (const uint8_t *)"x", 1);
	check_range(v, 0, 5, value_for);
	verifier_finish(v);
	assert_counts(v, 5, 0, 0, 2);
	finish(f);
	assert_asked(f, 1, 0, 5);
}

/* A proxy that hangs up on "stats": asked no more, and no attempt spent
 * (one attempt only, and nothing fails). */
static void proxy_without_stats(void **state)
{
	struct fixture *f = *state;
	struct verify_stats st;
	struct verifier *v = start(f, 5000, 1);

	verifier_identify(v, 1);
	check_range(v, 0, 150, value_for);
	verifier_finish(v);
	assert_counts(v, 150, 0, 0, 0);
	verifier_get_stats(v, &st);
	assert_int_equal(st.server.have_id, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 2);
	assert_int_equal(f->peer.conn[0].nkeys, 0);
	assert_asked(f, 2, 0, 150);
}

/* Identity asked on each connection: the server restarted between the
 * two (another pid), which the watch counts. */
static void restart_is_seen(void **state)
{
	struct fixture *f = *state;
	struct verify_stats st;

	f->peer.stats = 1;
	f->peer.pid[0] = 100;
	f->peer.pid[1] = 200;
	struct verifier *v = start(f, 5000, 2);
	f->peer.cut_at = 700;
	check_range(v, 0, 1000, value_for);
	verifier_finish(v);
	assert_counts(v, 1000, 0, 0, 0);
	verifier_get_stats(v, &st);
	assert_int_equal(st.server.have_id, 1);
	assert_int_equal(st.server.first.pid, 100);
	assert_int_equal(st.server.now.pid, 200);
	assert_int_equal(st.server.restarts, 1);
	finish(f);
	assert_int_equal(f->peer.dials, 2);
}

/* Carried on from the load's watch: a restart after the load is seen at
 * the first connection. */
static void restart_after_load(void **state)
{
	struct fixture *f = *state;
	struct server_watch load = {0};
	struct server_id before = {.pid = 99, .started = 1000000 - 100};
	struct verify_stats st;

	f->peer.stats = 1;
	f->peer.pid[0] = 100;
	serverid_note(&load, &before, "peer");
	struct verifier *v = start(f, 5000, 2);
	verifier_watch_from(v, &load);
	check_range(v, 0, 10, value_for);
	verifier_finish(v);
	assert_counts(v, 10, 0, 0, 0);
	verifier_get_stats(v, &st);
	assert_int_equal(st.server.first.pid, 99);
	assert_int_equal(st.server.now.pid, 100);
	assert_int_equal(st.server.restarts, 1);
}

/* Wilson 95% bounds computed in Python (3.11, floats) from the formula:
 *   z = 1.959964; p = k / n; d = 1 + z*z/n
 *   centre = (p + z*z/(2*n)) / d; half = z*sqrt(p*(1-p)/n + z*z/(4*n*n)) / d
 *   print('%.9f %.9f' % (max(centre - half, 0), min(centre + half, 1))) */
static void wilson(void **state)
{
	static const struct {
		uint64_t k, n;
		double lo, hi;
	} want[] = {
		{0, 100, 0.000000000, 0.036993499},   {5, 100, 0.021543679, 0.111750470},
		{50, 100, 0.403831530, 0.596168470},  {100, 100, 0.963006501, 1.000000000},
		{1, 1, 0.206549312, 1.000000000},     {0, 1, 0.000000000, 0.793450688},
		{3, 10000, 0.000102032, 0.000881736}, {1, 1000000, 0.000000177, 0.000005665},
	};
	double lo, hi;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(verify_wilson(want[i].k, want[i].n, &lo, &hi), 0);
		if (fabs(lo - want[i].lo) > 1e-9 || fabs(hi - want[i].hi) > 1e-9)
			fail_msg("%llu of %llu: [%.9f, %.9f], expected [%.9f, %.9f]",
				 (unsigned long long)want[i].k, (unsigned long long)want[i].n, lo,
				 hi, want[i].lo, want[i].hi);
	}
	/* The ends are exact, not a rounding error away. */
	assert_int_equal(verify_wilson(0, 7, &lo, &hi), 0);
	assert_true(lo == 0.0);
	assert_int_equal(verify_wilson(7, 7, &lo, &hi), 0);
	assert_true(hi == 1.0);
	assert_int_equal(verify_wilson(0, 0, &lo, &hi), -1);
	assert_int_equal(verify_wilson(2, 1, &lo, &hi), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(all_equal, setup, teardown),
		cmocka_unit_test_setup_teardown(finish_of_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_and_different, setup, teardown),
		cmocka_unit_test_setup_teardown(all_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(key_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(replies_byte_by_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(long_values, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_mid_value, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_after_missing_key, setup, teardown),
		cmocka_unit_test_setup_teardown(error_mid_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(value_not_asked_for, setup, teardown),
		cmocka_unit_test_setup_teardown(busy_server, setup, teardown),
		cmocka_unit_test_setup_teardown(dead_server, setup, teardown),
		cmocka_unit_test_setup_teardown(in_flight_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(in_flight_byte_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(record_over_byte_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_key, setup, teardown),
		cmocka_unit_test_setup_teardown(proxy_without_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_is_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_after_load, setup, teardown),
		cmocka_unit_test(wilson),
	};
	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
