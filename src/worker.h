/* worker.h -- load one file, start to finish. */
#ifndef MEMC_LOAD_WORKER_H
#define MEMC_LOAD_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "report.h"
#include "keys/keyfilter.h"

struct digest_writer;

/* What a load does with keys besides storing records (keys/settle.h). */
struct worker_keys {
	struct digest_writer *digest; /* add a hash per record sent, or NULL */
	/* A repair pass: send only the records FILTER passes, and read
	 * nothing back. */
	int repair;
	struct key_filter filter;
	/* A server's restart fails nothing: the run re-sends what it lost. */
	int restarts_mended;
	/* The file must be this one (a repair's: the file its load read), or
	 * nothing is sent. NULL: any. */
	const struct file_id *expect;
};

/* Called every few hundred lines, with the counts so far (processed,
 * bytes_in, lines) a few times a second and NULL in between. Returns
 * nonzero when the worker must stop: the file then fails as "interrupted". */
typedef int worker_progress_fn(const struct file_stats *so_far, void *ctx);

/* Stream PATH, parse, pack and deliver every line (as KEYS says, when not
 * NULL), and fill ST, and SERVERS (one per server of the run, cfg->table.n)
 * with what the load saw of each. Never exits: runs in a forked child or,
 * with --serial, in the supervisor itself. PROGRESS may be NULL; it is the
 * only way to stop the worker early. */
void worker_run(const struct config *cfg, const char *path, const struct worker_keys *keys,
		struct file_stats *st, struct server_seen *servers, worker_progress_fn *progress,
		void *ctx);

#endif
