/* keyfilter.h -- which records a repair pass re-sends (keys/settle.h): those
 * whose key is in the repair set, and every one for the servers that lost
 * theirs. And the key a line would have, from its first two fields alone,
 * so that a pass need not parse the lines it leaves out: most of them. */
#ifndef MEMC_LOAD_KEYFILTER_H
#define MEMC_LOAD_KEYFILTER_H

#include <stddef.h>
#include <stdint.h>

#include "line/record.h"
#include "report.h"

struct key_filter {
	const uint64_t *only; /* key hashes (keyhash.h), ascending; NONLY of them */
	size_t nonly;
	const struct server_set *resend; /* every record for these; may be NULL */
};

/* Whether the record whose key hashes to HASH, going to SERVER (unused
 * without resend), is re-sent. */
int key_filter_passes(const struct key_filter *f, uint64_t hash, int server);

/* The key of LINE (LEN bytes, no newline) if it is valid, into KEY (room
 * for MCPROTO_KEY_MAX + 1 bytes) with its type in *TYPE: its length; or 0
 * when only the full parse can tell (the line does not start with a
 * device type and a tab). A valid line starting so is not stripped there,
 * and its dev_id ends at the next tab, so the key is exactly that. */
size_t key_filter_line_key(const char *line, size_t len, char *key, enum dev_type *type);

#endif
