/* acks.c -- reply lines matched to the records they answer, and counted. */
#include "acks.h"
#include "log.h"
#include "mcproto.h"

/* The oldest record was answered LINE and not stored: count it in *COUNT
 * (one of C's), log it with its key (read back from its command), drop it. */
static void reject(struct window *w, const char *line, size_t len, struct ack_counts *c,
		   uint64_t *count, const char *spec)
{
	size_t cmdlen, keylen;
	const char *cmd = window_head_cmd(w, &cmdlen);
	const char *key = mcproto_set_key(cmd, cmdlen, &keylen);

	++*count;
	log_nth(*count, count == &c->too_large ? "%s refused %.*s as too large: %.*s"
					       : "%s rejected %.*s: %.*s",
		spec, (int)keylen, key, (int)len, line);
	if (count == &c->too_large && c->on_too_large != NULL)
		c->on_too_large(key, keylen, c->ctx);
	window_pop(w);
}

/* The oldest N entries are quiet records that were processed without an
 * error: stored. */
static void stored(struct window *w, size_t n, struct ack_counts *c)
{
	for (size_t i = 0; i < n; i++)
		window_pop(w);
	c->stored += n;
}

/* What the answer R to the oldest entry, a record sent, does to it. */
static enum ack settle_oldest(struct window *w, enum mcproto_reply r, const char *line,
			      size_t len, struct ack_counts *c, const char *spec)
{
	switch (r) {
	case MCPROTO_STORED:
		stored(w, 1, c);
		return ACK_OK;
	case MCPROTO_REJECTED:
		reject(w, line, len, c, &c->rejected, spec);
		return ACK_OK;
	case MCPROTO_TOO_LARGE:
		reject(w, line, len, c, &c->too_large, spec);
		return ACK_OK;
	case MCPROTO_RESYNC:
		reject(w, line, len, c, &c->rejected, spec);
		return ACK_RESYNC;
	case MCPROTO_BUSY:
		return ACK_BUSY;
	default:
		return ACK_GARBAGE;
	}
}

/* A loud ms is answered as a text set is: its reply, in those terms. */
static const enum mcproto_reply loud_as_text[] = {
	[MCPROTO_META_STORED] = MCPROTO_STORED,
	[MCPROTO_META_REJECTED] = MCPROTO_REJECTED,
	[MCPROTO_META_FAILED] = MCPROTO_REJECTED,
	[MCPROTO_META_TOO_LARGE] = MCPROTO_TOO_LARGE,
	[MCPROTO_META_RESYNC] = MCPROTO_RESYNC,
	[MCPROTO_META_NOOP] = MCPROTO_GARBAGE,
	[MCPROTO_META_BUSY] = MCPROTO_BUSY,
	[MCPROTO_META_GARBAGE] = MCPROTO_GARBAGE,
};

/* A reply while the oldest entry is a quiet record or a mark. */
static enum ack quiet_reply(struct window *w, enum mcproto_meta r, long opaque,
			    const char *line, size_t len, struct ack_counts *c, const char *spec)
{
	long n;

	switch (r) {
	case MCPROTO_META_NOOP:
		if ((n = window_batch_end(w)) < 0)
			return ACK_GARBAGE;
		stored(w, (size_t)n, c);
		window_pop(w); /* the mark */
		return ACK_OK;
	case MCPROTO_META_STORED:
	case MCPROTO_META_REJECTED:
		if ((n = window_find_quiet(w, opaque)) < 0)
			return ACK_GARBAGE;
		stored(w, (size_t)n, c);
		if (r == MCPROTO_META_STORED)
			stored(w, 1, c);
		else
			reject(w, line, len, c, &c->rejected, spec);
		return ACK_OK;
	case MCPROTO_META_TOO_LARGE:
	case MCPROTO_META_FAILED:
	case MCPROTO_META_RESYNC:
		return ACK_UNKNOWN;
	default:
		return ACK_GARBAGE;
	}
}

enum ack acks_line(struct window *w, const char *line, size_t len, struct ack_counts *c,
		   const char *spec)
{
	size_t slot;
	int sent;
	enum window_kind kind = window_head(w, &slot, &sent);
	long opaque;

	if (kind == WINDOW_SET) {
		enum mcproto_reply r = mcproto_classify(line, len);
		/* A busy server says so before it reads a command. */
		return sent || r == MCPROTO_BUSY ? settle_oldest(w, r, line, len, c, spec)
						 : ACK_GARBAGE;
	}
	enum mcproto_meta r = mcproto_classify_meta(line, len, &opaque);
	if (r == MCPROTO_META_BUSY)
		return ACK_BUSY;
	if (kind == WINDOW_LOUD) {
		if (!sent || (opaque >= 0 && (size_t)opaque != slot))
			return ACK_GARBAGE;
		return settle_oldest(w, loud_as_text[r], line, len, c, spec);
	}
	return quiet_reply(w, r, opaque, line, len, c, spec);
}
