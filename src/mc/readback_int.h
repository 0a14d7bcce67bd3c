/* readback_int.h -- inside a read-back: shared by readback.c (the records
 * waiting, and the gets asking for them) and readback_match.c (what the
 * replies say about them). Not for other files: readback.h is the API. */
#ifndef MEMC_LOAD_READBACK_INT_H
#define MEMC_LOAD_READBACK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "readback.h"

/* Each get takes at least one record, so as many gets can wait. */
#define RING READBACK_MAX

/* A record waiting for its answer: its key, then its value, in store. */
struct expect {
	uint64_t at; /* position in the stream of every byte ever stored */
	size_t keylen, valuelen;
};

struct readback {
	const char *spec;

	/* Keys and values of every record not counted yet, oldest first from
	 * store[base]; store[0] is at position pos0. */
	uint8_t *store;
	size_t base, len, cap;
	uint64_t pos0;

	/* Those records, as a ring; the oldest ASKED of them are in gets. */
	struct expect *recs;
	size_t head, count, asked;

	/* Records not counted yet of each get not ended, as a ring. */
	unsigned char *left;
	size_t ghead, gcount;

	/* A value not in the buffer whole, compared as it comes. */
	struct {
		size_t left;  /* bytes still to come, its "\r\n" included; 0: none */
		size_t done;  /* bytes read */
		size_t len;   /* the value's length */
		size_t index; /* its record: the INDEXth not counted of the oldest get */
		int differs;
	} big;

	struct readback_counts counts;
};

/* The Jth record not counted yet, and its bytes: the key, then the value. */
static inline const struct expect *readback_nth(const struct readback *rb, size_t j)
{
	return &rb->recs[(rb->head + j) % RING];
}

static inline const uint8_t *readback_bytes_of(const struct readback *rb, const struct expect *e)
{
	return rb->store + (e->at - rb->pos0);
}

#endif
