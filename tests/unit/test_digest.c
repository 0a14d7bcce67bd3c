/* test_digest.c -- key digests on disk: more hashes than fit the buffer
 * (so several runs), with repeats inside and across runs, read back
 * merged: every hash once, ascending, none lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "keys/digest.h"

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* N hashes from a generator, taken modulo MODULUS (0: as they come) and
 * then multiplied by MULT (spreading the repeats over the whole range). */
static void check(size_t n, uint64_t modulus, uint64_t mult)
{
	char dir[] = "/tmp/test_digest.XXXXXX", path[64], err[256];
	uint64_t *want = malloc(n * sizeof(*want)), h, x = 88172645463325252u;
	unsigned runs;
	size_t m = 0, got = 0;

	assert_non_null(want);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/d", dir);
	struct digest_writer *w = digest_create(path, err, sizeof(err));
	assert_non_null(w);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		want[i] = (modulus ? x % modulus : x) * mult;
		assert_int_equal(digest_add(w, want[i], err, sizeof(err)), 0);
	}
	assert_int_equal(digest_close(w, &runs, err, sizeof(err)), 0);
	assert_int_equal(runs, (n + DIGEST_BUFFER - 1) / DIGEST_BUFFER);
	qsort(want, n, sizeof(*want), cmp);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || want[m - 1] != want[i])
			want[m++] = want[i];
	struct digest_ref ref = {path, runs};
	struct digest_reader *r = digest_open(&ref, 1, err, sizeof(err));
	assert_non_null(r);
	while (digest_next(r, &h, err, sizeof(err)) == 1) {
		assert_true(got < m);
		assert_true(h == want[got]);
		got++;
	}
	assert_int_equal(got, m);
	digest_free(r);
	digest_remove(&ref);
	assert_int_equal(rmdir(dir), 0); /* every run removed */
	free(want);
}

static void test_several_runs_with_repeats(void **state)
{
	(void)state;
	check(2 * DIGEST_BUFFER + 12345, 3000000, 1);
}

/* Many repeats of a few keys, spread over every bucket of the sort. */
static void test_repeats_spread(void **state)
{
	(void)state;
	check(DIGEST_BUFFER + 999, 1000, 0x9e3779b97f4a7c15u);
	check(3 * DIGEST_BUFFER / 2, 0, 1);
}

static void test_one_run_all_distinct(void **state)
{
	(void)state;
	check(1000, 0, 1);
}

static void test_empty(void **state)
{
	(void)state;
	check(0, 0, 1);
}

/* Write HASHES (N of them) as a digest at PATH. */
static struct digest_ref write_digest(const char *path, const uint64_t *hashes, size_t n)
{
	char err[256];
	struct digest_ref ref = {path, 0};
	struct digest_writer *w = digest_create(path, err, sizeof(err));

	assert_non_null(w);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(digest_add(w, hashes[i], err, sizeof(err)), 0);
	assert_int_equal(digest_close(w, &ref.runs, err, sizeof(err)), 0);
	return ref;
}

/* A file's keys against two sources merged: exactly the common hashes,
 * whatever the order they were added in, with several runs on each side. */
static void test_intersect(void **state)
{
	char dir[] = "/tmp/test_digest.XXXXXX", pa[64], pb[64], pc[64], po[64], err[256];
	size_t n = DIGEST_BUFFER + 1000;
	uint64_t *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b)), *buf;
	size_t nb = 0;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(mkdtemp(dir));
	/* A: every multiple of 3 below 3n, backwards; B: multiples of 5, split
	 * in two sources that repeat each other's middle. */
	for (size_t i = 0; i < n; i++)
		a[i] = 3 * (uint64_t)(n - 1 - i);
	for (uint64_t v = 0; v < 3 * (uint64_t)n; v += 5)
		b[nb++] = v * 0x100000001u % (3 * (uint64_t)n) / 5 * 5;
	snprintf(pa, sizeof(pa), "%s/a", dir);
	snprintf(pb, sizeof(pb), "%s/b", dir);
	snprintf(pc, sizeof(pc), "%s/c", dir);
	snprintf(po, sizeof(po), "%s/o", dir);
	struct digest_ref ra = write_digest(pa, a, n);
	struct digest_ref srcs[2] = {write_digest(pb, b, nb * 2 / 3),
				     write_digest(pc, b + nb / 3, nb - nb / 3)};
	assert_true(ra.runs >= 2);
	struct digest_reader *ia = digest_open(&ra, 1, err, sizeof(err));
	struct digest_reader *ib = digest_open(srcs, 2, err, sizeof(err));
	struct digest_writer *w = digest_create(po, err, sizeof(err));
	assert_non_null(ia);
	assert_non_null(ib);
	assert_non_null(w);
	long long common = digest_intersect(ia, ib, w, err, sizeof(err));
	struct digest_ref out = {po, 0};
	assert_int_equal(digest_close(w, &out.runs, err, sizeof(err)), 0);
	digest_free(ia);
	digest_free(ib);

	/* What both hold: the multiples of 15 that B has. */
	long long want = 0;
	qsort(b, nb, sizeof(*b), cmp);
	for (size_t i = 0; i < nb; i++)
		want += b[i] % 3 == 0 && (i == 0 || b[i - 1] != b[i]);
	assert_int_equal(common, want);
	buf = malloc(DIGEST_BUFFER * sizeof(*buf));
	assert_non_null(buf);
	long long seen = 0;
	uint64_t prev = 0;
	for (unsigned i = 0; i < out.runs; i++) {
		long got = digest_load_run(&out, i, buf, err, sizeof(err));
		assert_true(got > 0);
		for (long j = 0; j < got; j++, seen++) {
			assert_true(buf[j] % 15 == 0);
			assert_true(seen == 0 || buf[j] > prev); /* ascending across runs */
			prev = buf[j];
		}
	}
	assert_int_equal(seen, want);
	digest_remove(&ra);
	digest_remove(&srcs[0]);
	digest_remove(&srcs[1]);
	digest_remove(&out);
	assert_int_equal(rmdir(dir), 0);
	free(buf);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intersect),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_one_run_all_distinct),
	    cmocka_unit_test(test_several_runs_with_repeats),
	    cmocka_unit_test(test_repeats_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
