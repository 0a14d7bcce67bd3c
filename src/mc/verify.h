/* verify.h -- read a sample of a file's records back from one memcached
 * server, and compare the stored bytes with the bytes sent (--verify).
 *
 * Keys are asked for with pipelined multi-key "get" commands (mcproto.h);
 * memcached answers each with the keys it holds, in the order asked, then
 * END. So each VALUE is matched to the next key asked with the same bytes,
 * and every key passed over is missing. A copy of each record is kept until
 * it is counted, so after a lost connection the unanswered keys are asked
 * again and every record is counted exactly once, as pipeline.c does for
 * sets.
 *
 * A key set twice in one file holds the later value, so an earlier line
 * that was sampled reads back different: `different` does not mean a
 * record was lost, and is not a reason to fail a file; `missing` is (the
 * server evicted it, restarted, or never had it). */
#ifndef MEMC_LOAD_VERIFY_H
#define MEMC_LOAD_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dialer.h"
#include "serverid.h"

struct verifier;

struct verify_stats {
	uint64_t sampled;   /* records given to verifier_check */
	uint64_t equal;     /* read back with the bytes sent */
	uint64_t missing;   /* the server does not have the key */
	uint64_t different; /* it has other bytes (whatever the flags): a later line of the
			       file set the key again, or another writer did */
	uint64_t failed;    /* no answer after every attempt */
	struct server_watch server; /* who answered each connection (serverid.h) */
};

/* A verifier for ADDR (not owned; it must outlive the verifier): waits up
 * to TIMEOUT_MS for each step, connects up to ATTEMPTS times in a row
 * before it gives up on the server. Connects on first use. NULL when out of
 * memory. Its buffers take at most 0.7 MB (more only while a record over
 * 512 kB waits). */
struct verifier *verifier_new(const struct server_addr *addr, int timeout_ms, int attempts);

/* Connect with DIAL instead of addr_dial (the unit tests hand in one end
 * of a socketpair with a scripted server at the other); the verifier owns
 * each socket it returns. */
void verifier_set_dial(struct verifier *v, dialer_fn *dial, void *ctx);

/* Whether to ask each new connection's server who it is ("stats"): on by
 * default; a server that does not answer turns it off by itself. Turn it
 * off for a server the load found does not answer. */
void verifier_identify(struct verifier *v, int on);

/* Carry on from W, the load's watch of this server (pipeline_stats.server):
 * a restart between the load and the read-back is then counted too, and the
 * stats' watch holds the whole file's history. Before the first check. */
void verifier_watch_from(struct verifier *v, const struct server_watch *w);

/* Queue one record to read back: KEY (1 to MCPROTO_KEY_MAX bytes, valid)
 * should hold VALUE. Both are copied; the caller may reuse its buffers at
 * once. Sends when a get is full, and waits for replies, pumping I/O, only
 * when 1024 records or 512 kB of keys and values are in flight. After the
 * server was given up, or for a key memcached cannot hold, the record fails
 * at once. */
void verifier_check(struct verifier *v, const char *key, size_t keylen, const uint8_t *value,
		    size_t valuelen);

/* Send what is queued and wait until every record is counted; log how many
 * were missing when more than log_nth named. */
void verifier_finish(struct verifier *v);

void verifier_get_stats(const struct verifier *v, struct verify_stats *out);

void verifier_free(struct verifier *v);

/* The Wilson score interval, at 95% (z = 1.959964), of the share of records
 * missing, from MISSING of SAMPLED: 0 with it in *LO and *HI (within 0 and
 * 1), or -1 when SAMPLED is 0 (or less than MISSING). Pure. */
int verify_wilson(uint64_t missing, uint64_t sampled, double *lo, double *hi);

#endif
