/* promtext.c -- Prometheus text format lines, escaped. */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "numfmt.h"
#include "promtext.h"

/* HELP text escapes backslash and newline; a label value also the double
 * quote that ends it. Anything else stands for itself. */
static void put_escaped(FILE *out, const char *s, int quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '"' && quote)
			fputs("\\\"", out);
		else
			putc(*s, out);
	}
}

void promtext_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s ", name);
	put_escaped(out, help, 0);
	fprintf(out, "\n# TYPE %s %s\n", name, type);
}

static void put_name(FILE *out, const char *name, const char *label, const char *value)
{
	fputs(name, out);
	if (label == NULL)
		return;
	fprintf(out, "{%s=\"", label);
	put_escaped(out, value, 1);
	fputs("\"}", out);
}

void promtext_uint(FILE *out, const char *name, const char *label, const char *value, uint64_t v)
{
	/* Exact in the text even above 2^53, where a double would round. */
	put_name(out, name, label, value);
	fprintf(out, " %" PRIu64 "\n", v);
}

/* printf writes the locale's decimal point: a program that called
 * setlocale could get "0,5", which no Prometheus parser reads. */
static void c_decimal_point(char *buf)
{
	const char *dp = localeconv()->decimal_point;
	size_t n = strlen(dp);
	char *p;

	if (n == 0 || strcmp(dp, ".") == 0 || (p = strstr(buf, dp)) == NULL)
		return;
	*p = '.';
	memmove(p + 1, p + n, strlen(p + n) + 1);
}

void promtext_number(char *buf, size_t size, double v)
{
	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		snprintf(buf, size, "%.0f", v);
	else
		numfmt_double(buf, size, v);
	c_decimal_point(buf);
}

void promtext_double(FILE *out, const char *name, const char *label, const char *value, double v)
{
	char buf[40];

	promtext_number(buf, sizeof(buf), v);
	put_name(out, name, label, value);
	fprintf(out, " %s\n", buf);
}
