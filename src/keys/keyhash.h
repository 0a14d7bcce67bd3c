/* keyhash.h -- a seeded 64-bit hash of a memcached key: one per record,
 * computed once, for the key digests (digest.h) and the --verify sample
 * (sample.c), both with the run's seed (config.h's verify_seed), so every
 * worker of a run hashes a key alike. Written here: no library the project
 * uses exports a seeded 64-bit hash, and a collision costs the digests only
 * an extra re-send. */
#ifndef MEMC_LOAD_KEYHASH_H
#define MEMC_LOAD_KEYHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The key 8 bytes at a time, each word multiplied in (a byte-at-a-time
 * FNV-1a cost 0.05 CPU s per million keys, a twentieth of the load), then
 * splitmix64's finalizer: every input bit moves every output bit. */
static inline uint64_t keyhash(uint64_t seed, const char *key, size_t keylen)
{
	uint64_t h = seed ^ (keylen * 0x9e3779b97f4a7c15u), w;
	size_t i = 0;

	for (; i + 8 <= keylen; i += 8) {
		memcpy(&w, key + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	if (i < keylen) {
		w = 0;
		memcpy(&w, key + i, keylen - i);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
		h ^= h >> 32;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebu;
	return h ^ (h >> 31);
}

#endif
