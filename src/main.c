/* main.c -- memc_load: load gzipped installed-apps logs into memcached.
 * Wiring only: options, logging, then the self test or the supervisor. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <protobuf-c/protobuf-c.h>

#include "cli.h"
#include "gzlines.h"
#include "inputs.h"
#include "log.h"
#include "progress.h"
#include "sink.h"
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

int main(int argc, char **argv)
{
	struct config cfg;
	char err[512];
	char **files = NULL;
	size_t nfiles = 0;
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

	/* A vanished reader must show up as EPIPE on that write, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	if (log_open(cfg.log_path, level_for(&cfg), err, sizeof(err)) < 0) {
		fprintf(stderr, "memc_load: %s\n", err);
		return 1;
	}
	if (cfg.self_test) {
		status = selftest_run();
		goto out;
	}
	log_options(&cfg);
	if (inputs_collect(&cfg, &files, &nfiles, log_skipped, err, sizeof(err)) < 0) {
		log_error("%s", err);
		status = 1;
		goto out;
	}
	for (int i = 0; i < cfg.nfiles; i++)
		if (inputs_is_done(cfg.files[i]))
			log_warn("Skipping %s: its name starts with '.', it was loaded already",
				 cfg.files[i]);
	if (nfiles == 0) {
		if (cfg.nfiles > 0)
			log_error(inputs_lost ? "No input files left to load: see above"
					      : "No input files: every FILE given starts with '.' "
						"(already loaded)");
		else
			log_error("No input files match %s", cfg.pattern);
		status = 1;
		goto out;
	}
	/* The status line is for a person watching: not with -q, not when
	 * stderr is a file or a pipe, and not when asked. */
	if (!cfg.no_progress && cfg.verbosity >= 0 && isatty(STDERR_FILENO))
		progress_enable();
	status = supervisor_run(&cfg, files, nfiles);
	if (status == 0 && inputs_lost)
		status = 1;
out:
	inputs_free(files, nfiles);
	/* After everything else, so every lost line is counted; summary.c
	 * made the status 1 for them already, the other paths need it here. */
	if (log_report_failures() && status == 0)
		status = 1;
	log_close();
	return status;
}
