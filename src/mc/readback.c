/* readback.c -- the records waiting to be read back, and the gets that
 * ask for them; readback_match.c counts the replies. */
#include <stdlib.h>
#include <string.h>

#include "readback_int.h"

/* The store's first size (verify.c keeps less in flight); it grows only
 * for a larger record. */
#define STORE_START (512 * 1024)

struct readback *readback_new(const char *spec)
{
	struct readback *rb = calloc(1, sizeof(*rb));

	_Static_assert(MCPROTO_GET_KEYS <= 255, "a get's count fits in left[]");
	if (rb == NULL)
		return NULL;
	rb->spec = spec;
	rb->cap = STORE_START;
	rb->store = malloc(rb->cap);
	rb->recs = malloc(RING * sizeof(*rb->recs));
	rb->left = malloc(RING * sizeof(*rb->left));
	if (rb->store == NULL || rb->recs == NULL || rb->left == NULL) {
		readback_free(rb);
		return NULL;
	}
	return rb;
}

void readback_free(struct readback *rb)
{
	if (rb == NULL)
		return;
	free(rb->store);
	free(rb->recs);
	free(rb->left);
	free(rb);
}

size_t readback_waiting(const struct readback *rb)
{
	return rb->count;
}

size_t readback_bytes(const struct readback *rb)
{
	return rb->len - rb->base;
}

size_t readback_unasked(const struct readback *rb)
{
	return rb->count - rb->asked;
}

void readback_get_counts(const struct readback *rb, struct readback_counts *out)
{
	*out = rb->counts;
}

/* Make room for NEED more bytes in store. 0, or -1 when out of memory. */
static int reserve(struct readback *rb, size_t need)
{
	if (rb->len + need <= rb->cap)
		return 0;
	memmove(rb->store, rb->store + rb->base, rb->len - rb->base);
	rb->len -= rb->base;
	rb->pos0 += rb->base;
	rb->base = 0;
	if (rb->len + need <= rb->cap)
		return 0;
	size_t cap = rb->cap;
	while (cap < rb->len + need)
		cap *= 2;
	uint8_t *store = realloc(rb->store, cap);
	if (store == NULL)
		return -1;
	rb->store = store;
	rb->cap = cap;
	return 0;
}

int readback_add(struct readback *rb, const char *key, size_t keylen, const uint8_t *value,
		 size_t valuelen)
{
	if (rb->count == RING || reserve(rb, keylen + valuelen) < 0)
		return -1;
	struct expect *e = &rb->recs[(rb->head + rb->count) % RING];
	e->at = rb->pos0 + rb->len;
	e->keylen = keylen;
	e->valuelen = valuelen;
	memcpy(rb->store + rb->len, key, keylen);
	if (valuelen > 0)
		memcpy(rb->store + rb->len + keylen, value, valuelen);
	rb->len += keylen + valuelen;
	rb->count++;
	return 0;
}

size_t readback_next_get(struct readback *rb, struct mcproto_get *g)
{
	size_t n = 0;

	/* Every get waiting holds a record not counted yet, but for the oldest,
	 * which may wait for its END alone: so the ring is full only then. */
	if (rb->asked == rb->count || rb->gcount == RING)
		return 0;
	mcproto_get_start(g);
	while (rb->asked + n < rb->count) {
		const struct expect *e = readback_nth(rb, rb->asked + n);
		if (mcproto_get_add(g, (const char *)readback_bytes_of(rb, e), e->keylen) < 0)
			break;
		n++;
	}
	mcproto_get_end(g);
	rb->left[(rb->ghead + rb->gcount) % RING] = (unsigned char)n;
	rb->gcount++;
	rb->asked += n;
	return n;
}

void readback_restart(struct readback *rb)
{
	rb->asked = 0;
	rb->ghead = rb->gcount = 0;
	rb->big.left = 0;
}

size_t readback_drop(struct readback *rb)
{
	size_t n = rb->count;

	readback_restart(rb);
	rb->pos0 += rb->len;
	rb->head = rb->count = 0;
	rb->base = rb->len = 0;
	return n;
}
