/* conn.h -- one buffered connection to a memcached server, and the rules
 * for losing it: the attempts, the backoff between them, giving up.
 *
 * The set pipeline (pipeline.c) and the read-back (verify.c) sit on it:
 * each keeps what it has in flight and says, through conn_ops, what to
 * send next, what the replies that arrived mean, how a new connection is
 * to be spoken to, and what to forget when one is lost. The connection
 * dials and identifies the server (dialer.h), sends, reads into its
 * buffer, and counts failures in a row: ATTEMPTS of them give the server
 * up, and everything waiting on it fails.
 *
 * A failure is any lost, refused or timed-out connection, or replies out
 * of step; an answer (conn_answered) resets the count. */
#ifndef MEMC_LOAD_CONN_H
#define MEMC_LOAD_CONN_H

#include <stddef.h>

#include "addr.h"
#include "dialer.h"
#include "serverid.h"

struct conn;

/* What a step of the owner's asks the connection to do next. */
enum conn_step {
	CONN_GO_ON,   /* carry on */
	CONN_AGAIN,   /* drop the connection and connect again at once: no attempt spent */
	CONN_FAILED,  /* drop it, a reason in WHY: an attempt is spent */
	CONN_GIVE_UP, /* give the server up now (out of memory), a reason in WHY */
};

struct conn_ops {
	/* The bytes to send next, in *OUT and *LEN (*LEN 0: nothing now).
	 * FLUSH: the caller is about to wait for replies, so nothing may be
	 * held back for a fuller batch. 0, or -1 when out of memory (the
	 * server is given up). */
	int (*unsent)(void *ctx, int flush, const char **out, size_t *len);
	/* N of those bytes were written. */
	void (*sent)(void *ctx, size_t n);
	/* Replies arrived: count what BUF (LEN bytes) holds, and put the
	 * number of bytes taken in *TOOK (an incomplete reply is left for
	 * next time). */
	enum conn_step (*replies)(void *ctx, const char *buf, size_t len, size_t *took, char *why,
				  size_t whylen);
	/* A new connection FD to the server D reaches is up (identified,
	 * when asked to be): make what waits speak to it. NULL: nothing to
	 * do. */
	enum conn_step (*reconnected)(void *ctx, struct dialer *d, int fd, char *why,
				      size_t whylen);
	/* The connection is gone: every request not answered is to be sent
	 * again on the next. */
	void (*dropped)(void *ctx);
	/* The server is given up: fail every request not answered; returns
	 * how many there were. */
	size_t (*give_up)(void *ctx);
	/* Requests not answered yet (for the messages). */
	size_t (*waiting)(void *ctx);
};

/* How the owner's messages name what it does: "retrying" and "records"
 * for sets, "asking again for" and "sample" for the read-back. */
struct conn_words {
	const char *retry;     /* "<retry> N records in M ms" */
	const char *giving_up; /* "<giving_up> after N attempts" */
	const char *rest;      /* "the rest of this server's <rest> fail" */
};

/* A connection to ADDR (not owned; it must outlive the connection), with
 * TIMEOUT_MS for every step and ATTEMPTS failures in a row before it gives
 * up. Connects on first use. OPS and WORDS are not copied. NULL when out of
 * memory. */
struct conn *conn_new(const struct server_addr *addr, int timeout_ms, int attempts,
		      const struct conn_ops *ops, const struct conn_words *words, void *ctx);

void conn_free(struct conn *c);

/* Connect with DIAL instead of addr_dial (the unit tests hand in one end
 * of a socketpair with a scripted server at the other); the connection
 * owns each socket it returns. */
void conn_set_dial(struct conn *c, dialer_fn *dial, void *ctx);

/* Whether to ask each new connection's server who it is ("stats"): on by
 * default; a server that does not answer turns it off by itself. */
void conn_identify(struct conn *c, int on);
int conn_identifies(const struct conn *c);

/* Who answered each connection so far. */
struct server_watch *conn_watch(struct conn *c);

/* The server answered: failures in a row start again from none. */
void conn_answered(struct conn *c);

/* The server was given up: every further request fails at once. */
int conn_down(const struct conn *c);

/* One round of I/O: connect if need be, write what the socket takes, read
 * what has come. With BLOCK, first wait (up to the timeout) until one of
 * them can happen. Failures are dealt with here, by the rules above. */
void conn_pump(struct conn *c, int block);

/* A failure found by the owner between pumps: spend an attempt (WHY says
 * what happened), or give the server up (CONN_GIVE_UP). */
void conn_fail(struct conn *c, enum conn_step step, const char *why);

/* Once nothing is in flight: ask the server once more who it is, so that
 * a restart after the last answer is seen too (connecting again if need
 * be). Returns 1 when the server has an identity and could not be asked
 * (it was given up), else 0. */
int conn_confirm(struct conn *c);

/* Close the connection (the owner's dropped runs); the next pump connects
 * again. */
void conn_hang_up(struct conn *c);

/* The server's spec, for messages. */
const char *conn_spec(const struct conn *c);

#endif
