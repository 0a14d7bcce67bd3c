/* test_encode.c -- encode_line's bytes against protobuf-c's, and the line
 * parser against the one it replaced (record_ref.c), with each kernel.
 *
 * Every line on which the rules as they were and as they are agree
 * (ref_rules_agree) goes through ref_record_parse, the previous parser;
 * any other line (whitespace that is now stripped, signed app items)
 * through record_parse's portable kernel, whose rules test_record.c and
 * the fuzzer's model check. That status and record are what record_parse
 * must give, with the portable kernel and, where the CPU has it, the AVX2
 * one; and user_apps__pack of that record is what encode_line must write,
 * byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "appsinstalled.pb-c.h"
#include "line/encode.h"
#include "line/record.h"
#include "record_ref.h"
#include "line/simd.h"

static struct record rec, ref;
static struct packbuf value;
static uint8_t *want;
static enum simd kernels[2];
static int nkernels;
static char *line;
static unsigned long checked, checked_ref;

static int setup(void **state)
{
	(void)state;
	if (record_init(&rec) < 0 || record_init(&ref) < 0 || encode_init(&value) < 0)
		return -1;
	want = malloc(RECORD_MAX_LINE + 64);
	line = malloc(RECORD_MAX_LINE + 2);
	kernels[nkernels++] = SIMD_NONE;
	if (simd_choose() == SIMD_AVX2)
		kernels[nkernels++] = SIMD_AVX2;
	else
		fprintf(stderr, "test_encode: no AVX2 here (or MEMC_LOAD_SIMD=none): portable "
				"kernel only\n");
	return want == NULL || line == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	fprintf(stderr, "test_encode: %lu lines checked with %d kernel(s), %lu of them against the "
			"previous parser\n",
		checked, nkernels, checked_ref);
	record_free(&rec);
	record_free(&ref);
	packbuf_free(&value);
	free(want);
	free(line);
	return 0;
}

static const char *kernel_name(enum simd k)
{
	return k == SIMD_AVX2 ? "AVX2" : "portable";
}

/* The line, escaped and cut, for a failure message. */
static const char *shown(const char *s, size_t len)
{
	static char out[400];
	size_t n = 0;

	for (size_t i = 0; i < len && n < sizeof(out) - 8; i++) {
		unsigned char c = (unsigned char)s[i];
		n += (size_t)(c >= 0x20 && c < 0x7f && c != '\\'
				      ? snprintf(out + n, sizeof(out) - n, "%c", c)
				      : snprintf(out + n, sizeof(out) - n, "\\x%02x", c));
	}
	if (len > 0 && n >= sizeof(out) - 8)
		snprintf(out + n, sizeof(out) - n, "...");
	out[sizeof(out) - 1] = '\0';
	return out;
}

static int same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0; /* -0.0 is not 0.0 here */
}

/* Everything but the apps array, which encode_line does not fill. */
static int same_fields(const struct record *a, const struct record *b)
{
	return a->type == b->type && a->dev_id == b->dev_id && a->dev_id_len == b->dev_id_len &&
	       a->has_lat == b->has_lat && a->has_lon == b->has_lon &&
	       (!a->has_lat || same_double(a->lat, b->lat)) &&
	       (!a->has_lon || same_double(a->lon, b->lon)) && a->napps == b->napps &&
	       a->apps_dropped == b->apps_dropped && a->coords_dropped == b->coords_dropped;
}

/* What the line must give: the previous parser's record where its rules
 * still hold, else the portable kernel's. */
static enum line_status reference(const char *s, size_t len)
{
	if (ref_rules_agree(s, len)) {
		checked_ref++;
		return ref_record_parse(&ref, s, len);
	}
	ref.simd = SIMD_NONE;
	return record_parse(&ref, s, len);
}

static void check(const char *s, size_t len)
{
	enum line_status st = reference(s, len);
	size_t want_len = 0;

	if (st == LINE_OK) {
		UserApps msg = USER_APPS__INIT;
		msg.n_apps = ref.napps;
		msg.apps = ref.apps;
		msg.has_lat = ref.has_lat != 0;
		msg.lat = ref.lat;
		msg.has_lon = ref.has_lon != 0;
		msg.lon = ref.lon;
		want_len = user_apps__pack(&msg, want);
	}
	for (int k = 0; k < nkernels; k++) {
		const char *name = kernel_name(kernels[k]);
		rec.simd = kernels[k];
		enum line_status got = record_parse(&rec, s, len);
		if (got != st)
			fail_msg("%s record_parse: status %d, was %d: %s", name, got, st, shown(s, len));
		if (st == LINE_OK &&
		    (!same_fields(&rec, &ref) ||
		     memcmp(rec.apps, ref.apps, ref.napps * sizeof(*ref.apps)) != 0))
			fail_msg("%s record_parse: another record (%zu apps, %zu dropped; was %zu, "
				 "%zu): %s",
				 name, rec.napps, rec.apps_dropped, ref.napps, ref.apps_dropped,
				 shown(s, len));
		got = encode_line(&rec, s, len, &value);
		if (got != st)
			fail_msg("%s encode_line: status %d, was %d: %s", name, got, st, shown(s, len));
		if (st == LINE_OK && !same_fields(&rec, &ref))
			fail_msg("%s encode_line: another record: %s", name, shown(s, len));
		if (st == LINE_OK && (value.len != want_len || memcmp(value.data, want, want_len) != 0))
			fail_msg("%s encode_line: %zu bytes, not protobuf-c's %zu: %s", name, value.len,
				 want_len, shown(s, len));
	}
	checked++;
}

/* A usual line's first fields: long enough for the vector paths. */
static const char head[] = "gaid\t7c4e1b8a2f9d3e6a5b0c1d2e3f405162\t-55.7558203126\t37.6173014259\t";

/* The apps field made of COUNT copies of FILL, with ITEM in place of the
 * copy at AT (none when AT >= COUNT), after HEAD. */
static size_t build(const char *h, const char *fill, size_t count, const char *item, size_t at)
{
	size_t n = (size_t)snprintf(line, RECORD_MAX_LINE, "%s", h);

	for (size_t i = 0; i < count; i++) {
		const char *s = i == at ? item : fill;
		size_t k = strlen(s);
		assert_true(n + 1 + k < RECORD_MAX_LINE);
		if (i > 0)
			line[n++] = ',';
		memcpy(line + n, s, k);
		n += k;
	}
	return n;
}

static const char *const edge_items[] = {
	"0",	      "1",	    "9",	  "10",		"99",	      "127",
	"128",	      "999",	    "1000",	  "9999",	"10000",      "16383",
	"16384",      "65535",	    "99999",	  "2097151",	"2097152",    "9999999",
	"99999999",   "268435455",  "268435456",  "999999999",	"2147483648", "4294967295",
	"4294967296", "9999999999", "0000000007", "0000000000", "00000000000000000042",
	"000000000000000000004294967295", "000000000000000000004294967296", "12345678901",
	"",	      "-1",	    "+1",	  " 1",		"1 ",	      "1a",
	"a",	      "0x10",	    "1.5",	  "\r",		"\x7f",	      "\xff",
	"-0",	      "+0",	    "-00",	  "+4294967295", "-4294967295", "+4294967296",
	"+-1",	      "-+1",	    "+",	  "-",		" ",	      "\v7\f",
	" +5 ",	      "+ 5",	    "1 2",	  "\r12345\r",	"  123456789 ", "\f\v\r\n",
};

static void edge_values(void **state)
{
	(void)state;
	for (size_t e = 0; e < sizeof(edge_items) / sizeof(edge_items[0]); e++) {
		const char *item = edge_items[e];
		/* Alone, in short and long lines, and at every place of a list
		 * long enough to span several blocks and groups of eight. */
		check(line, build("idfa\tk\t1\t2\t", "", 1, item, 0));
		check(line, build(head, "", 1, item, 0));
		for (size_t at = 0; at < 70; at++) {
			check(line, build(head, "1234", 70, item, at));
			check(line, build(head, "7", 70, item, at));
			check(line, build(head, "131", 70, item, at));
		}
	}
}

static void apps_fields(void **state)
{
	static const char *const fields[] = {
		"", ",", ",,", "1,", ",1", "1,,2", "1,2,", "4294967295,4294967296",
		"0,127,128,16383,16384,2097151,2097152,268435455,268435456,4294967295",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		check(line, build("dvid\tx\t\t\t", fields[i], 1, "", 1));
		check(line, build(head, fields[i], 1, "", 1));
		check(line, build(head, fields[i], 40, "", 40));
	}
	/* Fields of every length across the 64-byte blocks, in items of one to
	 * five digits. */
	for (size_t len = 0; len < 300; len++)
		for (size_t width = 1; width <= 5; width++) {
			size_t n = (size_t)snprintf(line, RECORD_MAX_LINE, "%s", head);
			for (size_t i = 0; i < len; i++)
				line[n + i] = (i + 1) % (width + 1) == 0 ? ',' : (char)('1' + i % 9);
			check(line, n + len);
		}
}

static void coordinates(void **state)
{
	static const char *const coords[] = {
		"",		      "0",	       "-0",		  "+0",
		"-0.0",		      ".5",	       "5.",		  "-.5",
		"+5.",		      ".",	       "-",		  "+",
		"1.2.3",	      "1e5",	       "-1.5e-3",	  "1e999",
		"nan",		      "inf",	       "0x10",		  " 1",
		"1 ",		      "--1",	       "55.7558203126",	  "-179.9999999999",
		"9007199254740992",   "9007199254740993", "1234567890123456", "12345678901234567",
		"0.000000000000001",  "0.0000000000000001", "123456.7890123456", "1.234567890123456",
		"99999999.99999999",  "-90",	       "180",		  "1e-320",
		" 55.5",	      "42.5 ",	       "\v-1.5\f",	  "\r+180\r",
		" ",		      "\v",	       "1 2",		  "- 1",
		"   55.7558203126  ", " 1e5",	       "nan ",		  " -0",
	};
	const size_t n = sizeof(coords) / sizeof(coords[0]);

	(void)state;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			char h[200];
			snprintf(h, sizeof(h), "adid\te7e1a50c0ec2747ca56cd9e1558c0d7c\t%s\t%s\t",
				 coords[i], coords[j]);
			check(line, build(h, "4567", 50, "", 50));
			check(line, build(h, "", 1, "", 1));
		}
}

static void long_lines(void **state)
{
	static const char *const fills[] = {"7", "4294967295", "1234", "12345", "0,x"};

	(void)state;
	for (size_t f = 0; f < sizeof(fills) / sizeof(fills[0]); f++) {
		size_t h = strlen(head), k = strlen(fills[f]);
		memcpy(line, head, h);
		for (size_t i = h; i < RECORD_MAX_LINE + 1; i++) /* "item,item,..." */
			line[i] = (i - h) % (k + 1) == k ? ',' : fills[f][(i - h) % (k + 1)];
		line[RECORD_MAX_LINE - 1] = '9';
		check(line, RECORD_MAX_LINE);
		check(line, RECORD_MAX_LINE - 1);
		check(line, RECORD_MAX_LINE - 777);
		check(line, RECORD_MAX_LINE + 1);
	}
}

static uint64_t rng = 88172645463325252u;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A field of LEN bytes drawn mostly from DIGITS, sometimes from anything. */
static size_t random_bytes(char *s, size_t len, const char *alphabet)
{
	static const char hostile[] = "\t\r\n\v\f ,.-+e0\x7f\xff";
	size_t k = strlen(alphabet);

	for (size_t i = 0; i < len; i++)
		s[i] = next() % 64 == 0 ? hostile[next() % (sizeof(hostile) - 1)]
					 : alphabet[next() % k];
	return len;
}

/* Lines like the real ones, with every kind of damage now and then. */
static void random_lines(void **state)
{
	static const char *const types[] = {"idfa", "gaid", "adid", "dvid", "IDFA", "", "idfaa"};

	(void)state;
	for (int round = 0; round < 300000; round++) {
		size_t n = 0;
		uint64_t r = next();
		if (r >> 60 == 0) /* whitespace before the type, which is stripped */
			n += random_bytes(line, 1 + (r >> 56) % 3, " \t\v\f\r");
		n += (size_t)sprintf(line + n, "%s\t", types[r % 7 < 4 ? r % 4 : r % 7]);
		n += random_bytes(line + n, r >> 8 & 1 ? 32 : r >> 40 & 7 ? (r >> 9) % 70 : 240 + (r >> 9) % 20,
				  r >> 20 & 7 ? "0123456789abcdef" : "ab \x01\x7f");
		for (int c = 0; c < 2; c++) {
			line[n++] = '\t';
			uint64_t q = next();
			if (q % 8 == 0)
				n += random_bytes(line + n, q % 20, "0123456789.-+e");
			else
				n += (size_t)sprintf(line + n, "%s%d.%0*llu", q >> 3 & 1 ? "-" : "",
						     (int)(q >> 4 & 255), (int)(q >> 12 & 15) + 1,
						     (unsigned long long)(q >> 20) % 10000000000000000ull);
		}
		line[n++] = '\t';
		size_t items = next() % 80;
		for (size_t i = 0; i < items; i++) {
			uint64_t q = next();
			if (i > 0)
				line[n++] = ',';
			size_t digits = q % 16 == 0 ? q >> 8 & 15 : 1 + (q >> 8) % 4;
			n += random_bytes(line + n, digits, "0123456789");
		}
		if (next() % 16 == 0) /* a CR, or a sixth field */
			line[n++] = next() & 1 ? '\r' : '\t';
		if (next() % 16 == 0) /* whitespace the line rules strip */
			n += random_bytes(line + n, next() % 4, " \t\v\f\r");
		check(line, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(edge_values), cmocka_unit_test(apps_fields),
		cmocka_unit_test(coordinates), cmocka_unit_test(long_lines),
		cmocka_unit_test(random_lines),
	};
	return cmocka_run_group_tests_name("encode", tests, setup, teardown);
}
