/* test_record.c -- every line rule of record_parse. The Makefile runs it
 * with each kernel (MEMC_LOAD_SIMD=none: the portable one); lines under
 * 128 bytes never reach fields_avx2, so the rules of issue 15 are checked
 * on short lines and again on long ones (see example). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "line/record.h"

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
	assert_int_equal(parse("\tx\t1\t2\t3"), LINE_ERR_FIELDS); /* the tab is stripped */
	assert_int_equal(parse("\t\tx\t1\t2\t3"), LINE_ERR_FIELDS);
	assert_int_equal(parse("x\t\tx\t1\t2"), LINE_ERR_DEV_TYPE);
	/* Whitespace inside the line is no line end: not stripped. */
	assert_int_equal(parse("idfa \tx\t1\t2\t3"), LINE_ERR_DEV_TYPE);
	assert_int_equal(parse("id fa\tx\t1\t2\t3"), LINE_ERR_DEV_TYPE);
}

static void blank_lines(void **state)
{
	(void)state;
	assert_int_equal(parse(""), LINE_BLANK);
	assert_int_equal(parse("\r"), LINE_BLANK);
	assert_int_equal(parse("  \t \r"), LINE_BLANK);
	/* Whatever str.strip() takes off: space, \t, \n, \v, \f, \r. */
	assert_int_equal(parse("\v\f"), LINE_BLANK);
	assert_int_equal(parse(" \t\n\v\f\r"), LINE_BLANK);
	assert_int_equal(parse("\t\t\t\t"), LINE_BLANK);
	assert_int_equal(parse("\r\r\r"), LINE_BLANK);
	assert_int_equal(record_parse(&rec, "\0", 1), LINE_ERR_FIELDS); /* NUL is no whitespace */
	assert_int_equal(parse("\x1c\x1d\x1e\x1f"), LINE_ERR_FIELDS); /* nor, in bytes, these */
}

static void field_count(void **state)
{
	(void)state;
	assert_int_equal(parse("idfa\tx\t1\t2"), LINE_ERR_FIELDS);
	assert_int_equal(parse("idfa\tx\t1\t2\t3\t4"), LINE_ERR_FIELDS);
	assert_int_equal(parse("idfa\tx\t1\t2\t3\t\t4"), LINE_ERR_FIELDS);
	assert_int_equal(parse("just text"), LINE_ERR_FIELDS);
	/* As in the original, the line is stripped before it is split: a
	 * trailing tab is no empty sixth field, and an empty apps field, which
	 * ends the line in a tab, leaves four. */
	assert_int_equal(parse("idfa\tx\t1\t2\t3\t"), LINE_OK);
	assert_int_equal(rec.napps, 1);
	assert_int_equal(rec.apps[0], 3);
	assert_int_equal(parse("idfa\tx\t1\t2\t"), LINE_ERR_FIELDS);
	assert_int_equal(parse("idfa\tx\t1\t2\t \r"), LINE_ERR_FIELDS);
	assert_int_equal(parse("idfa\tx\t\t\t"), LINE_ERR_FIELDS);
	/* No apps, stored: two empty items, both dropped. */
	assert_int_equal(parse("idfa\tx\t1\t2\t,"), LINE_OK);
	assert_int_equal(rec.napps, 0);
	assert_int_equal(rec.apps_dropped, 2);
}

static void crlf(void **state)
{
	(void)state;
	assert_int_equal(parse("gaid\tid\t1.5\t2.5\t1,2\r"), LINE_OK);
	assert_int_equal(rec.napps, 2);
	assert_int_equal(rec.apps[1], 2);
	/* Every CR at the end is stripped; one inside the id is not. */
	assert_int_equal(parse("gaid\tid\t1.5\t2.5\t1,2\r\r"), LINE_OK);
	assert_int_equal(rec.napps, 2);
	assert_int_equal(rec.apps_dropped, 0);
	assert_int_equal(parse("gaid\ti\rd\t1.5\t2.5\t1,2"), LINE_ERR_KEY);
}

static void dev_id_rules(void **state)
{
	char key[300];

	(void)state;
	assert_int_equal(parse("idfa\t\t1\t2\t3"), LINE_ERR_DEV_ID);
	assert_int_equal(parse("idfa\tid with space\t1\t2\t3"), LINE_ERR_KEY);
	/* Whitespace around the id is inside the line: in the key, refused. */
	assert_int_equal(parse("idfa\t id\t1\t2\t3"), LINE_ERR_KEY);
	assert_int_equal(parse("idfa\tid \t1\t2\t3"), LINE_ERR_KEY);
	assert_int_equal(parse("idfa\tid\v\t1\t2\t3"), LINE_ERR_KEY);
	assert_int_equal(parse("idfa\t \t1\t2\t3"), LINE_ERR_KEY);
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
	/* Whitespace around the number is ignored, as float() ignores it. */
	const char *spaced[] = {" 1", "1 ", "\t1", "\v1\f", "\r1\r", "\n 1 \n"};
	for (size_t i = 0; i < sizeof(spaced) / sizeof(spaced[0]); i++) {
		v = 0;
		assert_int_equal(record_parse_coord(spaced[i], strlen(spaced[i]), &v), 0);
		assert_true(v == 1.0);
	}
	const char *bad[] = {"", " ", "\v\f", "1 2", "- 1", "1e 5", "1,5", "0x10", "Infinity",
			     " nan", "-nan", ".", "e5", "1e", "1e+", "--1", "1.2.3", "1e400",
			     "-1e400", "\x1c" "1"};
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

/* Python's whitespace, as str.strip() and int() skip it. */
static int model_space(char c)
{
	return c != '\0' && strchr(" \t\n\v\f\r", c) != NULL;
}

/* The rule for app items, the slow and obvious way: whitespace off both
 * ends, then an optional sign and digits worth 0 to 4294967295. */
static int model_item(const char *s, size_t n, uint32_t *out)
{
	unsigned long long v = 0;
	int neg = 0;

	while (n > 0 && model_space(s[n - 1]))
		n--;
	while (n > 0 && model_space(*s))
		s++, n--;
	if (n > 0 && (*s == '+' || *s == '-')) {
		neg = *s == '-';
		s++, n--;
	}
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v <= 0xffffffffull)
			v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > 0xffffffffull || (neg && v != 0))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Random app lists, heavy in the cases the fast digit path must get right:
 * items of 0 to 12 digits, leading zeros, values near 2^32, stray bytes,
 * signs and whitespace. */
static void apps_equal_model(void **state)
{
	static const char alphabet[] = "0123456789,,,0000099x-+- :/ \v\f\r";
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
			if (x % 5 == 0) /* near the uint32 limit, maybe signed */
				n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%llu",
						      (x >> 20) % 4 == 0 ? "+" : "", 4294967290ull + x % 12);
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
		/* A field empty once the line is stripped takes its tab with it. */
		size_t kept = len;
		while (kept > 0 && model_space(line[field + kept - 1]))
			kept--;
		if (kept == 0) {
			assert_int_equal(record_parse(&rec, line, n), LINE_ERR_FIELDS);
			continue;
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
	assert_int_equal(rec.napps, 6);
	assert_int_equal(rec.apps[0], 1);
	assert_int_equal(rec.apps[1], 2);
	assert_int_equal(rec.apps[2], 4294967295u);
	assert_int_equal(rec.apps[3], 0);
	assert_int_equal(rec.apps[4], 4);
	assert_int_equal(rec.apps[5], 5);
	assert_int_equal(rec.apps_dropped, 4);

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

/* The lines of issue 15 that the original script stores and this parser
 * stored differently or refused. In LINE, '@' stands for the rest of the
 * dev_id and '#' for apps before the line's own: both empty in the short
 * line, and in the long one a real line's 32-byte id and 40 apps, so that
 * the AVX2 kernels see it too. */
struct example {
	const char *line;
	size_t napps;
	uint32_t apps[4];
	size_t dropped;
	int has_lat, has_lon;
	double lat, lon;
	int coords_dropped;
};

static const struct example examples[] = {
	{"idfa\tws@\t55.5\t42.5\t#1, 2, 3", 3, {1, 2, 3}, 0, 1, 1, 55.5, 42.5, 0},
	{"gaid\tws@\t 55.5\t42.5 \t#7", 1, {7}, 0, 1, 1, 55.5, 42.5, 0},
	{"adid\tws@\t1\t2\t#4,5,6 ", 3, {4, 5, 6}, 0, 1, 1, 1, 2, 0},
	{"dvid\tws@\t1\t2\t#3\t", 1, {3}, 0, 1, 1, 1, 2, 0},
	{" idfa\tws@\t1\t2\t#3", 1, {3}, 0, 1, 1, 1, 2, 0},
	{"\tgaid\tws@\t1\t2\t#3", 1, {3}, 0, 1, 1, 1, 2, 0},
	{"\vadid\tws@\t1\t2\t#3\v", 1, {3}, 0, 1, 1, 1, 2, 0},
	{"\fdvid\tws@\t1\t2\t#3\f", 1, {3}, 0, 1, 1, 1, 2, 0},
	{"idfa\tws@\t1\t2\t#3\r\r", 1, {3}, 0, 1, 1, 1, 2, 0},
	{"\n\r\v\f\t gaid\tws@\t1\t2\t#3 \t\f\v\r\n", 1, {3}, 0, 1, 1, 1, 2, 0},
	{"gaid\tws@\t1\t2\t#+5,-0,7", 3, {5, 0, 7}, 0, 1, 1, 1, 2, 0},
	{"adid\tws@\t1\t2\t#+4294967295,-00,+0", 3, {4294967295u, 0, 0}, 0, 1, 1, 1, 2, 0},
	/* Dropped: whitespace inside, a negative value, two signs, no digits. */
	{"adid\tws@\t1\t2\t#1 2,-1,-4294967296,+-1,+,- 5,\v9\f", 1, {9}, 6, 1, 1, 1, 2, 0},
	{"idfa\tws@\t\v-12.25\f\t\r+180 \t# 0 ,+00042 ,\v9\v,-0 \t \r", 4, {0, 42, 9, 0}, 0,
	 1, 1, -12.25, 180, 0},
	/* Present but not numbers: whitespace only, or inside the number. */
	{"dvid\tws@\t \t\v\f\t#1", 1, {1}, 0, 0, 0, 0, 0, 2},
	{"gaid\tws@\t1 2\t- 1\t#1", 1, {1}, 0, 0, 0, 0, 0, 2},
};

/* LINE with '@' and '#' filled in, into OUT. */
static size_t expand(const char *line, int longer, const char *fill, char *out, size_t cap)
{
	size_t n = 0;

	for (; *line; line++) {
		const char *s = *line == '@' ? "-7c4e1b8a2f9d3e6a5b0c1d2e3f405162"
			      : *line == '#' ? fill
					     : NULL;
		size_t k = s != NULL ? (longer ? strlen(s) : 0) : 1;
		assert_true(n + k < cap);
		memcpy(out + n, s != NULL ? s : line, k);
		n += k;
	}
	return n;
}

static void original_examples(void **state)
{
	char fill[400], line[600];
	size_t nfill = 40, f = 0;

	(void)state;
	for (size_t i = 1; i <= nfill; i++)
		f += (size_t)snprintf(fill + f, sizeof(fill) - f, "%zu,", i * 37);
	for (size_t e = 0; e < sizeof(examples) / sizeof(examples[0]); e++)
		for (int longer = 0; longer <= 1; longer++) {
			const struct example *x = &examples[e];
			size_t n = expand(x->line, longer, fill, line, sizeof(line));
			size_t before = longer ? nfill : 0;

			if (record_parse(&rec, line, n) != LINE_OK)
				fail_msg("example %zu (%s): not stored", e, longer ? "long" : "short");
			assert_int_equal(rec.napps, before + x->napps);
			for (size_t i = 0; i < before; i++)
				assert_int_equal(rec.apps[i], (i + 1) * 37);
			for (size_t i = 0; i < x->napps; i++)
				assert_int_equal(rec.apps[before + i], x->apps[i]);
			assert_int_equal(rec.apps_dropped, x->dropped);
			assert_int_equal(rec.has_lat, x->has_lat);
			assert_int_equal(rec.has_lon, x->has_lon);
			assert_true(!x->has_lat || rec.lat == x->lat);
			assert_true(!x->has_lon || rec.lon == x->lon);
			assert_int_equal(rec.coords_dropped, x->coords_dropped);
			assert_int_equal(rec.dev_id_len, longer ? 2 + 33 : 2);
			assert_memory_equal(rec.dev_id, "ws", 2);
		}
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
		cmocka_unit_test(original_examples), cmocka_unit_test(long_lines),
		cmocka_unit_test(type_names),
	};
	return cmocka_run_group_tests_name("record", tests, setup, teardown);
}
