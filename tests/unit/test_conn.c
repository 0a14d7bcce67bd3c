/* test_conn.c -- the connection object on its own, under a minimal owner:
 * requests "r N" answered "ok N", over a socketpair with a scripted server
 * (peer.h). The retry rule is what these check: failures in a row give
 * the server up after -a attempts, an answer starts the count again, a
 * reconnection the owner asks for spends none, and every request is
 * answered once whatever the server splits or drops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mc/conn.h"
#include "peer.h"

#define MAX_DIALS 16
#define REQUESTS  200

struct script;

/* The server's end of one connection. */
struct serving {
	struct script *s;
	int fd;
	struct peer_thread thread;
};

/* The scripted server. */
struct script {
	int refuse;	    /* dials refused before one is let through */
	int answer_per;	    /* each connection answers this many, then closes (0: all) */
	int silent;	    /* never answers */
	int long_line;	    /* answers with a line longer than any reply */
	size_t chunk;	    /* bytes per write of replies (0: as they come) */
	int dials;
	struct serving conn[MAX_DIALS];
};

/* The owner: REQUESTS numbered requests, sent in order, answered in order. */
struct owner {
	struct conn *c;
	int next_unsent; /* the next request to write */
	size_t partial;	 /* bytes of it written already */
	int answered;	 /* requests answered: all before this one */
	int failed;	 /* given up */
	int drops, gave_up;
	int again_left; /* replies answered CONN_AGAIN, the first times */
	char out[32];
	size_t out_len;
};

static const struct server_addr addr = {.host = "peer", .spec = "peer"};
static const struct conn_words words = {"retrying", "giving up", "records"};

static void *serve(void *arg)
{
	struct serving *sv = arg;
	const struct script *s = sv->s;
	int fd = sv->fd;
	char in[4096], line[64];
	size_t len = 0;
	int answered = 0;
	ssize_t r;

	if (s->long_line) {
		static char junk[70 * 1024];
		memset(junk, 'x', sizeof(junk));
		(void)peer_send(fd, junk, sizeof(junk), 0, 0);
	}
	while ((r = read(fd, in + len, sizeof(in) - len)) > 0) {
		len += (size_t)r;
		char *nl;
		while ((nl = memchr(in, '\n', len)) != NULL) {
			size_t n = (size_t)(nl - in) + 1;
			int k = atoi(in + 2);
			memmove(in, in + n, len - n);
			len -= n;
			if (s->silent || s->long_line)
				continue;
			int m = snprintf(line, sizeof(line), "ok %d\r\n", k);
			if (peer_send(fd, line, (size_t)m, s->chunk, 0) < 0)
				goto out;
			if (s->answer_per > 0 && ++answered == s->answer_per)
				goto out;
		}
	}
out:
	close(fd);
	return NULL;
}

static int dial(const struct server_addr *a, int timeout_ms, char *err, size_t errlen, void *ctx)
{
	struct script *s = ctx;

	(void)a;
	(void)timeout_ms;
	int k = ++s->dials;
	if (k <= s->refuse || k > MAX_DIALS) {
		snprintf(err, errlen, "connection %d refused by the test", k);
		return -1;
	}
	struct serving *sv = &s->conn[k - 1];
	sv->s = s;
	return peer_dial(&sv->thread, &sv->fd, 0, serve, sv, err, errlen);
}

static int unsent(void *ctx, int flush, const char **out, size_t *len)
{
	struct owner *o = ctx;

	(void)flush;
	if (o->partial == o->out_len && o->next_unsent < REQUESTS) {
		o->out_len = (size_t)snprintf(o->out, sizeof(o->out), "r %d\r\n", o->next_unsent);
		o->partial = 0;
	}
	*out = o->out + o->partial;
	*len = o->out_len - o->partial;
	return 0;
}

static void sent(void *ctx, size_t n)
{
	struct owner *o = ctx;

	o->partial += n;
	if (o->partial == o->out_len)
		o->next_unsent++;
}

static enum conn_step replies(void *ctx, const char *buf, size_t len, size_t *took, char *why,
			      size_t whylen)
{
	struct owner *o = ctx;
	const char *nl;

	while ((nl = memchr(buf + *took, '\n', len - *took)) != NULL) {
		if (o->again_left > 0) {
			o->again_left--;
			return CONN_AGAIN;
		}
		int k = atoi(buf + *took + 3);
		*took = (size_t)(nl - buf) + 1;
		if (k != o->answered) {
			snprintf(why, whylen, "answer %d out of order", k);
			return CONN_FAILED;
		}
		o->answered++;
		conn_answered(o->c);
	}
	return CONN_GO_ON;
}

static void dropped(void *ctx)
{
	struct owner *o = ctx;

	o->drops++;
	o->next_unsent = o->answered;
	o->partial = o->out_len = 0;
}

static size_t give_up(void *ctx)
{
	struct owner *o = ctx;
	size_t n = (size_t)(REQUESTS - o->answered);

	o->gave_up++;
	o->failed += (int)n;
	return n;
}

static size_t waiting(void *ctx)
{
	const struct owner *o = ctx;

	return (size_t)(REQUESTS - o->answered);
}

static const struct conn_ops ops = {
	.unsent = unsent,
	.sent = sent,
	.replies = replies,
	.dropped = dropped,
	.give_up = give_up,
	.waiting = waiting,
};

/* Run the owner against S until every request is answered or failed. */
static void run(struct owner *o, struct script *s, int attempts, int timeout_ms)
{
	o->c = conn_new(&addr, timeout_ms, attempts, &ops, &words, o);
	assert_non_null(o->c);
	conn_set_dial(o->c, dial, s);
	conn_identify(o->c, 0);
	while (!conn_down(o->c) && o->answered < REQUESTS)
		conn_pump(o->c, 1);
	conn_free(o->c);
	for (int k = 0; k < s->dials && k < MAX_DIALS; k++)
		peer_join(&s->conn[k].thread);
}

/* Every request answered once, in order, on one connection. */
static void test_all_answered(void **state)
{
	struct script s = {.chunk = 1};
	struct owner o = {0};

	(void)state;
	run(&o, &s, 3, 2000);
	assert_int_equal(o.answered, REQUESTS);
	assert_int_equal(o.failed, 0);
	assert_int_equal(s.dials, 1);
}

/* Refused dials spend attempts: -a 3 gives up after the third, and every
 * request waiting fails, once. */
static void test_gives_up_after_attempts(void **state)
{
	struct script s = {.refuse = 100};
	struct owner o = {0};

	(void)state;
	run(&o, &s, 3, 2000);
	assert_int_equal(s.dials, 3);
	assert_int_equal(o.gave_up, 1);
	assert_int_equal(o.failed, REQUESTS);
	assert_int_equal(o.answered, 0);
}

/* Two refusals, then a server: -a 3 is enough. */
static void test_recovers_within_attempts(void **state)
{
	struct script s = {.refuse = 2};
	struct owner o = {0};

	(void)state;
	run(&o, &s, 3, 2000);
	assert_int_equal(s.dials, 3);
	assert_int_equal(o.answered, REQUESTS);
	assert_int_equal(o.gave_up, 0);
}

/* A server that answers a few and hangs up, again and again: each answer
 * starts the count of failures again, so -a 2 never gives up, and the
 * unanswered are sent again on each new connection. */
static void test_answer_resets_failures(void **state)
{
	struct script s = {.answer_per = 40};
	struct owner o = {0};

	(void)state;
	run(&o, &s, 2, 2000);
	assert_int_equal(o.answered, REQUESTS);
	assert_int_equal(o.failed, 0);
	assert_int_equal(s.dials, REQUESTS / 40);
}

/* The owner's CONN_AGAIN reconnects at once and spends no attempt: more
 * of them than -a allows still end with every request answered. */
static void test_again_spends_no_attempt(void **state)
{
	struct script s = {0};
	struct owner o = {.again_left = 4};

	(void)state;
	run(&o, &s, 2, 2000);
	assert_int_equal(o.answered, REQUESTS);
	assert_int_equal(o.gave_up, 0);
	assert_int_equal(s.dials, 5);
}

/* No answer within the timeout is a failure; with -a 1 the server is given
 * up at once. */
static void test_silent_server_times_out(void **state)
{
	struct script s = {.silent = 1};
	struct owner o = {0};

	(void)state;
	run(&o, &s, 1, 100);
	assert_int_equal(o.gave_up, 1);
	assert_int_equal(o.failed, REQUESTS);
	assert_int_equal(s.dials, 1);
}

/* A reply that fills the buffer without ending is garbage: an attempt is
 * spent on each such connection. */
static void test_endless_line_fails(void **state)
{
	struct script s = {.long_line = 1};
	struct owner o = {0};

	(void)state;
	run(&o, &s, 2, 2000);
	assert_int_equal(o.gave_up, 1);
	assert_int_equal(s.dials, 2);
	assert_int_equal(o.answered, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_answered),
	    cmocka_unit_test(test_gives_up_after_attempts),
	    cmocka_unit_test(test_recovers_within_attempts),
	    cmocka_unit_test(test_answer_resets_failures),
	    cmocka_unit_test(test_again_spends_no_attempt),
	    cmocka_unit_test(test_silent_server_times_out),
	    cmocka_unit_test(test_endless_line_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
