/* encode.h -- one line straight to its packed UserApps value.
 *
 * The line rules of record.h, with each app written as a protobuf varint as
 * it is read: no array of apps, no second pass over them, no allocation per
 * line. The bytes are those protobuf-c's user_apps__pack (pack_value) gives
 * for the same record; the tests and the fuzzer hold it to that. */
#ifndef MEMC_LOAD_ENCODE_H
#define MEMC_LOAD_ENCODE_H

#include <stddef.h>

#include "pack.h"
#include "record.h"

/* Size OUT once for the value of the longest line. 0, or -1 when out of
 * memory. Free it with packbuf_free. */
int encode_init(struct packbuf *out);

/* Parse LINE (LEN bytes, no newline) as record_parse does and, on LINE_OK,
 * put its value in OUT (from encode_init). REC gets everything record_parse
 * sets but the apps array: napps and apps_dropped are counted. */
enum line_status encode_line(struct record *rec, const char *line, size_t len,
			     struct packbuf *out);

#endif
