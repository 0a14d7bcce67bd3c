/* test_record.c -- every line rule of record_parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"

static struct record rec;

static int setup(void **state)
{
	(void)state;
	return record_init(&rec);
}

static int teardown(void **state)
{
	(void)state;
	record_free(&rec);
	return 0;
}

static enum line_status parse(const char *line)
{
	return record_parse(&rec, line, strlen(line));
}

static void valid_line(void **state)
{
	(void)state;
	assert_int_equal(parse("idfa\te7e1a50c0ec2747ca56cd9e1558c0d7c\t67.7835424444\t"
			       "-22.8044005471\t7942,8519,4232"),
			 LINE_OK);
	assert_int_equal(rec.type, DEV_IDFA);
	assert_int_equal(rec.dev_id_len, 32);
	assert_memory_equal(rec.dev_id, "e7e1a50c0ec2747ca56cd9e1558c0d7c", 32);
	assert_true(rec.has_lat && rec.has_lon);
	assert_true(rec.lat == 67.7835424444);
	assert_true(rec.lon == -22.8044005471);
	assert_int_equal(rec.napps, 3);
	assert_int_equal(rec.apps[0], 7942);
	assert_int_equal(rec.apps[1], 8519);
	assert_int_equal(rec.apps[2], 4232);
	assert_int_equal(rec.apps_dropped, 0);
	assert_int_equal(rec.coords_dropped, 0);
}

static void every_device_type(void **state)
{
	(void)state;
	assert_int_equal(parse("gaid\tx\t1\t2\t3"), LINE_OK);
	assert_int_equal(rec.type, DEV_GAID);
	assert_int_equal(parse("adid\tx\t1\t2\t3"), LINE_OK);
	assert_int_equal(rec.type, DEV_ADID);
	assert_int_equal(parse("dvid\tx\t1\t2\t3"), LINE_OK);
	assert_int_equal(rec.type, DEV_DVID);
	assert_int_equal(parse("IDFA\tx\t1\t2\t3"), LINE_ERR_DEV_TYPE);
	assert_int_equal(parse("idfaa\tx\t1\t2\t3"), LINE_ERR_DEV_TYPE);
	assert_int_equal(parse("\tx\t1\t2\t3"), LINE_ERR_DEV_TYPE);
}

static void blank_lines(void **state)
{
	(void)state;
	assert_int_equal(parse(""), LINE_BLANK);
	assert_int_equal(parse("\r"), LINE_BLANK);
	assert_int_equal(parse("  \t \r"), LINE_BLANK);
}

static void field_count(void **state)
{
	(void)state;
	assert_int_equal(parse("idfa\tx\t1\t2"), LINE_ERR_FIELDS);
	assert_int_equal(parse("idfa\tx\t1\t2\t3\t4"), LINE_ERR_FIELDS);
	assert_int_equal(parse("idfa\tx\t1\t2\t3\t"), LINE_ERR_FIELDS);
	assert_int_equal(parse("just text"), LINE_ERR_FIELDS);
	/* A trailing tab makes the fifth field empty: no apps, still stored. */
	assert_int_equal(parse("idfa\tx\t1\t2\t"), LINE_OK);
	assert_int_equal(rec.napps, 0);
	assert_int_equal(rec.apps_dropped, 0);
}

static void crlf(void **state)
{
	(void)state;
	assert_int_equal(parse("gaid\tid\t1.5\t2.5\t1,2\r"), LINE_OK);
	assert_int_equal(rec.napps, 2);
	assert_int_equal(rec.apps[1], 2);
	/* Only one trailing CR is a line ending; one inside the id is not. */
	assert_int_equal(parse("gaid\ti\rd\t1.5\t2.5\t1,2"), LINE_ERR_KEY);
}

static void dev_id_rules(void **state)
{
	char key[300];

	(void)state;
	assert_int_equal(parse("idfa\t\t1\t2\t3"), LINE_ERR_DEV_ID);
	assert_int_equal(parse("idfa\tid with space\t1\t2\t3"), LINE_ERR_KEY);
	assert_int_equal(parse("idfa\tid\x01x\t1\t2\t3"), LINE_ERR_KEY);
	assert_int_equal(parse("idfa\tid\x7fx\t1\t2\t3"), LINE_ERR_KEY);
	assert_int_equal(record_parse(&rec, "idfa\tab\0c\t1\t2\t3", 16), LINE_ERR_KEY);
	/* Bytes above 0x7f, invalid UTF-8 included, are valid in a key. */
	assert_int_equal(parse("idfa\t\xff\xfe\xc3\x28\t1\t2\t3"), LINE_OK);
	assert_int_equal(rec.dev_id_len, 4);

	/* "idfa:" + 245 bytes is exactly 250: the longest valid key. */
	memset(key, 'k', sizeof(key));
	char line[400];
	snprintf(line, sizeof(line), "idfa\t%.*s\t1\t2\t3", 245, key);
	assert_int_equal(parse(line), LINE_OK);
	snprintf(line, sizeof(line), "idfa\t%.*s\t1\t2\t3", 246, key);
	assert_int_equal(parse(line), LINE_ERR_KEY);
}

static void coordinates(void **state)
{
	double v;

	(void)state;
	assert_int_equal(parse("idfa\tx\t\t\t1"), LINE_OK);
	assert_false(rec.has_lat);
	assert_false(rec.has_lon);
	assert_int_equal(rec.coords_dropped, 0);

	assert_int_equal(parse("idfa\tx\tnan\tinf\t1"), LINE_OK);
	assert_false(rec.has_lat);
	assert_false(rec.has_lon);
	assert_int_equal(rec.coords_dropped, 2);
	assert_int_equal(rec.napps, 1);

	assert_int_equal(parse("idfa\tx\t1e999\t-1.5e-3\t1"), LINE_OK);
	assert_false(rec.has_lat);
	assert_true(rec.has_lon);
	assert_true(rec.lon == -1.5e-3);
	assert_int_equal(rec.coords_dropped, 1);

	assert_int_equal(record_parse_coord("+.5", 3, &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(record_parse_coord("5.", 2, &v), 0);
	assert_true(v == 5.0);
	assert_int_equal(record_parse_coord("-0", 2, &v), 0);
	const char *bad[] = {"", " 1", "1 ", "1,5", "0x10", "Infinity", "-nan", ".", "e5",
			     "1e", "1e+", "--1", "1.2.3", "1e400", "-1e400"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(record_parse_coord(bad[i], strlen(bad[i]), &v), -1);
	/* Denormals and tiny values are finite numbers: kept. */
	assert_int_equal(record_parse_coord("1e-320", 6, &v), 0);
}

/* The hand-written conversion must give strtod's double, bit for bit. */
static void coords_equal_strtod(void **state)
{
	char buf[64];
	uint64_t x = 88172645463325252u; /* xorshift: reproducible, no libc rand state */

	(void)state;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int intpart = (int)(x % 400) - 200;
		int decimals = (int)((x >> 20) % 17);
		unsigned long long frac = (x >> 8) % 10000000000000000ull;
		int exp = (int)((x >> 40) % 61) - 30;
		int style = (int)((x >> 50) % 4);
		if (style == 0)
			snprintf(buf, sizeof(buf), "%d.%0*llu", intpart, decimals ? decimals : 1,
				 decimals ? frac % 10000000000000000ull : 0);
		else if (style == 1)
			snprintf(buf, sizeof(buf), "%d.%.10llue%d", intpart, frac, exp);
		else if (style == 2)
			snprintf(buf, sizeof(buf), "%.10llu", frac);
		else
			snprintf(buf, sizeof(buf), "-0.%0*llu", decimals ? decimals : 1, frac % 1000);
		double got, want = strtod(buf, NULL);
		assert_int_equal(record_parse_coord(buf, strlen(buf), &got), 0);
		if (memcmp(&got, &want, sizeof(got)) != 0)
			fail_msg("%s: %.17g, strtod %.17g", buf, got, want);
	}
	/* Past the fast path's limits, strtod's own answer is used. */
	const char *slow[] = {"12345678901234567890.5", "1e23", "9007199254740993", "1e-30",
			      "0.000000000000000000000000001"};
	for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++) {
		double got, want = strtod(slow[i], NULL);
		assert_int_equal(record_parse_coord(slow[i], strlen(slow[i]), &got), 0);
		assert_memory_equal(&got, &want, sizeof(got));
	}
}

/* The rule for app items, the slow and obvious way. */
static int model_item(const char *s, size_t n, uint32_t *out)
{
	unsigned long long v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v <= 0xffffffffull)
			v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > 0xffffffffull)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Random app lists, heavy in the cases the fast digit path must get right:
 * items of 0 to 12 digits, leading zeros, values near 2^32, stray bytes. */
static void apps_equal_model(void **state)
{
	static const char alphabet[] = "0123456789,,,0000099x- :/";
	char line[600];
	uint32_t want[300];
	uint64_t x = 2463534242u;

	(void)state;
	for (int round = 0; round < 100000; round++) {
		size_t n = (size_t)snprintf(line, sizeof(line), "idfa\tk\t1\t2\t");
		size_t field = n, len = 0;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t items = x % 30;
		for (size_t i = 0; i < items && n < sizeof(line) - 40; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (x % 5 == 0) /* near the uint32 limit */
				n += (size_t)snprintf(line + n, sizeof(line) - n, "%llu",
						      4294967290ull + x % 12);
			else
				for (size_t d = (x >> 8) % 13; d > 0; d--) {
					x ^= x << 13, x ^= x >> 7, x ^= x << 17;
					line[n++] = x % 7 ? (char)('0' + x % 10)
							  : alphabet[(x >> 5) % (sizeof(alphabet) - 1)];
				}
			if (i + 1 < items)
				line[n++] = ',';
		}
		len = n - field;
		/* The model: split on commas, keep the valid items. */
		size_t nwant = 0, dropped = 0;
		if (len > 0) {
			const char *p = line + field, *e = line + n;
			for (;;) {
				const char *c = memchr(p, ',', (size_t)(e - p));
				const char *stop = c ? c : e;
				if (model_item(p, (size_t)(stop - p), &want[nwant]) == 0)
					nwant++;
				else
					dropped++;
				if (c == NULL)
					break;
				p = c + 1;
			}
		}
		assert_int_equal(record_parse(&rec, line, n), LINE_OK);
		if (rec.napps != nwant || rec.apps_dropped != dropped ||
		    memcmp(rec.apps, want, nwant * sizeof(*want)) != 0)
			fail_msg("apps '%.*s': got %zu kept %zu dropped, want %zu and %zu", (int)len,
				 line + field, rec.napps, rec.apps_dropped, nwant, dropped);
	}
}

static void apps_items(void **state)
{
	(void)state;
	assert_int_equal(parse("dvid\tx\t1\t2\t1,x,2,99999999999,,4294967295,0,-3,+4, 5"), LINE_OK);
	assert_int_equal(rec.napps, 4);
	assert_int_equal(rec.apps[0], 1);
	assert_int_equal(rec.apps[1], 2);
	assert_int_equal(rec.apps[2], 4294967295u);
	assert_int_equal(rec.apps[3], 0);
	assert_int_equal(rec.apps_dropped, 6);

	assert_int_equal(parse("dvid\tx\t1\t2\t4294967296"), LINE_OK);
	assert_int_equal(rec.napps, 0);
	assert_int_equal(rec.apps_dropped, 1);

	assert_int_equal(parse("dvid\tx\t1\t2\t1,"), LINE_OK);
	assert_int_equal(rec.napps, 1);
	assert_int_equal(rec.apps_dropped, 1);

	/* Leading zeros are still decimal. */
	assert_int_equal(parse("dvid\tx\t1\t2\t000000000007"), LINE_OK);
	assert_int_equal(rec.napps, 1);
	assert_int_equal(rec.apps[0], 7);
}

static void long_lines(void **state)
{
	(void)state;
	/* The longest line that is parsed: every app kept, none truncated. */
	size_t n = RECORD_MAX_LINE;
	char *line = malloc(n);
	assert_non_null(line);
	memcpy(line, "gaid\tbig\t1\t2\t", 13);
	size_t i = 13, apps = 0;
	while (i + 2 <= n) {
		line[i++] = '7';
		line[i++] = ',';
		apps++;
	}
	line[i - 1] = '7'; /* no trailing comma */
	assert_int_equal(record_parse(&rec, line, i), LINE_OK);
	assert_int_equal(rec.napps, apps);
	assert_int_equal(rec.apps_dropped, 0);
	assert_int_equal(record_parse(&rec, line, n + 0), LINE_OK);
	free(line);

	line = calloc(1, n + 1);
	assert_non_null(line);
	memcpy(line, "gaid\tbig\t1\t2\t", 13);
	memset(line + 13, '1', n + 1 - 13);
	assert_int_equal(record_parse(&rec, line, n + 1), LINE_ERR_TOO_LONG);
	free(line);
}

static void type_names(void **state)
{
	(void)state;
	assert_string_equal(dev_type_name(DEV_IDFA), "idfa");
	assert_string_equal(dev_type_name(DEV_DVID), "dvid");
	assert_null(dev_type_name(DEV_TYPES));
	assert_int_equal(dev_type_from_name("adid", 4), DEV_ADID);
	assert_int_equal(dev_type_from_name("adi", 3), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_line),    cmocka_unit_test(every_device_type),
		cmocka_unit_test(blank_lines),   cmocka_unit_test(field_count),
		cmocka_unit_test(crlf),          cmocka_unit_test(dev_id_rules),
		cmocka_unit_test(coordinates),   cmocka_unit_test(coords_equal_strtod),
		cmocka_unit_test(apps_items),    cmocka_unit_test(apps_equal_model),
		cmocka_unit_test(long_lines),    cmocka_unit_test(type_names),
	};
	return cmocka_run_group_tests_name("record", tests, setup, teardown);
}
