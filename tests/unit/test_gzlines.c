/* test_gzlines.c -- streaming lines out of gzip files, and the files that
 * are not gzip at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "gzlines.h"
#include "record.h"

static char dir[] = "/tmp/test_gzlines.XXXXXX";
static char path[256];
static char err[512];

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/f.gz", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_gz(const char *mode, const char *data, size_t len)
{
	gzFile f = gzopen(path, mode);
	assert_non_null(f);
	if (len)
		assert_int_equal(gzwrite(f, data, (unsigned)len), (int)len);
	assert_int_equal(gzclose(f), Z_OK);
}

static void write_raw(const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* Read every line; returns the count, fills LENS, and the final status. */
static int read_all(size_t *lens, int *overlong, size_t max, int *status)
{
	struct gzlines *gz = gzlines_open(path, err, sizeof(err));
	const char *line;
	size_t len;
	int n = 0, ol, rc;

	assert_non_null(gz);
	while ((rc = gzlines_next(gz, &line, &len, &ol, err, sizeof(err))) == 1) {
		if ((size_t)n < max) {
			lens[n] = len;
			overlong[n] = ol;
		}
		n++;
	}
	*status = rc;
	gzlines_close(gz);
	return n;
}

static void lines_and_last_line_without_newline(void **state)
{
	size_t lens[8];
	int ol[8], status;

	(void)state;
	write_gz("wb", "a\n\nbcd\r\nlast", 12);
	assert_int_equal(read_all(lens, ol, 8, &status), 4);
	assert_int_equal(status, 0);
	assert_int_equal(lens[0], 1);
	assert_int_equal(lens[1], 0);
	assert_int_equal(lens[2], 4); /* the CR is the parser's business */
	assert_int_equal(lens[3], 4);
}

static void empty_gzip_stream_has_no_lines(void **state)
{
	size_t lens[1];
	int ol[1], status;

	(void)state;
	write_gz("wb", "", 0);
	assert_int_equal(read_all(lens, ol, 1, &status), 0);
	assert_int_equal(status, 0);
}

static void concatenated_members(void **state)
{
	size_t lens[4];
	int ol[4], status;

	(void)state;
	write_gz("wb", "one\ntw", 6);
	write_gz("ab", "o\nthree\n", 8);
	assert_int_equal(read_all(lens, ol, 4, &status), 3);
	assert_int_equal(status, 0);
	assert_int_equal(lens[1], 3); /* "two" spans the two members */
}

static void long_lines_kept_whole_or_reported(void **state)
{
	size_t n = (size_t)RECORD_MAX_LINE + 10, lens[4];
	int ol[4], status;
	char *data = malloc(3 * n);

	(void)state;
	assert_non_null(data);
	/* A line of exactly the limit, one just over it, then a short one. */
	memset(data, 'x', 3 * n);
	size_t at = RECORD_MAX_LINE;
	data[at++] = '\n';
	at += RECORD_MAX_LINE + 1;
	data[at++] = '\n';
	memcpy(data + at, "tail\n", 5);
	at += 5;
	write_gz("wb", data, at);
	free(data);
	assert_int_equal(read_all(lens, ol, 4, &status), 3);
	assert_int_equal(status, 0);
	assert_int_equal(lens[0], RECORD_MAX_LINE);
	assert_false(ol[0]);
	assert_true(ol[1]);
	assert_int_equal(lens[2], 4);
	assert_false(ol[2]);
}

static void many_lines_across_blocks(void **state)
{
	/* Enough text to cross several inflate blocks, with a line at each size. */
	size_t total = 0, count = 4000;
	char *data = malloc(count * 600);
	size_t *lens = malloc(count * sizeof(*lens));
	int *ol = malloc(count * sizeof(*ol));
	int status;

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < count; i++) {
		memset(data + total, 'a' + (int)(i % 26), i % 599);
		total += i % 599;
		data[total++] = '\n';
	}
	write_gz("wb1", data, total);
	assert_int_equal(read_all(lens, ol, count, &status), (int)count);
	assert_int_equal(status, 0);
	for (size_t i = 0; i < count; i++)
		assert_int_equal(lens[i], i % 599);
	free(data);
	free(lens);
	free(ol);
}

static void expect_failure(const char *reason)
{
	size_t lens[4];
	int ol[4], status;

	read_all(lens, ol, 4, &status);
	assert_int_equal(status, -1);
	if (strstr(err, reason) == NULL)
		fail_msg("'%s' does not say '%s'", err, reason);
}

static void not_gzip(void **state)
{
	(void)state;
	write_raw("idfa\tx\t1\t2\t3\n", 13);
	expect_failure("not in gzip format");
}

static void empty_file(void **state)
{
	(void)state;
	write_raw("", 0);
	expect_failure("empty file");
}

static void truncated(void **state)
{
	char data[4096];
	unsigned char buf[8192];

	(void)state;
	memset(data, 'q', sizeof(data));
	write_gz("wb", data, sizeof(data));
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	write_raw(buf, n - 6); /* cut into the trailer */
	expect_failure("truncated");
}

static void corrupt(void **state)
{
	char data[4096];
	unsigned char buf[8192];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + (i * 7) % 26);
	write_gz("wb", data, sizeof(data));
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (size_t i = 12; i < n - 8; i++)
		buf[i] ^= 0x55;
	write_raw(buf, n);
	expect_failure("corrupt");
}

static void trailing_garbage(void **state)
{
	(void)state;
	write_gz("wb", "ok\n", 3);
	FILE *f = fopen(path, "ab");
	assert_non_null(f);
	fputs("garbage", f);
	fclose(f);
	expect_failure("trailing garbage");
}

static void missing_file(void **state)
{
	(void)state;
	unlink(path);
	assert_null(gzlines_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_and_last_line_without_newline),
		cmocka_unit_test(empty_gzip_stream_has_no_lines),
		cmocka_unit_test(concatenated_members),
		cmocka_unit_test(long_lines_kept_whole_or_reported),
		cmocka_unit_test(many_lines_across_blocks),
		cmocka_unit_test(not_gzip),
		cmocka_unit_test(empty_file),
		cmocka_unit_test(truncated),
		cmocka_unit_test(corrupt),
		cmocka_unit_test(trailing_garbage),
		cmocka_unit_test(missing_file),
	};
	return cmocka_run_group_tests_name("gzlines", tests, setup, teardown);
}
