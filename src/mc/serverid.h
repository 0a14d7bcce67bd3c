/* serverid.h -- which memcached process is at the other end of a
 * connection, and how many items it has evicted, from its "stats" reply
 * (memcached's doc/protocol.txt, "General-purpose statistics").
 *
 * A memcached that restarts loses every record it had acknowledged; its
 * process id and start time (time - uptime) tell a restarted server from the
 * one that acknowledged them. Proxies such as twemproxy do not answer
 * "stats" (twemproxy closes the connection): behind them a restart cannot
 * be seen. */
#ifndef MEMC_LOAD_SERVERID_H
#define MEMC_LOAD_SERVERID_H

#include <stddef.h>
#include <stdint.h>

struct server_id {
	uint32_t pid;
	int64_t started;    /* unix time the server started: time - uptime */
	uint64_t evictions; /* items evicted so far to make room for new ones */
};

/* Ask the server at FD (connected, non-blocking, nothing else in flight)
 * for its stats, waiting at most TIMEOUT_MS for each step. Returns 0 with
 * *ID filled; 1 when the server does not answer "stats" (it closed the
 * connection or answered something else; FD must then be closed); -1 with a
 * reason in ERR when the connection failed or timed out. */
int serverid_probe(int fd, int timeout_ms, struct server_id *id, char *err, size_t errlen);

/* Read a "stats" reply from BUF (LEN bytes): 1 when it is complete ("END")
 * and has pid, time and uptime, with *ID filled; 0 when more is needed;
 * -1 when BUF is not a whole stats reply. Pure: for the tests. */
int serverid_parse(const char *buf, size_t len, struct server_id *id);

/* True when A and B are the same server process. */
int serverid_same(const struct server_id *a, const struct server_id *b);

/* One server watched over a file's load. Zero it to start. */
struct server_watch {
	int have_id;            /* it answered "stats" at least once */
	struct server_id first; /* the first answer */
	uint64_t first_last_evictions; /* the first process's evictions when last seen */
	struct server_id now;   /* the latest answer */
	uint32_t restarts;      /* answers from another process than the one before */
	uint64_t evicted_before; /* evictions of the processes before now */
	uint64_t evicted_between; /* of those, by processes neither first nor now */
	uint64_t evict_base;    /* now.evictions when now's process was first seen */
};

/* The server SPEC now says it is ID. 1 when that is another process than
 * the last answer said (it restarted, and lost what it held: logged as a
 * warning), else 0. */
int serverid_note(struct server_watch *w, const struct server_id *id, const char *spec);

/* Log that SPEC does not answer "stats", once per server and file. */
void serverid_log_unknown(const char *spec);

/* Items the watched server evicted since it was first seen, over restarts. */
uint64_t serverid_evicted(const struct server_watch *w);

#endif
