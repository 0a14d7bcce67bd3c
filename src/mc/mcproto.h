/* mcproto.h -- memcached's text protocol as bytes: encode a set (plain, or
 * the meta protocol's "ms") or a get, split and classify replies. No I/O:
 * conn.c does the sending, the waiting and the retries; pipeline.c, acks.c
 * and verify.c decide what to do with each kind of reply. The format is
 * memcached's doc/protocol.txt, "Storage commands", "Retrieval command",
 * "Meta Set" and "Meta No-Op". */
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

/* The key of a set or ms command that mcproto_encode_set or
 * mcproto_encode_ms wrote at CMD (LEN bytes); its length in *KEYLEN. For
 * messages about a record. */
const char *mcproto_set_key(const char *cmd, size_t len, size_t *keylen);

/* The value of such a command, its length in *VALUELEN: with the key, what
 * it takes to encode the record again for a server of another protocol. */
const uint8_t *mcproto_set_value(const char *cmd, size_t len, size_t *valuelen);

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

/* ---- the meta protocol's set ----
 *
 * Every "ms" carries an opaque token (O<n>) that the server copies into its
 * HD, NS, EX and NF replies, so a reply names its record even when the ones
 * before it were suppressed by the quiet flag (q: no HD on success). Error
 * lines (SERVER_ERROR, CLIENT_ERROR, ERROR) carry no token: memcached writes
 * them without looking at the flags (proto_text.c, process_mset_command). */

/* Most bytes an "ms" command for a KEYLEN-byte key and a VALUELEN-byte
 * value takes: "ms " KEY " " LEN " O" OPAQUE " q\r\n" VALUE "\r\n". */
#define MCPROTO_MS_MAX(keylen, valuelen) (3 + (keylen) + 1 + 20 + 2 + 10 + 2 + 2 + (valuelen) + 2)

/* The no-op: its reply, MN, says every command before it was processed. */
#define MCPROTO_MN     "mn\r\n"
#define MCPROTO_MN_LEN 4

/* Write "ms KEY LEN O<OPAQUE>\r\nVALUE\r\n", with " q" before the first
 * "\r\n" when QUIET, at BUF (room for MCPROTO_MS_MAX bytes). No flags, no
 * expiry: what "set KEY 0 0 LEN" stores. The key must be valid (record.c
 * has checked it). Returns the bytes written. */
size_t mcproto_encode_ms(char *buf, const char *key, size_t keylen, const uint8_t *value,
			 size_t valuelen, uint32_t opaque, int quiet);

/* What a reply line to "ms" or "mn" says. */
enum mcproto_meta {
	MCPROTO_META_STORED,    /* HD */
	MCPROTO_META_REJECTED,  /* NS, EX, NF: answered, not stored */
	MCPROTO_META_NOOP,      /* MN: the answer to "mn" */
	MCPROTO_META_TOO_LARGE, /* "SERVER_ERROR object too large for cache" */
	MCPROTO_META_FAILED,    /* any other SERVER_ERROR: not stored */
	MCPROTO_META_RESYNC,    /* ERROR, CLIENT_ERROR ...: a command was misread */
	MCPROTO_META_BUSY,      /* "ERROR Too many open connections": refused, it closes */
	MCPROTO_META_GARBAGE,   /* anything else, an O flag that is no number of ours too */
};

/* The largest opaque number mcproto_classify_meta reads back. */
#define MCPROTO_OPAQUE_MAX 999999999L

/* Classify LINE (LEN bytes, without its "\r\n"). *OPAQUE is the number in
 * the O flag of an HD, NS, EX or NF line, else -1 (none there). */
enum mcproto_meta mcproto_classify_meta(const char *line, size_t len, long *opaque);

/* memcached's longest key. */
#define MCPROTO_KEY_MAX 250

/* A get command asks for at most MCPROTO_GET_KEYS keys in at most
 * MCPROTO_GET_BYTES bytes: the reply to one stays small, and the line stays
 * well within what memcached (which reads a long get line in pieces) and
 * proxies take as one command. */
#define MCPROTO_GET_KEYS  100
#define MCPROTO_GET_BYTES (16 * 1024)

/* A get command being built: "get K1 K2 ...\r\n". */
struct mcproto_get {
	char cmd[MCPROTO_GET_BYTES];
	size_t len;   /* bytes of cmd in use */
	size_t nkeys; /* keys in it */
};

/* Make G an empty get command. */
void mcproto_get_start(struct mcproto_get *g);

/* Add KEY (valid: record.c has checked it; 1 to MCPROTO_KEY_MAX bytes) to
 * G. 0, or -1 when G is full (MCPROTO_GET_KEYS keys, or no room for this
 * one): end it, send it, and start another. An empty G takes any such key. */
int mcproto_get_add(struct mcproto_get *g, const char *key, size_t keylen);

/* End G, which holds at least one key, with "\r\n": the command is then
 * G->cmd, G->len bytes. */
void mcproto_get_end(struct mcproto_get *g);

/* One element of the replies to get commands. */
enum mcproto_get_reply {
	MCPROTO_GET_VALUE,   /* "VALUE KEY FLAGS BYTES\r\n" then the data and "\r\n": a key found */
	MCPROTO_GET_END,     /* "END": the reply to one get command is complete */
	MCPROTO_GET_MORE,    /* not complete yet: call again with more bytes */
	MCPROTO_GET_FAILED,  /* SERVER_ERROR ...: the server could not answer (out of memory) */
	MCPROTO_GET_RESYNC,  /* ERROR, CLIENT_ERROR ...: the server misread the command */
	MCPROTO_GET_BUSY,    /* "ERROR Too many open connections": refused, it closes */
	MCPROTO_GET_GARBAGE, /* anything else, a malformed VALUE, data not followed by "\r\n",
				a line longer than MCPROTO_LINE_MAX: the stream cannot be trusted */
};

/* A reply line longer than this is garbage: it is no answer to a get. A
 * buffer of MCPROTO_LINE_MAX + 2 bytes holds any line that is not. */
#define MCPROTO_LINE_MAX 1024

/* What mcproto_parse_get read. Pointers point into its buffer. */
struct mcproto_value {
	const char *line;    /* for messages: the element's first line, without "\r\n";
				all of BUF for a line over MCPROTO_LINE_MAX */
	size_t linelen;
	const char *key;     /* VALUE, and MORE once the VALUE line is complete */
	size_t keylen;
	uint32_t flags;      /* as stored; the bytes are compared whatever the flags */
	size_t datalen;      /* as key */
	const uint8_t *data; /* VALUE: the DATALEN bytes of the value */
	size_t need;         /* MORE: the bytes the whole element takes, once the VALUE
				line is complete (a caller may read a long value as it
				comes instead of buffering it); else 0 */
};

/* Read the element at the start of BUF (LEN bytes) into *V. Returns its
 * kind, with the bytes it takes in *USED (0 for MORE and GARBAGE). A value
 * is framed by its length, so it may hold any bytes, "\r\nEND\r\n" too. */
enum mcproto_get_reply mcproto_parse_get(const char *buf, size_t len, struct mcproto_value *v,
					 size_t *used);

#endif
