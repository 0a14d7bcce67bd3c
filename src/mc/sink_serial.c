/* sink_serial.c -- --serial's way: one synchronous libmemcached set per
 * record, retried on the same server, as the original script stored them;
 * the benchmark baseline. libmemcached keeps its connections to itself, so
 * who a server is gets asked on a connection of our own (dialer.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "dialer.h"
#include "log.h"
#include "mchandle.h"
#include "strategy.h"

struct server {
	const struct server_addr *addr;
	int down;                  /* gave up on it: its further records fail at once */
	struct server_watch watch; /* who it was */
	struct dialer dl;          /* identify off once it does not answer "stats" */
	int unconfirmed;           /* it could not be asked after the last record */
	uint64_t rejected;         /* records it refused, for log_nth */
};

struct serial {
	const struct config *cfg;
	memcached_st *mc[DEV_TYPES]; /* each type's handle: it sets, and routes */
	struct server srv[MAX_SERVERS];
	struct sink_stats stats;
	acks_too_large_fn *on_too_large;
	void *too_large_ctx;
};

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

/* A fresh handle for TYPE: libmemcached keeps a failed server disabled for
 * a while, and a retry must really reconnect. 0, or -1 with WHY. */
static int reconnect(struct serial *s, int type, char *why, size_t whylen)
{
	memcached_st *mc = mchandle_new(&s->cfg->servers[type], s->cfg->timeout_ms, why, whylen);

	if (mc == NULL)
		return -1;
	memcached_free(s->mc[type]);
	s->mc[type] = mc;
	return 0;
}

/* Ask V who it is. 0, or -1 when it could not be reached. */
static int identify(struct server *v)
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

/* The set was refused for good: count it as RC says, and name it. */
static void refused(struct serial *s, struct server *v, memcached_return_t rc, const char *key,
		    size_t keylen, const char *why)
{
	int too_large = rc == MEMCACHED_E2BIG; /* never storable: over the item size */

	if (too_large) {
		s->stats.too_large++;
		if (s->on_too_large != NULL)
			s->on_too_large(key, keylen, s->too_large_ctx);
	} else {
		s->stats.rejected++;
	}
	log_nth(++v->rejected, too_large ? "%s refused %.*s as too large: %s" : "%s rejected %.*s: %s",
		v->addr->spec, (int)keylen, key, why);
}

static void put(void *ss, int type, int server, const char *key, size_t keylen,
		const uint8_t *value, size_t valuelen)
{
	struct serial *s = ss;
	struct server *v = &s->srv[server];
	int attempts = s->cfg->attempts;
	char why[256] = "no attempt made";

	if (v->down) {
		s->stats.failed++;
		return;
	}
	if (!v->watch.have_id)
		(void)identify(v);
	for (int attempt = 1; attempt <= attempts; attempt++) {
		memcached_return_t rc =
		    memcached_set(s->mc[type], key, keylen, (const char *)value, valuelen, 0, 0);
		if (rc == MEMCACHED_SUCCESS) {
			s->stats.stored++;
			return;
		}
		describe_failure(s->mc[type], rc, why, sizeof(why));
		if (rc == MEMCACHED_E2BIG || is_rejection(rc)) {
			refused(s, v, rc, key, keylen, why);
			return;
		}
		log_debug("%s: attempt %d of %d failed: %s", v->addr->spec, attempt, attempts, why);
		if (attempt == attempts)
			break;
		backoff_sleep(backoff_ms(attempt));
		if (reconnect(s, type, why, sizeof(why)) < 0)
			break;
		(void)identify(v);
	}
	s->stats.failed++;
	v->down = 1;
	log_error("%s: giving up after %d attempts: %s; its remaining records fail", v->addr->spec,
		  attempts, why);
}

static void finish(void *ss)
{
	struct serial *s = ss;

	for (int i = 0; i < s->cfg->table.n; i++) {
		struct server *v = &s->srv[i];
		log_nth_total(v->addr->spec, "rejected", (unsigned long long)v->rejected);
		if (v->watch.have_id && !v->down && identify(v) < 0)
			v->unconfirmed = 1;
	}
}

static void hang_up(void *ss)
{
	struct serial *s = ss;

	for (int t = 0; t < DEV_TYPES; t++)
		memcached_quit(s->mc[t]);
}

static void watch(const void *ss, int server, struct server_watch *out, int *unconfirmed)
{
	const struct serial *s = ss;

	*out = s->srv[server].watch;
	*unconfirmed = s->srv[server].unconfirmed;
}

static void stats(const void *ss, struct sink_stats *out)
{
	*out = ((const struct serial *)ss)->stats;
}

static void on_too_large(void *ss, acks_too_large_fn *fn, void *ctx)
{
	struct serial *s = ss;

	s->on_too_large = fn;
	s->too_large_ctx = ctx;
}

static void close_all(void *ss)
{
	struct serial *s = ss;

	for (int t = 0; t < DEV_TYPES; t++)
		memcached_free(s->mc[t]);
	free(s);
}

static const struct strategy_ops serial_ops = {
	.put = put,
	.finish = finish,
	.hang_up = hang_up,
	.watch = watch,
	.stats = stats,
	.on_too_large = on_too_large,
	.close = close_all,
};

void *strategy_serial(const struct config *cfg, const struct strategy_ops **ops, char *err,
		      size_t errlen)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = cfg;
	for (int t = 0; t < DEV_TYPES; t++)
		if (reconnect(s, t, err, errlen) < 0) {
			close_all(s);
			return NULL;
		}
	for (int i = 0; i < cfg->table.n; i++) {
		s->srv[i].addr = config_server_addr(cfg, i);
		s->srv[i].dl = (struct dialer){
			.addr = s->srv[i].addr, .timeout_ms = cfg->timeout_ms, .identify = 1};
	}
	*ops = &serial_ops;
	return s;
}
