/* key.h -- a record's memcached key, "dev_type:dev_id", built in one place.
 *
 * The line rules (record.h) hold every key to what memcached takes: at most
 * MCPROTO_KEY_MAX bytes, none of them a space or a control byte. */
#ifndef MEMC_LOAD_KEY_H
#define MEMC_LOAD_KEY_H

#include <stddef.h>

#include "mc/mcproto.h"
#include "record.h"

/* Write REC's key into KEY (room for MCPROTO_KEY_MAX + 1 bytes), NUL-
 * terminated, and return its length. REC came from record_parse or
 * encode_line, which checked the key. */
size_t key_build(const struct record *rec, char *key);

#endif
