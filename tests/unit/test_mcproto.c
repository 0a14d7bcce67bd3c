/* test_mcproto.c -- the set command byte for byte, and every kind of reply line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mcproto.h"

/* Bytes past MCPROTO_SET_MAX that must stay untouched. */
#define GUARD 64

/* Encode KEY and VALUE and compare with the command built the slow way
 * (snprintf for the header), in a buffer of exactly MCPROTO_SET_MAX bytes
 * plus a guard: the encoder must stay inside the bound the header
 * promises, since pipeline.c sizes its output buffer by it. */
static void check_set(const char *key, const uint8_t *value, size_t valuelen)
{
	size_t keylen = strlen(key), max = MCPROTO_SET_MAX(keylen, valuelen);
	char *buf = malloc(max + GUARD), *want = malloc(max);
	char head[512];
	int headlen;
	size_t n, wantlen, klen;
	const char *k;

	assert_non_null(buf);
	assert_non_null(want);
	memset(buf, 0xA5, max + GUARD);
	headlen = snprintf(head, sizeof(head), "set %s 0 0 %zu\r\n", key, valuelen);
	assert_true(headlen > 0 && (size_t)headlen < sizeof(head));
	memcpy(want, head, (size_t)headlen);
	if (valuelen > 0)
		memcpy(want + headlen, value, valuelen);
	memcpy(want + (size_t)headlen + valuelen, "\r\n", 2);
	wantlen = (size_t)headlen + valuelen + 2;

	n = mcproto_encode_set(buf, key, keylen, value, valuelen);
	assert_true(n <= max);
	assert_int_equal(n, wantlen);
	assert_memory_equal(buf, want, wantlen);
	for (size_t i = n; i < max + GUARD; i++)
		if ((unsigned char)buf[i] != 0xA5)
			fail_msg("byte %zu past the %zu-byte command was written", i, n);

	k = mcproto_set_key(buf, n, &klen);
	assert_int_equal(klen, keylen);
	assert_memory_equal(k, key, keylen);
	free(want);
	free(buf);
}

static void set_simple(void **state)
{
	char buf[MCPROTO_SET_MAX(9, 5)];
	const char want[] = "set idfa:abcd 0 0 5\r\nhello\r\n";

	(void)state;
	assert_int_equal(mcproto_encode_set(buf, "idfa:abcd", 9, (const uint8_t *)"hello", 5),
			 sizeof(want) - 1);
	assert_memory_equal(buf, want, sizeof(want) - 1);
	check_set("idfa:abcd", (const uint8_t *)"hello", 5);
}

/* The value is bytes with a length: protobuf output holds NULs, and a
 * "\r\n" inside it must not end anything. */
static void set_binary_value(void **state)
{
	const uint8_t crlf[] = "ab\r\ncd\r\n";
	const uint8_t nul[] = {'x', 0, 'y', 0, 0};
	uint8_t all[256];

	(void)state;
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)i;
	check_set("k", crlf, sizeof(crlf) - 1);
	check_set("k", nul, sizeof(nul));
	check_set("gaid:7c0c", all, sizeof(all));
	check_set("k", (const uint8_t *)"", 0);
}

/* Each length where the decimal length gains a digit. */
static void set_length_digits(void **state)
{
	const size_t lens[] = {0, 1, 9, 10, 99, 100, 999, 1000, 1000000};
	uint8_t *value = malloc(1000000);

	(void)state;
	assert_non_null(value);
	for (size_t i = 0; i < 1000000; i++)
		value[i] = (uint8_t)(i * 131 + 7);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		check_set("dvid:1", value, lens[i]);
	free(value);
}

/* memcached's longest key, 250 bytes, still fits the bound. */
static void set_long_key(void **state)
{
	char key[251];

	(void)state;
	memset(key, 'k', 250);
	key[250] = '\0';
	check_set(key, (const uint8_t *)"v", 1);
	check_set(key, (const uint8_t *)"", 0);
}

/* Take the first line of BUF (LEN bytes); expect it to use USED bytes and
 * read WANT. */
static void check_line(const char *buf, size_t len, size_t used, const char *want)
{
	const char *line = NULL;
	size_t linelen = 12345;

	assert_int_equal(mcproto_next_line(buf, len, &line, &linelen), used);
	assert_ptr_equal(line, buf);
	assert_int_equal(linelen, strlen(want));
	assert_memory_equal(line, want, linelen);
}

static void next_line_incomplete(void **state)
{
	const char *line = NULL;
	size_t linelen = 0;

	(void)state;
	assert_int_equal(mcproto_next_line("", 0, &line, &linelen), 0);
	assert_int_equal(mcproto_next_line("STORED", 6, &line, &linelen), 0);
	assert_int_equal(mcproto_next_line("STORED\r", 7, &line, &linelen), 0);
	/* The newline is past LEN: not there yet. */
	assert_int_equal(mcproto_next_line("STORED\r\n", 7, &line, &linelen), 0);
}

static void next_line_endings(void **state)
{
	(void)state;
	check_line("STORED\r\n", 8, 8, "STORED");
	check_line("STORED\n", 7, 7, "STORED");
	/* A lone CR is part of the line; only the one before LF is dropped. */
	check_line("A\rB\r\n", 5, 5, "A\rB");
	check_line("A\r\r\n", 4, 4, "A\r");
	check_line("\r\n", 2, 2, "");
	check_line("\n", 1, 1, "");
}

/* Replies arrive several to a read: take them one after another, and
 * leave a partial one for the next read. */
static void next_line_two_in_one_buffer(void **state)
{
	const char buf[] = "STORED\r\nNOT_STORED\nEXI";
	size_t len = sizeof(buf) - 1;
	const char *line;
	size_t linelen;

	(void)state;
	check_line(buf, len, 8, "STORED");
	check_line(buf + 8, len - 8, 11, "NOT_STORED");
	assert_int_equal(mcproto_next_line(buf + 19, len - 19, &line, &linelen), 0);
}

static void expect_reply(const char *line, enum mcproto_reply want)
{
	enum mcproto_reply got = mcproto_classify(line, strlen(line));

	if (got != want)
		fail_msg("'%s' classified %d, expected %d", line, (int)got, (int)want);
}

static void classify_stored(void **state)
{
	(void)state;
	expect_reply("STORED", MCPROTO_STORED);
	/* Only the exact word: anything else after a set means the stream is
	 * out of step. */
	expect_reply("STORED ", MCPROTO_GARBAGE);
	expect_reply("STOREDX", MCPROTO_GARBAGE);
	expect_reply("stored", MCPROTO_GARBAGE);
	expect_reply("STORE", MCPROTO_GARBAGE);
	/* The length counts, not a NUL. */
	assert_int_equal(mcproto_classify("STORED", 5), MCPROTO_GARBAGE);
	assert_int_equal(mcproto_classify("STORED\0", 7), MCPROTO_GARBAGE);
}

static void classify_rejected(void **state)
{
	(void)state;
	expect_reply("NOT_STORED", MCPROTO_REJECTED);
	expect_reply("EXISTS", MCPROTO_REJECTED);
	expect_reply("NOT_FOUND", MCPROTO_REJECTED);
	expect_reply("SERVER_ERROR out of memory storing object", MCPROTO_REJECTED);
	expect_reply("SERVER_ERROR object too large for cache", MCPROTO_TOO_LARGE);
	expect_reply("SERVER_ERROR object too large for cache!", MCPROTO_REJECTED);
	expect_reply("SERVER_ERROR", MCPROTO_REJECTED);
	expect_reply("NOT_STOREDX", MCPROTO_GARBAGE);
	expect_reply("SERVER_ERRORS", MCPROTO_GARBAGE);
}

static void classify_resync(void **state)
{
	(void)state;
	expect_reply("ERROR", MCPROTO_RESYNC);
	expect_reply("ERROR unknown command", MCPROTO_RESYNC);
	expect_reply("CLIENT_ERROR bad data chunk", MCPROTO_RESYNC);
	expect_reply("CLIENT_ERROR", MCPROTO_RESYNC);
}

/* memcached over its -c limit: not about any record, the connection is refused. */
static void classify_busy(void **state)
{
	(void)state;
	expect_reply("ERROR Too many open connections", MCPROTO_BUSY);
	expect_reply("ERROR Too many open connections now", MCPROTO_RESYNC);
}

static void classify_garbage(void **state)
{
	(void)state;
	expect_reply("ERRORS", MCPROTO_GARBAGE);
	expect_reply("", MCPROTO_GARBAGE);
	expect_reply("HELLO", MCPROTO_GARBAGE);
	expect_reply("VALUE x 0 1", MCPROTO_GARBAGE);
	expect_reply("END", MCPROTO_GARBAGE);
	expect_reply(" STORED", MCPROTO_GARBAGE);
	expect_reply("error", MCPROTO_GARBAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_simple),
		cmocka_unit_test(set_binary_value),
		cmocka_unit_test(set_length_digits),
		cmocka_unit_test(set_long_key),
		cmocka_unit_test(next_line_incomplete),
		cmocka_unit_test(next_line_endings),
		cmocka_unit_test(next_line_two_in_one_buffer),
		cmocka_unit_test(classify_stored),
		cmocka_unit_test(classify_rejected),
		cmocka_unit_test(classify_resync),
		cmocka_unit_test(classify_busy),
		cmocka_unit_test(classify_garbage),
	};
	return cmocka_run_group_tests_name("mcproto", tests, NULL, NULL);
}
