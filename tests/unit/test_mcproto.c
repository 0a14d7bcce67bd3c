/* test_mcproto.c -- the set, ms and get commands byte for byte, every kind
 * of reply line, plain and meta, and the replies to a get element by
 * element. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mc/mcproto.h"

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

/* ---- the meta protocol: ms, mn and their replies ---- */

/* Encode KEY and VALUE as ms and compare with the command built the slow
 * way, in a buffer of exactly MCPROTO_MS_MAX bytes plus a guard; the key
 * and the value read back from it are the record's. */
static void check_ms(const char *key, const uint8_t *value, size_t valuelen, uint32_t opaque,
		     int quiet)
{
	size_t keylen = strlen(key), max = MCPROTO_MS_MAX(keylen, valuelen);
	char *buf = malloc(max + GUARD), *want = malloc(max);
	char head[512];
	size_t n, wantlen, klen, vlen;

	assert_non_null(buf);
	assert_non_null(want);
	memset(buf, 0xA5, max + GUARD);
	int headlen = snprintf(head, sizeof(head), "ms %s %zu O%u%s\r\n", key, valuelen,
			       (unsigned)opaque, quiet ? " q" : "");
	assert_true(headlen > 0 && (size_t)headlen < sizeof(head));
	memcpy(want, head, (size_t)headlen);
	if (valuelen > 0)
		memcpy(want + headlen, value, valuelen);
	memcpy(want + (size_t)headlen + valuelen, "\r\n", 2);
	wantlen = (size_t)headlen + valuelen + 2;

	n = mcproto_encode_ms(buf, key, keylen, value, valuelen, opaque, quiet);
	assert_true(n <= max);
	assert_int_equal(n, wantlen);
	assert_memory_equal(buf, want, wantlen);
	for (size_t i = n; i < max + GUARD; i++)
		if ((unsigned char)buf[i] != 0xA5)
			fail_msg("byte %zu past the %zu-byte command was written", i, n);

	const char *k = mcproto_set_key(buf, n, &klen);
	assert_int_equal(klen, keylen);
	assert_memory_equal(k, key, keylen);
	const uint8_t *v = mcproto_set_value(buf, n, &vlen);
	assert_int_equal(vlen, valuelen);
	assert_ptr_equal(v, (const uint8_t *)buf + headlen);
	free(want);
	free(buf);
}

static void ms_simple(void **state)
{
	char buf[MCPROTO_MS_MAX(9, 5)];
	const char quiet[] = "ms idfa:abcd 5 O17 q\r\nhello\r\n";
	const char loud[] = "ms idfa:abcd 5 O0\r\nhello\r\n";

	(void)state;
	assert_int_equal(mcproto_encode_ms(buf, "idfa:abcd", 9, (const uint8_t *)"hello", 5, 17, 1),
			 sizeof(quiet) - 1);
	assert_memory_equal(buf, quiet, sizeof(quiet) - 1);
	assert_int_equal(mcproto_encode_ms(buf, "idfa:abcd", 9, (const uint8_t *)"hello", 5, 0, 0),
			 sizeof(loud) - 1);
	assert_memory_equal(buf, loud, sizeof(loud) - 1);
	assert_memory_equal(MCPROTO_MN, "mn\r\n", MCPROTO_MN_LEN);
}

/* Binary values, every length where a number gains a digit, the longest
 * key and the largest opaque token still fit the bound. */
static void ms_bounds(void **state)
{
	const size_t lens[] = {0, 1, 9, 10, 99, 100, 999, 1000, 100000};
	const uint32_t opaques[] = {0, 9, 10, 2048, UINT32_MAX};
	uint8_t *value = malloc(100000);
	char key[MCPROTO_KEY_MAX + 1];

	(void)state;
	assert_non_null(value);
	for (size_t i = 0; i < 100000; i++)
		value[i] = (uint8_t)(i * 131 + 7);
	memcpy(value, "\r\nmn\r\n\0", 7);
	memset(key, 'k', MCPROTO_KEY_MAX);
	key[MCPROTO_KEY_MAX] = '\0';
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t j = 0; j < sizeof(opaques) / sizeof(opaques[0]); j++) {
			check_ms("dvid:1", value, lens[i], opaques[j], (int)(j % 2));
			check_ms(key, value, lens[i], opaques[j], (int)(j % 2 == 0));
		}
	free(value);
}

/* The key and value of a plain set read back too: a record sent as text
 * is encoded again as ms for a server that speaks meta. */
static void set_value_read_back(void **state)
{
	char buf[MCPROTO_SET_MAX(6, 4)];
	size_t n = mcproto_encode_set(buf, "gaid:x", 6, (const uint8_t *)"a\r\nb", 4), vlen;

	(void)state;
	const uint8_t *v = mcproto_set_value(buf, n, &vlen);
	assert_int_equal(vlen, 4);
	assert_memory_equal(v, "a\r\nb", 4);
}

static void expect_meta(const char *line, enum mcproto_meta want, long want_opaque)
{
	long opaque = 12345;
	enum mcproto_meta got = mcproto_classify_meta(line, strlen(line), &opaque);

	if (got != want || opaque != want_opaque)
		fail_msg("'%s' classified %d with opaque %ld, expected %d with %ld", line, (int)got,
			 opaque, (int)want, want_opaque);
}

static void meta_codes(void **state)
{
	(void)state;
	expect_meta("HD", MCPROTO_META_STORED, -1);
	expect_meta("HD O7", MCPROTO_META_STORED, 7);
	expect_meta("NS O0", MCPROTO_META_REJECTED, 0);
	expect_meta("EX O2048", MCPROTO_META_REJECTED, 2048);
	expect_meta("NF O12", MCPROTO_META_REJECTED, 12);
	expect_meta("NS", MCPROTO_META_REJECTED, -1);
	expect_meta("MN", MCPROTO_META_NOOP, -1);
	/* Flags the server may add around the token are passed over. */
	expect_meta("HD kidfa:x O5 c123", MCPROTO_META_STORED, 5);
	expect_meta("NS k O999999999", MCPROTO_META_REJECTED, 999999999);
}

static void meta_errors(void **state)
{
	(void)state;
	expect_meta("SERVER_ERROR object too large for cache", MCPROTO_META_TOO_LARGE, -1);
	expect_meta("SERVER_ERROR out of memory storing object", MCPROTO_META_FAILED, -1);
	expect_meta("SERVER_ERROR", MCPROTO_META_FAILED, -1);
	expect_meta("CLIENT_ERROR bad data chunk", MCPROTO_META_RESYNC, -1);
	expect_meta("ERROR", MCPROTO_META_RESYNC, -1);
	expect_meta("ERROR Too many open connections", MCPROTO_META_BUSY, -1);
}

static void meta_garbage(void **state)
{
	(void)state;
	/* The text protocol's answers to a set are no answer to an ms. */
	expect_meta("STORED", MCPROTO_META_GARBAGE, -1);
	expect_meta("NOT_STORED", MCPROTO_META_GARBAGE, -1);
	expect_meta("EXISTS", MCPROTO_META_GARBAGE, -1);
	expect_meta("MN O1", MCPROTO_META_GARBAGE, -1);
	expect_meta("MN ", MCPROTO_META_GARBAGE, -1);
	expect_meta("HDX", MCPROTO_META_GARBAGE, -1);
	expect_meta("HD ", MCPROTO_META_GARBAGE, -1);
	expect_meta("HD  O1", MCPROTO_META_GARBAGE, -1);
	expect_meta("HD O1 ", MCPROTO_META_GARBAGE, -1);
	expect_meta("HD O", MCPROTO_META_GARBAGE, -1);
	expect_meta("HD O-1", MCPROTO_META_GARBAGE, -1);
	expect_meta("HD Ox", MCPROTO_META_GARBAGE, -1);
	expect_meta("HD O1x", MCPROTO_META_GARBAGE, -1);
	expect_meta("HD O1000000000", MCPROTO_META_GARBAGE, -1);
	expect_meta("HD O1 O2", MCPROTO_META_GARBAGE, -1);
	expect_meta("EN", MCPROTO_META_GARBAGE, -1);
	expect_meta("VA 1 O1", MCPROTO_META_GARBAGE, -1);
	expect_meta("hd O1", MCPROTO_META_GARBAGE, -1);
	expect_meta("H", MCPROTO_META_GARBAGE, -1);
	expect_meta("", MCPROTO_META_GARBAGE, -1);
	/* The length counts, not a NUL. */
	long opaque;
	assert_int_equal(mcproto_classify_meta("HD O12", 5, &opaque), MCPROTO_META_STORED);
	assert_int_equal(opaque, 1);
	assert_int_equal(mcproto_classify_meta("MN\0", 3, &opaque), MCPROTO_META_GARBAGE);
}

/* ---- get: the command, and the replies element by element ---- */

/* Keys N (decimal, KEYLEN bytes, zero-padded) from FROM on, added to G
 * until it is full; the command is checked against one built with
 * snprintf. Returns how many keys it took. */
static size_t fill_get(struct mcproto_get *g, int from, size_t keylen)
{
	char *want = malloc(MCPROTO_GET_BYTES + 512);
	char key[MCPROTO_KEY_MAX + 1];
	size_t wantlen = 3;

	assert_non_null(want);
	memcpy(want, "get", 3);
	mcproto_get_start(g);
	for (int i = from;; i++) {
		snprintf(key, sizeof(key), "%0*d", (int)keylen, i);
		if (mcproto_get_add(g, key, keylen) < 0)
			break;
		want[wantlen++] = ' ';
		memcpy(want + wantlen, key, keylen);
		wantlen += keylen;
	}
	mcproto_get_end(g);
	memcpy(want + wantlen, "\r\n", 2);
	wantlen += 2;
	assert_true(g->len <= MCPROTO_GET_BYTES);
	assert_int_equal(g->len, wantlen);
	assert_memory_equal(g->cmd, want, wantlen);
	free(want);
	return g->nkeys;
}

static void get_one_key(void **state)
{
	struct mcproto_get g;
	const char want[] = "get idfa:1\r\n";

	(void)state;
	mcproto_get_start(&g);
	assert_int_equal(mcproto_get_add(&g, "idfa:1", 6), 0);
	mcproto_get_end(&g);
	assert_int_equal(g.nkeys, 1);
	assert_int_equal(g.len, sizeof(want) - 1);
	assert_memory_equal(g.cmd, want, g.len);
}

/* Short keys: the key count is the bound. */
static void get_key_bound(void **state)
{
	struct mcproto_get g;

	(void)state;
	assert_int_equal(fill_get(&g, 0, 8), MCPROTO_GET_KEYS);
}

/* memcached's longest keys: the bytes are the bound, "\r\n" included:
 * 3 + 65 * 251 + 2 = 16320 bytes fit 16384, 66 keys would not. */
static void get_byte_bound(void **state)
{
	struct mcproto_get g;
	char key[MCPROTO_KEY_MAX];

	(void)state;
	assert_int_equal(fill_get(&g, 0, MCPROTO_KEY_MAX), 65);
	assert_int_equal(g.len, 16320);
	/* An empty command takes the longest key. */
	memset(key, 'k', sizeof(key));
	mcproto_get_start(&g);
	assert_int_equal(mcproto_get_add(&g, key, sizeof(key)), 0);
	/* Exactly full: a key that ends the command at MCPROTO_GET_BYTES. */
	mcproto_get_start(&g);
	while (g.len + 1 + MCPROTO_KEY_MAX + 2 <= MCPROTO_GET_BYTES)
		assert_int_equal(mcproto_get_add(&g, key, MCPROTO_KEY_MAX), 0);
	size_t last = MCPROTO_GET_BYTES - g.len - 3;
	assert_int_equal(mcproto_get_add(&g, key, last + 1), -1);
	assert_int_equal(mcproto_get_add(&g, key, last), 0);
	assert_int_equal(mcproto_get_add(&g, key, 1), -1);
	mcproto_get_end(&g);
	assert_int_equal(g.len, MCPROTO_GET_BYTES);
}

/* Parse one element of BUF (LEN bytes): expect KIND and USED bytes. */
static void expect_get(const char *buf, size_t len, enum mcproto_get_reply kind, size_t used,
		       struct mcproto_value *v)
{
	size_t got_used = 12345;
	enum mcproto_get_reply got = mcproto_parse_get(buf, len, v, &got_used);

	if (got != kind)
		fail_msg("'%.*s' parsed as %d, expected %d", (int)(len > 60 ? 60 : len), buf,
			 (int)got, (int)kind);
	assert_int_equal(got_used, used);
}

static void expect_get_line(const char *line, enum mcproto_get_reply kind)
{
	struct mcproto_value v;
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "%s\r\n", line);

	expect_get(buf, (size_t)n, kind, kind == MCPROTO_GET_GARBAGE ? 0 : (size_t)n, &v);
	assert_int_equal(v.linelen, strlen(line));
	assert_memory_equal(v.line, line, v.linelen);
}

static void parse_value_and_end(void **state)
{
	const char buf[] = "VALUE idfa:1 0 5\r\nhello\r\nVALUE k 4294967295 0\r\n\r\nEND\r\n";
	size_t len = sizeof(buf) - 1;
	struct mcproto_value v;

	(void)state;
	expect_get(buf, len, MCPROTO_GET_VALUE, 25, &v);
	assert_int_equal(v.keylen, 6);
	assert_memory_equal(v.key, "idfa:1", 6);
	assert_int_equal(v.flags, 0);
	assert_int_equal(v.datalen, 5);
	assert_ptr_equal(v.data, (const uint8_t *)buf + 18);
	assert_int_equal(v.need, 0);
	expect_get(buf + 25, len - 25, MCPROTO_GET_VALUE, 24, &v);
	assert_memory_equal(v.key, "k", 1);
	assert_int_equal(v.flags, 4294967295u);
	assert_int_equal(v.datalen, 0);
	expect_get(buf + 49, len - 49, MCPROTO_GET_END, 5, &v);
	/* What gets adds after the length, a CAS, is taken too. */
	expect_get("VALUE k 1 2 18446744073709551615\r\nab\r\n", 38, MCPROTO_GET_VALUE, 38, &v);
	assert_int_equal(v.flags, 1);
	assert_int_equal(v.datalen, 2);
}

/* The value is framed by its length: "\r\nEND\r\n" and NULs inside it are
 * data, not the end of the reply. */
static void parse_value_holding_end(void **state)
{
	const char buf[] = "VALUE k 0 12\r\nx\r\nEND\r\n\0\0\r\n\r\nEND\r\n";
	size_t len = sizeof(buf) - 1;
	struct mcproto_value v;

	(void)state;
	expect_get(buf, len, MCPROTO_GET_VALUE, 28, &v);
	assert_int_equal(v.datalen, 12);
	assert_memory_equal(v.data, "x\r\nEND\r\n\0\0\r\n", 12);
	expect_get(buf + 28, len - 28, MCPROTO_GET_END, 5, &v);
}

/* Every prefix of a reply is "more", with the whole element's size known
 * once its VALUE line is complete; the whole parses. */
static void parse_every_prefix(void **state)
{
	const char buf[] = "VALUE dvid:xyz 7 10\r\n0123\r\nEND\r\r\n";
	size_t len = sizeof(buf) - 1;
	struct mcproto_value v;

	(void)state;
	for (size_t n = 0; n < len; n++) {
		expect_get(buf, n, MCPROTO_GET_MORE, 0, &v);
		assert_int_equal(v.need, n < 21 ? 0 : len);
		if (n >= 21) {
			assert_int_equal(v.keylen, 8);
			assert_memory_equal(v.key, "dvid:xyz", 8);
			assert_int_equal(v.datalen, 10);
		}
	}
	expect_get(buf, len, MCPROTO_GET_VALUE, len, &v);
	assert_int_equal(v.flags, 7);
	expect_get("END", 3, MCPROTO_GET_MORE, 0, &v);
	expect_get("END\r", 4, MCPROTO_GET_MORE, 0, &v);
}

static void parse_errors(void **state)
{
	(void)state;
	expect_get_line("SERVER_ERROR out of memory writing get response", MCPROTO_GET_FAILED);
	expect_get_line("SERVER_ERROR", MCPROTO_GET_FAILED);
	expect_get_line("CLIENT_ERROR bad command line format", MCPROTO_GET_RESYNC);
	expect_get_line("ERROR", MCPROTO_GET_RESYNC);
	expect_get_line("ERROR Too many open connections", MCPROTO_GET_BUSY);
}

static void parse_garbage(void **state)
{
	struct mcproto_value v;

	(void)state;
	/* Replies to a set, or to nothing, are no answer to a get. */
	expect_get_line("STORED", MCPROTO_GET_GARBAGE);
	expect_get_line("NOT_FOUND", MCPROTO_GET_GARBAGE);
	expect_get_line("END ", MCPROTO_GET_GARBAGE);
	expect_get_line("ENDX", MCPROTO_GET_GARBAGE);
	expect_get_line("", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE ", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k 0", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k 0 ", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k  0 1", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE  k 0 1", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k 0 1 ", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k 0 1 2 3", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k -1 1", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k +0 1", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k 0 0x1", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k 4294967296 1", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k 0 1073741825", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k 0 99999999999999999999999", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k 0 1 18446744073709551616", MCPROTO_GET_GARBAGE);
	expect_get_line("VALUE k 0 1 x", MCPROTO_GET_GARBAGE);
	expect_get_line("value k 0 1", MCPROTO_GET_GARBAGE);
	/* The data must end where its length says. */
	expect_get("VALUE k 0 2\r\nabc\r\n", 18, MCPROTO_GET_GARBAGE, 0, &v);
	expect_get("VALUE k 0 4\r\nabc\r\nEND\r\n", 23, MCPROTO_GET_GARBAGE, 0, &v);
	expect_get("VALUE k 0 3\r\nabc\n\n", 18, MCPROTO_GET_GARBAGE, 0, &v);
	/* The largest value memcached can hold is still a value. */
	expect_get("VALUE k 0 1073741824\r\n", 22, MCPROTO_GET_MORE, 0, &v);
	assert_int_equal(v.need, 22 + 1073741824 + 2);
}

/* A line with no end is "more" while it could still be a reply line, and
 * garbage past MCPROTO_LINE_MAX. */
static void parse_long_line(void **state)
{
	char *buf = malloc(MCPROTO_LINE_MAX + 8);
	struct mcproto_value v;

	(void)state;
	assert_non_null(buf);
	memset(buf, 'x', MCPROTO_LINE_MAX + 8);
	memcpy(buf, "SERVER_ERROR ", 13);
	expect_get(buf, MCPROTO_LINE_MAX + 1, MCPROTO_GET_MORE, 0, &v);
	expect_get(buf, MCPROTO_LINE_MAX + 2, MCPROTO_GET_GARBAGE, 0, &v);
	memcpy(buf + MCPROTO_LINE_MAX, "\r\n", 2);
	expect_get(buf, MCPROTO_LINE_MAX + 2, MCPROTO_GET_FAILED, MCPROTO_LINE_MAX + 2, &v);
	memcpy(buf + MCPROTO_LINE_MAX, "x\r\n", 3);
	expect_get(buf, MCPROTO_LINE_MAX + 3, MCPROTO_GET_GARBAGE, 0, &v);
	free(buf);
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
		cmocka_unit_test(ms_simple),
		cmocka_unit_test(ms_bounds),
		cmocka_unit_test(set_value_read_back),
		cmocka_unit_test(meta_codes),
		cmocka_unit_test(meta_errors),
		cmocka_unit_test(meta_garbage),
		cmocka_unit_test(get_one_key),
		cmocka_unit_test(get_key_bound),
		cmocka_unit_test(get_byte_bound),
		cmocka_unit_test(parse_value_and_end),
		cmocka_unit_test(parse_value_holding_end),
		cmocka_unit_test(parse_every_prefix),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(parse_garbage),
		cmocka_unit_test(parse_long_line),
	};
	return cmocka_run_group_tests_name("mcproto", tests, NULL, NULL);
}
