/* record.c -- the line rules, applied to one line at a time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static const char *const dev_type_names[DEV_TYPES] = {"idfa", "gaid", "adid", "dvid"};

/* A line of RECORD_MAX_LINE bytes holds at most this many comma-separated apps. */
#define MAX_APPS (RECORD_MAX_LINE / 2 + 1)

const char *dev_type_name(enum dev_type type)
{
	return (unsigned)type < DEV_TYPES ? dev_type_names[type] : NULL;
}

int dev_type_from_name(const char *name, size_t len)
{
	for (int t = 0; t < DEV_TYPES; t++)
		if (len == strlen(dev_type_names[t]) && memcmp(name, dev_type_names[t], len) == 0)
			return t;
	return -1;
}

int record_init(struct record *rec)
{
	memset(rec, 0, sizeof(*rec));
	/* Sized once for the longest line; untouched pages cost no memory. */
	rec->apps = malloc(MAX_APPS * sizeof(*rec->apps));
	if (rec->apps == NULL)
		return -1;
	rec->apps_cap = MAX_APPS;
	return 0;
}

void record_free(struct record *rec)
{
	free(rec->apps);
	rec->apps = NULL;
	rec->apps_cap = 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Strict decimal syntax: [+-] digits [. digits] [e [+-] digits], with at least
 * one digit in the mantissa. No spaces, hex, "inf" or "nan", which strtod
 * alone would accept. */
static int is_decimal(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < len && is_digit(s[i]); i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && is_digit(s[i]); i++)
			digits++;
	if (digits == 0)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp_digits = 0;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (; i < len && is_digit(s[i]); i++)
			exp_digits++;
		if (exp_digits == 0)
			return 0;
	}
	return i == len;
}

int record_parse_coord(const char *s, size_t len, double *out)
{
	char buf[128];

	if (len == 0 || len >= sizeof(buf) || !is_decimal(s, len))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* strtod gives the correctly rounded double; the program never calls
	 * setlocale, so the decimal point is always '.'. */
	double v = strtod(buf, NULL);
	if (!isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* One comma-separated app item: decimal digits only, value within uint32. */
static int parse_app(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static void parse_apps(struct record *rec, const char *s, size_t len)
{
	const char *end = s + len;

	rec->napps = 0;
	rec->apps_dropped = 0;
	if (len == 0)
		return;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *stop = comma ? comma : end;
		uint32_t app;

		if (parse_app(s, (size_t)(stop - s), &app) == 0 && rec->napps < rec->apps_cap)
			rec->apps[rec->napps++] = app;
		else
			rec->apps_dropped++;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
}

/* memcached keys may not hold spaces or control bytes (the text protocol
 * would split or end the command there). */
static int key_byte_ok(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

static int is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return 0;
	return 1;
}

enum line_status record_parse(struct record *rec, const char *line, size_t len)
{
	const char *field[5];
	size_t flen[5];
	const char *p = line, *end;
	int nf = 0;

	if (len > RECORD_MAX_LINE)
		return LINE_ERR_TOO_LONG;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (is_blank(line, len))
		return LINE_BLANK;

	end = line + len;
	for (;;) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *stop = tab ? tab : end;

		if (nf == 5)
			return LINE_ERR_FIELDS;
		field[nf] = p;
		flen[nf] = (size_t)(stop - p);
		nf++;
		if (tab == NULL)
			break;
		p = tab + 1;
	}
	if (nf != 5)
		return LINE_ERR_FIELDS;

	int type = dev_type_from_name(field[0], flen[0]);
	if (type < 0)
		return LINE_ERR_DEV_TYPE;
	if (flen[1] == 0)
		return LINE_ERR_DEV_ID;
	if (flen[0] + 1 + flen[1] > RECORD_MAX_KEY)
		return LINE_ERR_KEY;
	for (size_t i = 0; i < flen[1]; i++)
		if (!key_byte_ok((unsigned char)field[1][i]))
			return LINE_ERR_KEY;

	rec->type = (enum dev_type)type;
	rec->dev_id = field[1];
	rec->dev_id_len = flen[1];
	rec->has_lat = record_parse_coord(field[2], flen[2], &rec->lat) == 0;
	rec->has_lon = record_parse_coord(field[3], flen[3], &rec->lon) == 0;
	rec->coords_dropped = (!rec->has_lat && flen[2] > 0) + (!rec->has_lon && flen[3] > 0);
	parse_apps(rec, field[4], flen[4]);
	return LINE_OK;
}
