/* test_readback.c -- replies to gets matched to the records asked for, with
 * no socket: the same reply stream fed whole, one byte at a time and cut at
 * every point gives the same counts; what is out of step is refused; after
 * a restart exactly the records not counted are asked for again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mc/mcproto.h"
#include "mc/readback.h"

#define NREC	  40
#define VALUE_MAX 4096

/* The value queued for key N: some long, some holding the reply's words. */
static size_t value_for(int n, uint8_t *v)
{
	size_t len = n % 10 == 9 ? 3000 + (size_t)n : 1 + (size_t)(n * 7) % 40;

	for (size_t j = 0; j < len; j++)
		v[j] = (uint8_t)(n * 31 + (int)j * 17);
	if (n % 4 == 1 && len >= 7)
		memcpy(v + len - 7, "\r\nEND\r\n", 7);
	return len;
}

/* What the server holds: N % 6 == 2 missing; N % 5 == 3 other bytes. */
static long held(int n, uint8_t *v)
{
	if (n % 6 == 2)
		return -1;
	size_t len = value_for(n, v);
	if (n % 5 == 3)
		v[len - 1] ^= 0x55;
	return (long)len;
}

static void queue(struct readback *rb, int from, int to)
{
	uint8_t v[VALUE_MAX];
	char key[16];

	for (int n = from; n < to; n++) {
		int keylen = snprintf(key, sizeof(key), "k%d", n);
		assert_int_equal(readback_add(rb, key, (size_t)keylen, v, value_for(n, v)), 0);
	}
}

/* The replies of a server holding held() to "get kFROM .. kTO-1", at OUT
 * (room enough); returns their length. */
static size_t reply_for(int from, int to, char *out)
{
	uint8_t v[VALUE_MAX];
	size_t len = 0;

	for (int n = from; n < to; n++) {
		long vlen = held(n, v);
		if (vlen < 0)
			continue;
		len += (size_t)sprintf(out + len, "VALUE k%d %d %ld\r\n", n, n % 2, vlen);
		memcpy(out + len, v, (size_t)vlen);
		len += (size_t)vlen;
		memcpy(out + len, "\r\n", 2);
		len += 2;
	}
	memcpy(out + len, "END\r\n", 5);
	return len + 5;
}

/* Feed STREAM (LEN bytes) as verify.c does, arriving PIECE bytes at a time
 * (0: whole): what is not taken waits for the next piece. */
static void feed(struct readback *rb, const char *stream, size_t len, size_t piece)
{
	char *buf = malloc(len);
	size_t have = 0;
	char err[256];

	assert_non_null(buf);
	for (size_t at = 0; at < len;) {
		size_t n = piece == 0 || len - at < piece ? len - at : piece;
		memcpy(buf + have, stream + at, n);
		have += n;
		at += n;
		long took = readback_feed(rb, buf, have, err, sizeof(err));
		if (took < 0)
			fail_msg("refused at byte %zu: %s", at, err);
		memmove(buf, buf + took, have - (size_t)took);
		have -= (size_t)took;
	}
	assert_int_equal(have, 0);
	free(buf);
}

static void expected_counts(int from, int to, struct readback_counts *want)
{
	uint8_t v[VALUE_MAX];

	memset(want, 0, sizeof(*want));
	for (int n = from; n < to; n++) {
		if (held(n, v) < 0)
			want->missing++;
		else if (n % 5 == 3)
			want->different++;
		else
			want->equal++;
	}
}

static void assert_counts(const struct readback *rb, const struct readback_counts *want)
{
	struct readback_counts got;

	readback_get_counts(rb, &got);
	assert_int_equal(got.equal, want->equal);
	assert_int_equal(got.missing, want->missing);
	assert_int_equal(got.different, want->different);
}

/* One get for every record queued, and the stream that answers it. */
static struct readback *asked(char **stream, size_t *len)
{
	struct readback *rb = readback_new("test");
	struct mcproto_get g;

	assert_non_null(rb);
	queue(rb, 0, NREC);
	assert_int_equal(readback_next_get(rb, &g), NREC);
	assert_int_equal(readback_unasked(rb), 0);
	*stream = malloc(NREC * (VALUE_MAX + 64));
	assert_non_null(*stream);
	*len = reply_for(0, NREC, *stream);
	return rb;
}

static void pieces(size_t piece)
{
	struct readback_counts want;
	char *stream;
	size_t len;
	struct readback *rb = asked(&stream, &len);

	feed(rb, stream, len, piece);
	expected_counts(0, NREC, &want);
	assert_counts(rb, &want);
	assert_int_equal(readback_waiting(rb), 0);
	assert_int_equal(readback_bytes(rb), 0);
	free(stream);
	readback_free(rb);
}

static void whole(void **state)
{
	(void)state;
	pieces(0);
}

static void byte_at_a_time(void **state)
{
	(void)state;
	pieces(1);
}

static void odd_pieces(void **state)
{
	(void)state;
	pieces(3);
	pieces(7);
	pieces(1000);
}

/* Cut in two at every byte. */
static void every_cut(void **state)
{
	struct readback_counts want;
	char *stream;
	size_t len;

	(void)state;
	expected_counts(0, NREC, &want);
	struct readback *first = asked(&stream, &len);
	readback_free(first);
	for (size_t cut = 1; cut < len; cut++) {
		char *s2;
		size_t len2;
		struct readback *rb = asked(&s2, &len2);
		char err[256];
		long took = readback_feed(rb, s2, cut, err, sizeof(err));
		assert_true(took >= 0);
		feed(rb, s2 + took, len2 - (size_t)took, 0);
		assert_counts(rb, &want);
		free(s2);
		readback_free(rb);
	}
	free(stream);
}

/* A connection lost after the value of k7: k0..k7 stay counted; k8 on are
 * asked again, and only they. */
static void restart_asks_again(void **state)
{
	struct readback_counts want;
	struct mcproto_get g;
	char *stream;
	size_t len;
	struct readback *rb = asked(&stream, &len);

	(void)state;
	size_t upto = reply_for(0, 8, stream) - 5; /* without its END */
	feed(rb, stream, upto, 0);
	expected_counts(0, 8, &want);
	assert_counts(rb, &want);
	assert_int_equal(readback_waiting(rb), NREC - 8);
	readback_restart(rb);
	assert_int_equal(readback_unasked(rb), NREC - 8);
	assert_int_equal(readback_next_get(rb, &g), NREC - 8);
	assert_true(g.len > 8 && memcmp(g.cmd, "get k8 k9 k10 ", 14) == 0);
	len = reply_for(8, NREC, stream);
	feed(rb, stream, len, 0);
	expected_counts(0, NREC, &want);
	assert_counts(rb, &want);
	assert_int_equal(readback_waiting(rb), 0);
	free(stream);
	readback_free(rb);
}

static void expect_refused(struct readback *rb, const char *reply, size_t len)
{
	char err[256] = "";

	assert_int_equal(readback_feed(rb, reply, len, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
}

static void out_of_step(void **state)
{
	struct readback *rb = readback_new("test");
	struct mcproto_get g;
	char reply[64];

	(void)state;
	assert_non_null(rb);
	expect_refused(rb, "END\r\n", 5); /* nothing asked */
	queue(rb, 0, 3);
	readback_next_get(rb, &g);
	expect_refused(rb, "VALUE k3 0 1\r\nx\r\n", 17); /* not asked */
	expect_refused(rb, "STORED\r\n", 8);
	expect_refused(rb, "CLIENT_ERROR bad command line format\r\n", 38);
	/* A value read as it comes, not followed by "\r\n": refused when
	 * those bytes come. */
	uint8_t v[64];
	size_t vlen = value_for(0, v);
	char err[256];
	int n = snprintf(reply, sizeof(reply), "VALUE k0 0 %zu\r\n", vlen);
	assert_int_equal(readback_feed(rb, reply, (size_t)n, err, sizeof(err)), n);
	memcpy(reply, v, vlen);
	memcpy(reply + vlen, "XX", 2);
	expect_refused(rb, reply, vlen + 2);
	/* Nothing was counted: k0 was not seen whole. */
	readback_restart(rb);
	assert_int_equal(readback_waiting(rb), 3);
	assert_int_equal(readback_drop(rb), 3);
	assert_int_equal(readback_waiting(rb), 0);
	assert_int_equal(readback_next_get(rb, &g), 0);
	readback_free(rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole),
		cmocka_unit_test(byte_at_a_time),
		cmocka_unit_test(odd_pieces),
		cmocka_unit_test(every_cut),
		cmocka_unit_test(restart_asks_again),
		cmocka_unit_test(out_of_step),
	};
	return cmocka_run_group_tests_name("readback", tests, NULL, NULL);
}
