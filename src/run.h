/* run.h -- the supervisor's record of one run, for the files that carry it
 * out: supervisor.c (forked workers), serial.c (--serial) and renames.c
 * (what becomes of a finished file). Not for anyone else. */
#ifndef MEMC_LOAD_RUN_H
#define MEMC_LOAD_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "renameq.h"
#include "report.h"
#include "restarts.h"

/* One input file as the supervisor sees it while the run goes on. */
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

struct run {
	const struct config *cfg;
	char **files;
	size_t n;
	struct file_run *fr;
	struct server_seen *seen; /* every file's servers[], one block */
	struct renameq *q;
	size_t next;    /* the next file to start */
	size_t running; /* files being loaded now */
	int stopping;
	double started;
	double wall_started;
	uint64_t bytes_total; /* for the status line */
	struct restarts restarts;
};

/* File IDX is done; its final counts are in run->fr[IDX].st. COUNTED when a
 * worker reported them. Renames what may be renamed now. */
void run_finish_file(struct run *run, size_t idx, int counted);

/* Fail file IDX without a worker's counts (no worker, or it died). */
void run_fail_file(struct run *run, size_t idx, const char *why);

/* Draw the status line from the finished files and the running ones. */
void run_show_progress(struct run *run, int force);

/* --serial: every file in this process, one after another. */
void serial_run(struct run *run);

#endif
