/* test_gzlines.c -- streaming lines out of gzip files, and the files that
 * are not gzip at all. Every test runs once per inflate backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "gz/gzlines.h"
#include "report.h"
#include "line/record.h"

static char dir[64];
static char path[256];
static char err[512];
static struct file_id id; /* what gzlines_open says of the file */

/* NULL: the default backend, ISA-L when built in. */
static int setup_for(const char *inflate)
{
	if (inflate != NULL)
		setenv("MEMC_LOAD_INFLATE", inflate, 1);
	else
		unsetenv("MEMC_LOAD_INFLATE");
	snprintf(dir, sizeof(dir), "/tmp/test_gzlines.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/f.gz", dir);
	return 0;
}

static int setup_zlib(void **state)
{
	(void)state;
	return setup_for("zlib");
}

#ifdef HAVE_ISAL
static int setup_isal(void **state)
{
	(void)state;
	return setup_for(NULL);
}
#endif

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
	struct gzlines *gz = gzlines_open(path, &id, err, sizeof(err));
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
	assert_int_equal(status, GZLINES_BAD);
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
	assert_null(gzlines_open(path, &id, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

/* The backend asked for is the one in use, so each group tests what it says. */
static void backend_is_the_one_asked_for(void **state)
{
	const char *want = "zlib ";

	(void)state;
#ifdef HAVE_ISAL
	if (getenv("MEMC_LOAD_INFLATE") == NULL)
		want = "ISA-L igzip ";
#endif
	assert_int_equal(strncmp(gzlines_backend(), want, strlen(want)), 0);
}

/* One gzip member of DATA, with the header fields in HDR if given. */
static size_t gz_member(unsigned char *buf, size_t cap, const char *data, size_t len,
			gz_header *hdr)
{
	z_stream zs;
	size_t n;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	if (hdr != NULL)
		assert_int_equal(deflateSetHeader(&zs, hdr), Z_OK);
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	n = zs.total_out;
	deflateEnd(&zs);
	return n;
}

/* Every line of the file joined with '\n' into BUF; returns the length. */
static size_t read_text(char *buf, size_t cap, int *status)
{
	struct gzlines *gz = gzlines_open(path, &id, err, sizeof(err));
	const char *line;
	size_t len, at = 0;
	int ol, rc;

	assert_non_null(gz);
	while ((rc = gzlines_next(gz, &line, &len, &ol, err, sizeof(err))) == 1) {
		assert_false(ol);
		assert_true(at + len + 1 <= cap);
		memcpy(buf + at, line, len);
		at += len;
		buf[at++] = '\n';
	}
	*status = rc;
	gzlines_close(gz);
	return at;
}

static void gzip_c_with_file_name(void **state)
{
	const char text[] = "idfa\t1\t2\t3\t4\ngaid\t5\t6\t7\t8\n";
	char src[300], cmd[700], got[64];
	unsigned char head[4];
	int status;

	(void)state;
	snprintf(src, sizeof(src), "%s/named.tsv", dir);
	FILE *f = fopen(src, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "gzip -c '%s' > '%s'", src, path);
	assert_int_equal(system(cmd), 0);
	unlink(src);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(head, 1, 4, f), 4);
	fclose(f);
	assert_true(head[3] & 0x08); /* FNAME: the name is in the header */
	assert_int_equal(read_text(got, sizeof(got), &status), strlen(text));
	assert_int_equal(status, 0);
	assert_memory_equal(got, text, strlen(text));
}

static void every_header_field(void **state)
{
	unsigned char buf[1024];
	unsigned char extra[] = {'a', 'b', 0, 'c', 'd'};
	gz_header hdr;
	char got[64];
	size_t n;
	int status;

	(void)state;
	memset(&hdr, 0, sizeof(hdr));
	hdr.extra = extra;
	hdr.extra_len = sizeof(extra);
	hdr.name = (Bytef *)"name.tsv";
	hdr.comment = (Bytef *)"a comment";
	hdr.hcrc = 1;
	n = gz_member(buf, sizeof(buf), "one\ntw", 6, &hdr);
	assert_int_equal(buf[3], 0x1e); /* FHCRC FEXTRA FNAME FCOMMENT */
	n += gz_member(buf + n, sizeof(buf) - n, "o\n", 2, &hdr);
	write_raw(buf, n);
	assert_int_equal(read_text(got, sizeof(got), &status), 8);
	assert_int_equal(status, 0);
	assert_memory_equal(got, "one\ntwo\n", 8);
}

/* Long headers on many members: some header is split by a read boundary,
 * whatever the read size, and must be reassembled by the decoder. */
static void headers_split_across_reads(void **state)
{
	enum { MEMBERS = 1500 };
	size_t cap = MEMBERS * 4200, n = 0, expect_len = 0;
	unsigned char *buf = malloc(cap);
	char *expect = malloc(MEMBERS * 16), *got = malloc(MEMBERS * 16);
	char name[3100], line[16];
	unsigned char extra[7] = {'x', 'y', 3, 0, 1, 2, 3};
	gz_header hdr;
	int status;

	(void)state;
	assert_non_null(buf);
	assert_non_null(expect);
	assert_non_null(got);
	for (int i = 0; i < MEMBERS; i++) {
		size_t name_len = 1000 + (size_t)(i * 37) % 2000;
		memset(name, 'a' + i % 26, name_len);
		name[name_len] = '\0';
		memset(&hdr, 0, sizeof(hdr));
		hdr.name = (Bytef *)name;
		hdr.extra = extra;
		hdr.extra_len = sizeof(extra);
		hdr.hcrc = 1;
		int len = snprintf(line, sizeof(line), "m%d\n", i);
		n += gz_member(buf + n, cap - n, line, (size_t)len, &hdr);
		memcpy(expect + expect_len, line, (size_t)len);
		expect_len += (size_t)len;
	}
	write_raw(buf, n);
	free(buf);
	assert_int_equal(read_text(got, MEMBERS * 16, &status), expect_len);
	assert_int_equal(status, 0);
	assert_memory_equal(got, expect, expect_len);
	free(expect);
	free(got);
}

/* A one-member file with byte AT xor-ed with X, expected to fail with REASON. */
static void damaged_member(size_t at_from_end, size_t at, unsigned char x, const char *reason,
			   int with_hcrc)
{
	unsigned char buf[8192];
	char data[3000];
	gz_header hdr;
	size_t n;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (i % 50 == 49) ? '\n' : (char)('a' + (i * 7) % 26);
	memset(&hdr, 0, sizeof(hdr));
	hdr.name = (Bytef *)"n";
	hdr.hcrc = with_hcrc;
	n = gz_member(buf, sizeof(buf), data, sizeof(data), &hdr);
	if (at_from_end)
		at = n - at_from_end;
	buf[at] ^= x;
	write_raw(buf, n);
	expect_failure(reason);
}

static void trailer_crc_wrong(void **state)
{
	(void)state;
	damaged_member(8, 0, 0x01, "corrupt gzip data: incorrect", 0);
}

static void trailer_length_wrong(void **state)
{
	(void)state;
	damaged_member(4, 0, 0x01, "corrupt gzip data: incorrect", 0);
}

static void header_crc_wrong(void **state)
{
	(void)state;
	/* 10 fixed bytes, "n\0", then the header CRC. */
	damaged_member(0, 12, 0x01, "corrupt gzip data: header crc mismatch", 1);
}

static void reserved_header_flag(void **state)
{
	(void)state;
	damaged_member(0, 3, 0x20, "corrupt gzip data: unknown header flags set", 0);
}

static void unknown_method(void **state)
{
	(void)state;
	damaged_member(0, 2, 0x01, "corrupt gzip data: unknown compression method", 0);
}

static void second_member_not_gzip(void **state)
{
	(void)state;
	write_gz("wb", "ok\n", 3);
	FILE *f = fopen(path, "ab");
	assert_non_null(f);
	fputs("\x1f" "garbage", f);
	fclose(f);
	expect_failure("corrupt gzip data: incorrect header check");
}

static void truncated_in_second_header(void **state)
{
	unsigned char buf[256];
	size_t n;

	(void)state;
	n = gz_member(buf, sizeof(buf), "ok\n", 3, NULL);
	memcpy(buf + n, buf, 5);
	write_raw(buf, n + 5);
	expect_failure("unexpected end of file (truncated gzip)");
}

/* Only a regular file is read: a directory would fail on read, and opening
 * a FIFO with no writer would block for ever. */
static void not_a_regular_file(void **state)
{
	char fifo[sizeof(path) + 8];

	(void)state;
	assert_null(gzlines_open(dir, &id, err, sizeof(err)));
	assert_string_equal(err, "not a regular file (a directory)");
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(gzlines_open(fifo, &id, err, sizeof(err)));
	assert_string_equal(err, "not a regular file (a FIFO)");
	unlink(fifo);
}

/* What the worker reports as the file it read. */
static void describes_the_file_opened(void **state)
{
	struct gzlines *gz;
	struct stat sb;

	(void)state;
	write_gz("wb", "x\n", 2);
	assert_int_equal(stat(path, &sb), 0);
	gz = gzlines_open(path, &id, err, sizeof(err));
	assert_non_null(gz);
	assert_int_equal(id.dev, (uint64_t)sb.st_dev);
	assert_int_equal(id.ino, (uint64_t)sb.st_ino);
	assert_int_equal(id.size, (uint64_t)sb.st_size);
	assert_int_equal(id.mtime_sec, (int64_t)sb.st_mtim.tv_sec);
	assert_int_equal(id.mtime_nsec, sb.st_mtim.tv_nsec);
	gzlines_close(gz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(backend_is_the_one_asked_for),
		cmocka_unit_test(lines_and_last_line_without_newline),
		cmocka_unit_test(empty_gzip_stream_has_no_lines),
		cmocka_unit_test(concatenated_members),
		cmocka_unit_test(long_lines_kept_whole_or_reported),
		cmocka_unit_test(many_lines_across_blocks),
		cmocka_unit_test(gzip_c_with_file_name),
		cmocka_unit_test(every_header_field),
		cmocka_unit_test(headers_split_across_reads),
		cmocka_unit_test(not_gzip),
		cmocka_unit_test(empty_file),
		cmocka_unit_test(truncated),
		cmocka_unit_test(corrupt),
		cmocka_unit_test(trailer_crc_wrong),
		cmocka_unit_test(trailer_length_wrong),
		cmocka_unit_test(header_crc_wrong),
		cmocka_unit_test(reserved_header_flag),
		cmocka_unit_test(unknown_method),
		cmocka_unit_test(trailing_garbage),
		cmocka_unit_test(second_member_not_gzip),
		cmocka_unit_test(truncated_in_second_header),
		cmocka_unit_test(not_a_regular_file),
		cmocka_unit_test(describes_the_file_opened),
		cmocka_unit_test(missing_file),
	};
	int failed = cmocka_run_group_tests_name("gzlines with zlib", tests, setup_zlib, teardown);
#ifdef HAVE_ISAL
	failed += cmocka_run_group_tests_name("gzlines with ISA-L", tests, setup_isal, teardown);
#endif
	return failed != 0;
}
