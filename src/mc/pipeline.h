/* pipeline.h -- many sets in flight on one memcached connection, every
 * reply counted.
 *
 * libmemcached 1.1.4 cannot pipeline sets and still count what was stored
 * (measured here, 200k sets): with BUFFER_REQUESTS the text protocol aborts
 * after about 270 sets (an assertion in io.cc, once its reply purge gives
 * up) and the binary protocol loses records silently; the purge discards
 * every reply code by design; NOREPLY hides every rejection. So this one
 * path speaks memcached's protocol itself.
 *
 * A server that speaks the meta protocol (memcached 1.6 and later; each new
 * connection is asked with "mn") gets quiet "ms" commands, which it answers
 * only when it does not store one, with an "mn" after each batch, whose MN
 * counts the batch (acks.h). memcached 1.6.18 spent 3.10 CPU seconds on
 * 1,000,000 sets of 300 bytes so, 3.66 on plain sets; 18% less on a
 * million generated records (1.89 s against 2.30 s, medians of 7 loads
 * into 4 servers). Any other server, and
 * text-protocol proxies such as twemproxy, get plain "set" commands, each
 * reply matched in order to its record. --protocol chooses.
 *
 * The bytes of every unacknowledged record are kept (window.h), so after a
 * lost connection they are sent again, in the new connection's protocol,
 * and the counts stay exact. A reconnection that finds another server
 * process (it restarted, and lost what it had acknowledged) is counted as
 * a restart. */
#ifndef MEMC_LOAD_PIPELINE_H
#define MEMC_LOAD_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "acks.h"
#include "addr.h"
#include "config.h"
#include "dialer.h"
#include "serverid.h"

struct pipeline;

struct pipeline_stats {
	uint64_t stored;   /* STORED, HD, or in a quiet batch its MN counted */
	uint64_t rejected; /* answered, not stored: NOT_STORED, NS, SERVER_ERROR, ... */
	uint64_t too_large; /* over the server's item size limit */
	uint64_t failed;   /* no answer after every attempt */
	struct server_watch server; /* who answered each connection (serverid.h) */
	int unconfirmed; /* the server could not be asked again after the last record */
};

/* A pipeline to ADDR; connects on first use. NULL when out of memory. */
struct pipeline *pipeline_new(const struct server_addr *addr, int timeout_ms, int attempts);

/* Connect with DIAL instead of addr_dial (the unit tests hand in one end
 * of a socketpair with a scripted server at the other); the pipeline owns
 * each socket it returns. */
void pipeline_set_dial(struct pipeline *p, dialer_fn *dial, void *ctx);

/* Which protocol to speak (config.h); PROTOCOL_AUTO unless told. */
void pipeline_protocol(struct pipeline *p, enum protocol protocol);

/* Queue one set. Sends when enough is queued, and waits for replies only
 * when too much is in flight. */
void pipeline_put(struct pipeline *p, const char *key, size_t keylen, const uint8_t *value,
		  size_t valuelen);

/* Send everything queued and wait until every record is counted. */
void pipeline_flush(struct pipeline *p);

/* Flush, then ask the server once more who it is: a restart after the last
 * acknowledgement is seen too, and its evictions are read. */
void pipeline_finish(struct pipeline *p);

/* Tell FN (with CTX) the key of each record refused as too large. */
void pipeline_on_too_large(struct pipeline *p, acks_too_large_fn *fn, void *ctx);

/* Whether to ask each new connection's server who it is ("stats"): on by
 * default; a server that does not answer turns it off by itself. */
void pipeline_identify(struct pipeline *p, int on);

/* Close the connection, once every record is counted (after
 * pipeline_finish): a worker then holds one connection to the server while
 * it reads records back. */
void pipeline_hang_up(struct pipeline *p);

void pipeline_get_stats(const struct pipeline *p, struct pipeline_stats *out);

void pipeline_free(struct pipeline *p);

#endif
