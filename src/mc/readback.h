/* readback.h -- the records a read-back waits for, and what the replies to
 * its gets say about them. No I/O: verify.c sends the gets, feeds the
 * replies in, and starts afresh after a lost connection.
 *
 * memcached answers "get K1 K2 ..." with a VALUE for each key it holds, in
 * the order asked, then END. So each VALUE is matched to the next key asked
 * in that get with the same bytes; every key passed over is missing, and so
 * is every key left when END comes. The same key twice in one get is
 * answered twice, in order. A copy of each record is kept until it is
 * counted, so after a lost connection the records not counted yet are
 * asked for again, and each record is counted once. */
#ifndef MEMC_LOAD_READBACK_H
#define MEMC_LOAD_READBACK_H

#include <stddef.h>
#include <stdint.h>

#include "mcproto.h"

struct readback;

/* Most records waiting at a time. */
#define READBACK_MAX 1024

struct readback_counts {
	uint64_t equal;     /* read back with the bytes queued */
	uint64_t missing;   /* not found */
	uint64_t different; /* found with other bytes (the flags are not compared) */
};

/* An empty read-back; SPEC names the server in messages (not copied: it
 * must outlive the read-back). NULL when out of memory. */
struct readback *readback_new(const char *spec);

void readback_free(struct readback *rb);

/* Queue a record: KEY (1 to MCPROTO_KEY_MAX bytes, valid) should hold
 * VALUE. Both are copied. 0, or -1 when out of memory or READBACK_MAX
 * records wait already. */
int readback_add(struct readback *rb, const char *key, size_t keylen, const uint8_t *value,
		 size_t valuelen);

/* Records queued and not counted yet. */
size_t readback_waiting(const struct readback *rb);

/* The bytes of their keys and values. */
size_t readback_bytes(const struct readback *rb);

/* Of those, the records not in a get since the last readback_restart. */
size_t readback_unasked(const struct readback *rb);

/* Put the oldest records not asked for yet, as many as fit, into a get
 * command in G. Their replies are expected after those of the gets before.
 * Returns the keys in it; 0 when none waits, or READBACK_MAX gets do (G is
 * then not touched). */
size_t readback_next_get(struct readback *rb, struct mcproto_get *g);

/* Count what the replies in BUF (LEN bytes) say. Returns the bytes taken:
 * an element not complete yet is left for the next call, with more bytes
 * after it (so a buffer of MCPROTO_LINE_MAX + 2 bytes is enough; a long
 * value is compared as it comes). -1 with a reason in ERR when the replies
 * are out of step (garbage, an error, an answer to nothing asked): what was
 * counted stays counted, and readback_restart must follow. Each missing
 * record is logged with its key: the first few as warnings (log_nth). */
long readback_feed(struct readback *rb, const char *buf, size_t len, char *err, size_t errlen);

/* The connection is gone: no get is waiting for replies any more, and every
 * record not counted yet is to be asked for again. */
void readback_restart(struct readback *rb);

/* Forget every record not counted yet (the server is given up); returns
 * how many there were. */
size_t readback_drop(struct readback *rb);

void readback_get_counts(const struct readback *rb, struct readback_counts *out);

#endif
