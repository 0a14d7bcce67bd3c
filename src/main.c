/* main.c -- memc_load: load gzipped installed-apps logs into memcached.
 * Wiring only: options, logging, then the self test or the supervisor,
 * and --metrics last. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <protobuf-c/protobuf-c.h>

#include "cli.h"
#include "clock.h"
#include "gz/gzlines.h"
#include "inputs.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "progress.h"
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

/* Inputs left out because they cannot be loaded: the run then exits 1. */
static int inputs_lost;

static void log_skipped(const char *path, const char *why, int error)
{
	log_msg(error ? LEVEL_ERROR : LEVEL_WARN, "Skipping %s: %s", path, why);
	inputs_lost += error;
}

/* Take the run's lock, if it has one, into *FD (-1 for none). The exit
 * status when the run must not go on, else 0. */
static int take_lock(const struct config *cfg, int *fd)
{
	char path[4096], err[4096 + 256];
	int rc = lock_path(cfg, path, sizeof(path)), e;

	*fd = -1;
	if (rc == 0)
		return 0;
	if (rc < 0) {
		log_error("Cannot lock: the lock file's path is too long");
		return 1;
	}
	*fd = lock_take(path, cfg->lock_wait, err, sizeof(err));
	if (*fd >= 0)
		return 0;
	if (*fd == LOCK_HELD) {
		*fd = -1;
		log_error("%s; not loading", err);
		return EX_TEMPFAIL;
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
	return 1;
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

/* Write --metrics FILE, if asked, with the STATUS the process exits with;
 * M has the run's figures, or, when the run stopped before its files were
 * loaded, only its start (STARTED on the monotonic clock). Returns STATUS,
 * or 1 instead of 0 when the file cannot be written. */
static int write_metrics(const struct config *cfg, struct metrics_run *m, double started,
			 int status)
{
	char err[1024 + 4096];

	if (cfg->metrics == NULL || cfg->self_test)
		return status;
	if (m->ended == 0) {
		m->ended = clock_wall();
		m->seconds = clock_seconds() - started;
	}
	m->exit_status = status;
	if (metrics_write(cfg->metrics, m, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return status == 0 ? 1 : status;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct metrics_run m = {.started = clock_wall()};
	double started = clock_seconds();
	struct config cfg;
	char err[512];
	char **files = NULL;
	size_t nfiles = 0;
	int lock_fd = -1;
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
	case CLI_RUN:
		break;
	}

	/* --verify's sample is chosen anew each run: a random seed, or the
	 * clock and pid when the kernel will not give one. */
	if (getrandom(&cfg.verify_seed, sizeof(cfg.verify_seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(cfg.verify_seed))
		cfg.verify_seed = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();

	/* A vanished reader must show up as EPIPE on that write, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	/* Until the supervisor installs its handlers, SIGINT and SIGTERM end
	 * the process, also while it waits for the lock, even if a shell
	 * started it with them ignored: the supervisor heeds them too. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);

	if (open_log(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "memc_load: %s\n", err);
		status = 1;
		goto out;
	}
	if (cfg.self_test) {
		status = selftest_run();
		goto out;
	}
	log_options(&cfg);
	/* Before the inputs are collected: a run that waited for the lock
	 * must not load the files the other run has renamed meanwhile. */
	status = take_lock(&cfg, &lock_fd);
	if (status == EX_TEMPFAIL && (cfg.metrics != NULL || cfg.stats_json != NULL)) {
		/* A hung run must look stale to its monitoring, not be covered. */
		log_info("Not writing --metrics or --stats-json: the run that holds the lock "
			 "writes them");
		cfg.metrics = NULL;
	}
	if (status != 0)
		goto out;
	if (inputs_collect(&cfg, &files, &nfiles, log_skipped, err, sizeof(err)) < 0) {
		log_error("%s", err);
		status = 1;
		goto out;
	}
	for (int i = 0; i < cfg.nfiles; i++)
		if (inputs_is_done(cfg.files[i]))
			log_warn("Skipping %s: its name starts with '.', it was loaded already",
				 cfg.files[i]);
	/* Nothing new is a normal run, reported like any other. */
	if (nfiles == 0 && inputs_lost)
		log_error("No input files left to load: see above");
	else if (nfiles == 0 && cfg.nfiles > 0)
		log_info("Nothing to load: every FILE given starts with '.' (already loaded)");
	else if (nfiles == 0)
		log_info("No input files match %s: nothing to load", cfg.pattern);
	/* The status line is for a person watching: not with -q, not when
	 * stderr is a file or a pipe, and not when asked. */
	if (!cfg.no_progress && cfg.verbosity >= 0 && isatty(STDERR_FILENO))
		progress_enable();
	status = supervisor_run(&cfg, files, nfiles, inputs_lost, &m);
out:
	/* The exit status as below, for the metrics; written under the lock,
	 * so that the next run's cannot come first. */
	if (status == 0 && log_failures(NULL) > 0)
		status = 1;
	status = write_metrics(&cfg, &m, started, status);
	lock_release(lock_fd);
	inputs_free(files, nfiles);
	/* After everything else, so every lost line is counted; summary.c
	 * made the status 1 for them already, the other paths need it here. */
	if (log_report_failures() && status == 0)
		status = 1;
	log_close();
	return status;
}
