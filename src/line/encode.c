/* encode.c -- UserApps in protobuf's wire format, written as a line is read.
 *
 * Hand-written because protobuf-c packs from an array of apps, which would
 * have to be filled first and walked again. The layout is protobuf-c's:
 * fields in number order; apps (1) packed, as tag 0x0a, the payload's
 * length as a varint, the varints, and left out when there are none; lat
 * (2) and lon (3) when present, as tags 0x11 and 0x19 and the 8 bytes of
 * the double, least significant first. A coordinate goes out as parsed,
 * -0.0 included, as protobuf-c writes a proto2 optional field; NaN and
 * infinities never parse. */
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "encode.h"

/* A tag, a length of at most 3 bytes (payloads stay below 2^21), two tagged
 * doubles, and room for the apps writer's wide stores. */
#define ENCODE_OVERHEAD (1 + 3 + 2 * 9 + APPS_VARINT_SLACK)
_Static_assert(RECORD_MAX_LINE < (1 << 21), "a payload's length fits in 3 bytes");

int encode_init(struct packbuf *out)
{
	memset(out, 0, sizeof(*out));
	/* Untouched pages cost no memory. A payload is never longer than its
	 * field: no varint of a uint32 is longer than its decimal digits. */
	out->cap = RECORD_MAX_LINE + ENCODE_OVERHEAD;
	out->data = malloc(out->cap);
	return out->data != NULL ? 0 : -1;
}

static uint8_t *put_double(uint8_t *p, uint8_t tag, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	bits = __builtin_bswap64(bits); /* least significant byte first */
#endif
	p[0] = tag;
	memcpy(p + 1, &bits, sizeof(bits));
	return p + 9;
}

enum line_status encode_line(struct record *rec, const char *line, size_t len,
			     struct packbuf *out)
{
	size_t at = 0, end = 0;
	enum line_status st = record_split(rec, line, len, &at, &end);

	if (st != LINE_OK)
		return st;
	/* The payload goes after a one-byte length; below 128 bytes, the
	 * usual size, it stays there. */
	uint8_t *p = out->data;
	struct apps_out apps = {.varints = p + 2};
	if (apps_scan(rec->simd, line, at, end, &apps) < 0)
		return LINE_ERR_FIELDS;
	rec->napps = apps.napps;
	rec->apps_dropped = apps.dropped;
	if (apps.napps > 0) {
		size_t n = apps.nbytes, lenlen = n < 0x80 ? 1 : n < 0x4000 ? 2 : 3;
		if (lenlen > 1)
			memmove(p + 1 + lenlen, p + 2, n);
		*p++ = 0x0a;
		for (size_t i = 1; i < lenlen; i++, n >>= 7)
			*p++ = (uint8_t)(n | 0x80);
		*p++ = (uint8_t)n;
		p += apps.nbytes;
	}
	if (rec->has_lat)
		p = put_double(p, 0x11, rec->lat);
	if (rec->has_lon)
		p = put_double(p, 0x19, rec->lon);
	out->len = (size_t)(p - out->data);
	return LINE_OK;
}
