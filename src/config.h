/* config.h -- the run's settings: built once by cli_parse, read-only after. */
#ifndef MEMC_LOAD_CONFIG_H
#define MEMC_LOAD_CONFIG_H

#include <stdint.h>

#include "mc/addr.h"
#include "line/record.h"

#define DEFAULT_PATTERN "/data/appsinstalled/*.tsv.gz"
#define DEFAULT_ATTEMPTS 3
#define DEFAULT_TIMEOUT_MS 1000
#define DEFAULT_MAX_ERROR_RATE 0.01
/* --verify: the share of each file's records read back (measured in
 * README's Performance section). */
#define DEFAULT_VERIFY 0.001
/* --protocol: how the pipelined sets speak to memcached (pipeline.h). */
enum protocol {
	PROTOCOL_AUTO, /* the meta protocol when the server speaks it, else text */
	PROTOCOL_META, /* the meta protocol; a server without it fails its records */
	PROTOCOL_TEXT, /* plain "set", as every memcached and proxy speaks it */
};
#define DEFAULT_PROTOCOL PROTOCOL_AUTO
#define DEFAULT_PROTOCOL_NAME "auto"
/* --settle: seconds a bad or empty input must not have changed before it
 * is taken for what it is (a file still being written looks truncated or
 * empty): longer than any stall of a writer, short enough that a bad file
 * holds back the later ones for a few timer ticks, not for ever. */
#define DEFAULT_SETTLE 600
#define MAX_SETTLE (366 * 86400)
/* Without --lock, the lock file in the inputs' one directory (lock.h). */
#define DEFAULT_LOCK_NAME ".memc_load.lock"
#define MAX_LOCK_WAIT 86400
/* Each device type's server, as the original script had them. */
#define DEFAULT_IDFA_SERVER "127.0.0.1:33013"
#define DEFAULT_GAID_SERVER "127.0.0.1:33014"
#define DEFAULT_ADID_SERVER "127.0.0.1:33015"
#define DEFAULT_DVID_SERVER "127.0.0.1:33016"

/* Most distinct servers of a run: every device type's whole pool. */
#define MAX_SERVERS (DEV_TYPES * MAX_POOL)

/* The run's distinct servers, numbered from 0 in the order first given. An
 * address given for several device types (addr_same) is one server: one
 * connection per worker, one set of figures (restarts, evictions). */
struct server_table {
	int n;
	struct {
		unsigned char type, pos; /* where it was first given */
	} first[MAX_SERVERS];
	unsigned char of[DEV_TYPES][MAX_POOL]; /* the number of each pool position */
};

/* A numeric default as text, for the help. */
#define CONFIG_STR(x) CONFIG_STR_(x)
#define CONFIG_STR_(x) #x

struct config {
	const char *pattern;
	char **files; /* FILE operands; NULL-terminated, nfiles of them */
	int nfiles;
	int workers;
	int attempts;
	int timeout_ms;
	struct server_pool servers[DEV_TYPES];
	struct server_table table; /* the distinct servers of servers[] */
	double max_error_rate;
	const char *log_path;
	int syslog;    /* --syslog: log to syslog(3), not to -l's file */
	int verbosity; /* -1 quiet, 0 normal, 1 verbose */
	int dry;
	int self_test;
	int serial;
	int no_progress;
	const char *stats_json; /* write per-file and total counts there, or NULL */
	const char *metrics;    /* write the run's figures there (Prometheus), or NULL */
	const char *lock_path;  /* --lock FILE, or NULL for the default lock */
	int no_lock;            /* --no-lock: no lock at all */
	int lock_wait;          /* seconds to wait for another run's lock */
	double verify;          /* share of each file's records to read back */
	enum protocol protocol; /* of the pipelined sets; --serial speaks libmemcached's */
	uint64_t verify_seed;   /* chooses the sample: random for each run */
	int settle;             /* --settle: seconds before a bad file is set aside */
	int hold_bad;           /* --hold-bad: bad and empty files fail, as before */
};

/* The number of the server at position POS of TYPE's pool. */
static inline int config_server(const struct config *cfg, int type, int pos)
{
	return cfg->table.of[type][pos];
}

/* The address of server number SERVER. */
static inline const struct server_addr *config_server_addr(const struct config *cfg, int server)
{
	return &cfg->servers[cfg->table.first[server].type].addr[cfg->table.first[server].pos];
}

#endif
