/* mcproto.c -- memcached's set commands, plain and meta, its get command,
 * and their replies. */
#include <string.h>

#include "mcproto.h"

/* Copy N bytes to W; returns the end. Commands are bytes with a length,
 * not C strings. */
static char *append(char *w, const void *src, size_t n)
{
	memcpy(w, src, n); /* NOLINT(bugprone-not-null-terminated-result) */
	return w + n;
}

/* Decimal digits of V at W; returns the end. Hand-written: snprintf costs
 * more than the rest of building a command. */
static char *append_decimal(char *w, size_t v)
{
	char tmp[24];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*w++ = tmp[--n];
	return w;
}

size_t mcproto_encode_set(char *buf, const char *key, size_t keylen, const uint8_t *value,
			  size_t valuelen)
{
	char *w = buf;

	w = append(w, "set ", 4);
	w = append(w, key, keylen);
	w = append(w, " 0 0 ", 5);
	w = append_decimal(w, valuelen);
	w = append(w, "\r\n", 2);
	w = append(w, value, valuelen);
	w = append(w, "\r\n", 2);
	return (size_t)(w - buf);
}

const char *mcproto_set_key(const char *cmd, size_t len, size_t *keylen)
{
	const char *sp = memchr(cmd, ' ', len); /* after "set" or "ms" */
	const char *key = sp != NULL ? sp + 1 : cmd + len;
	const char *end = memchr(key, ' ', len - (size_t)(key - cmd));

	*keylen = end ? (size_t)(end - key) : 0;
	return key;
}

const uint8_t *mcproto_set_value(const char *cmd, size_t len, size_t *valuelen)
{
	const char *nl = memchr(cmd, '\n', len);
	size_t head = nl != NULL ? (size_t)(nl - cmd) + 1 : len;

	*valuelen = len - head >= 2 ? len - head - 2 : 0;
	return (const uint8_t *)cmd + head;
}

size_t mcproto_next_line(const char *buf, size_t len, const char **line, size_t *linelen)
{
	const char *nl = memchr(buf, '\n', len);

	if (nl == NULL)
		return 0;
	*line = buf;
	*linelen = (size_t)(nl - buf);
	if (*linelen > 0 && buf[*linelen - 1] == '\r')
		(*linelen)--;
	return (size_t)(nl - buf) + 1;
}

/* What memcached (memcached.c, conn_new's caller) writes to a connection
 * over its -c limit before closing it. */
#define BUSY "ERROR Too many open connections"

/* memcached's answer to a value over its item size limit. */
#define TOO_LARGE "SERVER_ERROR object too large for cache"

/* LINE is WORD, alone or followed by a space and more. */
static int is_word(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && memcmp(line, word, n) == 0 && (len == n || line[n] == ' ');
}

enum mcproto_reply mcproto_classify(const char *line, size_t len)
{
	if (len == 6 && memcmp(line, "STORED", 6) == 0)
		return MCPROTO_STORED;
	if (len == sizeof(TOO_LARGE) - 1 && memcmp(line, TOO_LARGE, len) == 0)
		return MCPROTO_TOO_LARGE;
	if (is_word(line, len, "NOT_STORED") || is_word(line, len, "EXISTS") ||
	    is_word(line, len, "NOT_FOUND") || is_word(line, len, "SERVER_ERROR"))
		return MCPROTO_REJECTED;
	if (len == sizeof(BUSY) - 1 && memcmp(line, BUSY, len) == 0)
		return MCPROTO_BUSY;
	if (is_word(line, len, "CLIENT_ERROR") || is_word(line, len, "ERROR"))
		return MCPROTO_RESYNC;
	return MCPROTO_GARBAGE;
}

void mcproto_get_start(struct mcproto_get *g)
{
	memcpy(g->cmd, "get", 3); /* NOLINT(bugprone-not-null-terminated-result) */
	g->len = 3;
	g->nkeys = 0;
}

int mcproto_get_add(struct mcproto_get *g, const char *key, size_t keylen)
{
	_Static_assert(3 + 1 + MCPROTO_KEY_MAX + 2 <= MCPROTO_GET_BYTES,
		       "an empty get command takes the longest key");

	/* Room for " KEY" and the "\r\n" that ends the command. */
	if (g->nkeys == MCPROTO_GET_KEYS || g->len + 1 + keylen + 2 > MCPROTO_GET_BYTES)
		return -1;
	char *w = append(g->cmd + g->len, " ", 1);
	w = append(w, key, keylen);
	g->len = (size_t)(w - g->cmd);
	g->nkeys++;
	return 0;
}

void mcproto_get_end(struct mcproto_get *g)
{
	append(g->cmd + g->len, "\r\n", 2);
	g->len += 2;
}

/* memcached's largest item (-I) is 1 GiB: a longer value is no value. */
#define VALUE_MAX ((size_t)1 << 30)

/* S (LEN bytes) is a decimal number of at most MAX: its value in *OUT.
 * 0, or -1 when it is not. */
static int number(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "VALUE KEY FLAGS BYTES", or with the CAS that gets adds after BYTES: the
 * key, the flags and the data's length into *V. 0, or -1 when malformed. */
static int parse_value_line(const char *line, size_t len, struct mcproto_value *v)
{
	const char *end = line + len, *s = line + 6; /* after "VALUE " */
	const char *tok[4];
	size_t toklen[4], n = 0;
	uint64_t flags, bytes, cas;

	for (;;) {
		const char *sp = memchr(s, ' ', (size_t)(end - s));
		const char *e = sp != NULL ? sp : end;
		if (e == s || n == 4) /* two spaces in a row, one at the end, a fifth field */
			return -1;
		tok[n] = s;
		toklen[n++] = (size_t)(e - s);
		if (sp == NULL)
			break;
		s = sp + 1;
	}
	if (n < 3 || number(tok[1], toklen[1], UINT32_MAX, &flags) < 0 ||
	    number(tok[2], toklen[2], VALUE_MAX, &bytes) < 0 ||
	    (n == 4 && number(tok[3], toklen[3], UINT64_MAX, &cas) < 0))
		return -1;
	v->key = tok[0];
	v->keylen = toklen[0];
	v->flags = (uint32_t)flags;
	v->datalen = (size_t)bytes;
	return 0;
}

/* LINE is WORD and nothing else. */
static int is_only(const char *line, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(line, word, len) == 0;
}

enum mcproto_get_reply mcproto_parse_get(const char *buf, size_t len, struct mcproto_value *v,
					 size_t *used)
{
	size_t head;

	memset(v, 0, sizeof(*v));
	*used = 0;
	v->line = buf;
	head = mcproto_next_line(buf, len, &v->line, &v->linelen);
	/* A line of MCPROTO_LINE_MAX and its "\r" may still be waiting for "\n". */
	if (head == 0 && len < MCPROTO_LINE_MAX + 2)
		return MCPROTO_GET_MORE;
	if (head == 0) {
		v->linelen = len;
		return MCPROTO_GET_GARBAGE;
	}
	if (v->linelen > MCPROTO_LINE_MAX)
		return MCPROTO_GET_GARBAGE;
	if (v->linelen > 6 && memcmp(v->line, "VALUE ", 6) == 0) {
		if (parse_value_line(v->line, v->linelen, v) < 0)
			return MCPROTO_GET_GARBAGE;
		if (len < head + v->datalen + 2) {
			v->need = head + v->datalen + 2;
			return MCPROTO_GET_MORE;
		}
		if (memcmp(buf + head + v->datalen, "\r\n", 2) != 0)
			return MCPROTO_GET_GARBAGE;
		v->data = (const uint8_t *)buf + head;
		*used = head + v->datalen + 2;
		return MCPROTO_GET_VALUE;
	}
	*used = head;
	if (is_only(v->line, v->linelen, "END"))
		return MCPROTO_GET_END;
	switch (mcproto_classify(v->line, v->linelen)) {
	case MCPROTO_BUSY:
		return MCPROTO_GET_BUSY;
	case MCPROTO_RESYNC:
		return MCPROTO_GET_RESYNC;
	default:
		break;
	}
	if (is_word(v->line, v->linelen, "SERVER_ERROR"))
		return MCPROTO_GET_FAILED;
	*used = 0;
	return MCPROTO_GET_GARBAGE;
}

size_t mcproto_encode_ms(char *buf, const char *key, size_t keylen, const uint8_t *value,
			 size_t valuelen, uint32_t opaque, int quiet)
{
	char *w = buf;

	w = append(w, "ms ", 3);
	w = append(w, key, keylen);
	w = append(w, " ", 1);
	w = append_decimal(w, valuelen);
	w = append(w, " O", 2);
	w = append_decimal(w, opaque);
	if (quiet)
		w = append(w, " q", 2);
	w = append(w, "\r\n", 2);
	w = append(w, value, valuelen);
	w = append(w, "\r\n", 2);
	return (size_t)(w - buf);
}

/* The flags after a meta reply's code: " F1 F2 ...", each a single space
 * and a token, as memcached writes them. The O flag's number into *OPAQUE.
 * 0, or -1 when malformed. */
static int meta_flags(const char *s, size_t len, long *opaque)
{
	const char *end = s + len;
	uint64_t v;

	while (s < end) {
		if (*s != ' ' || s + 1 == end || s[1] == ' ')
			return -1;
		s++;
		const char *sp = memchr(s, ' ', (size_t)(end - s));
		const char *e = sp != NULL ? sp : end;
		if (*s == 'O') {
			if (*opaque >= 0 || number(s + 1, (size_t)(e - s - 1),
						   (uint64_t)MCPROTO_OPAQUE_MAX, &v) < 0)
				return -1;
			*opaque = (long)v;
		}
		s = e;
	}
	return 0;
}

enum mcproto_meta mcproto_classify_meta(const char *line, size_t len, long *opaque)
{
	static const char *const not_stored[] = {"NS", "EX", "NF"};
	enum mcproto_meta kind = MCPROTO_META_GARBAGE;

	*opaque = -1;
	if (len == 2 && memcmp(line, "MN", 2) == 0)
		return MCPROTO_META_NOOP;
	if (len >= 2 && (len == 2 || line[2] == ' ')) {
		if (memcmp(line, "HD", 2) == 0)
			kind = MCPROTO_META_STORED;
		for (size_t i = 0; i < sizeof(not_stored) / sizeof(not_stored[0]); i++)
			if (memcmp(line, not_stored[i], 2) == 0)
				kind = MCPROTO_META_REJECTED;
		if (kind != MCPROTO_META_GARBAGE) {
			if (meta_flags(line + 2, len - 2, opaque) == 0)
				return kind;
			*opaque = -1;
			return MCPROTO_META_GARBAGE;
		}
	}
	/* The error lines are the text protocol's. */
	switch (mcproto_classify(line, len)) {
	case MCPROTO_TOO_LARGE:
		return MCPROTO_META_TOO_LARGE;
	case MCPROTO_BUSY:
		return MCPROTO_META_BUSY;
	case MCPROTO_RESYNC:
		return MCPROTO_META_RESYNC;
	case MCPROTO_REJECTED:
		/* NOT_STORED and the like answer a plain set, never an ms. */
		return is_word(line, len, "SERVER_ERROR") ? MCPROTO_META_FAILED
							  : MCPROTO_META_GARBAGE;
	default:
		return MCPROTO_META_GARBAGE;
	}
}
