/* sink.c -- route records to the server of their key: pipelined
 * (pipeline.c) in the workers, or with --serial one synchronous
 * libmemcached set per record, as the original script did, to serve as the
 * benchmark baseline.
 *
 * Each device type has a pool of servers. libmemcached decides which server
 * a key belongs to, with MEMCACHED_BEHAVIOR_KETAMA over the servers in the
 * order given, so any libmemcached client configured the same way reads the
 * keys back. Pipelined workers use the handle only to hash keys; each
 * server has its own pipeline, and fails on its own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmemcached/memcached.h>

#include "backoff.h"
#include "dialer.h"
#include "log.h"
#include "pipeline.h"
#include "serverid.h"
#include "sink.h"

/* One device type: its pool, and the handle that hashes its keys. */
struct dest {
	const struct server_pool *pool;
	memcached_st *mc;                /* hashes keys; with --serial, also sets */
};

/* One distinct server (config.h's numbering), whichever types it serves. */
struct server {
	const struct server_addr *addr;
	struct pipeline *pl; /* pipelined; NULL with --serial */
	/* --serial: */
	int down;                  /* gave up on it */
	struct server_watch watch; /* who it was (a pipeline watches its own) */
	struct dialer dl;          /* identify off once it does not answer "stats" */
	int unconfirmed;           /* it could not be asked after the last record */
	uint64_t rejected;         /* records it rejected */
};

struct sink {
	const struct config *cfg;
	struct dest dest[DEV_TYPES];
	struct server srv[MAX_SERVERS];
	int attempts;
	int timeout_ms;
	struct sink_stats stats; /* --serial's counts; pipelines keep their own */
	acks_too_large_fn *on_too_large; /* --serial's; the pipelines have their own */
	void *too_large_ctx;
};

const char *sink_backend(void)
{
	static char name[48];

	snprintf(name, sizeof(name), "libmemcached %s", memcached_lib_version());
	return name;
}

static int set_behaviors(memcached_st *mc, int timeout_ms)
{
	uint64_t ms = (uint64_t)timeout_ms;

	if (memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, ms) != MEMCACHED_SUCCESS ||
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, ms) != MEMCACHED_SUCCESS ||
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT, ms * 1000) != MEMCACHED_SUCCESS ||
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, ms * 1000) != MEMCACHED_SUCCESS ||
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1) != MEMCACHED_SUCCESS ||
	    /* The pool's key distribution, which readers must configure alike. */
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_KETAMA, 1) != MEMCACHED_SUCCESS)
		return -1;
	return 0;
}

/* A fresh handle over D's pool: libmemcached keeps a failed server disabled
 * for a while, and a retry must really reconnect, so with --serial a
 * failure replaces the handle. */
static int dest_connect(struct dest *d, int timeout_ms, char *err, size_t errlen)
{
	if (d->mc != NULL)
		memcached_free(d->mc);
	d->mc = memcached_create(NULL);
	if (d->mc == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (set_behaviors(d->mc, timeout_ms) < 0)
		goto fail;
	for (int i = 0; i < d->pool->n; i++) {
		const struct server_addr *a = &d->pool->addr[i];
		memcached_return_t rc =
		    a->is_unix ? memcached_server_add_unix_socket(d->mc, a->host)
			       : memcached_server_add(d->mc, a->host, (in_port_t)a->port);
		if (rc != MEMCACHED_SUCCESS)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", d->pool->spec, memcached_last_error_message(d->mc));
	return -1;
}

struct sink *sink_open(const struct config *cfg, char *err, size_t errlen)
{
	struct sink *sink = calloc(1, sizeof(*sink));

	if (sink == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sink->cfg = cfg;
	sink->attempts = cfg->attempts;
	sink->timeout_ms = cfg->timeout_ms;
	for (int t = 0; t < DEV_TYPES; t++) {
		sink->dest[t].pool = &cfg->servers[t];
		if (dest_connect(&sink->dest[t], cfg->timeout_ms, err, errlen) < 0)
			goto fail;
	}
	for (int s = 0; s < cfg->table.n; s++) {
		struct server *v = &sink->srv[s];
		v->addr = config_server_addr(cfg, s);
		if (cfg->serial) {
			v->dl = (struct dialer){
				.addr = v->addr, .timeout_ms = cfg->timeout_ms, .identify = 1};
			continue;
		}
		v->pl = pipeline_new(v->addr, cfg->timeout_ms, cfg->attempts);
		if (v->pl == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		pipeline_protocol(v->pl, cfg->protocol);
	}
	return sink;
fail:
	sink_close(sink);
	return NULL;
}

/* The server answered and said no: retrying the same record cannot help. */
static int is_rejection(memcached_return_t rc)
{
	switch (rc) {
	case MEMCACHED_NOTSTORED:
	case MEMCACHED_SERVER_ERROR:
	case MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE:
	case MEMCACHED_BAD_KEY_PROVIDED:
	case MEMCACHED_CLIENT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* "CONNECTION FAILURE (Connection refused)": the library's text for RC, and
 * the system error behind it when there is one. */
static void describe_failure(memcached_st *mc, memcached_return_t rc, char *buf, size_t size)
{
	int e = memcached_last_error_errno(mc);

	if (e != 0)
		snprintf(buf, size, "%s (%s)", memcached_strerror(mc, rc), strerror(e));
	else
		snprintf(buf, size, "%s", memcached_strerror(mc, rc));
}

/* --serial: ask V who it is, on a connection of its own (libmemcached
 * keeps its own to itself). 0, or -1 when it could not be reached. */
static int serial_identify(struct server *v)
{
	char why[256];
	int fd;

	if (!v->dl.identify)
		return 0;
	fd = dialer_connect(&v->dl, &v->watch, why, sizeof(why));
	if (fd >= 0)
		close(fd);
	return fd == DIALER_FAILED ? -1 : 0;
}

/* --serial: one set through D's handle to server V, retried up to the
 * attempts. */
static void put_serial(struct sink *sink, struct dest *d, struct server *v, const char *key,
		       size_t keylen, const uint8_t *value, size_t valuelen)
{
	const char *spec = v->addr->spec;
	char why[256] = "no attempt made";

	if (v->down) {
		sink->stats.failed++;
		return;
	}
	if (!v->watch.have_id)
		(void)serial_identify(v);
	for (int attempt = 1; attempt <= sink->attempts; attempt++) {
		memcached_return_t rc =
		    memcached_set(d->mc, key, keylen, (const char *)value, valuelen, 0, 0);
		if (rc == MEMCACHED_SUCCESS) {
			sink->stats.stored++;
			return;
		}
		describe_failure(d->mc, rc, why, sizeof(why));
		if (rc == MEMCACHED_E2BIG) { /* never storable: over the item size */
			sink->stats.too_large++;
			if (sink->on_too_large != NULL)
				sink->on_too_large(key, keylen, sink->too_large_ctx);
			log_nth(++v->rejected, "%s refused %.*s as too large: %s", spec, (int)keylen, key,
				why);
			return;
		}
		if (is_rejection(rc)) {
			sink->stats.rejected++;
			log_nth(++v->rejected, "%s rejected %.*s: %s", spec, (int)keylen, key, why);
			return;
		}
		log_debug("%s: attempt %d of %d failed: %s", spec, attempt, sink->attempts, why);
		if (attempt == sink->attempts)
			break;
		backoff_sleep(backoff_ms(attempt));
		if (dest_connect(d, sink->timeout_ms, why, sizeof(why)) < 0)
			break;
		(void)serial_identify(v);
	}
	sink->stats.failed++;
	v->down = 1;
	log_error("%s: giving up after %d attempts: %s; its remaining records fail", spec,
		  sink->attempts, why);
}

void sink_on_too_large(struct sink *sink, acks_too_large_fn *fn, void *ctx)
{
	sink->on_too_large = fn;
	sink->too_large_ctx = ctx;
	for (int s = 0; s < sink->cfg->table.n; s++)
		if (sink->srv[s].pl != NULL)
			pipeline_on_too_large(sink->srv[s].pl, fn, ctx);
}

/* The position in D's pool of KEY's server. */
static int pool_index(struct dest *d, const char *key, size_t keylen)
{
	int pos = d->pool->n > 1 ? (int)memcached_generate_hash(d->mc, key, keylen) : 0;

	return pos >= 0 && pos < d->pool->n ? pos : 0; /* the continuum holds the pool */
}

int sink_server(struct sink *sink, enum dev_type type, const char *key, size_t keylen)
{
	return config_server(sink->cfg, type, pool_index(&sink->dest[type], key, keylen));
}

int sink_put(struct sink *sink, enum dev_type type, const char *key, size_t keylen,
	     const uint8_t *value, size_t valuelen)
{
	int server = sink_server(sink, type, key, keylen);
	struct server *v = &sink->srv[server];

	if (v->pl != NULL)
		pipeline_put(v->pl, key, keylen, value, valuelen);
	else
		put_serial(sink, &sink->dest[type], v, key, keylen, value, valuelen);
	return server;
}

void sink_finish(struct sink *sink)
{
	int n = sink->cfg->table.n;

	for (int s = 0; s < n; s++)
		if (sink->srv[s].pl != NULL)
			pipeline_flush(sink->srv[s].pl);
	/* Only then ask: a restart while another server drained must be seen. */
	for (int s = 0; s < n; s++) {
		struct server *v = &sink->srv[s];
		if (v->pl != NULL) {
			pipeline_finish(v->pl);
			continue;
		}
		log_nth_total(v->addr->spec, "rejected", (unsigned long long)v->rejected);
		if (v->watch.have_id && !v->down && serial_identify(v) < 0)
			v->unconfirmed = 1;
	}
}

void sink_hang_up(struct sink *sink)
{
	for (int t = 0; t < DEV_TYPES; t++)
		if (sink->cfg->serial)
			memcached_quit(sink->dest[t].mc); /* libmemcached's connections */
	for (int s = 0; s < sink->cfg->table.n; s++)
		if (sink->srv[s].pl != NULL)
			pipeline_hang_up(sink->srv[s].pl);
}

void sink_watch(const struct sink *sink, int server, struct server_watch *out)
{
	const struct server *v = &sink->srv[server];

	if (v->pl != NULL) {
		struct pipeline_stats ps;
		pipeline_get_stats(v->pl, &ps);
		*out = ps.server;
	} else {
		*out = v->watch;
	}
}

void sink_get_servers(const struct sink *sink, struct server_seen *out)
{
	for (int s = 0; s < sink->cfg->table.n; s++) {
		const struct server *v = &sink->srv[s];
		struct server_watch w;
		int unconfirmed = v->unconfirmed;

		sink_watch(sink, s, &w);
		if (v->pl != NULL) {
			struct pipeline_stats ps;
			pipeline_get_stats(v->pl, &ps);
			unconfirmed = ps.unconfirmed;
		}
		server_seen_from_watch(&w, unconfirmed, &out[s]);
	}
}

void sink_get_stats(const struct sink *sink, struct sink_stats *out)
{
	*out = sink->stats;
	for (int s = 0; s < sink->cfg->table.n; s++) {
		struct pipeline_stats ps;
		if (sink->srv[s].pl == NULL)
			continue;
		pipeline_get_stats(sink->srv[s].pl, &ps);
		out->stored += ps.stored;
		out->rejected += ps.rejected;
		out->too_large += ps.too_large;
		out->failed += ps.failed;
	}
}

void sink_close(struct sink *sink)
{
	if (sink == NULL)
		return;
	for (int t = 0; t < DEV_TYPES; t++)
		if (sink->dest[t].mc)
			memcached_free(sink->dest[t].mc);
	for (int s = 0; s < MAX_SERVERS; s++)
		pipeline_free(sink->srv[s].pl);
	free(sink);
}
