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

#include "renameq.h"
#include "report.h"

struct statsjson_file {
	const char *name; /* the path as given; any bytes */
	enum file_outcome status; /* written as file_outcome_name says */
	int high_error_rate;  /* read to its end with an error rate over the limit */
	struct file_stats st; /* counts; st.failure is the reason when FAILED */
	const struct server_seen *servers; /* the run's nservers, or NULL: none seen */
	struct server_set lost; /* servers that restarted after the file was renamed */
};

struct statsjson_run {
	time_t started; /* wall clock, written as local time */
	double seconds; /* the whole run */
	int exit_status;
	int signal; /* the signal that stopped the run, or 0 */
	int dry;
	const char *const *server_names;    /* config.h's numbering */
	int nservers;
	const struct statsjson_file *files; /* in input (chronological) order */
	size_t n;
};

/* The run's totals: what the report writes as "totals", and what --metrics
 * writes (metrics.h), so that the two always agree. */
struct statsjson_totals {
	struct file_stats sum; /* every file's counts added (file_stats_add) */
	/* Each server's over the run, each process once however many files
	 * saw it (restarts_run_figures), where sum has each file's own. */
	uint64_t server_restarts, evicted;
	size_t by_status[OUTCOMES];
	size_t high_error_rate;   /* files with high_error_rate */
	size_t lost_after_rename; /* files with a server in lost */
};

/* Add up RUN's files into T. */
void statsjson_totals(const struct statsjson_run *run, struct statsjson_totals *t);

/* Write RUN to OUT as JSON, totals included. 0, or -1 when a write failed. */
int statsjson_format(FILE *out, const struct statsjson_run *run);

/* Write RUN's report to PATH as outfile_write does (outfile.h). 0, or -1
 * with "Cannot write statistics to PATH: reason" in ERR (no temporary file
 * is left behind). */
int statsjson_write(const char *path, const struct statsjson_run *run, char *err, size_t errlen);

#endif
