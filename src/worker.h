/* worker.h -- load one file, start to finish. */
#ifndef MEMC_LOAD_WORKER_H
#define MEMC_LOAD_WORKER_H

#include "config.h"
#include "report.h"

/* Called every few hundred lines, with the counts so far (processed,
 * bytes_in, lines) a few times a second and NULL in between. Returns
 * nonzero when the worker must stop: the file then fails as "interrupted". */
typedef int worker_progress_fn(const struct file_stats *so_far, void *ctx);

/* Stream PATH, parse, pack and deliver every line, and fill ST, and
 * SERVERS (one per server of the run, cfg->table.n) with what the load saw
 * of each. Never exits: runs in a forked child or, with --serial, in the
 * supervisor itself. PROGRESS may be NULL; it is the only way to stop the
 * worker early. */
void worker_run(const struct config *cfg, const char *path, struct file_stats *st,
		struct server_seen *servers, worker_progress_fn *progress, void *ctx);

#endif
