/* sink_pipelined.c -- the workers' way: a pipeline per server (pipeline.h),
 * each failing on its own. */
#include <stdio.h>
#include <stdlib.h>

#include "pipeline.h"
#include "strategy.h"

struct pipelined {
	int n;
	struct pipeline *pl[MAX_SERVERS];
};

static void put(void *s, int type, int server, const char *key, size_t keylen,
		const uint8_t *value, size_t valuelen)
{
	struct pipelined *p = s;

	(void)type;
	pipeline_put(p->pl[server], key, keylen, value, valuelen);
}

static void finish(void *s)
{
	struct pipelined *p = s;

	for (int i = 0; i < p->n; i++)
		pipeline_flush(p->pl[i]);
	/* Only then ask: a restart while another server drained must be seen. */
	for (int i = 0; i < p->n; i++)
		pipeline_finish(p->pl[i]);
}

static void hang_up(void *s)
{
	struct pipelined *p = s;

	for (int i = 0; i < p->n; i++)
		pipeline_hang_up(p->pl[i]);
}

static void watch(const void *s, int server, struct server_watch *out, int *unconfirmed)
{
	const struct pipelined *p = s;
	struct pipeline_stats ps;

	pipeline_get_stats(p->pl[server], &ps);
	*out = ps.server;
	*unconfirmed = ps.unconfirmed;
}

static void stats(const void *s, struct sink_stats *out)
{
	const struct pipelined *p = s;

	*out = (struct sink_stats){0};
	for (int i = 0; i < p->n; i++) {
		struct pipeline_stats ps;
		pipeline_get_stats(p->pl[i], &ps);
		out->stored += ps.stored;
		out->rejected += ps.rejected;
		out->too_large += ps.too_large;
		out->failed += ps.failed;
	}
}

static void on_too_large(void *s, acks_too_large_fn *fn, void *ctx)
{
	struct pipelined *p = s;

	for (int i = 0; i < p->n; i++)
		pipeline_on_too_large(p->pl[i], fn, ctx);
}

static void close_all(void *s)
{
	struct pipelined *p = s;

	for (int i = 0; i < p->n; i++)
		pipeline_free(p->pl[i]);
	free(p);
}

static const struct strategy_ops pipelined_ops = {
	.put = put,
	.finish = finish,
	.hang_up = hang_up,
	.watch = watch,
	.stats = stats,
	.on_too_large = on_too_large,
	.close = close_all,
};

void *strategy_pipelined(const struct config *cfg, const struct strategy_ops **ops, char *err,
			 size_t errlen)
{
	struct pipelined *p = calloc(1, sizeof(*p));

	if (p == NULL)
		goto nomem;
	for (; p->n < cfg->table.n; p->n++) {
		p->pl[p->n] = pipeline_new(config_server_addr(cfg, p->n), cfg->timeout_ms,
					   cfg->attempts);
		if (p->pl[p->n] == NULL) {
			close_all(p);
			goto nomem;
		}
		pipeline_protocol(p->pl[p->n], cfg->protocol);
	}
	*ops = &pipelined_ops;
	return p;
nomem:
	snprintf(err, errlen, "out of memory");
	return NULL;
}
