/* mcproto.h -- memcached's text protocol as bytes: encode a set, split and
 * classify replies. No I/O: pipeline.c does the sending, the waiting and
 * the retries, and decides what to do with each kind of reply.
 * The format is memcached's doc/protocol.txt, "Storage commands". */
#ifndef MEMC_LOAD_MCPROTO_H
#define MEMC_LOAD_MCPROTO_H

#include <stddef.h>
#include <stdint.h>

/* Most bytes the set command for a KEYLEN-byte key and a VALUELEN-byte
 * value takes: "set " KEY " 0 0 " LEN "\r\n" VALUE "\r\n". */
#define MCPROTO_SET_MAX(keylen, valuelen) (4 + (keylen) + 5 + 20 + 2 + (valuelen) + 2)

/* Write "set KEY 0 0 LEN\r\nVALUE\r\n" (flags 0, no expiry) at BUF, which
 * has room for MCPROTO_SET_MAX bytes. The key must be valid (record.c has
 * checked it). Returns the bytes written. */
size_t mcproto_encode_set(char *buf, const char *key, size_t keylen, const uint8_t *value,
			  size_t valuelen);

/* The key of a set command that mcproto_encode_set wrote at CMD (LEN
 * bytes); its length in *KEYLEN. For messages about a record. */
const char *mcproto_set_key(const char *cmd, size_t len, size_t *keylen);

/* The first complete reply line in BUF (LEN bytes): its text, without the
 * "\r\n" or "\n", in *LINE and *LINELEN. Returns the bytes it takes in BUF,
 * or 0 when BUF holds no complete line yet. */
size_t mcproto_next_line(const char *buf, size_t len, const char **line, size_t *linelen);

/* What a reply line to a set says about its record. */
enum mcproto_reply {
	MCPROTO_STORED,   /* STORED */
	MCPROTO_REJECTED, /* NOT_STORED, EXISTS, NOT_FOUND, SERVER_ERROR ...: answered, not stored */
	MCPROTO_TOO_LARGE, /* "SERVER_ERROR object too large for cache": over the server's item
			      size limit (-I), so no retry, no later run, can ever store it */
	MCPROTO_RESYNC,   /* ERROR, CLIENT_ERROR ...: the server misread the command; it is
			     rejected, and the connection must start afresh */
	MCPROTO_BUSY,     /* "ERROR Too many open connections": memcached at its connection
			     limit says so and closes; nothing was stored, try again later */
	MCPROTO_GARBAGE,  /* anything else: the connection cannot be trusted */
};

enum mcproto_reply mcproto_classify(const char *line, size_t len);

#endif
