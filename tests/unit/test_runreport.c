/* test_runreport.c -- the exit status, decided in one place from the run
 * report: each of its causes, and which one wins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runreport.h"

static struct report_file files[2];
static struct run_report r;

/* Two files, both renamed: a run that went well. */
static void good_run(void)
{
	memset(files, 0, sizeof(files));
	memset(&r, 0, sizeof(r));
	files[0].outcome = files[1].outcome = OUTCOME_RENAMED;
	r.files = files;
	r.n = 2;
	r.ran = 1;
	r.blocker = -1;
}

static void every_cause_of_a_failure(void **state)
{
	(void)state;
	good_run();
	assert_int_equal(run_report_exit_status(&r), 0);
	r.n = 0; /* nothing to load is a good run too */
	assert_int_equal(run_report_exit_status(&r), 0);

	static const enum file_outcome not_done[] = {OUTCOME_PENDING, OUTCOME_LOADED,
						     OUTCOME_HELD_BACK, OUTCOME_FAILED,
						     OUTCOME_SET_ASIDE};
	for (size_t i = 0; i < sizeof(not_done) / sizeof(not_done[0]); i++) {
		good_run();
		files[1].outcome = not_done[i];
		assert_int_equal(run_report_exit_status(&r), 1);
	}
	good_run();
	files[0].high_error_rate = 1;
	assert_int_equal(run_report_exit_status(&r), 1);
	good_run();
	server_set_add(&files[1].lost, 3);
	assert_int_equal(run_report_exit_status(&r), 1);
	good_run();
	r.setup_failed = 1;
	assert_int_equal(run_report_exit_status(&r), 1);
	good_run();
	r.inputs_lost = 1;
	assert_int_equal(run_report_exit_status(&r), 1);
	good_run();
	r.reports_failed = 1;
	assert_int_equal(run_report_exit_status(&r), 1);
	good_run();
	r.log_lost = 2;
	assert_int_equal(run_report_exit_status(&r), 1);
}

static void dry_runs_load_and_rename_nothing(void **state)
{
	(void)state;
	good_run();
	r.dry = 1;
	assert_int_equal(run_report_exit_status(&r), 1); /* renamed in a dry run? no */
	files[0].outcome = files[1].outcome = OUTCOME_LOADED;
	assert_int_equal(run_report_exit_status(&r), 0);
}

static void the_lock_then_a_signal_win(void **state)
{
	(void)state;
	good_run();
	files[0].outcome = OUTCOME_FAILED;
	r.signal = 15;
	assert_int_equal(run_report_exit_status(&r), 143);
	r.lock_held = 1;
	assert_int_equal(run_report_exit_status(&r), 75);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_cause_of_a_failure),
		cmocka_unit_test(dry_runs_load_and_rename_nothing),
		cmocka_unit_test(the_lock_then_a_signal_win),
	};
	return cmocka_run_group_tests_name("runreport", tests, NULL, NULL);
}
