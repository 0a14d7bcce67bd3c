/* runreport.c -- a run's totals and its exit status, from its report. */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "restarts.h"
#include "runreport.h"

static int lost_any(const struct server_set *lost)
{
	for (size_t i = 0; i < sizeof(lost->bits); i++)
		if (lost->bits[i])
			return 1;
	return 0;
}

/* Server S's figures over the run into T (restarts_run_figures). 0, or -1
 * when out of memory. */
static int add_server(const struct run_report *r, int s, struct run_totals *t)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	const struct server_seen **seen = calloc(r->n ? r->n : 1, sizeof(*seen));
	uint64_t restarts, evicted;

	if (seen == NULL)
		return -1;
	for (size_t i = 0; i < r->n; i++)
		seen[i] = r->files[i].servers;
	restarts_run_figures(seen, r->n, s, &restarts, &evicted);
	t->server_restarts += restarts;
	t->evicted += evicted;
	free(seen);
	return 0;
}

void run_report_totals(const struct run_report *r, struct run_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < r->n; i++) {
		const struct report_file *f = &r->files[i];

		file_stats_add(&t->sum, &f->st);
		if ((unsigned)f->outcome < OUTCOMES)
			t->by_outcome[f->outcome]++;
		t->high_error_rate += f->high_error_rate != 0;
		t->lost_after_rename += lost_any(&f->lost);
		t->repaired += f->repaired != 0;
		t->late += f->late != 0;
		t->shared_keys += f->shared_keys;
		t->resent += f->resent;
	}
	for (int s = 0; s < r->nservers; s++)
		if (add_server(r, s, t) < 0) { /* out of memory: each file's own, an upper bound */
			t->server_restarts = t->sum.restarts;
			t->evicted = t->sum.evicted;
			break;
		}
}

int run_report_exit_status(const struct run_report *r)
{
	/* A dry run renames nothing: there, loaded is as good as it gets. */
	enum file_outcome done = r->dry ? OUTCOME_LOADED : OUTCOME_RENAMED;

	if (r->lock_held)
		return EX_TEMPFAIL;
	if (r->signal)
		return 128 + r->signal;
	if (r->setup_failed || r->inputs_lost || r->reports_failed)
		return 1;
	for (size_t i = 0; i < r->n; i++)
		if (r->files[i].outcome != done || r->files[i].high_error_rate ||
		    lost_any(&r->files[i].lost))
			return 1;
	/* The files are fine, but the log does not say so: nobody can tell
	 * from it what happened. Renames stand, they are about the data. */
	return r->log_lost > 0;
}

void run_report_free(struct run_report *r)
{
	free(r->seen);
	free(r->files);
	r->seen = NULL;
	r->files = NULL;
	r->n = 0;
}
