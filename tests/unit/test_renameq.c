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
	struct renameq *q;

	(void)state;
	q = renameq_new(3, 1);
	assert_non_null(q);
	for (size_t i = 0; i < 3; i++) {
		renameq_finish(q, i, 1);
		assert_int_equal(renameq_next(q), (long)i);
		assert_int_equal(rename_all(q, 1), 1);
	}
	assert_int_equal(renameq_next(q), -1);
	assert_int_equal(renameq_blocker(q), -1);
	renameq_free(q);
}

static void earlier_file_finishes_last(void **state)
{
	struct renameq *q;

	(void)state;
	q = renameq_new(4, 1);
	assert_non_null(q);
	renameq_finish(q, 3, 1);
	renameq_finish(q, 1, 1);
	assert_int_equal(renameq_next(q), -1); /* file 0 still running */
	renameq_finish(q, 2, 1);
	assert_int_equal(renameq_next(q), -1);
	renameq_finish(q, 0, 1);
	/* Now all four go, oldest first. */
	for (long i = 0; i < 4; i++) {
		assert_int_equal(renameq_next(q), i);
		renameq_renamed(q, (size_t)i, 1);
	}
	assert_int_equal(renameq_next(q), -1);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(renameq_outcome(q, i), OUTCOME_RENAMED);
	renameq_free(q);
}

static void failure_holds_back_later_files(void **state)
{
	struct renameq *q;

	(void)state;
	q = renameq_new(5, 1);
	assert_non_null(q);
	renameq_finish(q, 0, 1);
	assert_int_equal(rename_all(q, 1), 1);
	renameq_finish(q, 3, 1); /* loaded before the failure is known */
	renameq_finish(q, 1, 0);
	renameq_finish(q, 2, 1);
	renameq_finish(q, 4, 1);
	assert_int_equal(rename_all(q, 1), 0);
	assert_int_equal(renameq_blocker(q), 1);
	assert_int_not_equal(renameq_outcome(q, 0), OUTCOME_HELD_BACK);
	assert_int_not_equal(renameq_outcome(q, 1), OUTCOME_HELD_BACK);
	assert_int_equal(renameq_outcome(q, 2), OUTCOME_HELD_BACK);
	assert_int_equal(renameq_outcome(q, 3), OUTCOME_HELD_BACK);
	assert_int_equal(renameq_outcome(q, 4), OUTCOME_HELD_BACK);
	assert_int_equal(renameq_outcome(q, 0), OUTCOME_RENAMED);
	assert_int_equal(renameq_outcome(q, 1), OUTCOME_FAILED);
	renameq_free(q);
}

static void a_file_set_aside_blocks_nothing(void **state)
{
	struct renameq *q;

	(void)state;
	q = renameq_new(4, 1);
	assert_non_null(q);
	renameq_finish(q, 2, 1);
	renameq_set_aside(q, 1);
	assert_int_equal(renameq_next(q), -1); /* file 0 still running */
	renameq_finish(q, 0, 1);
	assert_int_equal(rename_all(q, 1), 2); /* 0, then past 1 to 2 */
	renameq_set_aside(q, 3);
	assert_int_equal(renameq_next(q), -1);
	assert_int_equal(renameq_blocker(q), -1);
	assert_int_equal(renameq_outcome(q, 1), OUTCOME_SET_ASIDE);
	assert_int_equal(renameq_outcome(q, 2), OUTCOME_RENAMED);
	assert_int_equal(renameq_outcome(q, 3), OUTCOME_SET_ASIDE);
	/* Set aside behind a failure: still set aside, the later ones held back. */
	renameq_free(q);
	q = renameq_new(3, 1);
	renameq_finish(q, 0, 0);
	renameq_set_aside(q, 1);
	renameq_finish(q, 2, 1);
	assert_int_equal(renameq_outcome(q, 1), OUTCOME_SET_ASIDE);
	assert_int_equal(renameq_outcome(q, 2), OUTCOME_HELD_BACK);
	assert_int_equal(renameq_blocker(q), 0);
	renameq_free(q);
}

static void first_file_fails(void **state)
{
	struct renameq *q;

	(void)state;
	q = renameq_new(3, 1);
	assert_non_null(q);
	renameq_finish(q, 2, 1);
	renameq_finish(q, 1, 1);
	renameq_finish(q, 0, 0);
	assert_int_equal(renameq_next(q), -1);
	assert_int_equal(renameq_blocker(q), 0);
	assert_int_equal(renameq_outcome(q, 1), OUTCOME_HELD_BACK);
	assert_int_equal(renameq_outcome(q, 2), OUTCOME_HELD_BACK);
	renameq_free(q);
}

static void failed_rename_blocks(void **state)
{
	struct renameq *q;

	(void)state;
	q = renameq_new(3, 1);
	assert_non_null(q);
	renameq_finish(q, 0, 1);
	renameq_finish(q, 1, 1);
	renameq_finish(q, 2, 1);
	assert_int_equal(renameq_next(q), 0);
	renameq_renamed(q, 0, 0); /* e.g. read-only directory */
	assert_int_equal(renameq_next(q), -1);
	assert_int_equal(renameq_blocker(q), 0);
	assert_int_equal(renameq_outcome(q, 1), OUTCOME_HELD_BACK);
	assert_int_equal(renameq_outcome(q, 2), OUTCOME_HELD_BACK);
	renameq_free(q);
}

static void misuse_is_ignored(void **state)
{
	struct renameq *q;

	(void)state;
	q = renameq_new(2, 1);
	assert_non_null(q);
	renameq_finish(q, 7, 1);     /* out of range */
	renameq_renamed(q, 1, 1);    /* not next, not loaded */
	assert_int_equal(renameq_next(q), -1);
	renameq_finish(q, 0, 1);
	renameq_finish(q, 0, 0);     /* a second report does not change the first */
	assert_int_equal(renameq_next(q), 0);
	renameq_free(q);
}

static void empty_queue(void **state)
{
	struct renameq *q;

	(void)state;
	q = renameq_new(0, 1);
	assert_non_null(q);
	assert_int_equal(renameq_next(q), -1);
	assert_int_equal(renameq_blocker(q), -1);
	renameq_free(q);
}

/* Every outcome, as the log, the summary, the JSON and the exit status see it. */
static void outcomes(void **state)
{
	struct renameq *q = renameq_new(5, 1);

	(void)state;
	assert_non_null(q);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(renameq_outcome(q, i), OUTCOME_PENDING);
	renameq_finish(q, 0, 1);
	assert_int_equal(renameq_outcome(q, 0), OUTCOME_LOADED); /* not renamed yet */
	assert_int_equal(rename_all(q, 1), 1);
	assert_int_equal(renameq_outcome(q, 0), OUTCOME_RENAMED);
	renameq_finish(q, 2, 1);
	assert_int_equal(renameq_outcome(q, 2), OUTCOME_LOADED); /* file 1 may still load */
	renameq_finish(q, 1, 0);
	assert_int_equal(renameq_outcome(q, 1), OUTCOME_FAILED);
	assert_int_equal(renameq_outcome(q, 2), OUTCOME_HELD_BACK);
	renameq_finish(q, 4, 0);
	assert_int_equal(renameq_outcome(q, 3), OUTCOME_PENDING); /* e.g. never started */
	assert_int_equal(renameq_outcome(q, 4), OUTCOME_FAILED);
	assert_int_equal(renameq_outcome(q, 5), OUTCOME_PENDING); /* out of range */
	renameq_free(q);
}

/* A dry run renames nothing, so nothing is held back either. */
static void dry_run(void **state)
{
	struct renameq *q = renameq_new(3, 0);

	(void)state;
	assert_non_null(q);
	renameq_finish(q, 0, 0);
	renameq_finish(q, 1, 1);
	renameq_finish(q, 2, 1);
	assert_int_equal(renameq_next(q), -1);
	assert_int_equal(renameq_blocker(q), -1);
	assert_int_equal(renameq_outcome(q, 0), OUTCOME_FAILED);
	assert_int_equal(renameq_outcome(q, 1), OUTCOME_LOADED);
	assert_int_equal(renameq_outcome(q, 2), OUTCOME_LOADED);
	renameq_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(in_order),
		cmocka_unit_test(earlier_file_finishes_last),
		cmocka_unit_test(failure_holds_back_later_files),
		cmocka_unit_test(a_file_set_aside_blocks_nothing),
		cmocka_unit_test(first_file_fails),
		cmocka_unit_test(failed_rename_blocks),
		cmocka_unit_test(misuse_is_ignored),
		cmocka_unit_test(empty_queue),
		cmocka_unit_test(outcomes),
		cmocka_unit_test(dry_run),
	};
	return cmocka_run_group_tests_name("renameq", tests, NULL, NULL);
}
