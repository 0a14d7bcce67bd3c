/* fuzz_replies.c -- libFuzzer target: a server's replies, any bytes, read
 * by the loader's own code: each line classified by mcproto_classify and
 * mcproto_classify_meta, and matched to a window of records in flight by
 * acks_line, the way pipeline.c does it.
 *
 * The first bytes choose the window: how many records, sent how (plain
 * set, loud or quiet ms). The rest is the reply stream. Each line's class
 * is checked against a slow model written from memcached's protocol.txt
 * (not from mcproto.c), and after every line every record is counted
 * exactly once: stored, rejected, too large, or still in the window; a
 * line that was taken answered something, one that was not counted
 * nothing. A
 * verdict that drops the connection is followed as pipeline.c follows it:
 * everything left is sent again, answered after an error in a quiet batch.
 * Any violation aborts, which libFuzzer reports as a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc/acks.h"
#include "log.h"
#include "mc/mcproto.h"
#include "mc/window.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_replies: %s:%d: check failed: %s\n", __FILE__,       \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static struct window *w;

/* ---- the model: reply lines as protocol.txt describes them ---- */

static int is(const char *line, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(line, word, len) == 0;
}

/* LINE starts with WORD followed by the end or a space. */
static int starts(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);
	return len >= n && memcmp(line, word, n) == 0 && (len == n || line[n] == ' ');
}

/* The text protocol's error lines, as classes of both classifiers:
 * 0 none, 1 too large, 2 other SERVER_ERROR, 3 busy, 4 ERROR/CLIENT_ERROR. */
static int model_error(const char *line, size_t len)
{
	if (is(line, len, "SERVER_ERROR object too large for cache"))
		return 1;
	if (starts(line, len, "SERVER_ERROR"))
		return 2;
	if (is(line, len, "ERROR Too many open connections"))
		return 3;
	if (starts(line, len, "ERROR") || starts(line, len, "CLIENT_ERROR"))
		return 4;
	return 0;
}

static enum mcproto_reply model_text(const char *line, size_t len)
{
	static const enum mcproto_reply of_error[] = {MCPROTO_GARBAGE, MCPROTO_TOO_LARGE,
						      MCPROTO_REJECTED, MCPROTO_BUSY,
						      MCPROTO_RESYNC};

	if (is(line, len, "STORED"))
		return MCPROTO_STORED;
	if (starts(line, len, "NOT_STORED") || starts(line, len, "EXISTS") ||
	    starts(line, len, "NOT_FOUND"))
		return MCPROTO_REJECTED;
	return of_error[model_error(line, len)];
}

/* "<RC> <flag1> <flag2> ...": one space before each flag, no empty flag;
 * the O flag at most once, a decimal number up to MCPROTO_OPAQUE_MAX. */
static enum mcproto_meta model_meta(const char *line, size_t len, long *opaque)
{
	static const enum mcproto_meta of_error[] = {MCPROTO_META_GARBAGE, MCPROTO_META_TOO_LARGE,
						     MCPROTO_META_FAILED, MCPROTO_META_BUSY,
						     MCPROTO_META_RESYNC};
	enum mcproto_meta kind;

	*opaque = -1;
	if (is(line, len, "MN"))
		return MCPROTO_META_NOOP;
	if (starts(line, len, "HD"))
		kind = MCPROTO_META_STORED;
	else if (starts(line, len, "NS") || starts(line, len, "EX") || starts(line, len, "NF"))
		kind = MCPROTO_META_REJECTED;
	else
		return of_error[model_error(line, len)];
	for (size_t i = 2; i < len;) {
		size_t j = i + 1;
		while (j < len && line[j] != ' ')
			j++;
		if (j == i + 1) /* an empty flag: two spaces, or one at the end */
			goto garbage;
		if (line[i + 1] == 'O') {
			unsigned long long v = 0;
			if (*opaque >= 0 || j == i + 2)
				goto garbage;
			for (size_t k = i + 2; k < j; k++) {
				if (line[k] < '0' || line[k] > '9')
					goto garbage;
				v = v * 10 + (unsigned long long)(line[k] - '0');
				if (v > (unsigned long long)MCPROTO_OPAQUE_MAX)
					goto garbage;
			}
			*opaque = (long)v;
		}
		i = j;
	}
	return kind;
garbage:
	*opaque = -1;
	return MCPROTO_META_GARBAGE;
}

/* ---- the window and the replies ---- */

struct tally {
	size_t records; /* put into the window */
	struct ack_counts c;
};

static void check_tally(const struct tally *t)
{
	CHECK(t->c.stored + t->c.rejected + t->c.too_large + window_records(w) == t->records);
	CHECK(window_entries(w) >= window_records(w));
	CHECK(window_entries(w) <= WINDOW_SLOTS);
}

/* A new connection: everything left is sent again, in one go. */
static void resend_all(void)
{
	size_t len;

	window_rewind(w);
	CHECK(window_close_batch(w) == 0);
	(void)window_unsent(w, &len);
	window_sent(w, len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	/* Rejections are logged as warnings: not wanted 10,000 times a second. */
	CHECK(log_open("/dev/null", LEVEL_ERROR, err, sizeof(err)) == 0);
	w = window_new();
	CHECK(w != NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tally t = {0};
	const char *line;
	size_t n, used, at;

	if (size < 2)
		return 0;
	/* Byte 0: records, 1 to 256 (two batches and more). Byte 1: 3 in its
	 * low bits sends them all as plain sets (a connection speaks one
	 * protocol); else its bits say, cycling, which ms are loud. */
	window_clear(w);
	size_t nrec = (size_t)data[0] + 1;
	for (size_t i = 0; i < nrec; i++) {
		enum window_kind k = (data[1] & 3) == 3		 ? WINDOW_SET
				     : (data[1] >> (i % 8)) & 1 ? WINDOW_LOUD
								 : WINDOW_QUIET;
		char key[16];
		int kl = snprintf(key, sizeof(key), "k%zu", i);
		CHECK(window_put(w, k, key, (size_t)kl, (const uint8_t *)"v", 1) == 0);
	}
	t.records = nrec;
	resend_all();

	const char *buf = (const char *)data + 2;
	size_t len = size - 2;
	for (at = 0; (used = mcproto_next_line(buf + at, len - at, &line, &n)) > 0; at += used) {
		long opaque, model_opaque;
		CHECK(mcproto_classify(line, n) == model_text(line, n));
		CHECK(mcproto_classify_meta(line, n, &opaque) == model_meta(line, n, &model_opaque));
		CHECK(opaque == model_opaque);
		size_t before = window_entries(w), records = window_records(w);
		if (before == 0)
			break; /* "reply without a request": the connection fails */
		switch (acks_line(w, line, n, &t.c, "fuzz")) {
		case ACK_OK:
			/* A reply that was taken answered something. */
			CHECK(window_entries(w) < before);
			break;
		case ACK_RESYNC:
			CHECK(window_records(w) == records - 1);
			resend_all();
			break;
		case ACK_UNKNOWN:
			CHECK(window_records(w) == records);
			CHECK(window_recode(w, WINDOW_LOUD) == 0);
			resend_all();
			break;
		default: /* busy, garbage: nothing counted */
			CHECK(window_records(w) == records);
			resend_all();
			break;
		}
		check_tally(&t);
	}
	check_tally(&t);
	return 0;
}
