/* test_settle.c -- the settle rule, model-checked: random runs of files
 * that share keys, their loads and repairs interleaved at random, writes
 * of each activity landing at random moments within it, some failing, and
 * servers restarting at random (losing what they held); after every run
 * the simulated servers must hold, for every key whose newest file
 * settled, that file's last line of it: what the serial original leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "keys/settle.h"

#define MAX_FILES 7
#define KEYS	  12
#define MAX_LINES 16
#define SERVERS	  2 /* key K lives on server K % SERVERS */

/* A line: its key and its value, which names the file and the line. */
struct line {
	int key;
	int value;
};

struct sim_file {
	struct line lines[MAX_LINES];
	int nlines;
	int has[KEYS];
};

/* A running activity: the writes still to make, in file order. */
struct activity {
	int file;
	enum settle_kind kind;
	int set[KEYS]; /* a repair's keys */
	struct server_set resend; /* and the servers it re-sends everything to */
	int next;      /* the next line to look at */
	int running;
	int saw_restart[SERVERS]; /* a server it wrote to restarted meanwhile */
};

struct sim {
	uint64_t rng;
	int nfiles, workers;
	struct sim_file f[MAX_FILES];
	int repair_set[MAX_FILES][KEYS];
	struct activity act[MAX_FILES * 2];
	int nact;
	int server[KEYS]; /* -1: nothing stored */
	int freed[MAX_FILES]; /* settle_keys_needed said no: its digests are gone */
	int held[MAX_FILES][SERVERS]; /* the file has records on the server's process */
	int loading[MAX_FILES];       /* its load runs */
	int fail_pct, restart_pct;
	int unknown_pct; /* loads whose digest could not be written */
};

static uint32_t next_rand(struct sim *s)
{
	/* xorshift64*: a small generator whose runs are repeatable by seed. */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (uint32_t)((s->rng * UINT64_C(2685821657736338717)) >> 32);
}

static int pick(struct sim *s, int n)
{
	return (int)(next_rand(s) % (uint32_t)n);
}

static void make_files(struct sim *s)
{
	s->nfiles = 1 + pick(s, MAX_FILES);
	for (int i = 0; i < s->nfiles; i++) {
		struct sim_file *f = &s->f[i];
		f->nlines = pick(s, MAX_LINES + 1);
		for (int j = 0; j < f->nlines; j++) {
			f->lines[j].key = pick(s, KEYS);
			f->lines[j].value = i * 100 + j;
			f->has[f->lines[j].key] = 1;
		}
	}
}

static int writes_key(const struct activity *a, const struct sim_file *f, int j)
{
	int key = f->lines[j].key;

	return a->kind == SETTLE_LOAD || a->set[key] || server_set_has(&a->resend, key % SERVERS);
}

/* One write of A, if it has one left: 1 when it wrote, 0 when it is done. */
static int step(struct sim *s, struct activity *a)
{
	const struct sim_file *f = &s->f[a->file];

	while (a->next < f->nlines && !writes_key(a, f, a->next))
		a->next++;
	if (a->next == f->nlines)
		return 0;
	s->server[f->lines[a->next].key] = f->lines[a->next].value;
	s->held[a->file][f->lines[a->next].key % SERVERS] = 1;
	a->next++;
	return 1;
}

/* Server X restarts: it loses every key. The files with records there
 * lose them; for one still loading, its end will say so (it saw the
 * restart), as the loader learns it from the load's report. */
static void restart(struct sim *s, struct settle *st, int x)
{
	for (int k = 0; k < KEYS; k++)
		if (k % SERVERS == x)
			s->server[k] = -1;
	for (int i = 0; i < s->nfiles; i++) {
		if (!s->held[i][x])
			continue;
		s->held[i][x] = 0;
		if (!s->loading[i])
			settle_lost(st, (size_t)i, x);
	}
	for (int i = 0; i < s->nact; i++)
		if (s->act[i].running && s->act[i].kind == SETTLE_LOAD)
			s->act[i].saw_restart[x] = 1;
}

static struct activity *start(struct sim *s, struct settle *st, int file, enum settle_kind kind)
{
	struct activity *a = s->act;

	/* Mends make any number of activities: reuse an ended one's slot. */
	while (a < s->act + s->nact && a->running)
		a++;
	if (a == s->act + s->nact)
		s->nact++;
	assert_true(s->nact <= MAX_FILES * 2);

	memset(a, 0, sizeof(*a));
	a->file = file;
	a->kind = kind;
	a->running = 1;
	if (kind == SETTLE_LOAD)
		s->loading[file] = 1;
	settle_started(st, (size_t)file, kind);
	return a;
}

/* The repair set: FILE's keys that any source stored. */
static void repair_set(struct sim *s, int file, const struct settle_source *src, size_t n,
		       int *set)
{
	for (int k = 0; k < KEYS; k++) {
		set[k] = 0;
		for (size_t i = 0; i < n && s->f[file].has[k] && !set[k]; i++) {
			int g = (int)src[i].file;
			assert_true(g < file);
			set[k] = src[i].kind == SETTLE_LOAD ? s->f[g].has[k] : s->repair_set[g][k];
		}
	}
	if (n > 0) /* a mend keeps the keys of the file's repair */
		memcpy(s->repair_set[file], set, sizeof(int) * KEYS);
}

static int running(const struct sim *s)
{
	int n = 0;

	for (int i = 0; i < s->nact; i++)
		n += s->act[i].running && s->act[i].kind == SETTLE_LOAD;
	return n;
}

static void run_once(struct sim *s)
{
	struct settle *st = settle_new((size_t)s->nfiles);
	struct settle_source src[2 * MAX_FILES];
	struct server_set resend;
	int next_load = 0;

	assert_non_null(st);
	for (int k = 0; k < KEYS; k++)
		s->server[k] = -1;
	for (;;) {
		size_t nsrc;
		/* Digests are dropped as soon as the rule says they may be;
		 * no repair may ask for one after that. */
		for (int i = 0; i < next_load; i++)
			if (!settle_keys_needed(st, (size_t)i))
				s->freed[i] = 1;
		long r = settle_next_repair(st, src, &nsrc, &resend);
		if (r >= 0) {
			assert_true(nsrc <= settle_max_sources(st));
			assert_true(nsrc == 0 || !s->freed[r]); /* a mend reads no digest */
			for (size_t i = 0; i < nsrc; i++)
				assert_false(s->freed[src[i].file]);
			struct activity *a = start(s, st, (int)r, SETTLE_REPAIR);
			repair_set(s, (int)r, src, nsrc, a->set);
			a->resend = resend;
			continue;
		}
		if (s->restart_pct > 0 && pick(s, 100) < s->restart_pct) {
			restart(s, st, pick(s, SERVERS));
			continue;
		}
		int live[MAX_FILES * 2], nlive = 0;
		for (int i = 0; i < s->nact; i++)
			if (s->act[i].running)
				live[nlive++] = i;
		int can_load = next_load < s->nfiles && running(s) < s->workers;
		if (nlive == 0 && !can_load)
			break;
		if (can_load && (nlive == 0 || pick(s, 3) == 0)) {
			start(s, st, next_load++, SETTLE_LOAD);
			continue;
		}
		struct activity *a = &s->act[live[pick(s, nlive)]];
		if (step(s, a) == 0) {
			int ok = pick(s, 100) >= s->fail_pct;
			a->running = 0;
			if (a->kind == SETTLE_LOAD) {
				s->loading[a->file] = 0;
				if (s->unknown_pct > 0 && pick(s, 100) < s->unknown_pct)
					settle_keys_unknown(st, (size_t)a->file);
				for (int x = 0; x < SERVERS; x++)
					if (a->saw_restart[x])
						settle_lost(st, (size_t)a->file, x);
			}
			settle_ended(st, (size_t)a->file, a->kind, ok);
		}
	}
	/* Settled files: a prefix, and every key whose newest file is one of
	 * them holds that file's last line of it. */
	int prefix = 1;
	for (int i = 0; i < s->nfiles; i++) {
		assert_true(settle_final(st, (size_t)i));
		if (!settle_done(st, (size_t)i))
			prefix = 0;
		else
			assert_true(prefix);
	}
	for (int k = 0; k < KEYS; k++) {
		int newest = -1, want = -1;
		for (int i = 0; i < s->nfiles; i++)
			for (int j = 0; j < s->f[i].nlines; j++)
				if (s->f[i].lines[j].key == k) {
					newest = i;
					want = s->f[i].lines[j].value;
				}
		struct server_set unmended;
		/* A file whose mend failed may have lost its keys there. */
		if (newest >= 0 && settle_done(st, (size_t)newest) &&
		    !(settle_unmended(st, (size_t)newest, &unmended) &&
		      server_set_has(&unmended, k % SERVERS)))
			assert_int_equal(s->server[k], want);
	}
	if (s->fail_pct == 0)
		for (int i = 0; i < s->nfiles; i++)
			assert_true(settle_done(st, (size_t)i));
	for (int i = 0; i < s->nfiles; i++)
		assert_false(settle_keys_needed(st, (size_t)i)); /* nothing kept at the end */
	settle_free(st);
}

static void model_check(int fail_pct, int restart_pct, int unknown_pct)
{
	for (uint64_t seed = 1; seed <= 20000; seed++) {
		struct sim s;
		memset(&s, 0, sizeof(s));
		s.rng = seed * UINT64_C(0x9E3779B97F4A7C15);
		s.workers = 1 + pick(&s, 4);
		s.fail_pct = fail_pct;
		s.restart_pct = restart_pct;
		s.unknown_pct = unknown_pct;
		make_files(&s);
		run_once(&s);
	}
}

static void test_serial_state_without_failures(void **state)
{
	(void)state;
	model_check(0, 0, 0);
}

static void test_serial_state_with_failures(void **state)
{
	(void)state;
	model_check(15, 0, 0);
}

static void test_serial_state_with_restarts(void **state)
{
	(void)state;
	model_check(0, 3, 0);
}

/* Loads whose keys are not known make newer files re-send everything. */
static void test_serial_state_with_unknown_keys(void **state)
{
	(void)state;
	model_check(0, 0, 20);
	model_check(10, 3, 20);
}

static void test_serial_state_with_restarts_and_failures(void **state)
{
	(void)state;
	model_check(15, 3, 0);
}

/* One worker: no activity overlaps another, so nothing repairs. */
static void test_one_worker_never_repairs(void **state)
{
	struct settle *st = settle_new(3);
	struct settle_source src[6];
	struct server_set resend;
	size_t n;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		settle_started(st, i, SETTLE_LOAD);
		settle_ended(st, i, SETTLE_LOAD, 1);
		assert_int_equal(settle_next_repair(st, src, &n, &resend), -1);
		assert_true(settle_done(st, i));
	}
	settle_free(st);
}

/* A newer file that finished first waits for the older one, then repairs
 * from its load; a third file that overlapped that repair repairs from it. */
static void test_overlap_chain(void **state)
{
	struct settle *st = settle_new(3);
	struct settle_source src[6];
	struct server_set resend;
	size_t n;

	(void)state;
	settle_started(st, 0, SETTLE_LOAD);
	settle_started(st, 1, SETTLE_LOAD);
	settle_ended(st, 1, SETTLE_LOAD, 1);
	assert_int_equal(settle_next_repair(st, src, &n, &resend), -1);
	assert_false(settle_done(st, 1));
	settle_ended(st, 0, SETTLE_LOAD, 1);
	assert_true(settle_done(st, 0));
	assert_int_equal(settle_next_repair(st, src, &n, &resend), 1);
	assert_int_equal(n, 1);
	assert_int_equal(src[0].file, 0);
	assert_int_equal(src[0].kind, SETTLE_LOAD);
	settle_started(st, 1, SETTLE_REPAIR);
	settle_started(st, 2, SETTLE_LOAD);
	settle_ended(st, 1, SETTLE_REPAIR, 1);
	assert_true(settle_done(st, 1));
	settle_ended(st, 2, SETTLE_LOAD, 1);
	/* Loads 0 and 1 ended before load 2 began: only the repair counts. */
	assert_int_equal(settle_next_repair(st, src, &n, &resend), 2);
	assert_int_equal(n, 1);
	assert_int_equal(src[0].kind, SETTLE_REPAIR);
	assert_int_equal(src[0].file, 1);
	settle_free(st);
}

/* A failed file holds every newer one back, whatever they did. */
static void test_failure_holds_newer_back(void **state)
{
	struct settle *st = settle_new(3);
	struct settle_source src[6];
	struct server_set resend;
	size_t n;

	(void)state;
	for (size_t i = 0; i < 3; i++)
		settle_started(st, i, SETTLE_LOAD);
	settle_ended(st, 1, SETTLE_LOAD, 0);
	settle_ended(st, 2, SETTLE_LOAD, 1);
	settle_ended(st, 0, SETTLE_LOAD, 1);
	assert_true(settle_done(st, 0));
	assert_false(settle_done(st, 1));
	assert_false(settle_done(st, 2));
	assert_true(settle_final(st, 2));
	assert_int_equal(settle_next_repair(st, src, &n, &resend), -1);
	settle_free(st);
}

/* A set-aside file repairs nothing and blocks nothing, but what it wrote
 * is a source for the newer file it overlapped. */
static void test_set_aside_is_a_source(void **state)
{
	struct settle *st = settle_new(2);
	struct settle_source src[4];
	struct server_set resend;
	size_t n;

	(void)state;
	settle_started(st, 0, SETTLE_LOAD);
	settle_started(st, 1, SETTLE_LOAD);
	settle_ended(st, 1, SETTLE_LOAD, 1);
	settle_set_aside(st, 0);
	assert_true(settle_done(st, 0));
	assert_true(settle_keys_needed(st, 0)); /* file 1 still needs its keys */
	assert_int_equal(settle_next_repair(st, src, &n, &resend), 1);
	assert_int_equal(n, 1);
	assert_int_equal(src[0].file, 0);
	settle_started(st, 1, SETTLE_REPAIR);
	settle_ended(st, 1, SETTLE_REPAIR, 1);
	assert_true(settle_done(st, 1));
	assert_false(settle_keys_needed(st, 0));
	assert_false(settle_keys_needed(st, 1));
	settle_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_worker_never_repairs),
	    cmocka_unit_test(test_overlap_chain),
	    cmocka_unit_test(test_set_aside_is_a_source),
	    cmocka_unit_test(test_failure_holds_newer_back),
	    cmocka_unit_test(test_serial_state_without_failures),
	    cmocka_unit_test(test_serial_state_with_failures),
	    cmocka_unit_test(test_serial_state_with_restarts),
	    cmocka_unit_test(test_serial_state_with_restarts_and_failures),
	    cmocka_unit_test(test_serial_state_with_unknown_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
