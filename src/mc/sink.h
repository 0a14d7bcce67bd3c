/* sink.h -- deliver packed records to the memcached server of their type.
 *
 * Every record put into a sink ends up counted exactly once: stored (a server
 * acknowledged it), rejected (a server answered but did not store it), or
 * failed (no acknowledgement after every attempt). Once a server has failed
 * a record on every attempt, the rest of its records fail at once, so a dead
 * server costs attempts x timeout, not that per record. */
#ifndef MEMC_LOAD_SINK_H
#define MEMC_LOAD_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "acks.h"
#include "config.h"
#include "report.h"
#include "serverid.h"

struct sink;

struct sink_stats {
	uint64_t stored;
	uint64_t rejected;
	uint64_t too_large; /* rejected as over the server's item size: never storable */
	uint64_t failed;
};

/* Connections to the servers in CFG; nothing is connected until the first
 * record. NULL with a reason in ERR on failure. */
struct sink *sink_open(const struct config *cfg, char *err, size_t errlen);

/* Deliver one record: queued for a pipelined worker, stored before it
 * returns with --serial. Counted by sink_finish at the latest. Returns the
 * record's server (sink_server). */
int sink_put(struct sink *sink, enum dev_type type, const char *key, size_t keylen,
	     const uint8_t *value, size_t valuelen);

/* Tell FN (with CTX) the key of each record a server refused as too large
 * for it (acks.h), before sink_finish returns. */
void sink_on_too_large(struct sink *sink, acks_too_large_fn *fn, void *ctx);

/* The server KEY of TYPE goes to, numbered as config.h says; sink_put
 * returns the same. */
int sink_server(struct sink *sink, enum dev_type type, const char *key, size_t keylen);

/* Wait until every record put so far is counted, then ask each server once
 * more who it is (pipeline_finish). */
void sink_finish(struct sink *sink);

/* Close every connection, once every record is counted (after
 * sink_finish), before the read-back opens its own. */
void sink_hang_up(struct sink *sink);

/* Who server SERVER (config.h's numbering) was during the load, in *OUT. */
void sink_watch(const struct sink *sink, int server, struct server_watch *out);

/* What each server was seen to do during the load: one entry per server
 * of the run (cfg->table.n), numbered as config.h says. */
void sink_get_servers(const struct sink *sink, struct server_seen *out);

void sink_get_stats(const struct sink *sink, struct sink_stats *out);

void sink_close(struct sink *sink);

/* "libmemcached 1.1.4" */
const char *sink_backend(void);

#endif
