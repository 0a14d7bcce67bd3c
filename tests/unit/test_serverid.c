/* test_serverid.c -- a server's identity from its "stats" reply, and the
 * restarts told apart: within one file (serverid.c) and between the files
 * of a run (restarts.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "restarts.h"
#include "serverid.h"

static const char reply[] = "STAT pid 4242\r\n"
			    "STAT uptime 100\r\n"
			    "STAT time 1506643803\r\n"
			    "STAT version 1.6.18\r\n"
			    "STAT evictions 7\r\n"
			    "END\r\n";

static void parses_a_whole_reply(void **state)
{
	struct server_id id;

	(void)state;
	assert_int_equal(serverid_parse(reply, strlen(reply), &id), 1);
	assert_int_equal(id.pid, 4242);
	assert_int_equal(id.started, 1506643803 - 100);
	assert_int_equal(id.evictions, 7);
}

/* Replies come in pieces: every cut of the reply but the whole needs more. */
static void needs_more_until_end(void **state)
{
	struct server_id id;

	(void)state;
	for (size_t n = 0; n < strlen(reply); n++)
		assert_int_equal(serverid_parse(reply, n, &id), 0);
}

static void refuses_what_is_not_stats(void **state)
{
	static const char *const bad[] = {
		"ERROR\r\n",
		"SERVER_ERROR unknown command\r\n",
		"STAT uptime 1\r\nSTAT time 2\r\nEND\r\n",        /* no pid */
		"STAT pid 1\r\nSTAT time 2\r\nEND\r\n",           /* no uptime */
		"STAT pid x\r\nSTAT uptime 1\r\nSTAT time 2\r\nEND\r\n",
		"STAT pid 1\r\nSTAT uptime 1\r\nSTAT time 2\r\nEND\r\nSTORED\r\n", /* trailing */
	};
	struct server_id id;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(serverid_parse(bad[i], strlen(bad[i]), &id), -1);
}

static void notes_restarts_and_evictions(void **state)
{
	struct server_watch w;
	struct server_id a = {.pid = 10, .started = 1000, .evictions = 5};
	struct server_id a_later = {.pid = 10, .started = 1000, .evictions = 9};
	struct server_id b = {.pid = 11, .started = 1200, .evictions = 2};
	struct server_id b_later = {.pid = 11, .started = 1200, .evictions = 3};

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(serverid_note(&w, &a, "s"), 0);
	assert_int_equal(serverid_evicted(&w), 0);
	assert_int_equal(serverid_note(&w, &a_later, "s"), 0);
	assert_int_equal(serverid_evicted(&w), 4);
	assert_int_equal(serverid_note(&w, &b, "s"), 1); /* counters start over */
	assert_int_equal(serverid_note(&w, &b_later, "s"), 0);
	assert_int_equal(w.restarts, 1);
	assert_int_equal(serverid_evicted(&w), 4 + 1);
	assert_int_equal(w.first.pid, 10);
	assert_int_equal(w.now.pid, 11);
	/* Same pid, another start time: a restart too (pids are reused). */
	struct server_id c = {.pid = 11, .started = 1300};
	assert_int_equal(serverid_note(&w, &c, "s"), 1);
}

static struct {
	int calls, server;
	uint32_t old_pid, new_pid;
} told;

static void on_restart(int server, const struct server_seen *old, const struct server_seen *now,
		       void *ctx)
{
	(void)ctx;
	told.calls++;
	told.server = server;
	told.old_pid = old->pid;
	told.new_pid = now->pid;
}

/* Files report in any order; the newest process of each server wins, and
 * a file that saw an older one is stale. */
static void restarts_between_files(void **state)
{
	static struct restarts r;
	static struct server_seen f1[REPORT_SERVERS], f2[REPORT_SERVERS], f3[REPORT_SERVERS];

	(void)state;
	memset(&r, 0, sizeof(r));
	f1[3] = (struct server_seen){.pid = 10, .started = 1000};
	f2[3] = (struct server_seen){.pid = 11, .started = 1200};
	f2[40] = (struct server_seen){.pid = 20, .started = 900};
	f3[3] = f1[3];
	restarts_add(&r, f1, on_restart, NULL);
	assert_int_equal(told.calls, 0);
	assert_int_equal(restarts_stale(&r, f1), -1);
	restarts_add(&r, f2, on_restart, NULL);
	assert_int_equal(told.calls, 1);
	assert_int_equal(told.server, 3);
	assert_int_equal(told.old_pid, 10);
	assert_int_equal(told.new_pid, 11);
	assert_int_equal(restarts_stale(&r, f1), 3);
	assert_int_equal(restarts_stale(&r, f2), -1);
	/* A file that reports the old process after the new one was met. */
	restarts_add(&r, f3, on_restart, NULL);
	assert_int_equal(told.calls, 1);
	assert_int_equal(restarts_stale(&r, f3), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_a_whole_reply),
		cmocka_unit_test(needs_more_until_end),
		cmocka_unit_test(refuses_what_is_not_stats),
		cmocka_unit_test(notes_restarts_and_evictions),
		cmocka_unit_test(restarts_between_files),
	};
	return cmocka_run_group_tests_name("serverid", tests, NULL, NULL);
}
