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

#include "digest.h"

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void check(size_t n, uint64_t modulus)
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
		want[i] = modulus ? x % modulus : x;
		assert_int_equal(digest_add(w, want[i], err, sizeof(err)), 0);
	}
	assert_int_equal(digest_close(w, &runs, err, sizeof(err)), 0);
	assert_int_equal(runs, (n + DIGEST_BUFFER - 1) / DIGEST_BUFFER);
	qsort(want, n, sizeof(*want), cmp);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || want[m - 1] != want[i])
			want[m++] = want[i];
	struct digest_reader *r = digest_open(path, runs, err, sizeof(err));
	assert_non_null(r);
	while (digest_next(r, &h, err, sizeof(err)) == 1) {
		assert_true(got < m);
		assert_true(h == want[got]);
		got++;
	}
	assert_int_equal(got, m);
	digest_free(r);
	digest_remove(path, runs);
	assert_int_equal(rmdir(dir), 0); /* every run removed */
	free(want);
}

static void test_several_runs_with_repeats(void **state)
{
	(void)state;
	check(2 * DIGEST_BUFFER + 12345, 3000000);
}

static void test_one_run_all_distinct(void **state)
{
	(void)state;
	check(1000, 0);
}

static void test_empty(void **state)
{
	(void)state;
	check(0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_one_run_all_distinct),
	    cmocka_unit_test(test_several_runs_with_repeats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
