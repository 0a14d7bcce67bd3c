/* window.c -- the commands in flight on one connection, and their slots. */
#include <stdlib.h>
#include <string.h>

#include "mcproto.h"
#include "window.h"

/* The window's bytes start at this size and double when a record needs more. */
#define OUT_START (1024 * 1024)

struct entry {
	uint32_t len; /* bytes of its command in out */
	uint8_t kind; /* enum window_kind */
};

struct window {
	/* The commands of every entry, oldest first, from out[base]. */
	char *out;
	size_t base, len, cap;
	size_t sent; /* bytes of out written on this connection */

	struct entry *e; /* the ring: the oldest at e[head] */
	size_t head, count;
	size_t records; /* entries that are not marks */
	size_t open;    /* quiet records since the last mark */
};

struct window *window_new(void)
{
	struct window *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->cap = OUT_START;
	w->out = malloc(w->cap);
	w->e = malloc(WINDOW_SLOTS * sizeof(*w->e));
	if (w->out == NULL || w->e == NULL) {
		window_free(w);
		return NULL;
	}
	return w;
}

void window_free(struct window *w)
{
	if (w == NULL)
		return;
	free(w->out);
	free(w->e);
	free(w);
}

size_t window_records(const struct window *w)
{
	return w->records;
}

size_t window_entries(const struct window *w)
{
	return w->count;
}

size_t window_bytes(const struct window *w)
{
	return w->len - w->base;
}

const char *window_unsent(const struct window *w, size_t *len)
{
	*len = w->len - w->sent;
	return w->out + w->sent;
}

void window_sent(struct window *w, size_t n)
{
	w->sent += n;
}

void window_rewind(struct window *w)
{
	w->sent = w->base;
}

/* Make room for NEED more bytes. 0, or -1 when out of memory. */
static int reserve(struct window *w, size_t need)
{
	if (w->len + need <= w->cap)
		return 0;
	if (w->base > 0) {
		memmove(w->out, w->out + w->base, w->len - w->base);
		w->len -= w->base;
		w->sent -= w->base;
		w->base = 0;
	}
	if (w->len + need <= w->cap)
		return 0;
	size_t cap = w->cap;
	while (cap < w->len + need)
		cap *= 2;
	char *out = realloc(w->out, cap);
	if (out == NULL)
		return -1;
	w->out = out;
	w->cap = cap;
	return 0;
}

/* The entry N places after the oldest. */
static struct entry *at(const struct window *w, size_t n)
{
	return &w->e[(w->head + n) % WINDOW_SLOTS];
}

/* Append an entry of N bytes, just written at out[len]. */
static void push(struct window *w, size_t n, enum window_kind kind)
{
	struct entry *e = at(w, w->count);

	e->len = (uint32_t)n;
	e->kind = (uint8_t)kind;
	w->count++;
	w->len += n;
}

/* Close the open quiet batch; the room is reserved. */
static void mark(struct window *w)
{
	if (w->open == 0)
		return;
	memcpy(w->out + w->len, MCPROTO_MN, MCPROTO_MN_LEN);
	push(w, MCPROTO_MN_LEN, WINDOW_MARK);
	w->open = 0;
}

int window_close_batch(struct window *w)
{
	if (w->open > 0 && reserve(w, MCPROTO_MN_LEN) < 0)
		return -1;
	mark(w);
	return 0;
}

int window_put(struct window *w, enum window_kind kind, const char *key, size_t keylen,
	       const uint8_t *value, size_t valuelen)
{
	_Static_assert(MCPROTO_MS_MAX(0, 0) >= MCPROTO_SET_MAX(0, 0), "an ms bound fits a set");

	/* A mark before the record, one after it, and the record. */
	if (w->records == WINDOW_RECORDS ||
	    reserve(w, 2 * MCPROTO_MN_LEN + MCPROTO_MS_MAX(keylen, valuelen)) < 0)
		return -1;
	if (kind != WINDOW_QUIET)
		mark(w);
	size_t slot = (w->head + w->count) % WINDOW_SLOTS;
	char *cmd = w->out + w->len;
	size_t n = kind == WINDOW_SET
			   ? mcproto_encode_set(cmd, key, keylen, value, valuelen)
			   : mcproto_encode_ms(cmd, key, keylen, value, valuelen, (uint32_t)slot,
					       kind == WINDOW_QUIET);
	push(w, n, kind);
	w->records++;
	if (kind == WINDOW_QUIET && ++w->open == WINDOW_BATCH)
		mark(w);
	return 0;
}

/* Whether W holds an entry that KIND cannot send as it is (window_recode). */
static int needs_recode(const struct window *w, enum window_kind kind)
{
	for (size_t i = 0; i < w->count; i++) {
		enum window_kind k = (enum window_kind)at(w, i)->kind;
		if (kind == WINDOW_QUIET ? k == WINDOW_SET : k != kind)
			return 1;
	}
	return 0;
}

int window_recode(struct window *w, enum window_kind kind)
{
	struct window *nw;

	if (!needs_recode(w, kind))
		return 0;
	nw = window_new();
	if (nw == NULL)
		return -1;
	for (size_t i = 0, off = w->base; i < w->count; i++) {
		const struct entry *e = at(w, i);
		const char *cmd = w->out + off;
		size_t keylen, valuelen;

		off += e->len;
		if (e->kind == WINDOW_MARK)
			continue;
		const char *key = mcproto_set_key(cmd, e->len, &keylen);
		const uint8_t *value = mcproto_set_value(cmd, e->len, &valuelen);
		if (window_put(nw, kind, key, keylen, value, valuelen) < 0) {
			window_free(nw);
			return -1;
		}
	}
	/* The new contents, in the old struct that the caller holds. */
	struct window old = *w;
	*w = *nw;
	*nw = old;
	window_free(nw);
	return 0;
}

enum window_kind window_head(const struct window *w, size_t *slot, int *sent)
{
	const struct entry *e = at(w, 0);

	*slot = w->head;
	*sent = w->sent >= w->base + e->len;
	return (enum window_kind)e->kind;
}

const char *window_head_cmd(const struct window *w, size_t *len)
{
	*len = at(w, 0)->len;
	return w->out + w->base;
}

void window_pop(struct window *w)
{
	const struct entry *e = at(w, 0);

	w->base += e->len;
	if (e->kind != WINDOW_MARK)
		w->records--;
	w->head = (w->head + 1) % WINDOW_SLOTS;
	w->count--;
	if (w->count == 0) {
		/* Start the bytes over while nothing is left to move. */
		w->base = w->len = w->sent = 0;
		w->open = 0;
	}
}

long window_batch_end(const struct window *w)
{
	size_t end = w->base;

	for (size_t i = 0; i < w->count; i++) {
		const struct entry *e = at(w, i);
		end += e->len;
		if (end > w->sent)
			return -1;
		if (e->kind == WINDOW_MARK)
			return (long)i;
		if (e->kind != WINDOW_QUIET)
			return -1;
	}
	return -1;
}

long window_find_quiet(const struct window *w, long slot)
{
	size_t end = w->base;

	if (slot < 0 || slot >= WINDOW_SLOTS)
		return -1;
	size_t n = ((size_t)slot + WINDOW_SLOTS - w->head) % WINDOW_SLOTS;
	if (n >= w->count)
		return -1;
	/* A mark or a loud record in between stops this walk early: it is
	 * never longer than a batch. */
	for (size_t i = 0; i <= n; i++) {
		const struct entry *e = at(w, i);
		end += e->len;
		if (end > w->sent || e->kind != WINDOW_QUIET)
			return -1;
	}
	return (long)n;
}

void window_clear(struct window *w)
{
	w->head = w->count = w->records = w->open = 0;
	w->base = w->len = w->sent = 0;
}
