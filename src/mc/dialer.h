/* dialer.h -- connect to one memcached server and learn which server
 * process answers: the first step of every connection conn.c makes, so the
 * set pipeline and the read-back count restarts and handle proxies alike;
 * and ask whether it speaks the meta protocol (pipeline.c's next step).
 *
 * The dial itself goes through a hook: addr_dial in the program, one end
 * of a socketpair with a scripted server in the unit tests. */
#ifndef MEMC_LOAD_DIALER_H
#define MEMC_LOAD_DIALER_H

#include <stddef.h>

#include "addr.h"
#include "config.h"
#include "serverid.h"

/* How to connect: returns a connected non-blocking socket that the caller
 * then owns, or -1 with a reason in ERR. */
typedef int dialer_fn(const struct server_addr *addr, int timeout_ms, char *err, size_t errlen,
		      void *ctx);

/* One server and how to reach it. The owner fills it in and may change
 * dial, ctx and identify between connections. */
struct dialer {
	const struct server_addr *addr; /* not owned; outlives the dialer */
	int timeout_ms;                 /* for the dial and for each step of "stats" */
	dialer_fn *dial;                /* NULL: addr_dial */
	void *ctx;                      /* passed to dial */
	int identify;                   /* ask each new connection's server who it is */
	char no_meta[240];              /* why meta is no longer asked for, once it is not */
};

/* What dialer_connect and dialer_probe return besides a socket or 0.
 * DIALER_FAILED: the connection failed, a reason in ERR; an attempt is
 * spent. DIALER_NO_STATS: the server does not answer "stats" (a proxy such
 * as twemproxy closes the connection): logged once, d->identify is off now;
 * connect again at once, no attempt spent. */
#define DIALER_FAILED	(-1)
#define DIALER_NO_STATS (-2)

/* Connect to D's server and, when D->identify, ask who answers and note it
 * in W (a restart is counted and logged there). Returns a connected
 * non-blocking socket that the caller owns, DIALER_FAILED or
 * DIALER_NO_STATS (no socket is left open for either). */
int dialer_connect(struct dialer *d, struct server_watch *w, char *err, size_t errlen);

/* Ask the server at FD (connected, nothing in flight) who it is and note it
 * in W. 0, DIALER_FAILED or DIALER_NO_STATS; after either of those the
 * caller must close FD. */
int dialer_probe(struct dialer *d, int fd, struct server_watch *w, char *err, size_t errlen);

/* What dialer_meta returns besides DIALER_FAILED. DIALER_META: the server
 * speaks the meta protocol. DIALER_TEXT: it answered "mn" with an error
 * line, as memcached before 1.6 does ("ERROR"): FD goes on in the text
 * protocol. DIALER_NO_META: it closed the connection (twemproxy does on a
 * command it does not know) or answered what no memcached would: close FD
 * and connect again for the text protocol, no attempt spent. */
#define DIALER_META	1
#define DIALER_TEXT	0
#define DIALER_NO_META (-3)

/* Ask the server at FD (connected, nothing in flight) whether it speaks
 * the meta protocol: send "mn", expect "MN". WHY says what it answered
 * instead, or why the connection failed. */
int dialer_meta(struct dialer *d, int fd, char *why, size_t whylen);

/* Which protocol the new connection FD is to speak, as WANT (--protocol)
 * says, asking the server with dialer_meta when WANT and *ASK allow; the
 * choice is logged (debug). DIALER_META or DIALER_TEXT; DIALER_NO_META
 * (with *ASK now off: the server is not asked again) or DIALER_FAILED
 * (with the reason in WHY; with --protocol meta, a server without it is
 * a failed connection, and an error is logged); after either of those the
 * caller must close FD. */
int dialer_protocol(struct dialer *d, int fd, enum protocol want, int *ask, char *why,
		    size_t whylen);

#endif
