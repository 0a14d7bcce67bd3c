/* test_window.c -- the commands in flight: byte for byte in each protocol,
 * marks between quiet batches, what an MN or an opaque token answers, and
 * a window encoded again for a server of the other protocol. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mc/mcproto.h"
#include "mc/window.h"

static int setup(void **state)
{
	*state = window_new();
	return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	window_free(*state);
	return 0;
}

/* Record I: key "kI", value "vI". */
static void put(struct window *w, enum window_kind kind, int i)
{
	char key[16], value[16];
	int kl = snprintf(key, sizeof(key), "k%d", i);
	int vl = snprintf(value, sizeof(value), "v%d", i);

	assert_int_equal(window_put(w, kind, key, (size_t)kl, (const uint8_t *)value, (size_t)vl),
			 0);
}

/* Everything unsent is WANT, byte for byte. */
static void expect_unsent(struct window *w, const char *want)
{
	size_t len;
	const char *got = window_unsent(w, &len);

	if (len != strlen(want) || memcmp(got, want, len) != 0)
		fail_msg("unsent '%.*s', expected '%s'", (int)len, got, want);
}

/* Send everything unsent. */
static void send_all(struct window *w)
{
	size_t len;

	(void)window_unsent(w, &len);
	window_sent(w, len);
}

static void expect_head(struct window *w, enum window_kind kind, size_t slot, int sent)
{
	size_t got_slot;
	int got_sent;

	assert_int_equal(window_head(w, &got_slot, &got_sent), kind);
	assert_int_equal(got_slot, slot);
	assert_int_equal(got_sent, sent);
}

static void text_records(void **state)
{
	struct window *w = *state;

	put(w, WINDOW_SET, 1);
	put(w, WINDOW_SET, 22);
	assert_int_equal(window_records(w), 2);
	assert_int_equal(window_entries(w), 2);
	assert_int_equal(window_close_batch(w), 0); /* no quiet batch: no mark */
	expect_unsent(w, "set k1 0 0 2\r\nv1\r\nset k22 0 0 3\r\nv22\r\n");
	assert_int_equal(window_bytes(w), 38);
	window_sent(w, 10);
	expect_head(w, WINDOW_SET, 0, 0);
	send_all(w);
	expect_head(w, WINDOW_SET, 0, 1);
	window_pop(w);
	expect_head(w, WINDOW_SET, 1, 1);
	expect_unsent(w, "");
	/* A new connection is sent what is left. */
	window_rewind(w);
	expect_unsent(w, "set k22 0 0 3\r\nv22\r\n");
}

/* Quiet records carry their slot; a loud one after them closes the batch
 * first, so its reply cannot be taken for one of theirs. */
static void quiet_then_loud(void **state)
{
	struct window *w = *state;

	put(w, WINDOW_QUIET, 1);
	put(w, WINDOW_QUIET, 2);
	put(w, WINDOW_LOUD, 3);
	put(w, WINDOW_QUIET, 4);
	assert_int_equal(window_close_batch(w), 0);
	assert_int_equal(window_close_batch(w), 0); /* once */
	expect_unsent(w, "ms k1 2 O0 q\r\nv1\r\nms k2 2 O1 q\r\nv2\r\nmn\r\n"
			 "ms k3 2 O3\r\nv3\r\nms k4 2 O4 q\r\nv4\r\nmn\r\n");
	assert_int_equal(window_records(w), 4);
	assert_int_equal(window_entries(w), 6);
}

/* A mark after every WINDOW_BATCH quiet records, without being asked. */
static void batches(void **state)
{
	struct window *w = *state;

	for (int i = 0; i < 2 * WINDOW_BATCH + 1; i++)
		put(w, WINDOW_QUIET, i);
	assert_int_equal(window_records(w), 2 * WINDOW_BATCH + 1);
	assert_int_equal(window_entries(w), 2 * WINDOW_BATCH + 3);
	send_all(w);
	assert_int_equal(window_batch_end(w), WINDOW_BATCH);
	for (int i = 0; i <= WINDOW_BATCH; i++)
		window_pop(w);
	assert_int_equal(window_batch_end(w), WINDOW_BATCH);
}

/* What an MN answers: the quiet records before the first mark, once the
 * mark is sent. */
static void batch_end(void **state)
{
	struct window *w = *state;
	size_t len;

	put(w, WINDOW_QUIET, 1);
	put(w, WINDOW_QUIET, 2);
	assert_int_equal(window_batch_end(w), -1); /* no mark yet */
	assert_int_equal(window_close_batch(w), 0);
	(void)window_unsent(w, &len);
	window_sent(w, len - 1);
	assert_int_equal(window_batch_end(w), -1); /* the mark not all sent */
	window_sent(w, 1);
	assert_int_equal(window_batch_end(w), 2);
	window_pop(w);
	window_pop(w);
	assert_int_equal(window_batch_end(w), 0);
	window_pop(w);
	assert_int_equal(window_entries(w), 0);
	/* A loud record is answered by itself, never by an MN. */
	put(w, WINDOW_LOUD, 3);
	send_all(w);
	assert_int_equal(window_batch_end(w), -1);
}

/* What a token answers: a sent quiet record, with only quiet ones before it. */
static void find_quiet(void **state)
{
	struct window *w = *state;

	put(w, WINDOW_QUIET, 0);
	put(w, WINDOW_QUIET, 1);
	put(w, WINDOW_QUIET, 2);
	assert_int_equal(window_close_batch(w), 0); /* slot 3 */
	put(w, WINDOW_QUIET, 4);
	assert_int_equal(window_find_quiet(w, 1), -1); /* not sent */
	send_all(w);
	assert_int_equal(window_find_quiet(w, 0), 0);
	assert_int_equal(window_find_quiet(w, 2), 2);
	assert_int_equal(window_find_quiet(w, 3), -1); /* the mark */
	assert_int_equal(window_find_quiet(w, 4), -1); /* after the mark */
	assert_int_equal(window_find_quiet(w, 5), -1); /* no entry */
	assert_int_equal(window_find_quiet(w, -1), -1);
	assert_int_equal(window_find_quiet(w, WINDOW_SLOTS), -1);
	window_pop(w);
	window_pop(w);
	assert_int_equal(window_find_quiet(w, 0), -1); /* counted already */
	assert_int_equal(window_find_quiet(w, 2), 0);
}

/* Slots go round the ring; the records bound holds. */
static void ring(void **state)
{
	struct window *w = *state;
	size_t slot;
	int sent;

	for (int round = 0; round < 5; round++) {
		while (window_records(w) < WINDOW_RECORDS)
			put(w, round % 2 ? WINDOW_QUIET : WINDOW_LOUD, (int)window_records(w));
		assert_int_equal(window_put(w, WINDOW_SET, "k", 1, (const uint8_t *)"v", 1), -1);
		send_all(w);
		for (int i = 0; i < 700; i++) {
			enum window_kind k = window_head(w, &slot, &sent);
			assert_true(sent);
			assert_true(slot < WINDOW_SLOTS);
			if (k == WINDOW_QUIET)
				assert_int_equal(window_find_quiet(w, (long)slot), 0);
			window_pop(w);
		}
	}
	assert_true(window_entries(w) <= WINDOW_SLOTS);
}

/* A window of text sets for a server that speaks meta, and back. */
static void recode(void **state)
{
	struct window *w = *state;

	put(w, WINDOW_SET, 1);
	put(w, WINDOW_SET, 2);
	put(w, WINDOW_SET, 3);
	send_all(w);
	window_pop(w);
	window_rewind(w);
	assert_int_equal(window_recode(w, WINDOW_SET), 0); /* as it is */
	expect_unsent(w, "set k2 0 0 2\r\nv2\r\nset k3 0 0 2\r\nv3\r\n");
	assert_int_equal(window_recode(w, WINDOW_QUIET), 0);
	expect_unsent(w, "ms k2 2 O0 q\r\nv2\r\nms k3 2 O1 q\r\nv3\r\n");
	assert_int_equal(window_close_batch(w), 0);
	put(w, WINDOW_LOUD, 4);
	assert_int_equal(window_recode(w, WINDOW_QUIET), 0); /* meta stays meta */
	expect_unsent(w, "ms k2 2 O0 q\r\nv2\r\nms k3 2 O1 q\r\nv3\r\nmn\r\nms k4 2 O3\r\nv4\r\n");
	assert_int_equal(window_recode(w, WINDOW_LOUD), 0);
	expect_unsent(w, "ms k2 2 O0\r\nv2\r\nms k3 2 O1\r\nv3\r\nms k4 2 O2\r\nv4\r\n");
	assert_int_equal(window_records(w), 3);
	assert_int_equal(window_entries(w), 3);
	assert_int_equal(window_recode(w, WINDOW_SET), 0);
	expect_unsent(w, "set k2 0 0 2\r\nv2\r\nset k3 0 0 2\r\nv3\r\nset k4 0 0 2\r\nv4\r\n");
	assert_int_equal(window_entries(w), 3);
	expect_head(w, WINDOW_SET, 0, 0);
}

/* Values of any bytes, and quiet batches, survive the round trip. */
static void recode_batches(void **state)
{
	struct window *w = *state;
	uint8_t value[300];

	for (size_t i = 0; i < sizeof(value); i++)
		value[i] = (uint8_t)(i * 7);
	memcpy(value, "\r\nmn\r\nset", 9);
	for (int i = 0; i < WINDOW_RECORDS; i++)
		assert_int_equal(window_put(w, WINDOW_SET, "key", 3, value, (size_t)i % 300), 0);
	assert_int_equal(window_recode(w, WINDOW_QUIET), 0);
	assert_int_equal(window_records(w), WINDOW_RECORDS);
	assert_int_equal(window_close_batch(w), 0);
	assert_int_equal(window_entries(w), WINDOW_RECORDS + WINDOW_RECORDS / WINDOW_BATCH);
	assert_int_equal(window_recode(w, WINDOW_SET), 0);
	send_all(w);
	for (int i = 0; i < WINDOW_RECORDS; i++) {
		size_t len, vlen;
		const char *cmd = window_head_cmd(w, &len);
		const uint8_t *v = mcproto_set_value(cmd, len, &vlen);
		assert_int_equal(vlen, (size_t)i % 300);
		assert_memory_equal(v, value, vlen);
		window_pop(w);
	}
	assert_int_equal(window_records(w), 0);
}

static void clear(void **state)
{
	struct window *w = *state;

	put(w, WINDOW_QUIET, 1);
	window_clear(w);
	assert_int_equal(window_records(w), 0);
	assert_int_equal(window_entries(w), 0);
	assert_int_equal(window_bytes(w), 0);
	assert_int_equal(window_close_batch(w), 0);
	expect_unsent(w, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(text_records, setup, teardown),
		cmocka_unit_test_setup_teardown(quiet_then_loud, setup, teardown),
		cmocka_unit_test_setup_teardown(batches, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_end, setup, teardown),
		cmocka_unit_test_setup_teardown(find_quiet, setup, teardown),
		cmocka_unit_test_setup_teardown(ring, setup, teardown),
		cmocka_unit_test_setup_teardown(recode, setup, teardown),
		cmocka_unit_test_setup_teardown(recode_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(clear, setup, teardown),
	};
	return cmocka_run_group_tests_name("window", tests, NULL, NULL);
}
