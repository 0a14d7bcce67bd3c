/* readback_match.c -- the replies to a read-back's gets, matched to the
 * records asked for: equal, different or missing. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "readback_int.h"

/* What became of a record. */
enum outcome { EQUAL, DIFFERENT, MISSING };

/* Count the oldest record as O: its copy is no longer needed. */
static void count_oldest(struct readback *rb, enum outcome o)
{
	const struct expect *e = readback_nth(rb, 0);
	const char *key = (const char *)readback_bytes_of(rb, e);

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
		const struct expect *e = readback_nth(rb, j);
		if (e->keylen == keylen && memcmp(readback_bytes_of(rb, e), key, keylen) == 0)
			return (long)j;
	}
	return -1;
}

/* Take the next part of a long value from P (N bytes): the bytes taken, or
 * -1 when the value is not followed by "\r\n". */
static long take_part(struct readback *rb, const char *p, size_t n)
{
	const struct expect *e = readback_nth(rb, rb->big.index);
	size_t take = n < rb->big.left ? n : rb->big.left;
	size_t data = rb->big.done < rb->big.len ? rb->big.len - rb->big.done : 0;

	if (data > take)
		data = take;
	if (data > 0 && !rb->big.differs &&
	    memcmp(readback_bytes_of(rb, e) + e->keylen + rb->big.done, p, data) != 0)
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
	rb->big.differs = readback_nth(rb, (size_t)j)->valuelen != val->datalen;
	return (long)(val->need - val->datalen - 2);
}

/* A whole value: compare it with what was queued. 0, or -1 when its key
 * was not asked for. */
static int take_value(struct readback *rb, const struct mcproto_value *val)
{
	long j = find_asked(rb, val->key, val->keylen);

	if (j < 0)
		return -1;
	const struct expect *e = readback_nth(rb, (size_t)j);
	int same = e->valuelen == val->datalen &&
		   memcmp(readback_bytes_of(rb, e) + e->keylen, val->data, val->datalen) == 0;
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


