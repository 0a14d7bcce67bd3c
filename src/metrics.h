/* metrics.h -- the --metrics file: the figures of the run in the Prometheus
 * text exposition format (version 0.0.4), for node_exporter's textfile
 * collector. The man page, METRICS, lists every metric.
 *
 * Each metric is a gauge named memc_load_last_run_...: the file describes
 * one run, the last, and the next run replaces it whole. Its counts are not
 * counters: they start again at zero with each run, and two runs with the
 * same count would look to rate() like no run at all.
 *
 * The counts are the run report's totals (run_report_totals), as
 * --stats-json's, so the two files agree; the exit status is the report's.
 * Formatting is pure; metrics_write adds the one piece of I/O,
 * by outfile.c, as --stats-json does. */
#ifndef MEMC_LOAD_METRICS_H
#define MEMC_LOAD_METRICS_H

#include <stddef.h>
#include <stdio.h>

#include "runreport.h"

/* Write M to OUT. 0, or -1 when a write failed. */
int metrics_format(FILE *out, const struct run_report *m);

/* Write M to PATH as outfile_write does (outfile.h): a regular file is
 * replaced atomically. 0, or -1 with "Cannot write metrics to PATH:
 * reason" in ERR (no temporary file is left behind). */
int metrics_write(const char *path, const struct run_report *m, char *err, size_t errlen);

#endif
