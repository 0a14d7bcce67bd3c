/* test_acks.c -- reply lines matched to the records in flight: text and
 * loud replies in order, a quiet batch's rejections by their token and the
 * rest by its MN, and the lines that cannot be matched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mc/acks.h"
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

/* Records FROM..TO-1 of KIND, all sent: key "kI". */
static void put_sent(struct window *w, enum window_kind kind, int from, int to)
{
	char key[16];
	size_t len;

	for (int i = from; i < to; i++) {
		int kl = snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(window_put(w, kind, key, (size_t)kl, (const uint8_t *)"v", 1), 0);
	}
	assert_int_equal(window_close_batch(w), 0);
	(void)window_unsent(w, &len);
	window_sent(w, len);
}

static enum ack feed(struct window *w, struct ack_counts *c, const char *line)
{
	return acks_line(w, line, strlen(line), c, "test");
}

static void expect_counts(const struct ack_counts *c, uint64_t stored, uint64_t rejected,
			  uint64_t too_large)
{
	assert_int_equal(c->stored, stored);
	assert_int_equal(c->rejected, rejected);
	assert_int_equal(c->too_large, too_large);
}

static void text_in_order(void **state)
{
	struct window *w = *state;
	struct ack_counts c = {0};

	put_sent(w, WINDOW_SET, 0, 6);
	assert_int_equal(feed(w, &c, "STORED"), ACK_OK);
	assert_int_equal(feed(w, &c, "NOT_STORED"), ACK_OK);
	assert_int_equal(feed(w, &c, "SERVER_ERROR object too large for cache"), ACK_OK);
	assert_int_equal(feed(w, &c, "SERVER_ERROR out of memory storing object"), ACK_OK);
	expect_counts(&c, 1, 2, 1);
	assert_int_equal(feed(w, &c, "CLIENT_ERROR bad data chunk"), ACK_RESYNC);
	expect_counts(&c, 1, 3, 1);
	assert_int_equal(window_records(w), 1);
	assert_int_equal(feed(w, &c, "HD O5"), ACK_GARBAGE);
	assert_int_equal(feed(w, &c, "ERROR Too many open connections"), ACK_BUSY);
	assert_int_equal(window_records(w), 1);
}

/* A reply to a record not sent yet is out of step, but a busy server
 * says so before anything is sent. */
static void unsent(void **state)
{
	struct window *w = *state;
	struct ack_counts c = {0};

	assert_int_equal(window_put(w, WINDOW_SET, "k", 1, (const uint8_t *)"v", 1), 0);
	assert_int_equal(feed(w, &c, "STORED"), ACK_GARBAGE);
	assert_int_equal(feed(w, &c, "ERROR Too many open connections"), ACK_BUSY);
	window_clear(w);
	assert_int_equal(window_put(w, WINDOW_LOUD, "k", 1, (const uint8_t *)"v", 1), 0);
	assert_int_equal(feed(w, &c, "HD O0"), ACK_GARBAGE);
	window_clear(w);
	assert_int_equal(window_put(w, WINDOW_QUIET, "k", 1, (const uint8_t *)"v", 1), 0);
	assert_int_equal(window_close_batch(w), 0);
	assert_int_equal(feed(w, &c, "MN"), ACK_GARBAGE);
	assert_int_equal(feed(w, &c, "NS O0"), ACK_GARBAGE);
	expect_counts(&c, 0, 0, 0);
}

static void loud_in_order(void **state)
{
	struct window *w = *state;
	struct ack_counts c = {0};

	put_sent(w, WINDOW_LOUD, 0, 7);
	assert_int_equal(feed(w, &c, "HD O0"), ACK_OK);
	assert_int_equal(feed(w, &c, "HD"), ACK_OK); /* a token is not required */
	assert_int_equal(feed(w, &c, "NS O2"), ACK_OK);
	assert_int_equal(feed(w, &c, "SERVER_ERROR object too large for cache"), ACK_OK);
	assert_int_equal(feed(w, &c, "SERVER_ERROR out of memory storing object"), ACK_OK);
	expect_counts(&c, 2, 2, 1);
	assert_int_equal(feed(w, &c, "HD O6"), ACK_GARBAGE); /* slot 5 is next */
	assert_int_equal(feed(w, &c, "MN"), ACK_GARBAGE);
	assert_int_equal(feed(w, &c, "STORED"), ACK_GARBAGE);
	assert_int_equal(feed(w, &c, "ERROR"), ACK_RESYNC);
	expect_counts(&c, 2, 3, 1);
	assert_int_equal(window_records(w), 1);
}

/* NS, EX and NF name their record; the quiet records before each were
 * stored; MN counts the rest of the batch. */
static void quiet_batch(void **state)
{
	struct window *w = *state;
	struct ack_counts c = {0};

	put_sent(w, WINDOW_QUIET, 0, 10); /* slots 0-9, the mark in 10 */
	assert_int_equal(feed(w, &c, "NS O3"), ACK_OK);
	expect_counts(&c, 3, 1, 0);
	assert_int_equal(feed(w, &c, "EX O4"), ACK_OK);
	assert_int_equal(feed(w, &c, "NF O8"), ACK_OK);
	expect_counts(&c, 6, 3, 0);
	assert_int_equal(feed(w, &c, "HD O9"), ACK_OK); /* a server that ignores q */
	expect_counts(&c, 7, 3, 0);
	assert_int_equal(feed(w, &c, "MN"), ACK_OK);
	expect_counts(&c, 7, 3, 0);
	assert_int_equal(window_entries(w), 0);
}

static void quiet_batches(void **state)
{
	struct window *w = *state;
	struct ack_counts c = {0};

	put_sent(w, WINDOW_QUIET, 0, 2 * WINDOW_BATCH + 5);
	assert_int_equal(feed(w, &c, "MN"), ACK_OK);
	expect_counts(&c, WINDOW_BATCH, 0, 0);
	/* The first batch's mark is in slot WINDOW_BATCH; the second batch follows. */
	char line[32];
	snprintf(line, sizeof(line), "NS O%d", WINDOW_BATCH + 1);
	assert_int_equal(feed(w, &c, line), ACK_OK);
	expect_counts(&c, WINDOW_BATCH, 1, 0);
	assert_int_equal(feed(w, &c, "MN"), ACK_OK);
	assert_int_equal(feed(w, &c, "MN"), ACK_OK);
	expect_counts(&c, 2 * WINDOW_BATCH + 4, 1, 0);
	assert_int_equal(window_entries(w), 0);
}

/* Tokens that name no record waiting for that reply. */
static void quiet_out_of_step(void **state)
{
	struct window *w = *state;
	struct ack_counts c = {0};

	put_sent(w, WINDOW_QUIET, 0, 3); /* slots 0-2, the mark in 3 */
	put_sent(w, WINDOW_QUIET, 4, 6); /* slots 4-5, the mark in 6 */
	assert_int_equal(feed(w, &c, "NS"), ACK_GARBAGE);
	assert_int_equal(feed(w, &c, "NS O3"), ACK_GARBAGE);
	assert_int_equal(feed(w, &c, "NS O4"), ACK_GARBAGE); /* after this batch's MN */
	assert_int_equal(feed(w, &c, "NS O7"), ACK_GARBAGE);
	assert_int_equal(feed(w, &c, "NS O2048"), ACK_GARBAGE);
	assert_int_equal(feed(w, &c, "STORED"), ACK_GARBAGE);
	assert_int_equal(feed(w, &c, "NS O1"), ACK_OK);
	assert_int_equal(feed(w, &c, "NS O1"), ACK_GARBAGE); /* counted already */
	assert_int_equal(feed(w, &c, "NS O0"), ACK_GARBAGE);
	expect_counts(&c, 1, 1, 0);
}

/* An error line in a quiet batch could be any record's: nothing counted. */
static void quiet_error_names_no_record(void **state)
{
	static const char *const errors[] = {
		"SERVER_ERROR object too large for cache",
		"SERVER_ERROR out of memory storing object",
		"CLIENT_ERROR bad data chunk",
		"ERROR",
	};
	struct window *w = *state;
	struct ack_counts c = {0};

	put_sent(w, WINDOW_QUIET, 0, 5);
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		assert_int_equal(feed(w, &c, errors[i]), ACK_UNKNOWN);
	assert_int_equal(feed(w, &c, "ERROR Too many open connections"), ACK_BUSY);
	expect_counts(&c, 0, 0, 0);
	assert_int_equal(window_records(w), 5);
	/* Sent again answered, they are counted one by one. */
	assert_int_equal(window_recode(w, WINDOW_LOUD), 0);
	size_t len;
	(void)window_unsent(w, &len);
	window_sent(w, len);
	assert_int_equal(feed(w, &c, "HD O0"), ACK_OK);
	assert_int_equal(feed(w, &c, "SERVER_ERROR object too large for cache"), ACK_OK);
	assert_int_equal(feed(w, &c, "HD O2"), ACK_OK);
	expect_counts(&c, 2, 0, 1);
}

/* After a loud run, a quiet batch again. */
static void loud_then_quiet(void **state)
{
	struct window *w = *state;
	struct ack_counts c = {0};

	put_sent(w, WINDOW_LOUD, 0, 2);
	put_sent(w, WINDOW_QUIET, 2, 4); /* slots 2-3, the mark in 4 */
	assert_int_equal(feed(w, &c, "MN"), ACK_GARBAGE);
	assert_int_equal(feed(w, &c, "HD O0"), ACK_OK);
	assert_int_equal(feed(w, &c, "NS O1"), ACK_OK);
	assert_int_equal(feed(w, &c, "HD O1"), ACK_GARBAGE);
	assert_int_equal(feed(w, &c, "MN"), ACK_OK);
	expect_counts(&c, 3, 1, 0);
	assert_int_equal(window_entries(w), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(text_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(unsent, setup, teardown),
		cmocka_unit_test_setup_teardown(loud_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(quiet_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(quiet_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(quiet_out_of_step, setup, teardown),
		cmocka_unit_test_setup_teardown(quiet_error_names_no_record, setup, teardown),
		cmocka_unit_test_setup_teardown(loud_then_quiet, setup, teardown),
	};
	return cmocka_run_group_tests_name("acks", tests, NULL, NULL);
}
