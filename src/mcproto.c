/* mcproto.c -- the memcached text protocol's set command and its replies. */
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
	const char *key = cmd + 4; /* after "set " */
	const char *end = len > 4 ? memchr(key, ' ', len - 4) : NULL;

	*keylen = end ? (size_t)(end - key) : 0;
	return key;
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
