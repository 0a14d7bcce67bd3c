/* pack.h -- a record to its packed UserApps value by protobuf-c, and back:
 * the reference encode.h is held to, and the self test's. */
#ifndef MEMC_LOAD_PACK_H
#define MEMC_LOAD_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* A growable byte buffer, reused from record to record. */
struct packbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* Encode REC as a UserApps message into OUT. 0, or -1 when out of memory. */
int pack_value(const struct record *rec, struct packbuf *out);

/* Decode a UserApps message into REC (apps into rec->apps, up to apps_cap).
 * 0, or -1 when BUF is not a valid message. Used by the self test. */
int pack_decode(const uint8_t *buf, size_t len, struct record *rec);

void packbuf_free(struct packbuf *buf);

#endif
