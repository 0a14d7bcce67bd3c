/* apps.h -- the apps field of a line, "app,app,...", item by item.
 *
 * An item, once the whitespace around it (space.h) is taken off, is kept
 * when it is an optional sign and one or more ASCII digits worth 0 to
 * UINT32_MAX (leading zeros allowed; "+5" is 5, "-0" is 0), and dropped
 * otherwise: the original script's int(a.strip()) took the same items and
 * failed on the others, or stored values its uint32 field could not hold.
 * Kept items go
 * either to an array of uint32 or, already encoded, to the protobuf varints
 * of a packed repeated field, so that encoding a line holds no array and
 * makes no second pass over its apps. Pure, no I/O, no allocation. */
#ifndef MEMC_LOAD_APPS_H
#define MEMC_LOAD_APPS_H

#include <stddef.h>
#include <stdint.h>

#include "simd.h"

/* Room past the last item that the writers may scribble on: array slots
 * and bytes, respectively. */
#define APPS_ARRAY_SLACK 8
#define APPS_VARINT_SLACK 32

/* Where the items go: exactly one of ARRAY and VARINTS is set. */
struct apps_out {
	uint32_t *array;  /* room for LEN / 2 + 1 + APPS_ARRAY_SLACK items */
	uint8_t *varints; /* room for LEN + APPS_VARINT_SLACK bytes */
	size_t napps;     /* items kept */
	size_t dropped;   /* items dropped */
	size_t nbytes;    /* bytes of varints written */
};

/* Read the field LINE[AT, END) into OUT; AT is at least 8, and all of
 * LINE before the field may be read. 0, or -1 when the field holds a tab,
 * which makes the line's fields more than five. */
int apps_scan(enum simd simd, const char *line, size_t at, size_t end, struct apps_out *out);

/* For apps.c and apps_avx2.c only. */

/* Bytes of the field whose items are listed before any is converted. */
#define APPS_CHUNK 1024

/* apps_scan with AVX2: the usual field with vectors, any other with the
 * portable kernel. */
int apps_scan_avx2(const char *line, size_t at, size_t end, struct apps_out *out);

#endif
