/* config.h -- the run's settings: built once by cli_parse, read-only after. */
#ifndef MEMC_LOAD_CONFIG_H
#define MEMC_LOAD_CONFIG_H

#include "record.h"

#define DEFAULT_PATTERN "/data/appsinstalled/*.tsv.gz"
#define DEFAULT_ATTEMPTS 3
#define DEFAULT_TIMEOUT_MS 1000
#define DEFAULT_MAX_ERROR_RATE 0.01

/* Most servers in one device type's pool. */
#define MAX_POOL 32

/* One memcached server: TCP (host and port) or a unix socket (path). */
struct server_addr {
	char host[256]; /* host name or address, or the socket's path */
	unsigned port;  /* 0 for a unix socket */
	int is_unix;
	char spec[300]; /* as given, for messages */
};

/* The servers of one device type; keys are spread over them with ketama. */
struct server_pool {
	struct server_addr addr[MAX_POOL];
	int n;
	char spec[1024]; /* the list as given, for messages */
};

struct config {
	const char *pattern;
	char **files; /* FILE operands; NULL-terminated, nfiles of them */
	int nfiles;
	int workers;
	int attempts;
	int timeout_ms;
	struct server_pool servers[DEV_TYPES];
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
