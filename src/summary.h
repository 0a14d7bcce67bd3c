/* summary.h -- the end of a run, read from each file's outcome: the
 * held-back warnings, the summary line, the exit status, the --stats-json
 * report and the figures of --metrics. */
#ifndef MEMC_LOAD_SUMMARY_H
#define MEMC_LOAD_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "metrics.h"
#include "renameq.h"
#include "report.h"

/* One input file as the supervisor saw it. */
struct file_run {
	struct file_stats st; /* the worker's latest progress, then its result */
	struct server_seen *servers; /* what its load saw of each server of the run */
	int running;
	int has_result;      /* the worker's final report arrived */
	int high_error_rate; /* read to its end with an error rate over the limit */
	uint64_t log_lost;   /* log lines its worker could not write, last reported */
	int log_errno;       /* and the errno of the first */
	int gone;            /* its name no longer exists: it will not load again */
	/* Servers that restarted after the file was renamed: its records
	 * there are lost. */
	struct server_set lost;
};


/* What the summary is made of. */
struct run_summary {
	const struct config *cfg;
	char **files;                /* the inputs, chronological */
	const struct file_run *fr;   /* one per input */
	const struct renameq *q;     /* each input's outcome */
	size_t n;
	size_t started_files;        /* inputs handed to a worker */
	int signal;                  /* the signal that stopped the run, or 0 */
	double seconds;              /* the run's duration */
	double wall_started;         /* unix time */
	int inputs_lost;             /* inputs left out with an error (main.c) */
};

/* Log the "Finished PATH: lines=... processed=..." line of one file. */
void summary_log_file(const char *path, const struct file_stats *st);

/* Log the error rate of PATH, read to its end with counts ST, against
 * LIMIT, as the original did; COMPLETE when every record was stored.
 * Returns 1 when the rate is over LIMIT. */
int summary_log_rate(const char *path, const struct file_stats *st, int complete, double limit);

/* Log the summary, write the --stats-json report if asked, fill M with
 * the run's figures but its exit status (the caller writes --metrics last,
 * with the status the process exits with), and return the exit status: 0
 * when every file was renamed (with --dry: loaded) with an acceptable error
 * rate and no input was left out, 128 + the signal after a stop, 1
 * otherwise (also when a log line could not be written, or the report). */
int summary_finish(const struct run_summary *s, struct metrics_run *m);

#endif
