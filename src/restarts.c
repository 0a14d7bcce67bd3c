/* restarts.c -- which server processes are the newest of the run, and what
 * the run saw of each. */
#include <stdlib.h>

#include "restarts.h"

int restarts_same(const struct server_span *a, const struct server_span *b)
{
	return a->pid == b->pid && a->started == b->started;
}

void restarts_add(struct restarts *r, const struct server_seen *seen, int nservers,
		  restarts_fn *restarted, void *ctx)
{
	for (int s = 0; s < nservers; s++) {
		struct server_span *newest = &r->newest[s];
		const struct server_span *now = &seen[s].last;

		if (now->pid == 0 || restarts_same(newest, now))
			continue;
		if (newest->pid != 0 && now->started < newest->started)
			continue; /* an older process: restarts_stale says so */
		/* Started in the same second by another pid: a restart all the
		 * same, and the process met later is taken as the newer. */
		if (newest->pid != 0 && restarted != NULL)
			restarted(s, newest, now, ctx);
		*newest = *now;
	}
}

int restarts_stale(const struct restarts *r, const struct server_span *held, int nservers)
{
	for (int s = 0; s < nservers; s++)
		if (held[s].pid != 0 && !restarts_same(&r->newest[s], &held[s]))
			return s;
	return -1;
}

/* Fold span S into the processes P[0..*N), each with the lowest and the
 * highest eviction count seen of it. */
static void fold(struct server_span *p, size_t *n, const struct server_span *s)
{
	size_t i = 0;

	if (s->pid == 0)
		return;
	while (i < *n && !restarts_same(&p[i], s))
		i++;
	if (i == *n) {
		p[(*n)++] = *s;
		return;
	}
	if (s->evictions_first < p[i].evictions_first)
		p[i].evictions_first = s->evictions_first;
	if (s->evictions_last > p[i].evictions_last)
		p[i].evictions_last = s->evictions_last;
}

void restarts_run_figures(const struct server_seen *const *files, size_t nfiles, int server,
			  uint64_t *restarts, uint64_t *evicted)
{
	/* At most two processes a file: its first and its last. */
	struct server_span *p = calloc(2 * nfiles + 1, sizeof(*p));
	size_t n = 0;

	*restarts = *evicted = 0;
	for (size_t k = 0; k < nfiles; k++) {
		if (files[k] == NULL)
			continue;
		const struct server_seen *seen = &files[k][server];
		if (p == NULL) { /* out of memory: each file's own, an upper bound */
			*restarts += seen->restarts;
			*evicted += seen->evicted;
			continue;
		}
		/* Processes between the first and the last of one load were
		 * seen by it alone, as far as anyone can tell. */
		if (seen->restarts > 1)
			*restarts += seen->restarts - 1;
		*evicted += seen->evicted_between;
		fold(p, &n, &seen->first);
		fold(p, &n, &seen->last);
	}
	for (size_t i = 0; i < n; i++)
		if (p[i].evictions_last > p[i].evictions_first)
			*evicted += p[i].evictions_last - p[i].evictions_first;
	*restarts += n > 1 ? n - 1 : 0;
	free(p);
}
