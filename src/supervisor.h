/* supervisor.h -- run the files: one forked worker per file, at most
 * cfg->workers at a time (or, with --serial, one after another in-process),
 * collect their reports, rename finished files in chronological order. */
#ifndef MEMC_LOAD_SUPERVISOR_H
#define MEMC_LOAD_SUPERVISOR_H

#include <stddef.h>

#include "config.h"
#include "metrics.h"

/* Load FILES[0..N-1] (chronological). Returns the exit status: 0 when every
 * file loaded and was renamed with an acceptable error rate, 1 otherwise,
 * also when INPUTS_LOST (inputs left out with an error before the run).
 * With cfg->stats_json the report is written last, also after a stop by a
 * signal; when it cannot be, a 0 status becomes 1. M gets the run's
 * figures for --metrics (summary.h), when the run got as far as its end. */
int supervisor_run(const struct config *cfg, char **files, size_t n, int inputs_lost,
		   struct metrics_run *m);

#endif
