/* test_progress.c -- the status line's text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "progress.h"

static void running(void **state)
{
	char buf[256];
	struct progress_view v = {
		.files_done = 1, .files_total = 3, .running = 2, .records = 1234567,
		.bytes_in = 50000000, .bytes_total = 150000000, .elapsed = 10.0,
	};

	(void)state;
	progress_format(buf, sizeof(buf), &v);
	/* 50 MB in 10 s: 5 MB/s, and 100 MB left takes 20 s more. */
	assert_string_equal(buf, "files 1/3 done, 2 running | 1.2M records, 123k/s | 5.0 MB/s in "
				 "| ETA 0:00:20");
}

static void at_start(void **state)
{
	char buf[256];
	struct progress_view v = {.files_total = 2, .running = 2, .bytes_total = 1000};

	(void)state;
	progress_format(buf, sizeof(buf), &v);
	assert_string_equal(buf, "files 0/2 done, 2 running | 0 records, 0/s | 0.0 MB/s in | ETA --:--");
}

static void long_run(void **state)
{
	char buf[256];
	struct progress_view v = {
		.files_done = 0, .files_total = 1, .running = 1, .records = 9000,
		.bytes_in = 1, .bytes_total = 3601, .elapsed = 1.0,
	};

	(void)state;
	progress_format(buf, sizeof(buf), &v);
	assert_string_equal(buf, "files 0/1 done, 1 running | 9000 records, 9000/s | 0.0 MB/s in "
				 "| ETA 1:00:00");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(running),
		cmocka_unit_test(at_start),
		cmocka_unit_test(long_run),
	};
	return cmocka_run_group_tests_name("progress", tests, NULL, NULL);
}
