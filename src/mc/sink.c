/* sink.c -- route records to the server of their key, and hand them to the
 * way this run delivers them (strategy.h): pipelined in the workers, or
 * with --serial one synchronous libmemcached set per record.
 *
 * Each device type has a pool of servers. libmemcached decides which server
 * a key belongs to, with MEMCACHED_BEHAVIOR_KETAMA over the servers in the
 * order given (mchandle.h), so any libmemcached client configured the same
 * way reads the keys back; here its handle only hashes keys. */
#include <stdio.h>
#include <stdlib.h>

#include "mchandle.h"
#include "sink.h"
#include "strategy.h"

struct sink {
	const struct config *cfg;
	memcached_st *route[DEV_TYPES]; /* each type's pool, to hash its keys */
	const struct strategy_ops *ops;
	void *s; /* the strategy's own */
};

const char *sink_backend(void)
{
	static char name[48];

	snprintf(name, sizeof(name), "libmemcached %s", memcached_lib_version());
	return name;
}

struct sink *sink_open(const struct config *cfg, char *err, size_t errlen)
{
	struct sink *sink = calloc(1, sizeof(*sink));

	if (sink == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sink->cfg = cfg;
	for (int t = 0; t < DEV_TYPES; t++) {
		sink->route[t] = mchandle_new(&cfg->servers[t], cfg->timeout_ms, err, errlen);
		if (sink->route[t] == NULL)
			goto fail;
	}
	sink->s = cfg->serial ? strategy_serial(cfg, &sink->ops, err, errlen)
			      : strategy_pipelined(cfg, &sink->ops, err, errlen);
	if (sink->s == NULL)
		goto fail;
	return sink;
fail:
	sink_close(sink);
	return NULL;
}

int sink_server(struct sink *sink, enum dev_type type, const char *key, size_t keylen)
{
	return config_server(sink->cfg, type,
			     mchandle_position(sink->route[type], &sink->cfg->servers[type], key,
					       keylen));
}

int sink_put(struct sink *sink, enum dev_type type, const char *key, size_t keylen,
	     const uint8_t *value, size_t valuelen)
{
	int server = sink_server(sink, type, key, keylen);

	sink->ops->put(sink->s, type, server, key, keylen, value, valuelen);
	return server;
}

void sink_on_too_large(struct sink *sink, acks_too_large_fn *fn, void *ctx)
{
	sink->ops->on_too_large(sink->s, fn, ctx);
}

void sink_finish(struct sink *sink)
{
	sink->ops->finish(sink->s);
}

void sink_hang_up(struct sink *sink)
{
	sink->ops->hang_up(sink->s);
}

void sink_watch(const struct sink *sink, int server, struct server_watch *out)
{
	int unconfirmed;

	sink->ops->watch(sink->s, server, out, &unconfirmed);
}

void sink_get_servers(const struct sink *sink, struct server_seen *out)
{
	for (int s = 0; s < sink->cfg->table.n; s++) {
		struct server_watch w;
		int unconfirmed;

		sink->ops->watch(sink->s, s, &w, &unconfirmed);
		server_seen_from_watch(&w, unconfirmed, &out[s]);
	}
}

void sink_get_stats(const struct sink *sink, struct sink_stats *out)
{
	sink->ops->stats(sink->s, out);
}

void sink_close(struct sink *sink)
{
	if (sink == NULL)
		return;
	if (sink->s != NULL)
		sink->ops->close(sink->s);
	for (int t = 0; t < DEV_TYPES; t++)
		if (sink->route[t] != NULL)
			memcached_free(sink->route[t]);
	free(sink);
}
