/* sink.c -- route records to their server: pipelined (pipeline.c) in the
 * workers, or with --serial one synchronous libmemcached set per record, as
 * the original script did, to serve as the benchmark baseline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmemcached/memcached.h>

#include "backoff.h"
#include "log.h"
#include "pipeline.h"
#include "sink.h"

struct dest {
	struct pipeline *pl; /* pipelined, or else: */
	memcached_st *mc;
	const struct server_addr *addr;
	int down; /* failed a record on every attempt: fail the rest at once */
};

struct sink {
	struct dest dest[DEV_TYPES];
	int attempts;
	int timeout_ms;
	struct sink_stats stats;
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
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1) != MEMCACHED_SUCCESS)
		return -1;
	return 0;
}

/* A fresh handle for D: libmemcached keeps a failed server disabled for a
 * while, and a retry must really reconnect, so a failure replaces the handle. */
static int dest_connect(struct dest *d, int timeout_ms, char *err, size_t errlen)
{
	if (d->mc != NULL)
		memcached_free(d->mc);
	d->mc = memcached_create(NULL);
	if (d->mc == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (set_behaviors(d->mc, timeout_ms) < 0 ||
	    memcached_server_add(d->mc, d->addr->host, (in_port_t)d->addr->port) != MEMCACHED_SUCCESS) {
		snprintf(err, errlen, "%s: %s", d->addr->spec, memcached_last_error_message(d->mc));
		return -1;
	}
	return 0;
}

struct sink *sink_open(const struct config *cfg, char *err, size_t errlen)
{
	struct sink *sink = calloc(1, sizeof(*sink));

	if (sink == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sink->attempts = cfg->attempts;
	sink->timeout_ms = cfg->timeout_ms;
	for (int t = 0; t < DEV_TYPES; t++) {
		struct dest *d = &sink->dest[t];
		d->addr = &cfg->servers[t];
		if (!cfg->serial) {
			d->pl = pipeline_new(d->addr, cfg->timeout_ms, cfg->attempts);
			if (d->pl != NULL)
				continue;
			snprintf(err, errlen, "out of memory");
		} else if (dest_connect(d, cfg->timeout_ms, err, errlen) == 0) {
			continue;
		}
		sink_close(sink);
		return NULL;
	}
	return sink;
}

/* The server answered and said no: retrying the same record cannot help. */
static int is_rejection(memcached_return_t rc)
{
	switch (rc) {
	case MEMCACHED_NOTSTORED:
	case MEMCACHED_E2BIG:
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

void sink_put(struct sink *sink, enum dev_type type, const char *key, size_t keylen,
	      const uint8_t *value, size_t valuelen)
{
	struct dest *d = &sink->dest[type];
	char why[256] = "no attempt made";

	if (d->pl != NULL) {
		pipeline_put(d->pl, key, keylen, value, valuelen);
		return;
	}
	if (d->down) {
		sink->stats.failed++;
		return;
	}
	for (int attempt = 1; attempt <= sink->attempts; attempt++) {
		memcached_return_t rc =
		    memcached_set(d->mc, key, keylen, (const char *)value, valuelen, 0, 0);
		if (rc == MEMCACHED_SUCCESS) {
			sink->stats.stored++;
			return;
		}
		if (is_rejection(rc)) {
			sink->stats.rejected++;
			describe_failure(d->mc, rc, why, sizeof(why));
			log_warn("%s rejected %.*s: %s", d->addr->spec, (int)keylen, key, why);
			return;
		}
		describe_failure(d->mc, rc, why, sizeof(why));
		log_debug("%s: attempt %d of %d failed: %s", d->addr->spec, attempt,
			  sink->attempts, why);
		if (attempt == sink->attempts)
			break;
		backoff_sleep(backoff_ms(attempt));
		if (dest_connect(d, sink->timeout_ms, why, sizeof(why)) < 0)
			break;
	}
	sink->stats.failed++;
	d->down = 1;
	log_error("%s: giving up after %d attempts: %s; its remaining records fail",
		  d->addr->spec, sink->attempts, why);
}

void sink_flush(struct sink *sink)
{
	for (int t = 0; t < DEV_TYPES; t++)
		if (sink->dest[t].pl != NULL)
			pipeline_flush(sink->dest[t].pl);
}

void sink_get_stats(const struct sink *sink, struct sink_stats *out)
{
	*out = sink->stats;
	for (int t = 0; t < DEV_TYPES; t++) {
		struct pipeline_stats ps;
		if (sink->dest[t].pl == NULL)
			continue;
		pipeline_get_stats(sink->dest[t].pl, &ps);
		out->stored += ps.stored;
		out->rejected += ps.rejected;
		out->failed += ps.failed;
	}
}

void sink_close(struct sink *sink)
{
	if (sink == NULL)
		return;
	for (int t = 0; t < DEV_TYPES; t++) {
		if (sink->dest[t].mc)
			memcached_free(sink->dest[t].mc);
		pipeline_free(sink->dest[t].pl);
	}
	free(sink);
}
