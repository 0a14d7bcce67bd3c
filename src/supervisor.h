/* supervisor.h -- run the files: one forked worker per file, at most
 * cfg->workers at a time (or, with --serial, one after another in-process),
 * collect their reports, rename finished files in chronological order. */
#ifndef MEMC_LOAD_SUPERVISOR_H
#define MEMC_LOAD_SUPERVISOR_H

#include <stddef.h>

#include "config.h"
#include "runreport.h"

/* Load FILES[0..N-1] (chronological), and fill R with what became of each
 * (R's files and their servers are then R's: run_report_free). 0, or -1
 * when the run could not start (out of memory, logged). */
int supervisor_run(const struct config *cfg, char **files, size_t n, struct run_report *r);

#endif
