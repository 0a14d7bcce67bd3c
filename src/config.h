/* config.h -- the run's settings: built once by cli_parse, read-only after. */
#ifndef MEMC_LOAD_CONFIG_H
#define MEMC_LOAD_CONFIG_H

#include "record.h"

#define DEFAULT_PATTERN "/data/appsinstalled/*.tsv.gz"
#define DEFAULT_ATTEMPTS 3
#define DEFAULT_TIMEOUT_MS 1000
#define DEFAULT_MAX_ERROR_RATE 0.01

/* One memcached server. */
struct server_addr {
	char host[256];
	unsigned port;
	char spec[300]; /* as given, "HOST:PORT", for messages */
};

struct config {
	const char *pattern;
	char **files; /* FILE operands; NULL-terminated, nfiles of them */
	int nfiles;
	int workers;
	int attempts;
	int timeout_ms;
	struct server_addr servers[DEV_TYPES];
	double max_error_rate;
	const char *log_path;
	int verbosity; /* -1 quiet, 0 normal, 1 verbose */
	int dry;
	int self_test;
	int serial;
	int no_progress;
	const char *stats_json; /* write per-file and total counts there, or NULL */
};

#endif
