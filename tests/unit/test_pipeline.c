/* test_pipeline.c -- pipelined sets over a socketpair with a scripted
 * server: every record counted once, whatever the server answers, however
 * it splits its replies and whenever it hangs up; in the text protocol and
 * in the meta protocol, and when a server speaks one and then the other. */
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

#include "log.h"
#include "peer.h"
#include "mc/pipeline.h"
#include "mc/window.h"

/* More than WINDOW_RECORDS (1024) in flight, so puts wait for replies. */
#define MANY	  3000
#define MAX_CONN  8
#define VALUE_MAX 64

/* What the server does with one record: a reply line, PEER_SILENT (read it,
 * never answer) or PEER_CLOSE (stop reading, send the replies to the records
 * before it, hang up). */
static const char PEER_SILENT[] = "";
static const char PEER_CLOSE[] = "";

static const char STORED[] = "STORED\r\n";

/* How a record was sent, as noted by the server. */
enum sent_as { AS_SET, AS_LOUD, AS_QUIET };

struct peer;

/* The server's end of connection number k (1 for the first dial). */
struct conn {
	struct peer *peer;
	int k;
	int fd;
	struct peer_thread thread;
	int *keys; /* key number of every record received, in order */
	size_t nkeys, capkeys;
	int *as; /* how each was sent: enum sent_as */
	size_t nas, capas;
	int mns;   /* "mn" commands, the probe among them */
	int bad;   /* commands that were not the expected bytes */
};

struct peer {
	/* The reply to the NTH record of connection K, whose key number is KEY. */
	const char *(*reply)(const struct peer *pe, int k, size_t nth, int key);
	int at;		/* a record number the script acts on */
	size_t chunk;	/* bytes per write of replies; 0: all at once */
	useconds_t gap; /* pause between those writes */
	/* What connection K speaks: speaks[K - 1], or the last letter for
	 * later ones. 'M': meta and text; 'T': text, "mn" is answered ERROR;
	 * 'C': text, and a first "mn" closes the connection. NULL: 'T'. */
	const char *speaks;
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

/* One command at BUF. */
struct cmd {
	int mn;           /* "mn"; else a record: */
	int key;          /* kN */
	enum sent_as as;  /* "set kN 0 0 LEN", or "ms kN LEN OT" with or without " q" */
	long token;       /* T */
};

/* One command at BUF: "set kN 0 0 LEN\r\nVALUE\r\n", "ms kN LEN OT[ q]\r\n
 * VALUE\r\n" or "mn\r\n". Its size, 0 when incomplete, -1 when it is not
 * what the pipeline should have sent. */
static long parse_cmd(const char *buf, size_t len, struct cmd *cmd)
{
	const char *eol = memchr(buf, '\n', len);
	uint8_t want[VALUE_MAX];
	unsigned long vlen;
	char *end;
	long k;

	if (eol == NULL)
		return len > 200 ? -1 : 0;
	size_t head = (size_t)(eol - buf) + 1;
	if (eol == buf || eol[-1] != '\r')
		return -1;
	memset(cmd, 0, sizeof(*cmd));
	if (head == 4 && memcmp(buf, "mn", 2) == 0) {
		cmd->mn = 1;
		return 4;
	}
	if (len >= 5 && memcmp(buf, "set k", 5) == 0) {
		k = strtol(buf + 5, &end, 10);
		if (strncmp(end, " 0 0 ", 5) != 0)
			return -1;
		vlen = strtoul(end + 5, &end, 10);
		cmd->as = AS_SET;
	} else if (len >= 4 && memcmp(buf, "ms k", 4) == 0) {
		k = strtol(buf + 4, &end, 10);
		if (*end != ' ')
			return -1;
		vlen = strtoul(end + 1, &end, 10);
		if (strncmp(end, " O", 2) != 0)
			return -1;
		cmd->token = strtol(end + 2, &end, 10);
		cmd->as = AS_LOUD;
		if (strncmp(end, " q", 2) == 0) {
			cmd->as = AS_QUIET;
			end += 2;
		}
	} else {
		return -1;
	}
	if (k < 0 || k > 1000000 || end != eol - 1 || vlen > VALUE_MAX)
		return -1;
	if (len < head + vlen + 2)
		return 0;
	if (vlen != value_for((int)k, want) || memcmp(buf + head, want, vlen) != 0 ||
	    memcmp(buf + head + vlen, "\r\n", 2) != 0)
		return -1;
	cmd->key = (int)k;
	return (long)(head + vlen + 2);
}

/* What connection C speaks: 'M', 'T' or 'C' (struct peer). */
static char speaks(const struct conn *c)
{
	const char *s = c->peer->speaks;
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0)
		return 'T';
	return s[(size_t)c->k - 1 < n ? (size_t)c->k - 1 : n - 1];
}

/* The script's reply ACT, in text-protocol words, as a meta server says it
 * to a loud or quiet ms with token TOKEN: HD (nothing when quiet), NS, EX,
 * NF with the token; error lines as they are. */
static const char *meta_reply(const char *act, const struct cmd *cmd, char *buf, size_t cap)
{
	static const char *const words[][2] = {
		{STORED, "HD"}, {"NOT_STORED\r\n", "NS"}, {"EXISTS\r\n", "EX"}, {"NOT_FOUND\r\n", "NF"},
	};
	static const char nothing[] = "";

	if (act == PEER_SILENT || act == PEER_CLOSE)
		return act;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcmp(act, words[i][0]) != 0)
			continue;
		if (cmd->as == AS_QUIET && i == 0)
			return nothing;
		snprintf(buf, cap, "%s O%ld\r\n", words[i][1], cmd->token);
		return buf;
	}
	return act;
}

/* What connection C answers to CMD, a command it takes: NULL to hang up at
 * once, PEER_CLOSE after the replies before it, else the reply (in BUF). */
static const char *answer(struct conn *c, const struct cmd *cmd, char *buf, size_t cap)
{
	char kind = speaks(c);

	if (cmd->mn) {
		int first = c->mns++ == 0 && c->nkeys == 0;
		if (kind == 'M')
			return "MN\r\n";
		if (!first)
			c->bad++; /* a text server is asked once */
		return kind == 'C' && first ? NULL : "ERROR\r\n";
	}
	if (cmd->as != AS_SET && kind != 'M')
		c->bad++;
	const char *act = c->peer->reply(c->peer, c->k, c->nkeys, cmd->key);
	peer_note(&c->keys, &c->nkeys, &c->capkeys, cmd->key);
	peer_note(&c->as, &c->nas, &c->capas, (int)cmd->as);
	return cmd->as == AS_SET ? act : meta_reply(act, cmd, buf, cap);
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
		char reply[64];
		struct cmd cmd;
		long used;
		while ((used = parse_cmd(in + at, in_len - at, &cmd)) > 0) {
			at += (size_t)used;
			act = answer(c, &cmd, reply, sizeof(reply));
			if (act == NULL)
				goto out;
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
	for (int i = 0; i < MAX_CONN; i++) {
		free(f->peer.conn[i].keys);
		free(f->peer.conn[i].as);
	}
	free(f);
	return 0;
}

static struct pipeline *start_protocol(struct fixture *f, int timeout_ms, int attempts,
				       enum protocol protocol)
{
	f->p = pipeline_new(&addr, timeout_ms, attempts);
	assert_non_null(f->p);
	pipeline_set_dial(f->p, dial, &f->peer);
	pipeline_identify(f->p, 0); /* the scripted peers do not answer "stats" */
	pipeline_protocol(f->p, protocol);
	return f->p;
}

static struct pipeline *start(struct fixture *f, int timeout_ms, int attempts)
{
	return start_protocol(f, timeout_ms, attempts, PROTOCOL_TEXT);
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

static const char *not_stored_reply(int key)
{
	if (key % 7 == 3)
		return "NOT_STORED\r\n";
	if (key % 13 == 6)
		return "EXISTS\r\n";
	if (key % 17 == 8)
		return "NOT_FOUND\r\n";
	return STORED;
}

/* not_stored_reply's rejections, and SERVER_ERROR for some other keys. */
static const char *mixed_reply(int key)
{
	if (key % 7 != 3 && key % 11 == 5)
		return "SERVER_ERROR out of memory storing object\r\n";
	return not_stored_reply(key);
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

/* Past WINDOW_RECORDS in flight the puts themselves dial, and fail. */
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

/* ---- the meta protocol ---- */

static char log_path[64];

/* Log everything, debug lines too, into a file of the test's own. */
static void capture_log(void)
{
	char err[256];

	snprintf(log_path, sizeof(log_path), "/tmp/test_pipeline.XXXXXX");
	int fd = mkstemp(log_path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_open(log_path, LEVEL_DEBUG, err, sizeof(err)), 0);
}

/* What was logged since capture_log; logging goes back to stderr. Free it. */
static char *captured(void)
{
	char err[256];
	FILE *fp = fopen(log_path, "r");
	char *buf = calloc(1, 1 << 20);

	log_close();
	assert_int_equal(log_open(NULL, LEVEL_INFO, err, sizeof(err)), 0);
	assert_non_null(fp);
	assert_non_null(buf);
	size_t n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	unlink(log_path);
	return buf;
}

/* Lines of LOG that hold WHAT. */
static int count_in(const char *log, const char *what)
{
	int n = 0;

	for (const char *at = log; (at = strstr(at, what)) != NULL; at += strlen(what))
		n++;
	return n;
}

/* Connection K sent the records from its I-th on as AS. */
static void assert_sent_as(const struct fixture *f, int k, size_t from, size_t to, enum sent_as as)
{
	const struct conn *c = &f->peer.conn[k - 1];

	for (size_t i = from; i < to && i < c->nas; i++)
		if (c->as[i] != (int)as)
			fail_msg("connection %d sent record %zu (k%d) as %d, not %d", k, i, c->keys[i],
				 c->as[i], (int)as);
}

static void meta_plain(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start_protocol(f, 5000, 3, PROTOCOL_AUTO);

	capture_log();
	f->peer.speaks = "M";
	f->peer.reply = all_stored;
	put_range(p, 0, MANY);
	pipeline_flush(p);
	char *log = captured();
	assert_counts(p, MANY, 0, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 1);
	assert_received(f, 1, 0, MANY);
	assert_sent_as(f, 1, 0, MANY, AS_QUIET);
	/* The probe, and one after each batch at most WINDOW_BATCH long. */
	assert_true(f->peer.conn[0].mns >= 1 + MANY / WINDOW_BATCH);
	assert_int_equal(count_in(log, "D peer: meta protocol\n"), 1);
	free(log);
}


static const char *not_stored(const struct peer *pe, int k, size_t nth, int key)
{
	(void)pe;
	(void)k;
	(void)nth;
	return not_stored_reply(key);
}

/* NS, EX and NF in quiet batches, split anywhere: each names its own
 * record, and only those are rejected. */
static void meta_rejections_named(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start_protocol(f, 5000, 3, PROTOCOL_AUTO);
	uint64_t rejected = 0;
	char want[64];

	capture_log();
	f->peer.speaks = "M";
	f->peer.reply = not_stored;
	f->peer.chunk = 3;
	f->peer.gap = 20;
	put_range(p, 0, MANY);
	pipeline_flush(p);
	pipeline_finish(p);
	char *log = captured();
	for (int i = 0; i < MANY; i++) {
		const char *r = not_stored_reply(i);
		if (r == STORED)
			continue;
		rejected++;
		snprintf(want, sizeof(want), "peer rejected k%d: %s O", i,
			 r[0] == 'E' ? "EX" : r[4] == 'S' ? "NS" : "NF");
		if (count_in(log, want) != 1)
			fail_msg("'%s' logged %d times", want, count_in(log, want));
	}
	assert_true(rejected > 500);
	assert_int_equal(count_in(log, " rejected k"), (int)rejected);
	assert_counts(p, MANY - rejected, rejected, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 1);
	assert_received(f, 1, 0, MANY);
	assert_sent_as(f, 1, 0, MANY, AS_QUIET);
	free(log);
}

/* k1500 is refused with a SERVER_ERROR, which names no record, on every
 * connection; k1510 is not stored. */
static const char *server_error(const struct peer *pe, int k, size_t nth, int key)
{
	(void)pe;
	(void)k;
	(void)nth;
	if (key == 1500)
		return "SERVER_ERROR out of memory storing object\r\n";
	return key == 1510 ? "NOT_STORED\r\n" : STORED;
}

/* An error in a quiet batch: the batch is sent again from its first
 * record, answered, on a new connection (no attempt spent), and each
 * record is counted from its own reply. */
static void meta_server_error_in_quiet_batch(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start_protocol(f, 5000, 1, PROTOCOL_AUTO);
	const int n = 2 * MANY;

	capture_log();
	f->peer.speaks = "M";
	f->peer.reply = server_error;
	put_range(p, 0, n);
	pipeline_flush(p);
	char *log = captured();
	assert_counts(p, (uint64_t)n - 2, 2, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 2);
	const struct conn *c1 = &f->peer.conn[0], *c2 = &f->peer.conn[1];
	assert_int_equal(c1->bad, 0);
	assert_true(c1->nkeys > 1500);
	assert_sent_as(f, 1, 0, c1->nkeys, AS_QUIET);
	/* The second connection starts with the batch that held k1500. */
	assert_true(c2->nkeys > 0);
	int first = c2->keys[0];
	assert_true(first <= 1500 && first > 1500 - WINDOW_BATCH);
	assert_received(f, 2, first, n);
	assert_sent_as(f, 2, 0, (size_t)(1511 - first), AS_LOUD);
	assert_int_equal(c2->as[c2->nas - 1], AS_QUIET); /* after the loud run */
	assert_int_equal(count_in(log, "peer rejected k1500: SERVER_ERROR out of memory"), 1);
	assert_int_equal(count_in(log, "peer rejected k1510: NS O"), 1);
	assert_int_equal(count_in(log, " rejected k"), 2);
	assert_int_equal(count_in(log, "in a quiet batch names no record"), 1);
	free(log);
}

/* The server hangs up after answering the records before the AT-th: the
 * batches it answered stay counted; the rest are sent again. */
static void meta_reset(struct fixture *f, int n, int at, int sndbuf, const char *speaks_as)
{
	struct pipeline *p = start_protocol(f, 5000, 2, PROTOCOL_AUTO);

	f->peer.speaks = speaks_as;
	f->peer.reply = close_at;
	f->peer.at = at;
	f->peer.sndbuf = sndbuf;
	put_range(p, 0, n);
	pipeline_flush(p);
	assert_counts(p, (uint64_t)n, 0, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 2);
	const struct conn *c1 = &f->peer.conn[0], *c2 = &f->peer.conn[1];
	assert_int_equal(c1->bad, 0);
	assert_true(c1->nkeys > (size_t)at);
	for (int i = 0; i <= at; i++)
		assert_int_equal(c1->keys[i], i);
	/* Text answers each record, a quiet batch only as a whole. */
	assert_true(c2->nkeys > 0);
	int first = c2->keys[0];
	if (speaks_as[0] == 'T')
		assert_int_equal(first, at);
	else
		assert_true(first <= at && first > at - WINDOW_BATCH);
	assert_received(f, 2, first, n);
	char second = speaks_as[1] != '\0' ? speaks_as[1] : speaks_as[0];
	assert_sent_as(f, 2, 0, c2->nas, second == 'M' ? AS_QUIET : AS_SET);
}

static void meta_reset_in_first_window(void **state)
{
	meta_reset(*state, 1000, 400, 0, "M");
}

static void meta_reset_while_sending(void **state)
{
	meta_reset(*state, MANY, 700, 4096, "M");
}

/* The server behind the address restarted as one without meta: the
 * records not counted are sent again as plain sets. */
static void meta_then_text(void **state)
{
	meta_reset(*state, MANY, 1000, 0, "MT");
}

/* ...and the other way round. */
static void text_then_meta(void **state)
{
	meta_reset(*state, MANY, 1000, 0, "TM");
}

/* A server before memcached 1.6 answers "mn" with ERROR: plain sets on
 * the same connection. */
static void text_server_answers_error(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start_protocol(f, 5000, 1, PROTOCOL_AUTO);

	capture_log();
	f->peer.speaks = "T";
	f->peer.reply = all_stored;
	put_range(p, 0, MANY);
	pipeline_flush(p);
	char *log = captured();
	assert_counts(p, MANY, 0, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 1);
	assert_int_equal(f->peer.conn[0].mns, 1);
	assert_received(f, 1, 0, MANY);
	assert_sent_as(f, 1, 0, MANY, AS_SET);
	assert_int_equal(
	    count_in(log, "D peer: text protocol (the server does not speak meta: ERROR)\n"), 1);
	free(log);
}

/* A proxy that closes the connection on "mn": connect again, without
 * spending an attempt (one is all there is), and send plain sets without
 * asking again. */
static void server_closes_on_mn(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start_protocol(f, 5000, 1, PROTOCOL_AUTO);

	capture_log();
	f->peer.speaks = "C";
	f->peer.reply = all_stored;
	put_range(p, 0, MANY);
	pipeline_flush(p);
	char *log = captured();
	assert_counts(p, MANY, 0, 0);
	finish(f);
	assert_int_equal(f->peer.dials, 2);
	assert_int_equal(f->peer.conn[0].mns, 1);
	assert_int_equal(f->peer.conn[0].nkeys, 0);
	assert_int_equal(f->peer.conn[1].mns, 0);
	assert_received(f, 2, 0, MANY);
	assert_sent_as(f, 2, 0, MANY, AS_SET);
	assert_int_equal(count_in(log, "peer: text protocol (no meta protocol: it closed the "
				       "connection on mn)\n"),
			 1);
	free(log);
}

/* --protocol meta and a server without it: each connection fails with a
 * clear error, and after the attempts the records fail as undelivered. */
static void forced_meta(struct fixture *f, const char *speaks_as)
{
	struct pipeline *p = start_protocol(f, 5000, 2, PROTOCOL_META);

	capture_log();
	f->peer.speaks = speaks_as;
	f->peer.reply = all_stored;
	put_range(p, 0, 50);
	pipeline_flush(p);
	put_range(p, 50, 60); /* given up: no dial */
	pipeline_flush(p);
	char *log = captured();
	assert_counts(p, 0, 0, 60);
	finish(f);
	assert_int_equal(f->peer.dials, 2);
	assert_int_equal(f->peer.conn[0].nkeys, 0);
	assert_int_equal(f->peer.conn[1].nkeys, 0);
	assert_int_equal(count_in(log, "E peer: the server does not speak the meta protocol ("), 2);
	/* Twice that, once more in the warning, once in the end. */
	assert_int_equal(count_in(log, "--protocol meta is given"), 4);
	assert_int_equal(count_in(log, "E peer: giving up after 2 attempts: the server does not "
				       "speak the meta protocol"),
			 1);
	free(log);
}

static void forced_meta_vs_error(void **state)
{
	forced_meta(*state, "T");
}

static void forced_meta_vs_close(void **state)
{
	forced_meta(*state, "C");
}

/* --protocol text asks nothing. */
static void forced_text(void **state)
{
	struct fixture *f = *state;
	struct pipeline *p = start_protocol(f, 5000, 1, PROTOCOL_TEXT);

	f->peer.speaks = "M";
	f->peer.reply = all_stored;
	put_range(p, 0, 300);
	pipeline_flush(p);
	assert_counts(p, 300, 0, 0);
	finish(f);
	assert_int_equal(f->peer.conn[0].mns, 0);
	assert_sent_as(f, 1, 0, 300, AS_SET);
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
		cmocka_unit_test_setup_teardown(meta_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(meta_rejections_named, setup, teardown),
		cmocka_unit_test_setup_teardown(meta_server_error_in_quiet_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(meta_reset_in_first_window, setup, teardown),
		cmocka_unit_test_setup_teardown(meta_reset_while_sending, setup, teardown),
		cmocka_unit_test_setup_teardown(meta_then_text, setup, teardown),
		cmocka_unit_test_setup_teardown(text_then_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(text_server_answers_error, setup, teardown),
		cmocka_unit_test_setup_teardown(server_closes_on_mn, setup, teardown),
		cmocka_unit_test_setup_teardown(forced_meta_vs_error, setup, teardown),
		cmocka_unit_test_setup_teardown(forced_meta_vs_close, setup, teardown),
		cmocka_unit_test_setup_teardown(forced_text, setup, teardown),
	};
	return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
