/* hashsort.h -- sort key hashes (keyhash.h), which are uniform: one
 * scatter by their top HASHSORT_TOP_BITS into buckets of a few hashes
 * each, then each bucket in place (by radix when repeats of a few keys
 * crowd one). Two passes over the hashes, where a radix sort makes twelve. */
#ifndef MEMC_LOAD_HASHSORT_H
#define MEMC_LOAD_HASHSORT_H

#include <stddef.h>
#include <stdint.h>

#define HASHSORT_TOP_BITS 16
#define HASHSORT_BUCKETS ((size_t)1 << HASHSORT_TOP_BITS)

/* Sort A (N hashes, N < 2^32) into TMP (room for N), using A as scratch
 * and END (HASHSORT_BUCKETS entries). */
void hashsort(uint64_t *a, uint64_t *tmp, size_t n, uint32_t *end);

#endif
