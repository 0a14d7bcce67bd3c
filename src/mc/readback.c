/* readback.c -- records waiting to be read back, matched to replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "readback.h"

/* Each get takes at least one record, so as many gets can wait. */
#define RING READBACK_MAX
/* The store's first size (verify.c keeps less in flight); it grows only
 * for a larger record. */
#define STORE_START (512 * 1024)

/* A record waiting for its answer: its key, then its value, in store. */
struct expect {
	uint64_t at; /* position in the stream of every byte ever stored */
	size_t keylen, valuelen;
};

/* What became of a record. */
enum outcome { EQUAL, DIFFERENT, MISSING };

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

/* The Jth record not counted yet, and its bytes: the key, then the value. */
static const struct expect *nth(const struct readback *rb, size_t j)
{
	return &rb->recs[(rb->head + j) % RING];
}

static const uint8_t *bytes_of(const struct readback *rb, const struct expect *e)
{
	return rb->store + (e->at - rb->pos0);
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
		const struct expect *e = nth(rb, rb->asked + n);
		if (mcproto_get_add(g, (const char *)bytes_of(rb, e), e->keylen) < 0)
			break;
		n++;
	}
	mcproto_get_end(g);
	rb->left[(rb->ghead + rb->gcount) % RING] = (unsigned char)n;
	rb->gcount++;
	rb->asked += n;
	return n;
}

/* Count the oldest record as O: its copy is no longer needed. */
static void count_oldest(struct readback *rb, enum outcome o)
{
	const struct expect *e = nth(rb, 0);
	const char *key = (const char *)bytes_of(rb, e);

	if (o == EQUAL) {
		rb->counts.equal++;
	} else if (o == MISSING) {
		rb->counts.missing++;
		log_nth(rb->counts.missing, "%s is missing %.*s when read back", rb->spec,
			(int)e->keylen, key);
	} else {
		rb->counts.different++;
		log_debug("%s holds other bytes for %.*s than were sent: set again later in the "
			  "file, or by another writer",
			  rb->spec, (int)e->keylen, key);
	}
	rb->base += e->keylen + e->valuelen;
	rb->head = (rb->head + 1) % RING;
	rb->count--;
	rb->asked--;
	rb->left[rb->ghead]--;
	if (rb->count == 0) {
		rb->pos0 += rb->len;
		rb->base = rb->len = 0;
	}
}

/* The record at INDEX in the oldest get has its answer, O: the keys asked
 * before it were passed over, so the server does not have them. */
static void count_answer(struct readback *rb, size_t index, enum outcome o)
{
	for (size_t j = 0; j < index; j++)
		count_oldest(rb, MISSING);
	count_oldest(rb, o);
}

/* Where KEY is among the records not counted yet of the oldest get, or -1
 * when it was not asked for there. */
static long find_asked(const struct readback *rb, const char *key, size_t keylen)
{
	if (rb->gcount == 0)
		return -1;
	for (size_t j = 0; j < rb->left[rb->ghead]; j++) {
		const struct expect *e = nth(rb, j);
		if (e->keylen == keylen && memcmp(bytes_of(rb, e), key, keylen) == 0)
			return (long)j;
	}
	return -1;
}

/* Take the next part of a long value from P (N bytes): the bytes taken, or
 * -1 when the value is not followed by "\r\n". */
static long take_part(struct readback *rb, const char *p, size_t n)
{
	const struct expect *e = nth(rb, rb->big.index);
	size_t take = n < rb->big.left ? n : rb->big.left;
	size_t data = rb->big.done < rb->big.len ? rb->big.len - rb->big.done : 0;

	if (data > take)
		data = take;
	if (data > 0 && !rb->big.differs &&
	    memcmp(bytes_of(rb, e) + e->keylen + rb->big.done, p, data) != 0)
		rb->big.differs = 1;
	for (size_t i = data; i < take; i++)
		if (p[i] != "\r\n"[rb->big.done + i - rb->big.len])
			return -1;
	rb->big.done += take;
	rb->big.left -= take;
	if (rb->big.left == 0)
		count_answer(rb, rb->big.index, rb->big.differs ? DIFFERENT : EQUAL);
	return (long)take;
}

/* A VALUE line whose data is not all there yet: compare it as it comes. The
 * bytes of the line, or -1 when the key was not asked for. */
static long start_part(struct readback *rb, const struct mcproto_value *val)
{
	long j = find_asked(rb, val->key, val->keylen);

	if (j < 0)
		return -1;
	rb->big.left = val->datalen + 2;
	rb->big.done = 0;
	rb->big.len = val->datalen;
	rb->big.index = (size_t)j;
	rb->big.differs = nth(rb, (size_t)j)->valuelen != val->datalen;
	return (long)(val->need - val->datalen - 2);
}

/* A whole value: compare it with what was queued. 0, or -1 when its key
 * was not asked for. */
static int take_value(struct readback *rb, const struct mcproto_value *val)
{
	long j = find_asked(rb, val->key, val->keylen);

	if (j < 0)
		return -1;
	const struct expect *e = nth(rb, (size_t)j);
	int same = e->valuelen == val->datalen &&
		   memcmp(bytes_of(rb, e) + e->keylen, val->data, val->datalen) == 0;
	count_answer(rb, (size_t)j, same ? EQUAL : DIFFERENT);
	return 0;
}

/* The oldest get is answered: each of its records not found is missing.
 * 0, or -1 when no get was waiting. */
static int take_end(struct readback *rb)
{
	if (rb->gcount == 0)
		return -1;
	while (rb->left[rb->ghead] > 0)
		count_oldest(rb, MISSING);
	rb->ghead = (rb->ghead + 1) % RING;
	rb->gcount--;
	return 0;
}

/* Take one element at BUF (LEN bytes): the bytes taken (0: not complete
 * yet), or -1 with a reason in ERR. */
static long take_element(struct readback *rb, const char *buf, size_t len, char *err,
			 size_t errlen)
{
	struct mcproto_value val;
	size_t used;
	long took = -1;

	switch (mcproto_parse_get(buf, len, &val, &used)) {
	case MCPROTO_GET_MORE:
		if (val.need == 0)
			return 0;
		took = start_part(rb, &val);
		break;
	case MCPROTO_GET_VALUE:
		took = take_value(rb, &val) == 0 ? (long)used : -1;
		break;
	case MCPROTO_GET_END:
		took = take_end(rb) == 0 ? (long)used : -1;
		break;
	case MCPROTO_GET_BUSY:
		snprintf(err, errlen, "the server is at its connection limit (%.*s)",
			 (int)val.linelen, val.line);
		return -1;
	default:
		break;
	}
	if (took < 0)
		snprintf(err, errlen, "unexpected reply to get '%.*s'",
			 val.linelen > 40 ? 40 : (int)val.linelen, val.line);
	return took;
}

long readback_feed(struct readback *rb, const char *buf, size_t len, char *err, size_t errlen)
{
	size_t at = 0;

	while (at < len) {
		long took;
		if (rb->big.left > 0) {
			took = take_part(rb, buf + at, len - at);
			if (took < 0)
				snprintf(err, errlen, "a value not followed by \\r\\n");
		} else {
			took = take_element(rb, buf + at, len - at, err, errlen);
		}
		if (took < 0)
			return -1;
		if (took == 0)
			break;
		at += (size_t)took;
	}
	return (long)at;
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
