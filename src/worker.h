/* worker.h -- load one file, start to finish. */
#ifndef MEMC_LOAD_WORKER_H
#define MEMC_LOAD_WORKER_H

#include "config.h"
#include "report.h"

/* Stream PATH, parse, pack and deliver every line, and fill ST. Never exits:
 * runs in a forked child or, with --serial, in the supervisor itself. */
void worker_run(const struct config *cfg, const char *path, struct file_stats *st);

#endif
