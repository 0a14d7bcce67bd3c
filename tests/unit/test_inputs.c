/* test_inputs.c -- input order, skipped dot-names, and the done name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "inputs.h"

static void done_name(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(inputs_done_name("/data/a/20170929000000.tsv.gz", out, sizeof(out)), 0);
	assert_string_equal(out, "/data/a/.20170929000000.tsv.gz");
	assert_int_equal(inputs_done_name("x.gz", out, sizeof(out)), 0);
	assert_string_equal(out, ".x.gz");
	assert_int_equal(inputs_done_name("x.gz", out, 5), -1);
}

static void operands_sorted_by_name(void **state)
{
	struct config cfg;
	char **files;
	size_t n;
	char err[256];
	char *argv[] = {"memc_load", "b/20170929000200.tsv.gz", "a/20170929000100.tsv.gz",
			"c/.20170929000000.tsv.gz", "z/20170929000000.tsv.gz", NULL};

	(void)state;
	assert_int_equal(cli_parse(5, argv, &cfg, err, sizeof(err)), CLI_RUN);
	assert_int_equal(inputs_collect(&cfg, &files, &n, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(files[0], "z/20170929000000.tsv.gz");
	assert_string_equal(files[1], "a/20170929000100.tsv.gz");
	assert_string_equal(files[2], "b/20170929000200.tsv.gz");
	inputs_free(files, n);
}

static void pattern_matches(void **state)
{
	char dir[] = "/tmp/test_inputs.XXXXXX";
	char p[512], pattern[300], err[256];
	const char *names[] = {"20170929000100.tsv.gz", "20170929000000.tsv.gz",
			       ".20170928000000.tsv.gz", "notes.txt"};
	struct config cfg;
	char **files;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		FILE *f = fopen(p, "w");
		assert_non_null(f);
		fclose(f);
	}
	snprintf(pattern, sizeof(pattern), "%s/.*.tsv.gz", dir);
	char *argv[] = {"memc_load", "-p", pattern, NULL};
	assert_int_equal(cli_parse(3, argv, &cfg, err, sizeof(err)), CLI_RUN);
	/* Even a pattern that names dot-files explicitly never reloads them. */
	assert_int_equal(inputs_collect(&cfg, &files, &n, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	inputs_free(files, n);

	snprintf(pattern, sizeof(pattern), "%s/*.tsv.gz", dir);
	assert_int_equal(cli_parse(3, argv, &cfg, err, sizeof(err)), CLI_RUN);
	assert_int_equal(inputs_collect(&cfg, &files, &n, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_non_null(strstr(files[0], "20170929000000"));
	assert_non_null(strstr(files[1], "20170929000100"));
	inputs_free(files, n);

	snprintf(pattern, sizeof(pattern), "%s/nothing-*", dir);
	assert_int_equal(cli_parse(3, argv, &cfg, err, sizeof(err)), CLI_RUN);
	assert_int_equal(inputs_collect(&cfg, &files, &n, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	inputs_free(files, n);

	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(done_name),
		cmocka_unit_test(operands_sorted_by_name),
		cmocka_unit_test(pattern_matches),
	};
	return cmocka_run_group_tests_name("inputs", tests, NULL, NULL);
}
