/* strategy.h -- the two ways a sink (sink.h) delivers its records, for
 * sink.c alone: pipelined (sink_pipelined.c, a pipeline per server) and
 * serial (sink_serial.c, one synchronous libmemcached set per record, as
 * the original script did: the benchmark baseline). sink.c routes each
 * record to its server and hands it to the strategy; each strategy keeps
 * its own counts and watches its own servers. */
#ifndef MEMC_LOAD_STRATEGY_H
#define MEMC_LOAD_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include "acks.h"
#include "config.h"
#include "serverid.h"
#include "sink.h"

struct strategy_ops {
	/* Deliver KEY = VALUE of TYPE to SERVER (config.h's numbering). */
	void (*put)(void *s, int type, int server, const char *key, size_t keylen,
		    const uint8_t *value, size_t valuelen);
	/* Every record counted, then each server asked once more who it is. */
	void (*finish)(void *s);
	/* Close every connection (after finish). */
	void (*hang_up)(void *s);
	/* Who SERVER was over the load, and whether it could not be asked after
	 * the last record. */
	void (*watch)(const void *s, int server, struct server_watch *out, int *unconfirmed);
	void (*stats)(const void *s, struct sink_stats *out);
	void (*on_too_large)(void *s, acks_too_large_fn *fn, void *ctx);
	void (*close)(void *s);
};

/* Each strategy for CFG's servers: its state and its ops in *OPS, or NULL
 * with a reason in ERR. */
void *strategy_pipelined(const struct config *cfg, const struct strategy_ops **ops, char *err,
			 size_t errlen);
void *strategy_serial(const struct config *cfg, const struct strategy_ops **ops, char *err,
		      size_t errlen);

#endif
