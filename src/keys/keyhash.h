/* keyhash.h -- a 64-bit hash of a memcached key, for the key digests
 * (digest.h). Written here: none of the project's libraries exports a
 * 64-bit hash, and a collision costs only an extra re-send. */
#ifndef MEMC_LOAD_KEYHASH_H
#define MEMC_LOAD_KEYHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t keyhash_mix(uint64_t h)
{
	/* splitmix64's finalizer: every input bit moves every output bit. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebu;
	return h ^ (h >> 31);
}

/* Eight bytes at a time, each word mixed in by a multiply. */
static inline uint64_t keyhash(const char *key, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ len;

	for (; len >= 8; key += 8, len -= 8) {
		uint64_t w;
		memcpy(&w, key, 8);
		h = (h ^ keyhash_mix(w)) * 0x9e3779b97f4a7c15u;
	}
	if (len > 0) {
		uint64_t w = 0;
		memcpy(&w, key, len);
		h = (h ^ keyhash_mix(w)) * 0x9e3779b97f4a7c15u;
	}
	return keyhash_mix(h);
}

#endif
