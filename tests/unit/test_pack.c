/* test_pack.c -- packed values equal encodings made without protobuf-c:
 * one written out by hand here, the rest made by `protoc --encode` and
 * checked in under tests/fixtures (see make-fixtures.sh there). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "line/key.h"
#include "line/pack.h"
#include "line/record.h"

static struct record rec;
static struct packbuf buf;

static int setup(void **state)
{
	(void)state;
	return record_init(&rec);
}

static int teardown(void **state)
{
	(void)state;
	record_free(&rec);
	packbuf_free(&buf);
	return 0;
}

static void by_hand(void **state)
{
	/* apps [1, 300] packed (field 1, wire type 2), lat 1.5 (field 2, fixed64). */
	static const uint8_t want[] = {0x0a, 0x03, 0x01, 0xac, 0x02, 0x11, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f};
	const char *line = "idfa\tk\t1.5\tnan\t1,300";

	(void)state;
	assert_int_equal(record_parse(&rec, line, strlen(line)), LINE_OK);
	assert_int_equal(pack_value(&rec, &buf), 0);
	assert_int_equal(buf.len, sizeof(want));
	assert_memory_equal(buf.data, want, sizeof(want));
}

static void key(void **state)
{
	char k[MCPROTO_KEY_MAX + 1];
	const char *line = "gaid\te7e1a50c0ec2747ca56cd9e1558c0d7c\t1\t2\t3";

	(void)state;
	assert_int_equal(record_parse(&rec, line, strlen(line)), LINE_OK);
	assert_int_equal(key_build(&rec, k), 37);
	assert_string_equal(k, "gaid:e7e1a50c0ec2747ca56cd9e1558c0d7c");
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	data = malloc((size_t)n + 1);
	if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		data = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return data;
}

static void protoc_fixtures(void **state)
{
	DIR *d = opendir(FIXTURES);
	struct dirent *e;
	int checked = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t nl = strlen(e->d_name);
		char path[512];
		size_t line_len, want_len;

		if (nl < 6 || strcmp(e->d_name + nl - 5, ".line") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", FIXTURES, e->d_name);
		char *line = slurp(path, &line_len);
		snprintf(path, sizeof(path), "%s/%.*s.bin", FIXTURES, (int)(nl - 5), e->d_name);
		char *want = slurp(path, &want_len);
		assert_non_null(line);
		if (want == NULL)
			fail_msg("%s: no .bin beside the .line", path);
		if (record_parse(&rec, line, line_len) != LINE_OK)
			fail_msg("%s: line does not parse", e->d_name);
		assert_int_equal(pack_value(&rec, &buf), 0);
		if (buf.len != want_len || memcmp(buf.data, want, want_len) != 0)
			fail_msg("%s: packed %zu bytes differ from protoc's %zu", e->d_name, buf.len,
				 want_len);
		free(line);
		free(want);
		checked++;
	}
	closedir(d);
	/* A missing fixture directory must fail, not pass on nothing. */
	if (checked < 5)
		fail_msg("only %d fixtures found in %s", checked, FIXTURES);
}

static void decode_round_trip(void **state)
{
	struct record out;
	const char *line = "dvid\tx\t-0.0\t180\t0,4294967295,7";

	(void)state;
	assert_int_equal(record_init(&out), 0);
	assert_int_equal(record_parse(&rec, line, strlen(line)), LINE_OK);
	assert_int_equal(pack_value(&rec, &buf), 0);
	assert_int_equal(pack_decode(buf.data, buf.len, &out), 0);
	assert_int_equal(out.napps, 3);
	assert_int_equal(out.apps[1], 4294967295u);
	assert_true(out.has_lat && out.has_lon);
	assert_true(out.lon == 180.0);
	assert_int_equal(pack_decode((const uint8_t *)"\x0a\xff", 2, &out), -1);
	record_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(by_hand),
		cmocka_unit_test(key),
		cmocka_unit_test(protoc_fixtures),
		cmocka_unit_test(decode_round_trip),
	};
	return cmocka_run_group_tests_name("pack", tests, setup, teardown);
}
