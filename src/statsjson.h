/* statsjson.h -- the --stats-json report: each file's counts and outcome,
 * and the totals, as JSON (the format is in the man page, STATISTICS).
 *
 * Formatting is pure (into a FILE *); statsjson_write adds the one piece of
 * I/O, by outfile.c: a regular file is replaced atomically so a reader never
 * sees half a report, a FIFO or a device is written in place. */
#ifndef MEMC_LOAD_STATSJSON_H
#define MEMC_LOAD_STATSJSON_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "runreport.h"

/* Write RUN to OUT as JSON, totals and exit status included. 0, or -1 when a write failed. */
int statsjson_format(FILE *out, const struct run_report *run);

/* Write RUN's report to PATH as outfile_write does (outfile.h). 0, or -1
 * with "Cannot write statistics to PATH: reason" in ERR (no temporary file
 * is left behind). */
int statsjson_write(const char *path, const struct run_report *run, char *err, size_t errlen);

#endif
