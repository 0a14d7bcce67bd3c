/* report.h -- what a worker tells the supervisor about its file: its counts,
 * the servers its load met, and typed messages that carry them.
 *
 * A worker sends small messages up its pipe (pool.h frames each): PROGRESS
 * now and then, then at the end one SERVER for each server its load met
 * and last its RESULT. Each is well under PIPE_BUF whatever the number of
 * servers. Both ends are the same binary, so the struct layout is the wire
 * format. */
#ifndef MEMC_LOAD_REPORT_H
#define MEMC_LOAD_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "fileid.h"
#include "errkind.h"
#include "mc/serverid.h"



/* One server process as a load saw it: who (pid 0: never asked, or it
 * does not say), and its count of evicted items when first and last seen. */
struct server_span {
	uint32_t pid;
	uint32_t started; /* unix time */
	uint64_t evictions_first, evictions_last;
};

/* One server (config.h's numbering) as a file's load saw it, from its
 * "stats" (serverid.h). A run adds up the files' spans (restarts.h), so
 * that what two files saw at once counts once. */
struct server_seen {
	struct server_span first; /* the process the load met first */
	struct server_span last;  /* the one at its end: the same unless it restarted */
	uint64_t evicted;         /* items evicted during the load, over restarts */
	uint64_t evicted_between; /* of those, by processes between first and last */
	uint32_t restarts;        /* times it was found restarted during the load */
	uint32_t unconfirmed;     /* it could not be asked again after the last record */
};

/* --verify's read-back of a file's sample (readback.h). */
struct verify_counts {
	uint64_t sampled;    /* records read back */
	uint64_t equal;      /* found with the bytes that were sent */
	uint64_t missing;    /* not found: acknowledged, yet gone */
	uint64_t different;  /* found with other bytes: a later set of the key won */
	uint64_t unverified; /* no answer after every attempt */
};

/* What the watch W (serverid.h) saw of its server; UNCONFIRMED when it
 * could not be asked again after the last record. */
void server_seen_from_watch(const struct server_watch *w, int unconfirmed,
			    struct server_seen *seen);

/* A set of servers, numbered as config.h says: a bit each. */
struct server_set {
	unsigned char bits[MAX_SERVERS / 8];
};

static inline void server_set_add(struct server_set *set, int server)
{
	set->bits[server / 8] |= (unsigned char)(1u << (server % 8));
}

static inline int server_set_has(const struct server_set *set, int server)
{
	return (set->bits[server / 8] >> (server % 8)) & 1;
}

static inline int server_set_empty(const struct server_set *set)
{
	for (size_t i = 0; i < sizeof(set->bits); i++)
		if (set->bits[i])
			return 0;
	return 1;
}

static inline void server_set_union(struct server_set *to, const struct server_set *from)
{
	for (size_t i = 0; i < sizeof(to->bits); i++)
		to->bits[i] |= from->bits[i];
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
	uint32_t digest_runs; /* runs of the key digest it wrote (keys/digest.h) */
	uint32_t keys_unknown; /* the digest could not be written (keys/settle.h) */
	uint64_t repair_keys; /* a repair's: the keys of its repair set */
	uint32_t restarts;   /* sum of its servers' restarts */
	uint64_t evicted;    /* sum of its servers' evictions */
};

enum report_type {
	REPORT_PROGRESS = 1, /* struct report_counts: the counts so far */
	REPORT_SERVER,       /* struct report_server: one server the load met */
	REPORT_RESULT,       /* struct report_counts: the final counts, last */
};

struct report_counts {
	uint32_t type;
	int log_errno;     /* the errno of its first lost log line (log.h) */
	uint64_t log_lost; /* log lines the worker could not write, so far */
	struct file_stats stats;
};

struct report_server {
	uint32_t type;
	uint32_t server; /* config.h's number */
	struct server_seen seen;
};

/* True when the file may be renamed: read to its end, everything delivered. */
int file_stats_complete(const struct file_stats *st);

/* errors / (processed + errors), 0 when both are 0. */
double file_stats_error_rate(const struct file_stats *st);

/* Add SRC's counts into DST (for the summary). */
void file_stats_add(struct file_stats *dst, const struct file_stats *src);

/* The type of the message MSG of LEN bytes, when it is a whole message of
 * one of the types above, else 0. */
enum report_type report_type_of(const void *msg, size_t len);

#endif
