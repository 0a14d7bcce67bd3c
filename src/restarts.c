/* restarts.c -- which server processes are the newest of the run. */
#include "restarts.h"

int restarts_same(const struct server_seen *a, const struct server_seen *b)
{
	return a->pid == b->pid && a->started == b->started;
}

void restarts_add(struct restarts *r, const struct server_seen *seen, restarts_fn *restarted,
		  void *ctx)
{
	for (int s = 0; s < REPORT_SERVERS; s++) {
		struct server_seen *newest = &r->newest[s];

		if (seen[s].pid == 0 || restarts_same(newest, &seen[s]))
			continue;
		if (newest->pid != 0 && seen[s].started < newest->started)
			continue; /* an older process: restarts_stale says so */
		/* Started in the same second by another pid: a restart all the
		 * same, and the process met later is taken as the newer. */
		if (newest->pid != 0 && restarted != NULL)
			restarted(s, newest, &seen[s], ctx);
		*newest = seen[s];
	}
}

int restarts_stale(const struct restarts *r, const struct server_seen *seen)
{
	for (int s = 0; s < REPORT_SERVERS; s++)
		if (seen[s].pid != 0 && !restarts_same(&r->newest[s], &seen[s]))
			return s;
	return -1;
}
