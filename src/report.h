/* report.h -- what a worker tells the supervisor about its file.
 *
 * A worker writes fixed-size messages into its pipe; each is well under
 * PIPE_BUF, so a write is atomic and a read returns whole messages. Both ends
 * are the same binary, so the struct layout is the wire format. */
#ifndef MEMC_LOAD_REPORT_H
#define MEMC_LOAD_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "errkind.h"
#include "record.h"


/* Which file a worker read, and what it looked like when opened: a file is
 * renamed only if its path still names exactly this. */
struct file_id {
	uint64_t dev, ino;
	uint64_t size;
	int64_t mtime_sec;
	long mtime_nsec;
};

/* Most servers a run can have, each device type's whole pool; server I of
 * type T is number T * MAX_POOL + I. */
#define REPORT_SERVERS (DEV_TYPES * MAX_POOL)

/* One server as a file's load saw it, from its "stats" (serverid.h). */
struct server_seen {
	uint64_t evicted;  /* items it evicted during the load */
	uint32_t pid;      /* its process at the end of the load; 0: never asked, or it does not say */
	uint32_t started;  /* and that process's start time (unix time) */
	uint32_t restarts; /* times it was found restarted during the load */
	uint32_t unconfirmed; /* it could not be asked again after the last record */
};

/* --verify's read-back of a file's sample (readback.h). */
struct verify_counts {
	uint64_t sampled;    /* records read back */
	uint64_t equal;      /* found with the bytes that were sent */
	uint64_t missing;    /* not found: acknowledged, yet gone */
	uint64_t different;  /* found with other bytes: a later set of the key won */
	uint64_t unverified; /* no answer after every attempt */
};

/* A set of servers, numbered as above: a bit each. */
struct server_set {
	unsigned char bits[REPORT_SERVERS / 8];
};

static inline void server_set_add(struct server_set *set, int server)
{
	set->bits[server / 8] |= (unsigned char)(1u << (server % 8));
}

static inline int server_set_has(const struct server_set *set, int server)
{
	return (set->bits[server / 8] >> (server % 8)) & 1;
}

struct file_stats {
	uint64_t lines;     /* every line read, blank ones included */
	uint64_t blank;
	uint64_t processed; /* acknowledged by a server (or packed, with --dry) */
	uint64_t errors;    /* sum of by_kind */
	uint64_t by_kind[ERR_KINDS];
	uint64_t apps_dropped;
	uint64_t coords_dropped;
	uint64_t bytes_in; /* compressed bytes read */
	double seconds;
	struct file_id opened; /* valid when has_id */
	int has_id;
	int read_to_end;     /* the whole gzip stream was read */
	int input_bad;       /* its own bytes are bad (gzlines.h's GZLINES_BAD) */
	int input_empty;     /* it has no bytes at all */
	int delivered_all;   /* every parsed record acknowledged */
	char failure[512];   /* why the file failed, if it did */
	int verified;        /* --verify read the sample back: verify is set */
	struct verify_counts verify;
	uint32_t restarts;   /* sum of servers[].restarts */
	uint64_t evicted;    /* sum of servers[].evicted */
	struct server_seen servers[REPORT_SERVERS];
};

/* A worker sends PROGRESS reports (counts so far) while it runs, then one
 * RESULT with the final counts. */
enum report_type { REPORT_RESULT = 1, REPORT_PROGRESS };

struct report_msg {
	uint32_t type;
	int log_errno;      /* the errno of its first lost log line (log.h) */
	uint64_t log_lost;  /* log lines the worker could not write, so far */
	struct file_stats stats;
};

/* True when the file may be renamed: read to its end, everything delivered. */
int file_stats_complete(const struct file_stats *st);

/* errors / (processed + errors), 0 when both are 0. */
double file_stats_error_rate(const struct file_stats *st);

/* Add SRC's counts into DST (for the summary). */
void file_stats_add(struct file_stats *dst, const struct file_stats *src);

/* Write one message to FD; 0 or -1 (errno). */
int report_write(int fd, const struct report_msg *msg);

#endif
