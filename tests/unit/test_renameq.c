/* test_renameq.c -- renames stay a chronological prefix, whatever the order
 * files finish in and whichever fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "renameq.h"

/* Rename everything the queue allows, as the supervisor does; returns how
 * many were renamed. RENAME_OK decides whether the rename(2) succeeds. */
static int rename_all(struct renameq *q, int rename_ok)
{
	long k;
	int count = 0;

	while ((k = renameq_next(q)) >= 0) {
		renameq_renamed(q, (size_t)k, rename_ok);
		count += rename_ok;
	}
	return count;
}

static void in_order(void **state)
{
	struct renameq q;

	(void)state;
	assert_int_equal(renameq_init(&q, 3), 0);
	for (size_t i = 0; i < 3; i++) {
		renameq_finish(&q, i, 1);
		assert_int_equal(renameq_next(&q), (long)i);
		assert_int_equal(rename_all(&q, 1), 1);
	}
	assert_int_equal(renameq_next(&q), -1);
	assert_int_equal(renameq_blocker(&q), -1);
	renameq_free(&q);
}

static void earlier_file_finishes_last(void **state)
{
	struct renameq q;

	(void)state;
	assert_int_equal(renameq_init(&q, 4), 0);
	renameq_finish(&q, 3, 1);
	renameq_finish(&q, 1, 1);
	assert_int_equal(renameq_next(&q), -1); /* file 0 still running */
	renameq_finish(&q, 2, 1);
	assert_int_equal(renameq_next(&q), -1);
	renameq_finish(&q, 0, 1);
	/* Now all four go, oldest first. */
	for (long i = 0; i < 4; i++) {
		assert_int_equal(renameq_next(&q), i);
		renameq_renamed(&q, (size_t)i, 1);
	}
	assert_int_equal(renameq_next(&q), -1);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(q.state[i], FILE_RENAMED);
	renameq_free(&q);
}

static void failure_holds_back_later_files(void **state)
{
	struct renameq q;

	(void)state;
	assert_int_equal(renameq_init(&q, 5), 0);
	renameq_finish(&q, 0, 1);
	assert_int_equal(rename_all(&q, 1), 1);
	renameq_finish(&q, 3, 1); /* loaded before the failure is known */
	renameq_finish(&q, 1, 0);
	renameq_finish(&q, 2, 1);
	renameq_finish(&q, 4, 1);
	assert_int_equal(rename_all(&q, 1), 0);
	assert_int_equal(renameq_blocker(&q), 1);
	assert_false(renameq_held_back(&q, 0));
	assert_false(renameq_held_back(&q, 1));
	assert_true(renameq_held_back(&q, 2));
	assert_true(renameq_held_back(&q, 3));
	assert_true(renameq_held_back(&q, 4));
	assert_int_equal(q.state[0], FILE_RENAMED);
	assert_int_equal(q.state[1], FILE_FAILED);
	renameq_free(&q);
}

static void first_file_fails(void **state)
{
	struct renameq q;

	(void)state;
	assert_int_equal(renameq_init(&q, 3), 0);
	renameq_finish(&q, 2, 1);
	renameq_finish(&q, 1, 1);
	renameq_finish(&q, 0, 0);
	assert_int_equal(renameq_next(&q), -1);
	assert_int_equal(renameq_blocker(&q), 0);
	assert_true(renameq_held_back(&q, 1));
	assert_true(renameq_held_back(&q, 2));
	renameq_free(&q);
}

static void failed_rename_blocks(void **state)
{
	struct renameq q;

	(void)state;
	assert_int_equal(renameq_init(&q, 3), 0);
	renameq_finish(&q, 0, 1);
	renameq_finish(&q, 1, 1);
	renameq_finish(&q, 2, 1);
	assert_int_equal(renameq_next(&q), 0);
	renameq_renamed(&q, 0, 0); /* e.g. read-only directory */
	assert_int_equal(renameq_next(&q), -1);
	assert_int_equal(renameq_blocker(&q), 0);
	assert_true(renameq_held_back(&q, 1));
	assert_true(renameq_held_back(&q, 2));
	renameq_free(&q);
}

static void misuse_is_ignored(void **state)
{
	struct renameq q;

	(void)state;
	assert_int_equal(renameq_init(&q, 2), 0);
	renameq_finish(&q, 7, 1);     /* out of range */
	renameq_renamed(&q, 1, 1);    /* not next, not loaded */
	assert_int_equal(renameq_next(&q), -1);
	renameq_finish(&q, 0, 1);
	renameq_finish(&q, 0, 0);     /* a second report does not change the first */
	assert_int_equal(renameq_next(&q), 0);
	renameq_free(&q);
}

static void empty_queue(void **state)
{
	struct renameq q;

	(void)state;
	assert_int_equal(renameq_init(&q, 0), 0);
	assert_int_equal(renameq_next(&q), -1);
	assert_int_equal(renameq_blocker(&q), -1);
	renameq_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(in_order),
		cmocka_unit_test(earlier_file_finishes_last),
		cmocka_unit_test(failure_holds_back_later_files),
		cmocka_unit_test(first_file_fails),
		cmocka_unit_test(failed_rename_blocks),
		cmocka_unit_test(misuse_is_ignored),
		cmocka_unit_test(empty_queue),
	};
	return cmocka_run_group_tests_name("renameq", tests, NULL, NULL);
}
