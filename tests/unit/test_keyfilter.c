/* test_keyfilter.c -- a repair pass leaves lines out by the key it reads
 * from their first two fields: for every line the full parse accepts, that
 * key must be the parsed one, or the pass could skip a record it must
 * re-send. Checked on hand-picked lines and on random ones built from the
 * bytes that matter (tabs, spaces, control bytes, type names). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "keys/keyfilter.h"
#include "keys/keyhash.h"
#include "line/encode.h"
#include "line/key.h"
#include "mc/mcproto.h"

struct codec {
	struct record rec;
	struct packbuf value;
};

/* If the full parse accepts LINE, the filter's key (when it gives one) is
 * the parsed key; returns 0 when the filter gave none, 2 when both gave
 * one (and they were compared), else 1. */
static int check_line(struct codec *c, const char *line, size_t len)
{
	char fast[MCPROTO_KEY_MAX + 1], full[MCPROTO_KEY_MAX + 1];
	enum dev_type type;
	size_t n = key_filter_line_key(line, len, fast, &type);

	if (encode_line(&c->rec, line, len, &c->value) != LINE_OK || n == 0)
		return n > 0;
	size_t m = key_build(&c->rec, full);
	assert_int_equal(n, m);
	assert_memory_equal(fast, full, n);
	assert_int_equal(type, c->rec.type);
	return 2;
}

static void test_lines(void **state)
{
	static const char *const lines[] = {
	    "idfa\te7e1a50c\t67.78\t-22.80\t7942,8519",
	    "gaid\tx\t1\t2\t3",
	    " idfa\tlead\t1\t2\t3",     /* stripped first: the filter gives no key */
	    "idfa\tid\t1\t2\t3 \t",     /* trailing whitespace is the apps' */
	    "idfa\tid with space\t1\t2\t3",
	    "idfa\t\t1\t2\t3",
	    "idfax\tid\t1\t2\t3",
	    "dvid\tid\t\t\t",
	    "adid\tid",
	    "adid\tid\t",
	};
	struct codec c;

	(void)state;
	assert_int_equal(record_init(&c.rec), 0);
	assert_int_equal(encode_init(&c.value), 0);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		check_line(&c, lines[i], strlen(lines[i]));
	/* The usual line does get a key: the pass need not parse it. */
	assert_true(check_line(&c, lines[0], strlen(lines[0])));
	assert_false(check_line(&c, lines[2], strlen(lines[2])));
	packbuf_free(&c.value);
	record_free(&c.rec);
}

static void test_random_lines(void **state)
{
	static const char *const pieces[] = {"idfa", "gaid", "adid", "dvid", "\t", " ", "\v",
					     "\x1f", "\x85", "\x7f", "a", "1", ".5", ",", "-", "x"};
	struct codec c;
	uint64_t rng = 88172645463325252u;
	unsigned keyed = 0, compared = 0;

	(void)state;
	assert_int_equal(record_init(&c.rec), 0);
	assert_int_equal(encode_init(&c.value), 0);
	for (int round = 0; round < 200000; round++) {
		char line[160];
		size_t len = 0;
		/* Half are the usual line with random bytes in the dev_id and at
		 * the end, half random throughout. */
		int usual = round % 2 == 0, n = usual ? 1 + (int)(rng % 3) : 1 + (int)(rng % 14);
		if (usual) {
			memcpy(line, pieces[round / 2 % 4], 4);
			line[4] = '\t';
			len = 5;
		}
		for (int i = 0; i < n; i++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			const char *p = pieces[rng % (sizeof(pieces) / sizeof(pieces[0]))];
			memcpy(line + len, p, strlen(p));
			len += strlen(p);
		}
		if (usual) {
			memcpy(line + len, "\t1.5\t-2.5\t7,8", 13);
			len += 13;
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			const char *p = pieces[rng % (sizeof(pieces) / sizeof(pieces[0]))];
			memcpy(line + len, p, strlen(p));
			len += rng % 3 == 0 ? strlen(p) : 0;
		}
		int got = check_line(&c, line, len);
		keyed += got > 0;
		compared += got == 2;
	}
	/* The filter's path was taken, and checked against valid lines. */
	assert_true(keyed > 10000 && compared > 1000);
	packbuf_free(&c.value);
	record_free(&c.rec);
}

static void test_passes(void **state)
{
	const uint64_t only[] = {3, 9, 27};
	struct server_set resend = {{0}};
	struct key_filter f = {only, 3, NULL};

	(void)state;
	assert_true(key_filter_passes(&f, 9, -1));
	assert_false(key_filter_passes(&f, 10, 2));
	server_set_add(&resend, 2);
	f.resend = &resend;
	assert_true(key_filter_passes(&f, 10, 2));
	assert_false(key_filter_passes(&f, 10, 1));
	f.only = NULL;
	assert_false(key_filter_passes(&f, 9, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_random_lines),
	    cmocka_unit_test(test_passes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
