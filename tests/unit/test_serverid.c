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
#include "mc/serverid.h"

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

static void on_restart(int server, const struct server_span *old, const struct server_span *now,
		       void *ctx)
{
	(void)ctx;
	told.calls++;
	told.server = server;
	told.old_pid = old->pid;
	told.new_pid = now->pid;
}

/* A process at the end of a load, seen then with EV items evicted. */
static struct server_seen at_end(uint32_t pid, uint32_t started, uint64_t ev)
{
	struct server_span p = {pid, started, ev, ev};

	return (struct server_seen){.first = p, .last = p};
}

/* Files report in any order; the newest process of each server wins, and
 * a file that saw an older one is stale. */
static void restarts_between_files(void **state)
{
	static struct restarts r;
	static struct server_seen f1[MAX_SERVERS], f2[MAX_SERVERS], f3[MAX_SERVERS];

	(void)state;
	memset(&r, 0, sizeof(r));
	f1[3] = at_end(10, 1000, 0);
	f2[3] = at_end(11, 1200, 0);
	f2[40] = at_end(20, 900, 0);
	f3[3] = f1[3];
	static struct server_span h1[MAX_SERVERS], h2[MAX_SERVERS], h3[MAX_SERVERS];
	for (int s = 0; s < MAX_SERVERS; s++) { /* what each file's records went to */
		h1[s] = f1[s].last;
		h2[s] = f2[s].last;
		h3[s] = f3[s].last;
	}
	restarts_add(&r, f1, MAX_SERVERS, on_restart, NULL);
	assert_int_equal(told.calls, 0);
	assert_int_equal(restarts_stale(&r, h1, MAX_SERVERS), -1);
	restarts_add(&r, f2, MAX_SERVERS, on_restart, NULL);
	assert_int_equal(told.calls, 1);
	assert_int_equal(told.server, 3);
	assert_int_equal(told.old_pid, 10);
	assert_int_equal(told.new_pid, 11);
	assert_int_equal(restarts_stale(&r, h1, MAX_SERVERS), 3);
	assert_int_equal(restarts_stale(&r, h2, MAX_SERVERS), -1);
	/* A file that reports the old process after the new one was met. */
	restarts_add(&r, f3, MAX_SERVERS, on_restart, NULL);
	assert_int_equal(told.calls, 1);
	assert_int_equal(restarts_stale(&r, h3, MAX_SERVERS), 3);
}

/* What a watch keeps of its first process, of the last, and of those
 * between (serverid_note), for the run's figures. */
static void a_watch_keeps_each_process_span(void **state)
{
	struct server_watch w;
	struct server_id p1 = {.pid = 1, .started = 100, .evictions = 5};
	struct server_id p1b = {.pid = 1, .started = 100, .evictions = 8};
	struct server_id p2 = {.pid = 2, .started = 200, .evictions = 0};
	struct server_id p2b = {.pid = 2, .started = 200, .evictions = 4};
	struct server_id p3 = {.pid = 3, .started = 300, .evictions = 10};
	struct server_id p3b = {.pid = 3, .started = 300, .evictions = 11};

	(void)state;
	memset(&w, 0, sizeof(w));
	serverid_note(&w, &p1, "s");
	serverid_note(&w, &p1b, "s");
	serverid_note(&w, &p2, "s");
	serverid_note(&w, &p2b, "s");
	serverid_note(&w, &p3, "s");
	serverid_note(&w, &p3b, "s");
	assert_int_equal(w.first_last_evictions, 8);
	assert_int_equal(w.evicted_between, 4); /* process 2's */
	assert_int_equal(w.evict_base, 10);
	assert_int_equal(serverid_evicted(&w), 3 + 4 + 1);
}

/* One server seen by files that loaded at the same time: each process and
 * each eviction counts once (measured before: the sum of the files'). */
static void run_figures_count_each_process_once(void **state)
{
	struct server_seen a[2], b[2], c[2];
	const struct server_seen *files[4] = {a, b, c, NULL};
	uint64_t restarts, evicted;

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(c, 0, sizeof(c));
	/* Server 0: A saw process 7 go from 100 to 160 evictions, B (at the
	 * same time) from 120 to 190; C met process 8 (a restart): 0 to 30. */
	a[0].first = a[0].last = (struct server_span){7, 1000, 100, 160};
	a[0].evicted = 60;
	b[0].first = b[0].last = (struct server_span){7, 1000, 120, 190};
	b[0].evicted = 70;
	c[0].first = (struct server_span){7, 1000, 185, 195};
	c[0].last = (struct server_span){8, 2000, 0, 30};
	c[0].restarts = 1;
	c[0].evicted = 40;
	restarts_run_figures(files, 4, 0, &restarts, &evicted);
	assert_int_equal(restarts, 1);
	assert_int_equal(evicted, (195 - 100) + 30);
	/* Server 1: seen by nobody. */
	restarts_run_figures(files, 4, 1, &restarts, &evicted);
	assert_int_equal(restarts, 0);
	assert_int_equal(evicted, 0);
	/* Two restarts within one load: the process between counts too. */
	c[1].first = (struct server_span){1, 10, 0, 5};
	c[1].last = (struct server_span){3, 30, 0, 2};
	c[1].restarts = 2;
	c[1].evicted_between = 4;
	c[1].evicted = 5 + 4 + 2;
	restarts_run_figures(files, 4, 1, &restarts, &evicted);
	assert_int_equal(restarts, 2);
	assert_int_equal(evicted, 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_a_whole_reply),
		cmocka_unit_test(needs_more_until_end),
		cmocka_unit_test(refuses_what_is_not_stats),
		cmocka_unit_test(notes_restarts_and_evictions),
		cmocka_unit_test(restarts_between_files),
		cmocka_unit_test(a_watch_keeps_each_process_span),
		cmocka_unit_test(run_figures_count_each_process_once),
	};
	return cmocka_run_group_tests_name("serverid", tests, NULL, NULL);
}
