/* main.c -- memc_load: load gzipped installed-apps logs into memcached.
 * Wiring only: options, logging, the lock and the inputs, then the self
 * test or the supervisor, the reports, and the exit status the run report
 * gives (runreport.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <protobuf-c/protobuf-c.h>

#include "cli.h"
#include "clock.h"
#include "gz/gzlines.h"
#include "inputs.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "progress.h"
#include "runreport.h"
#include "statsjson.h"
#include "summary.h"
#include "mc/sink.h"
#include "selftest.h"
#include "supervisor.h"

#ifndef MEMC_LOAD_VERSION
#define MEMC_LOAD_VERSION "unknown"
#endif

static void print_version(void)
{
	printf("memc_load %s\n", MEMC_LOAD_VERSION);
	printf("built with %s, %s, protobuf-c %s\n", gzlines_backend(), sink_backend(),
	       protobuf_c_version());
}

static enum log_level level_for(const struct config *cfg)
{
	if (cfg->verbosity < 0)
		return LEVEL_WARN;
	/* As the original script, --dry logs every record, at debug level. */
	if (cfg->verbosity > 0 || cfg->dry)
		return LEVEL_DEBUG;
	return LEVEL_INFO;
}

static void log_options(const struct config *cfg)
{
	log_info("memc_load %s: workers=%d attempts=%d timeout=%dms max-error-rate=%g%s%s "
		 "idfa=%s gaid=%s adid=%s dvid=%s",
		 MEMC_LOAD_VERSION, cfg->workers, cfg->attempts, cfg->timeout_ms,
		 cfg->max_error_rate, cfg->dry ? " dry" : "", cfg->serial ? " serial" : "",
		 cfg->servers[DEV_IDFA].spec, cfg->servers[DEV_GAID].spec,
		 cfg->servers[DEV_ADID].spec, cfg->servers[DEV_DVID].spec);
}

/* Told of an input left out: with ERROR, the run's exit status is 1. */
static void log_skipped(const char *path, const char *why, int error, void *ctx)
{
	struct run_report *r = ctx;

	log_msg(error ? LEVEL_ERROR : LEVEL_WARN, "Skipping %s: %s", path, why);
	r->inputs_lost += error;
}

/* Take the run's lock, if it has one, into *FD (-1 for none). 0 to go on,
 * or -1 with why not in R (held, or the lock file cannot be used), logged. */
static int take_lock(const struct config *cfg, int *fd, struct run_report *r)
{
	char path[4096], err[4096 + 256];
	int rc = lock_path(cfg, path, sizeof(path)), e;

	*fd = -1;
	if (rc == 0)
		return 0;
	if (rc < 0) {
		log_error("Cannot lock: the lock file's path is too long");
		r->setup_failed = 1;
		return -1;
	}
	*fd = lock_take(path, cfg->lock_wait, err, sizeof(err));
	if (*fd >= 0)
		return 0;
	if (*fd == LOCK_HELD) {
		*fd = -1;
		log_error("%s; not loading", err);
		if (cfg->metrics != NULL || cfg->stats_json != NULL)
			log_info("Not writing --metrics or --stats-json: the run that holds the lock "
				 "writes them");
		r->lock_held = 1;
		return -1;
	}
	e = errno;
	*fd = -1;
	/* No such directory, so no input in it to race over: the run goes on
	 * and finds nothing to load. */
	if (cfg->lock_path == NULL && e == ENOENT)
		return 0;
	/* Not a silent unlocked run either: in a directory we may not write,
	 * nothing could be renamed anyway, and the user should choose. */
	if (cfg->lock_path == NULL)
		log_error("%s; give --lock FILE in a writable directory, or --no-lock", err);
	else
		log_error("%s", err);
	r->setup_failed = 1;
	return -1;
}

/* Open the log the options ask for. 0, or -1 with ERR. */
static int open_log(const struct config *cfg, char *err, size_t errlen)
{
	/* Under systemd or cron, stderr goes to the journal or into a mail:
	 * syslog alone keeps each message once. A person at a terminal sees
	 * the lines too. */
	if (cfg->syslog) {
		log_open_syslog(level_for(cfg), isatty(STDERR_FILENO));
		return 0;
	}
	return log_open(cfg->log_path, level_for(cfg), err, errlen);
}

/* The files to load into *FILES and *N, the ones left out told. 0, or -1
 * when they cannot be collected (logged, in R). */
static int collect_inputs(const struct config *cfg, char ***files, size_t *n,
			  struct run_report *r)
{
	char err[8192];

	if (inputs_collect(cfg, files, n, log_skipped, r, err, sizeof(err)) < 0) {
		log_error("%s", err);
		r->setup_failed = 1;
		return -1;
	}
	for (int i = 0; i < cfg->nfiles; i++)
		if (inputs_is_done(cfg->files[i]))
			log_warn("Skipping %s: its name starts with '.', it was loaded already",
				 cfg->files[i]);
	/* Nothing new is a normal run, reported like any other. */
	if (*n == 0 && r->inputs_lost)
		log_error("No input files left to load: see above");
	else if (*n == 0 && cfg->nfiles > 0)
		log_info("Nothing to load: every FILE given starts with '.' (already loaded)");
	else if (*n == 0)
		log_info("No input files match %s: nothing to load", cfg->pattern);
	return 0;
}

/* Write the reports the options ask for, from R: --stats-json when the
 * files were run, --metrics after every run but the lock holder's (the
 * holder writes them: a hung run must look stale) and the self test. A
 * report that cannot be written is logged, and is in R's exit status. */
static void write_reports(const struct config *cfg, struct run_report *r)
{
	char err[1024 + 4096];

	r->log_lost = log_failures(NULL);
	if (cfg->stats_json != NULL && r->ran && statsjson_write(cfg->stats_json, r, err,
								 sizeof(err)) < 0) {
		log_error("%s", err);
		r->reports_failed = 1;
	}
	if (cfg->metrics == NULL || cfg->self_test || r->lock_held)
		return;
	if (!r->ran) {
		r->ended = clock_wall();
		r->seconds = clock_seconds() - r->started_mono;
	}
	r->log_lost = log_failures(NULL);
	if (metrics_write(cfg->metrics, r, err, sizeof(err)) < 0) {
		log_error("%s", err);
		r->reports_failed = 1;
	}
}

/* Lock, collect into *FILES and *N (R names them: the caller frees them
 * after the reports) and load the inputs; the end in R. Returns the lock's
 * descriptor (-1 for none), which the caller releases after the reports. */
static int load(const struct config *cfg, struct run_report *r, char ***files, size_t *nfiles)
{
	int lock_fd = -1;

	log_options(cfg);
	/* Before the inputs are collected: a run that waited for the lock
	 * must not load the files the other run has renamed meanwhile. */
	if (take_lock(cfg, &lock_fd, r) == 0 && collect_inputs(cfg, files, nfiles, r) == 0) {
		/* The status line is for a person watching: not with -q, not
		 * when stderr is a file or a pipe, and not when asked. */
		if (!cfg->no_progress && cfg->verbosity >= 0 && isatty(STDERR_FILENO))
			progress_enable();
		if (supervisor_run(cfg, *files, *nfiles, r) < 0)
			r->setup_failed = 1;
		else
			summary_log_run(r);
	}
	return lock_fd;
}

/* The run, from the options on; its end in R. */
static void run(const struct config *cfg, struct run_report *r)
{
	char err[512];
	char **files = NULL;
	size_t nfiles = 0;
	int lock_fd = -1;

	if (open_log(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "memc_load: %s\n", err);
		r->setup_failed = 1;
	} else if (cfg->self_test) {
		r->setup_failed = selftest_run() != 0;
		return;
	} else {
		lock_fd = load(cfg, r, &files, &nfiles);
	}
	/* Under the lock, so that the next run's reports cannot come first. */
	write_reports(cfg, r);
	lock_release(lock_fd);
	inputs_free(files, nfiles);
}

int main(int argc, char **argv)
{
	struct run_report r = {.started = clock_wall(), .started_mono = clock_seconds(),
			       .blocker = -1};
	struct config cfg;
	char err[512];
	int status;

	switch (cli_parse(argc, argv, &cfg, err, sizeof(err))) {
	case CLI_ERROR:
		fprintf(stderr, "memc_load: %s\n", err);
		cli_usage(stderr);
		return 2;
	case CLI_HELP:
		cli_help(stdout);
		return 0;
	case CLI_VERSION:
		print_version();
		return 0;
	case CLI_LIST_OPTIONS:
		options_list(stdout);
		return 0;
	case CLI_RUN:
		break;
	}
	/* A vanished reader must show up as EPIPE on that write, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	/* Until the supervisor installs its handlers, SIGINT and SIGTERM end
	 * the process, also while it waits for the lock, even if a shell
	 * started it with them ignored: the supervisor heeds them too. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	run(&cfg, &r);
	/* Last, so every lost line is counted, the reports' own included. */
	log_report_failures();
	r.log_lost = log_failures(NULL);
	status = run_report_exit_status(&r);
	run_report_free(&r);
	log_close();
	return status;
}
