/* test_promtext.c -- the Prometheus text format: HELP and TYPE lines, the
 * escaping of help texts and label values, and numbers that any parser
 * reads back exactly, whatever the locale. */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "promtext.h"

/* What F wrote into a memory stream, as a string; free it. */
#define CAPTURE(text, ...)                                           \
	do {                                                         \
		size_t len_ = 0;                                     \
		FILE *out = open_memstream(&(text), &len_);          \
		assert_non_null(out);                                \
		__VA_ARGS__;                                         \
		assert_int_equal(fclose(out), 0);                    \
	} while (0)

static void help_and_type(void **state)
{
	char *text = NULL;

	(void)state;
	CAPTURE(text, promtext_family(out, "memc_load_x", "gauge", "Plain \"quoted\" help."));
	assert_string_equal(text, "# HELP memc_load_x Plain \"quoted\" help.\n"
				  "# TYPE memc_load_x gauge\n");
	free(text);
	/* In HELP only backslash and newline are escaped. */
	CAPTURE(text, promtext_family(out, "m_total", "counter", "a\\b\nc \"d\""));
	assert_string_equal(text, "# HELP m_total a\\\\b\\nc \"d\"\n# TYPE m_total counter\n");
	free(text);
}

static void label_values(void **state)
{
	char *text = NULL;

	(void)state;
	CAPTURE(text, promtext_uint(out, "m", "kind", "fields", 3));
	assert_string_equal(text, "m{kind=\"fields\"} 3\n");
	free(text);
	/* A label value escapes backslash, double quote and newline; other
	 * bytes, UTF-8 included, stand for themselves. */
	CAPTURE(text, promtext_uint(out, "m", "v", "a\"b\\c\nd caf\xc3\xa9", 1));
	assert_string_equal(text, "m{v=\"a\\\"b\\\\c\\nd caf\xc3\xa9\"} 1\n");
	free(text);
	CAPTURE(text, promtext_double(out, "m", NULL, NULL, 0.25));
	assert_string_equal(text, "m 0.25\n");
	free(text);
	CAPTURE(text, promtext_uint(out, "m", "v", "", 0));
	assert_string_equal(text, "m{v=\"\"} 0\n");
	free(text);
}

static void integers_exact(void **state)
{
	char *text = NULL;

	(void)state;
	/* Above 2^53 a double would round: counts are written as integers. */
	CAPTURE(text, promtext_uint(out, "a", NULL, NULL, UINT64_MAX);
		promtext_uint(out, "b", NULL, NULL, 9007199254740993u);
		promtext_uint(out, "c", NULL, NULL, 0));
	assert_string_equal(text, "a 18446744073709551615\nb 9007199254740993\nc 0\n");
	free(text);
}

static void check_number(double v, const char *want)
{
	char buf[40];

	promtext_number(buf, sizeof(buf), v);
	assert_string_equal(buf, want);
}

static void numbers(void **state)
{
	(void)state;
	check_number(0.0, "0");
	check_number(42.0, "42");
	check_number(-3.0, "-3");
	check_number(1796040698.0, "1796040698");
	check_number(9007199254740991.0, "9007199254740991");
	check_number(0.5, "0.5");
	check_number(0.1, "0.1");
	check_number(1.0 / 3.0, "0.3333333333333333");
	check_number(2.0 / 3.0, "0.6666666666666666");
	check_number(1796040698.967619, "1796040698.967619");
	check_number(1e-7, "1e-07");
	check_number(1e300, "1e+300");
	check_number(NAN, "NaN");
	check_number(INFINITY, "+Inf");
	check_number(-INFINITY, "-Inf");
}

/* Every value reads back as itself. */
static void numbers_round_trip(void **state)
{
	const double values[] = {
		0.1, 0.2, 0.30000000000000004, 1e-300, 5e-324, 1.7976931348623157e308,
		123456.789, 1796040698.9733276, 0.004326889000367373, 9007199254740993.0,
	};
	char buf[40];

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		promtext_number(buf, sizeof(buf), values[i]);
		assert_true(strtod(buf, NULL) == values[i]);
	}
}

/* A locale whose decimal point is a comma: de_DE from the system, or
 * compiled into DIR by localedef(1) (LOCPATH then points there). 1 when
 * LC_NUMERIC is now that locale. */
static int comma_locale(const char *dir)
{
	char cmd[512];

	if (setlocale(LC_NUMERIC, "de_DE.UTF-8") != NULL)
		return 1;
	snprintf(cmd, sizeof(cmd), "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1",
		 dir);
	if (system(cmd) != 0)
		return 0;
	setenv("LOCPATH", dir, 1);
	return setlocale(LC_NUMERIC, "de_DE.UTF-8") != NULL;
}

static void numbers_whatever_the_locale(void **state)
{
	char dir[] = "/tmp/test_promtext.XXXXXX", buf[40], cmd[64];
	char *text = NULL;
	int have;

	(void)state;
	assert_non_null(mkdtemp(dir));
	have = comma_locale(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	if (!have)
		skip(); /* no de_DE locale, and localedef(1) cannot make one */
	snprintf(buf, sizeof(buf), "%g", 0.5);
	assert_string_equal(buf, "0,5"); /* the locale is in force */
	check_number(0.5, "0.5");
	check_number(1796040698.967619, "1796040698.967619");
	check_number(1.0 / 3.0, "0.3333333333333333");
	CAPTURE(text, promtext_double(out, "m", "k", "v", 0.25));
	assert_string_equal(text, "m{k=\"v\"} 0.25\n");
	free(text);
	setlocale(LC_NUMERIC, "C");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(help_and_type),
		cmocka_unit_test(label_values),
		cmocka_unit_test(integers_exact),
		cmocka_unit_test(numbers),
		cmocka_unit_test(numbers_round_trip),
		cmocka_unit_test(numbers_whatever_the_locale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
