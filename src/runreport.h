/* runreport.h -- the one report of a run: what became of each input file,
 * the run's totals, and its exit status, decided here and nowhere else.
 *
 * The supervisor fills it in as the run ends (supervisor.h); the summary in
 * the log (summary.h), --stats-json (statsjson.h) and --metrics (metrics.h)
 * are formatters of it, and main returns the status it gives. Pure: no I/O. */
#ifndef MEMC_LOAD_RUNREPORT_H
#define MEMC_LOAD_RUNREPORT_H

#include <stddef.h>
#include <stdint.h>

#include "renameq.h"
#include "report.h"

/* One input file, in the run's (chronological) order. */
struct report_file {
	const char *name;          /* the path as given; any bytes */
	enum file_outcome outcome; /* written as file_outcome_name says */
	int high_error_rate;       /* read to its end with an error rate over the limit */
	int gone;                  /* its name no longer exists: it will not load again */
	struct file_stats st;      /* counts; st.failure is the reason when it failed */
	const struct server_seen *servers; /* the run's nservers, or NULL: none seen */
	struct server_set lost;    /* servers that restarted after it was renamed */
	/* Its repair (keys/settle.h), when one ran: the keys it shared with
	 * older files loading beside it, and the records it re-sent. */
	int repaired;
	uint64_t shared_keys, resent;
	int late; /* named older than a file an earlier run renamed */
};

struct run_report {
	double started; /* unix time when the load began (or the process started) */
	double started_mono; /* when the process started, on the monotonic clock */
	double ended;   /* unix time when it ended */
	double seconds; /* its duration, on the monotonic clock */
	int signal;     /* the signal that stopped it, or 0 */
	int dry;
	int ran;        /* the files were handed to the supervisor */
	const char *server_names[MAX_SERVERS]; /* config.h's numbering */
	int nservers;
	struct report_file *files;
	size_t n;
	struct server_seen *seen; /* the files' servers[], one block */
	size_t started_files; /* files handed to a worker */
	long blocker;         /* the file that held back the later ones, or -1 */

	/* Besides the files, what makes the exit status. */
	int lock_held;      /* another run holds the lock: nothing was tried */
	int setup_failed;   /* the run could not start, or went wrong around the files */
	int inputs_lost;    /* inputs left out with an error before the run */
	int reports_failed; /* --stats-json or --metrics could not be written */
	uint64_t log_lost;  /* log lines that could not be written */
};

/* The run's totals: what --stats-json writes as "totals", and --metrics. */
struct run_totals {
	struct file_stats sum; /* every file's counts added (file_stats_add) */
	/* Each server's over the run, each process once however many files
	 * saw it (restarts_run_figures), where sum has each file's own. */
	uint64_t server_restarts, evicted;
	size_t by_outcome[OUTCOMES];
	size_t high_error_rate;   /* files with high_error_rate */
	size_t lost_after_rename; /* files with a server in lost */
	size_t repaired;          /* files that ran a repair */
	size_t late;              /* files with late */
	uint64_t shared_keys, resent; /* their sums */
};

/* Add up R's files into T. */
void run_report_totals(const struct run_report *r, struct run_totals *t);

/* The exit status R makes: 75 when the lock was held; 128 + the signal
 * after a stop; 1 when the run could not start, an input was left out, a
 * file was not renamed (with --dry: not loaded), was set aside, had a high
 * error rate or lost its records after its rename, a report could not be
 * written or a log line was lost; else 0. */
int run_report_exit_status(const struct run_report *r);

/* Free what the supervisor allocated for R (its files and their servers). */
void run_report_free(struct run_report *r);

#endif
