/* keyfilter.c -- a repair pass's choice of records (keyfilter.h). */
#include <string.h>

#include "keyfilter.h"
#include "mc/mcproto.h"

/* Whether HASH is among the NONLY ascending hashes ONLY. */
static int hash_among(const uint64_t *only, size_t nonly, uint64_t hash)
{
	size_t lo = 0, hi = nonly;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (only[mid] < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nonly && only[lo] == hash;
}

int key_filter_passes(const struct key_filter *f, uint64_t hash, int server)
{
	if (f->only != NULL && hash_among(f->only, f->nonly, hash))
		return 1;
	return f->resend != NULL && server >= 0 && server_set_has(f->resend, server);
}

size_t key_filter_line_key(const char *line, size_t len, char *key, enum dev_type *type)
{
	if (len <= DEV_TYPE_LEN || line[DEV_TYPE_LEN] != '\t')
		return 0;
	int t = dev_type_from_name(line, DEV_TYPE_LEN);
	const char *id = line + DEV_TYPE_LEN + 1;
	const char *end = memchr(id, '\t', len - DEV_TYPE_LEN - 1);
	if (t < 0 || end == NULL || (size_t)(end - id) > MCPROTO_KEY_MAX - DEV_TYPE_LEN - 1)
		return 0;
	size_t idlen = (size_t)(end - id);
	memcpy(key, dev_type_name((enum dev_type)t), DEV_TYPE_LEN);
	key[DEV_TYPE_LEN] = ':';
	memcpy(key + DEV_TYPE_LEN + 1, id, idlen);
	key[DEV_TYPE_LEN + 1 + idlen] = '\0';
	*type = (enum dev_type)t;
	return DEV_TYPE_LEN + 1 + idlen;
}
