/* probe.c -- before a run ends, ask every server that holds the run's
 * records who it is: a restart that no later load or repair met (the
 * files after it sent nothing to that server) is seen here, and mended
 * like any other (keys/settle.h), before the run gives up its files. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mc/dialer.h"
#include "run.h"

/* Whether any file of the run holds records on SERVER, and no load or
 * repair asked it who it is since the last one ended. */
static int to_ask(const struct run *run, int server)
{
	if (run->checked_at[server] == run->activities_ended)
		return 0;
	for (size_t k = 0; k < run->n; k++)
		if (run->fr[k].held != NULL && run->fr[k].held[server].pid != 0)
			return 1;
	return 0;
}

int run_probe_servers(struct run *run)
{
	const struct config *cfg = run->cfg;
	struct server_seen seen[MAX_SERVERS];
	int asked = 0;

	if (run->settle == NULL || run->stopping || run->running > 0 || run->repairs_running > 0)
		return 0;
	memset(seen, 0, sizeof(seen));
	for (int s = 0; s < cfg->table.n; s++) {
		const struct server_addr *addr = config_server_addr(cfg, s);
		struct dialer d = {.addr = addr, .timeout_ms = cfg->timeout_ms, .identify = 1};
		struct server_watch w;
		char err[256];

		if (!to_ask(run, s))
			continue;
		asked = 1;
		memset(&w, 0, sizeof(w));
		int fd = dialer_connect(&d, &w, err, sizeof(err));
		if (fd >= 0)
			close(fd);
		else if (fd == DIALER_FAILED)
			log_warn("%s: cannot ask who it is before the run ends (%s): a restart since "
				 "the run's last record there cannot be seen",
				 addr->spec, err);
		server_seen_from_watch(&w, 0, &seen[s]);
		run->checked_at[s] = run->activities_ended; /* asked, answer or not */
	}
	if (asked)
		run_servers_met(run, seen);
	return asked;
}
