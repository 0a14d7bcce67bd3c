/* window.h -- the records in flight on one memcached connection: the
 * command of each, as the bytes to send, oldest first, in the protocol the
 * connection speaks, with the meta protocol's "mn" markers between quiet
 * batches. A record keeps its bytes until its reply is counted, so a new
 * connection is sent every record not counted yet, encoded again when it
 * speaks another protocol. No I/O: pipeline.c hands the bytes to its
 * connection (conn.h), acks.c matches the replies to the entries.
 *
 * Each entry has a slot, its place in a ring of WINDOW_SLOTS; an ms
 * command carries its slot as the opaque token, so a reply names it. */
#ifndef MEMC_LOAD_WINDOW_H
#define MEMC_LOAD_WINDOW_H

#include <stddef.h>
#include <stdint.h>

struct window;

/* How an entry is sent, and so how its reply comes. */
enum window_kind {
	WINDOW_SET,   /* "set KEY 0 0 LEN": one reply, in order */
	WINDOW_LOUD,  /* "ms KEY LEN O<slot>": one reply, in order, with the slot */
	WINDOW_QUIET, /* "ms KEY LEN O<slot> q": a reply only when it is not stored */
	WINDOW_MARK,  /* "mn": MN once every command before it was processed */
};

/* At most this many records in a window: enough to keep the server busy
 * (4096 was no faster here), small enough to keep a worker small.
 * nutcracker 0.5.0 stalled with 4096 sets in flight from one client and ran
 * at full speed with 1024. A mark follows a quiet record, so twice as many
 * entries, and one more mark whose batch was answered early, fit the ring. */
#define WINDOW_RECORDS 1024
#define WINDOW_SLOTS   (2 * WINDOW_RECORDS + 1)

/* Quiet records between two marks at most: MN comes back often enough that
 * the window drains in steps of an eighth. */
#define WINDOW_BATCH (WINDOW_RECORDS / 8)

/* An empty window; NULL when out of memory. */
struct window *window_new(void);

void window_free(struct window *w);

/* Add the record KEY = VALUE (key valid, record.c has checked it) as KIND:
 * SET, LOUD or QUIET. An open quiet batch is closed with a mark before a
 * record of another kind, and after WINDOW_BATCH quiet records. 0, or -1
 * when out of memory or WINDOW_RECORDS records are in (nothing added). */
int window_put(struct window *w, enum window_kind kind, const char *key, size_t keylen,
	       const uint8_t *value, size_t valuelen);

/* End the open quiet batch, if any, with a mark: before waiting for
 * replies, so the MN that counts the batch comes. 0, or -1 when out of
 * memory. */
int window_close_batch(struct window *w);

/* Records in the window; entries, marks included; their bytes. */
size_t window_records(const struct window *w);
size_t window_entries(const struct window *w);
size_t window_bytes(const struct window *w);

/* The bytes not sent on this connection yet, their length in *LEN. */
const char *window_unsent(const struct window *w, size_t *len);

/* N more bytes of them were sent. */
void window_sent(struct window *w, size_t n);

/* A new connection: every entry is to be sent on it. */
void window_rewind(struct window *w);

/* Encode every record again for a new connection (nothing sent on it yet)
 * as KIND says. SET: each record a text set; LOUD: each an ms, answered;
 * QUIET: when the window holds text sets, each record a quiet ms, in
 * batches; a window in the meta protocol stays as it is. Marks go or come
 * with the quiet records. 0, or -1 when out of memory (the window as
 * before). */
int window_recode(struct window *w, enum window_kind kind);

/* The oldest entry (the window is not empty): its kind, its slot in
 * *SLOT, and whether all its bytes were sent on this connection. */
enum window_kind window_head(const struct window *w, size_t *slot, int *sent);

/* The oldest entry's command, its length in *LEN: for messages. */
const char *window_head_cmd(const struct window *w, size_t *len);

/* The oldest entry is counted: drop it and its bytes. */
void window_pop(struct window *w);

/* Entries before the first mark, when they are all quiet records and the
 * mark has been sent; else -1. What an MN answers. */
long window_batch_end(const struct window *w);

/* How many entries come before the one in SLOT, when it is a quiet record
 * that has been sent and only quiet records come before it; else -1. What
 * a reply with that slot as its opaque token answers. */
long window_find_quiet(const struct window *w, long slot);

/* Forget every entry: the server is given up. */
void window_clear(struct window *w);

#endif
