/* record.c -- the line rules, applied to one line at a time.
 *
 * One pass from the left, 8 bytes at a time: the device type is one
 * look-up, the dev_id is checked for key bytes while its end is looked
 * for, the coordinates (coord.c) are read while they are checked, and
 * apps.c reads the rest. With AVX2, fields_avx2.c takes the usual line's
 * first four fields at once. The line is first stripped of whitespace at
 * both ends (space.h), as the original script's line.strip() did; the
 * usual line has none, so that is a look at its first and last byte. The
 * rules' order (blank, field count, dev_type, dev_id, key) matters only
 * when a rule is broken, so that is when line_error counts the fields. */
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "coord.h"
#include "fields.h"
#include "record.h"
#include "mc/mcproto.h"
#include "space.h"
#include "swar.h"

static const char dev_type_names[DEV_TYPES][DEV_TYPE_LEN + 1] = {"idfa", "gaid", "adid",
								  "dvid"};
_Static_assert(sizeof("idfa") == DEV_TYPE_LEN + 1, "type names are DEV_TYPE_LEN bytes");

/* A line of RECORD_MAX_LINE bytes holds at most this many comma-separated apps. */
#define MAX_APPS (RECORD_MAX_LINE / 2 + 1)

const char *dev_type_name(enum dev_type type)
{
	return (unsigned)type < DEV_TYPES ? dev_type_names[type] : NULL;
}

int dev_type_from_name(const char *name, size_t len)
{
	/* The names' first letters differ: one look-up and one compare, with
	 * no branch on which type a line has, which is as good as random. */
	static const signed char by_first[256] = {
		['i'] = DEV_IDFA + 1, ['g'] = DEV_GAID + 1, ['a'] = DEV_ADID + 1, ['d'] = DEV_DVID + 1};
	_Static_assert(DEV_TYPES == 4, "one entry of by_first per type");
	int t = len == DEV_TYPE_LEN ? by_first[(unsigned char)name[0]] - 1 : -1;

	return t >= 0 && memcmp(name, dev_type_names[t], DEV_TYPE_LEN) == 0 ? t : -1;
}

int record_init(struct record *rec)
{
	memset(rec, 0, sizeof(*rec));
	/* Sized once for the longest line; untouched pages cost no memory. */
	rec->apps = malloc((MAX_APPS + APPS_ARRAY_SLACK) * sizeof(*rec->apps));
	if (rec->apps == NULL)
		return -1;
	rec->apps_cap = MAX_APPS;
	rec->simd = simd_choose();
	return 0;
}

void record_free(struct record *rec)
{
	free(rec->apps);
	rec->apps = NULL;
	rec->apps_cap = 0;
}

int record_parse_coord(const char *s, size_t len, double *out)
{
	return coord_parse(s, len, len, out);
}

/* The first byte from P on that a memcached key may not hold: a space or a
 * control byte, tab included, or DEL (the text protocol would split or end
 * the command there). END when there is none. */
static const char *key_stop(const char *p, const char *end)
{
	for (; end - p >= 8; p += 8) {
		uint64_t w = swar_load(p);
		uint64_t stop = swar_below(w, 0x21) | swar_eq(w, 0x7f);
		if (stop != 0)
			return p + swar_first(stop);
	}
	for (; p < end; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return p;
	return end;
}

/* The first tab from P on, or END. */
static const char *find_tab(const char *p, const char *end)
{
	for (; end - p >= 8; p += 8) {
		uint64_t tab = swar_eq(swar_load(p), '\t');
		if (tab != 0)
			return p + swar_first(tab);
	}
	for (; p < end; p++)
		if (*p == '\t')
			return p;
	return end;
}

/* A stripped line, not blank, that broke rule ERR: a wrong number of
 * fields comes first. */
static enum line_status line_error(const char *line, size_t len, enum line_status err)
{
	size_t tabs = 0;

	for (size_t i = 0; i < len; i++)
		tabs += line[i] == '\t';
	return tabs != 4 ? LINE_ERR_FIELDS : err;
}

/* The tabs that end dev_id, lat and lon, into T, with the dev_id's bytes
 * checked on the way; LINE_OK, or the rule the line breaks. */
static enum line_status find_fields(const char *line, size_t len, const char *t[3])
{
	const char *end = line + len, *id = line + DEV_TYPE_LEN + 1;

	t[1] = t[2] = end;
	t[0] = key_stop(id, end);
	if (t[0] == end || *t[0] != '\t') /* no more fields, or a byte no key may hold */
		return line_error(line, len, LINE_ERR_KEY);
	if (t[0] == id)
		return line_error(line, len, LINE_ERR_DEV_ID);
	if (DEV_TYPE_LEN + 1 + (size_t)(t[0] - id) > MCPROTO_KEY_MAX)
		return line_error(line, len, LINE_ERR_KEY);
	t[1] = find_tab(t[0] + 1, end);
	if (t[1] == end)
		return LINE_ERR_FIELDS; /* fewer than five: the type and the dev_id are there */
	t[2] = find_tab(t[1] + 1, end);
	return t[2] == end ? LINE_ERR_FIELDS : LINE_OK;
}

enum line_status record_split(struct record *rec, const char *line, size_t len,
			      size_t *apps_at, size_t *apps_end)
{
	const char *const start = line;

	if (len > RECORD_MAX_LINE) /* measured on the line as read */
		return LINE_ERR_TOO_LONG;
	space_trim(&line, &len);
	if (len == 0)
		return LINE_BLANK;

	int type = len > DEV_TYPE_LEN && line[DEV_TYPE_LEN] == '\t'
			   ? dev_type_from_name(line, DEV_TYPE_LEN)
			   : -1;
	if (type < 0)
		return line_error(line, len, LINE_ERR_DEV_TYPE);

	struct fields f;
	int has[2] = {1, 1};
	if (rec->simd != SIMD_AVX2 || fields_avx2(line, len, &f) < 0) {
		enum line_status st = find_fields(line, len, f.tab);
		if (st != LINE_OK)
			return st;
		for (int i = 0; i < 2; i++) {
			const char *s = f.tab[i] + 1;
			has[i] = coord_parse(s, (size_t)(f.tab[i + 1] - s), (size_t)(line + len - s),
					     &f.coord[i]) == 0;
		}
	}
	const char *const *t = f.tab;
	const size_t coord_len[2] = {(size_t)(t[1] - t[0] - 1), (size_t)(t[2] - t[1] - 1)};
	rec->type = (enum dev_type)type;
	rec->dev_id = line + DEV_TYPE_LEN + 1;
	rec->dev_id_len = (size_t)(t[0] - rec->dev_id);
	rec->has_lat = has[0];
	rec->has_lon = has[1];
	rec->lat = has[0] ? f.coord[0] : 0;
	rec->lon = has[1] ? f.coord[1] : 0;
	rec->coords_dropped = (!has[0] && coord_len[0] > 0) + (!has[1] && coord_len[1] > 0);
	/* At least "idfa\tx\t\t\t" precedes the apps: apps.c reads 8 bytes back. */
	*apps_at = (size_t)(t[2] + 1 - start);
	*apps_end = (size_t)(line + len - start);
	return LINE_OK;
}

enum line_status record_parse(struct record *rec, const char *line, size_t len)
{
	size_t at = 0, end = 0;
	enum line_status st = record_split(rec, line, len, &at, &end);
	struct apps_out out = {.array = rec->apps};

	if (st != LINE_OK)
		return st;
	if (apps_scan(rec->simd, line, at, end, &out) < 0)
		return LINE_ERR_FIELDS;
	rec->napps = out.napps;
	rec->apps_dropped = out.dropped;
	return LINE_OK;
}
