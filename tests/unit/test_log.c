/* test_log.c -- lost log lines: failed and short writes counted, a
 * worker's count added, and the one message on stderr at the end. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static int setup(void **state)
{
	(void)state;
	log_failures_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_close();
	log_failures_reset();
	return 0;
}

/* What log_report_failures writes to stderr, into BUF; its return in *RC. */
static void capture_report(char *buf, size_t len, int *rc)
{
	int p[2], saved = dup(STDERR_FILENO);
	ssize_t n;

	assert_true(saved >= 0);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	*rc = log_report_failures();
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, len - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
}

static void nothing_lost_nothing_said(void **state)
{
	char err[256], said[512];
	int rc, e = -1;

	(void)state;
	assert_int_equal(log_open("/dev/null", LEVEL_INFO, err, sizeof(err)), 0);
	log_info("a line");
	assert_int_equal(log_failures(&e), 0);
	assert_int_equal(e, 0);
	capture_report(said, sizeof(said), &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(said, "");
}

static void failed_writes_are_counted_and_said_once(void **state)
{
	char err[256], said[512];
	int rc, e = 0;

	(void)state;
	assert_int_equal(log_open("/dev/full", LEVEL_INFO, err, sizeof(err)), 0);
	log_info("one");
	log_warn("two");
	log_debug("not written at this level, so not lost");
	assert_int_equal(log_failures(&e), 2);
	assert_int_equal(e, ENOSPC);
	capture_report(said, sizeof(said), &rc);
	assert_int_equal(rc, 1);
	assert_string_equal(said, "memc_load: cannot write to the log /dev/full: No space left on "
				  "device; 2 log lines lost\n");
	/* Once: a second call says nothing more, but still reports the loss. */
	capture_report(said, sizeof(said), &rc);
	assert_int_equal(rc, 1);
	assert_string_equal(said, "");
}

/* A file size limit cuts a write short, then refuses the next (EFBIG):
 * both lines count, and the errno given is the first real one. */
static void short_writes_count(void **state)
{
	char dir[] = "/tmp/test_log.XXXXXX", path[64], err[256];
	struct rlimit old, low;
	struct stat sb;
	int e = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	assert_int_equal(log_open(path, LEVEL_INFO, err, sizeof(err)), 0);
	log_info("this one is written whole");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)sb.st_size + 10;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
	log_info("this one is cut after ten bytes");
	assert_int_equal(log_failures(&e), 1);
	assert_int_equal(e, 0);
	log_info("and this one is refused");
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(log_failures(&e), 2);
	assert_int_equal(e, EFBIG);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, low.rlim_cur);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* The supervisor's sum: its own lines and its workers'. */
static void workers_counts_are_added(void **state)
{
	char err[256], said[512];
	int rc, e = 0;

	(void)state;
	assert_int_equal(log_open(NULL, LEVEL_INFO, err, sizeof(err)), 0);
	log_failures_add(0, 0);
	assert_int_equal(log_failures(&e), 0);
	log_failures_add(3, 0); /* short writes only */
	log_failures_add(4, EPIPE);
	log_failures_add(1, ENOSPC);
	assert_int_equal(log_failures(&e), 8);
	assert_int_equal(e, EPIPE);
	capture_report(said, sizeof(said), &rc);
	assert_int_equal(rc, 1);
	assert_string_equal(said, "memc_load: cannot write to the log on standard error: Broken "
				  "pipe; 8 log lines lost\n");
	/* A new worker starts from nothing. */
	log_failures_reset();
	assert_int_equal(log_failures(&e), 0);
	assert_int_equal(e, 0);
}

/* stderr itself on /dev/full: counted, and the report gives up quietly. */
static void stderr_full(void **state)
{
	char err[256];
	int saved = dup(STDERR_FILENO), full = open("/dev/full", O_WRONLY);

	(void)state;
	assert_true(saved >= 0 && full >= 0);
	assert_int_equal(dup2(full, STDERR_FILENO), STDERR_FILENO);
	assert_int_equal(log_open(NULL, LEVEL_INFO, err, sizeof(err)), 0);
	log_error("nowhere to go");
	assert_int_equal(log_failures(NULL), 1);
	assert_int_equal(log_report_failures(), 1);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(full);
}

/* With syslog, stderr gets the lines only when asked (a terminal): here
 * stderr is /dev/full, so each line written there counts as lost. What
 * syslog(3) does with the message is its own affair, never counted. */
static void syslog_and_stderr(void **state)
{
	char err[256];
	int saved = dup(STDERR_FILENO), full = open("/dev/full", O_WRONLY);

	(void)state;
	assert_true(saved >= 0 && full >= 0);
	assert_int_equal(dup2(full, STDERR_FILENO), STDERR_FILENO);
	log_open_syslog(LEVEL_WARN, 0);
	log_error("to syslog only");
	log_info("filtered out by the level");
	assert_int_equal(log_failures(NULL), 0);
	log_close();
	log_open_syslog(LEVEL_WARN, 1);
	log_warn("to syslog and to stderr");
	log_info("filtered out by the level");
	assert_int_equal(log_failures(NULL), 1);
	log_close();
	/* log_open goes back to plain lines. */
	assert_int_equal(log_open(NULL, LEVEL_INFO, err, sizeof(err)), 0);
	log_info("to stderr");
	assert_int_equal(log_failures(NULL), 2);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(nothing_lost_nothing_said, setup, teardown),
	    cmocka_unit_test_setup_teardown(failed_writes_are_counted_and_said_once, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(short_writes_count, setup, teardown),
	    cmocka_unit_test_setup_teardown(workers_counts_are_added, setup, teardown),
	    cmocka_unit_test_setup_teardown(stderr_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(syslog_and_stderr, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
