/* record.h -- one TSV line to a record: pure parsing, no I/O.
 *
 * A line is dev_type TAB dev_id TAB lat TAB lon TAB apps, once the
 * whitespace at its ends (space.h) is taken off, as the original script's
 * line.strip() did; whitespace around a coordinate or an app item is
 * ignored too, as its float() and int() ignored it. The parsed record
 * points into the caller's line, and its apps array is reused from line to
 * line, so parsing allocates nothing in the steady state. encode.h applies
 * the same rules and writes the apps as protobuf instead of this array. */
#ifndef MEMC_LOAD_RECORD_H
#define MEMC_LOAD_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "errkind.h"
#include "simd.h"

enum dev_type { DEV_IDFA, DEV_GAID, DEV_ADID, DEV_DVID, DEV_TYPES };

/* Every device type's name is this long: "idfa", "gaid", "adid", "dvid". */
#define DEV_TYPE_LEN 4

/* Longest line parsed; longer lines are errors (LINE_ERR_TOO_LONG). */
#define RECORD_MAX_LINE (1024 * 1024)

/* What record_parse found: a record, a blank line, or one of the line
 * error kinds of errkind.h, in the same order. */
#define LINE_STATUS_ERR(name, text) LINE_ERR_##name,
enum line_status {
	LINE_OK,
	LINE_BLANK, /* empty or only whitespace (space.h): skipped */
	LINE_ERROR_KINDS(LINE_STATUS_ERR)
};
#undef LINE_STATUS_ERR

/* The error kind a line error is counted under. */
static inline enum err_kind line_err_kind(enum line_status status)
{
	_Static_assert(LINE_ERR_TOO_LONG - LINE_ERR_FIELDS == ERR_TOO_LONG - ERR_FIELDS &&
			       ERR_TOO_LONG + 1 == ERR_REJECTED,
		       "line statuses and line error kinds come from one list");
	return (enum err_kind)(ERR_FIELDS + (status - LINE_ERR_FIELDS));
}

struct record {
	enum dev_type type;
	const char *dev_id; /* points into the parsed line */
	size_t dev_id_len;
	int has_lat, has_lon;
	double lat, lon;
	uint32_t *apps;      /* reused across lines */
	size_t napps;
	size_t apps_cap;
	size_t apps_dropped; /* items that were not decimal uint32 (apps.h) */
	int coords_dropped;  /* lat/lon fields present but not finite numbers */
	enum simd simd;      /* vector instructions allowed: simd_choose() */
};

/* Prepare REC for record_parse. 0, or -1 when out of memory. */
int record_init(struct record *rec);
void record_free(struct record *rec);

/* Parse LINE (LEN bytes, no newline, may contain any byte) into REC. */
enum line_status record_parse(struct record *rec, const char *line, size_t len);

/* Every rule but the apps field's: fills REC but for its apps, and gives
 * the apps field, without the whitespace that ended the line, as
 * LINE[*APPS_AT, *APPS_END), which record_parse and encode.c read with
 * apps.h. When it says LINE_OK, a tab in that field still makes the line
 * LINE_ERR_FIELDS. */
enum line_status record_split(struct record *rec, const char *line, size_t len,
			      size_t *apps_at, size_t *apps_end);

/* "idfa", ..., or NULL for an out-of-range type. */
const char *dev_type_name(enum dev_type type);
/* The option name's device type, or -1. */
int dev_type_from_name(const char *name, size_t len);

/* Parse a whole field as a finite decimal number, as the line rules define
 * it (whitespace around it ignored). 0 on success, -1 otherwise. Exposed
 * for the tests. */
int record_parse_coord(const char *s, size_t len, double *out);

#endif
