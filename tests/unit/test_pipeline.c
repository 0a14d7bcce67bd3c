/* test_pipeline.c -- pipelined sets over a socketpair with a scripted
 * server: every record counted once, whatever the server answers, however
 * it splits its replies and whenever it hangs up. */
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

#include "peer.h"
#include "pipeline.h"

/* More than pipeline.c's MAX_IN_FLIGHT (1024), so puts wait for replies. */
#define MANY	  3000
#define MAX_CONN  8
#define VALUE_MAX 64

/* What the server does with one record: a reply line, PEER_SILENT (read it,
 * never answer) or PEER_CLOSE (stop reading, send the replies to the records
 * before it, hang up). */
static const char PEER_SILENT[] = "";
static const char PEER_CLOSE[] = "";

static const char STORED[] = "STORED\r\n";

struct peer;

/* The server's end of connection number k (1 for the first dial). */
struct conn {
	struct peer *peer;
	int k;
	int fd;
	struct peer_thread thread;
	int *keys; /* key number of every record received, in order */
	size_t nkeys, capkeys;
	int bad; /* commands that were not the expected bytes */
};

struct peer {
	/* The reply to the NTH record of connection K, whose key number is KEY. */
	const char *(*reply)(const struct peer *pe, int k, size_t nth, int key);
	int at;		/* a record number the script acts on */
	size_t chunk;	/* bytes per write of replies; 0: all at once */
	useconds_t gap; /* pause between those writes */
	int refuse;	/* every dial fails */
	int sndbuf;	/* SO_SNDBUF of the pipeline's end, when not 0 */
	int dials;
	struct conn conn[MAX_CONN];
};

struct fixture {
	struct peer peer;
	struct pipeline *p;
};

static const struct server_addr addr = {.host = "peer", .spec = "peer"};

static size_t value_for(int key, uint8_t *v)
{
	size_t len = 1 + (size_t)(key * 7) % VALUE_MAX;

	/* Every byte value turns up, "\r", "\n" and NUL among them: the value
	 * is framed by its length, not by its contents. */
	for (size_t j = 0; j < len; j++)
		v[j] = (uint8_t)(key * 31 + (int)j * 17);
	return len;
}

/* -1 when the pipeline hung up first. */
static int conn_send(struct conn *c, const char *buf, size_t len)
{
	return peer_send(c->fd, buf, len, c->peer->chunk, c->peer->gap);
}

/* One "set kN 0 0 LEN\r\nVALUE\r\n" at BUF: its size, 0 when incomplete,
 * -1 when it is not what the pipeline should have sent. */
static long parse_set(const char *buf, size_t len, int *key)
{
	const char *eol = memchr(buf, '\n', len);
	uint8_t want[VALUE_MAX];
	char *end;

	if (eol == NULL)
		return len > 200 ? -1 : 0;
	size_t head = (size_t)(eol - buf) + 1;
	if (len < 6 || memcmp(buf, "set k", 5) != 0 || eol[-1] != '\r')
		return -1;
	long k = strtol(buf + 5, &end, 10);
	if (k < 0 || k > 1000000 || strncmp(end, " 0 0 ", 5) != 0)
		return -1;
	unsigned long vlen = strtoul(end + 5, &end, 10);
	if (end != eol - 1 || vlen > VALUE_MAX)
		return -1;
	if (len < head + vlen + 2)
		return 0;
	if (vlen != value_for((int)k, want) || memcmp(buf + head, want, vlen) != 0 ||
	    memcmp(buf + head + vlen, "\r\n", 2) != 0)
		return -1;
	*key = (int)k;
	return (long)(head + vlen + 2);
}

/* The server: read commands until EOF, answer each as the script says. */
static void *serve(void *arg)
{
	struct conn *c = arg;
	char in[16384 + 1], out[8192];
	size_t in_len = 0;

	for (;;) {
		ssize_t r = recv(c->fd, in + in_len, sizeof(in) - 1 - in_len, 0);
		if (r <= 0)
			break;
		in_len += (size_t)r;
		in[in_len] = '\0'; /* strtol in parse_set stops here at the latest */

		size_t at = 0, out_len = 0;
		const char *act = NULL;
		long used;
		int key;
		while ((used = parse_set(in + at, in_len - at, &key)) > 0) {
			at += (size_t)used;
			act = c->peer->reply(c->peer, c->k, c->nkeys, key);
			peer_note(&c->keys, &c->nkeys, &c->capkeys, key);
			if (act == PEER_CLOSE) {
				/* Let the pipeline send what the socket takes and
				 * wait in poll(2); then do as a TCP server closing
				 * with unread input: the pipeline's sends fail
				 * from here on, its replies are on their way. */
				usleep(20000);
				shutdown(c->fd, SHUT_RD);
				break;
			}
			size_t n = strlen(act);
			if (out_len + n > sizeof(out)) {
				if (conn_send(c, out, out_len) < 0)
					goto out;
				out_len = 0;
			}
			memcpy(out + out_len, act, n);
			out_len += n;
		}
		if (used < 0)
			c->bad++;
		if (out_len > 0 && conn_send(c, out, out_len) < 0)
			break;
		if (used < 0 || act == PEER_CLOSE)
			break;
		memmove(in, in + at, in_len - at);
		in_len -= at;
	}
out:
	close(c->fd);
	return NULL;
}

/* The pipeline's dial: a socketpair whose other end the scripted server
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
	return peer_dial(&c->thread, &c->fd, pe->sndbuf, serve, c, err, errlen);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	*state = f;
	return f == NULL ? -1 : 0;
}

/* Close the pipeline's end, so every server thread reads EOF, and join
 * them: after this the test may read what the servers received. */
static void finish(struct fixture *f)
{
	pipeline_free(f->p);
	f->p = NULL;
	for (int i = 0; i < MAX_CONN; i++)
		peer_join(&f->peer.conn[i].thread);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	finish(f);
	for (int i = 0; i < MAX_CONN; i++)
		free(f->peer.conn[i].keys);
	free(f);
	return 0;
}

static struct pipeline *start(struct fixture *f, int timeout_ms, int attempts)
{
	f->p = pipeline_new(&addr, timeout_ms, attempts);
	assert_non_null(f->p);
	pipeline_set_dial(f->p, dial, &f->peer);
	pipeline_identify(f->p, 0); /* the scripted peers speak only "set" */
	return f->p;
}

static void put_range(struct pipeline *p, int from, int to)
{
	char key[32];
	uint8_t value[VALUE_MAX];

	for (int i = from; i < to; i++) {
		int keylen = snprintf(key, sizeof(key), "k%d", i);
		size_t len = value_for(i, value);
		pipeline_put(p, key, (size_t)keylen, value, len);
	}
}

static void assert_counts(struct pipeline *p, uint64_t stored, uint64_t rejected, uint64_t failed)
{
	struct pipeline_stats st;

	pipeline_get_stats(p, &st);
	assert_int_equal(st.stored, stored);
	assert_int_equal(st.rejected, rejected);
	assert_int_equal(st.failed, failed);
}

/* Connection K (1-based) received exactly the records FROM..TO-1, in order. */
static void assert_received(const struct fixture *f, int k, int from, int to)
{
	const struct conn *c = &f->peer.conn[k - 1];

	assert_int_equal(c->bad, 0);
	assert_int_equal(c->nkeys, (size_t)(to - from));
	for (size_t i = 0; i < c->nkeys; i++)
		assert_int_equal(c->keys[i], from + (int)i);
}

static const char *all_stored(const struct peer *pe, int k, size_t nth, int key)
{
	(void)pe;
	(void)k;
	(void)nth;
	(void)key;
	return STORED;
}

static void plain(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start(f, 5000, 3);

	f->peer.reply = all_stored;
	put_range(p, 0, MANY);
	pipeline_flush(p);
	assert_counts(p, MANY, 0, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 1);
	assert_received(f, 1, 0, MANY);
}

/* Nothing to send: no connection at all. */
static void flush_of_nothing(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start(f, 5000, 3);

	f->peer.reply = all_stored;
	pipeline_flush(p);
	assert_counts(p, 0, 0, 0);
	assert_int_equal(f->peer.dials, 0);
}

static void replies_byte_by_byte(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start(f, 5000, 3);

	f->peer.reply = all_stored;
	f->peer.chunk = 1;
	f->peer.gap = 50;
	put_range(p, 0, 300);
	pipeline_flush(p);
	assert_counts(p, 300, 0, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 1);
	assert_received(f, 1, 0, 300);
}

/* Writes of 3 bytes: "STO", "RED", "\r\nS", ..., "ED\r", "\nST": lines
 * split inside the word and between "\r" and "\n". */
static void replies_split_across_writes(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start(f, 5000, 3);

	f->peer.reply = all_stored;
	f->peer.chunk = 3;
	f->peer.gap = 20;
	put_range(p, 0, 1500);
	pipeline_flush(p);
	assert_counts(p, 1500, 0, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 1);
	assert_received(f, 1, 0, 1500);
}

static const char *mixed_reply(int key)
{
	if (key % 7 == 3)
		return "NOT_STORED\r\n";
	if (key % 11 == 5)
		return "SERVER_ERROR out of memory storing object\r\n";
	if (key % 13 == 6)
		return "EXISTS\r\n";
	if (key % 17 == 8)
		return "NOT_FOUND\r\n";
	return STORED;
}

static const char *mixed(const struct peer *pe, int k, size_t nth, int key)
{
	(void)pe;
	(void)k;
	(void)nth;
	return mixed_reply(key);
}

static void rejections_in_split_replies(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start(f, 5000, 3);
	uint64_t rejected = 0;

	f->peer.reply = mixed;
	f->peer.chunk = 5;
	f->peer.gap = 20;
	put_range(p, 0, 1500);
	pipeline_flush(p);
	for (int i = 0; i < 1500; i++)
		rejected += mixed_reply(i) != STORED;
	assert_true(rejected > 300);
	assert_counts(p, 1500 - rejected, rejected, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 1);
	assert_received(f, 1, 0, 1500);
}

/* The first connection answers records up to pe->at, then hangs up. */
static const char *close_at(const struct peer *pe, int k, size_t nth, int key)
{
	(void)key;
	return k == 1 && nth == (size_t)pe->at ? PEER_CLOSE : STORED;
}

static void reset_mid_batch(struct fixture *f, int n, int at, int sndbuf)
{
	struct pipeline *p = start(f, 5000, 2);

	f->peer.reply = close_at;
	f->peer.at = at;
	f->peer.sndbuf = sndbuf;
	put_range(p, 0, n);
	pipeline_flush(p);
	assert_counts(p, (uint64_t)n, 0, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 2);
	/* The first connection got at least the records it answered... */
	const struct conn *c = &f->peer.conn[0];
	assert_int_equal(c->bad, 0);
	assert_true(c->nkeys > (size_t)at);
	for (int i = 0; i <= at; i++)
		assert_int_equal(c->keys[i], i);
	/* ...and only the unanswered ones were sent again. */
	assert_received(f, 2, at, n);
}

/* Every record sent before the server answers and hangs up. */
static void reset_in_first_window(void **state)
{
	reset_mid_batch(*state, 1000, 400, 0);
}

/* The server answers and hangs up while the pipeline still has commands
 * to send (a small send buffer makes sure of that): the replies that came
 * before the hangup count, and only the records after them are sent again. */
static void reset_while_sending(void **state)
{
	reset_mid_batch(*state, MANY, 50, 4096);
}

/* CLIENT_ERROR on the first connection, ERROR on the second. */
static const char *resync(const struct peer *pe, int k, size_t nth, int key)
{
	(void)pe;
	(void)key;
	if (k == 1 && nth == 100)
		return "CLIENT_ERROR bad data chunk\r\n";
	if (k == 2 && nth == 50)
		return "ERROR\r\n";
	return STORED;
}

static void client_error_resyncs(void **state)
{
	struct fixture *f = *state;
	/* One attempt: a resync that spent one would fail the rest. */
	struct pipeline *p = start(f, 5000, 1);

	f->peer.reply = resync;
	put_range(p, 0, MANY);
	pipeline_flush(p);
	assert_counts(p, MANY - 2, 2, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 3);
	assert_true(f->peer.conn[1].nkeys > 50);
	assert_int_equal(f->peer.conn[1].keys[0], 101);
	assert_int_equal(f->peer.conn[1].keys[50], 151);
	assert_received(f, 3, 152, MANY);
}

static const char *garbage_at(const struct peer *pe, int k, size_t nth, int key)
{
	(void)key;
	return k == 1 && nth == (size_t)pe->at ? "HELLO\r\n" : STORED;
}

static void garbage_reply_reconnects(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start(f, 5000, 2);

	f->peer.reply = garbage_at;
	f->peer.at = 1200;
	put_range(p, 0, MANY);
	pipeline_flush(p);
	assert_counts(p, MANY, 0, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 2);
	assert_true(f->peer.conn[0].nkeys > 1200);
	assert_int_equal(f->peer.conn[0].keys[1200], 1200);
	assert_received(f, 2, 1200, MANY);
}

static void dead_server(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start(f, 5000, 3);

	f->peer.refuse = 1;
	put_range(p, 0, 10);
	pipeline_flush(p);
	assert_int_equal(f->peer.dials, 3);
	assert_counts(p, 0, 0, 10);
	/* Given up: later records fail at once, with no dial. */
	put_range(p, 10, 12);
	pipeline_flush(p);
	assert_int_equal(f->peer.dials, 3);
	assert_counts(p, 0, 0, 12);
}

/* Past MAX_IN_FLIGHT the puts themselves dial, and fail. */
static void dead_server_while_putting(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start(f, 5000, 2);

	f->peer.refuse = 1;
	put_range(p, 0, MANY);
	pipeline_flush(p);
	assert_int_equal(f->peer.dials, 2);
	assert_counts(p, 0, 0, MANY);
}

static const char *silent(const struct peer *pe, int k, size_t nth, int key)
{
	(void)pe;
	(void)k;
	(void)nth;
	(void)key;
	return PEER_SILENT;
}

static void no_reply_times_out(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start(f, 100, 2);

	f->peer.reply = silent;
	put_range(p, 0, 50);
	pipeline_flush(p);
	assert_counts(p, 0, 0, 50);
	finish(f);
	assert_int_equal(f->peer.dials, 2);
	assert_received(f, 1, 0, 50);
	assert_received(f, 2, 0, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(plain, setup, teardown),
		cmocka_unit_test_setup_teardown(flush_of_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(replies_byte_by_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(replies_split_across_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(rejections_in_split_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_in_first_window, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_while_sending, setup, teardown),
		cmocka_unit_test_setup_teardown(client_error_resyncs, setup, teardown),
		cmocka_unit_test_setup_teardown(garbage_reply_reconnects, setup, teardown),
		cmocka_unit_test_setup_teardown(dead_server, setup, teardown),
		cmocka_unit_test_setup_teardown(dead_server_while_putting, setup, teardown),
		cmocka_unit_test_setup_teardown(no_reply_times_out, setup, teardown),
	};
	return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
