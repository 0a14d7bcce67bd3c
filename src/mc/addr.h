/* addr.h -- memcached server addresses: parse "HOST:PORT", "[IPv6]:PORT" or
 * "/unix/socket/path" (and comma-separated pools of them), and dial them.
 *
 * Every check on an address is made here, where it is parsed, so code that
 * dials one can trust it. */
#ifndef MEMC_LOAD_ADDR_H
#define MEMC_LOAD_ADDR_H

#include <stddef.h>

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

/* Parse one server SPEC into ADDR. 0, or -1 with a reason in ERR. */
int addr_parse(const char *spec, struct server_addr *addr, char *err, size_t errlen);

/* Parse a comma-separated LIST of servers into POOL (no server twice, at
 * most MAX_POOL). 0, or -1 with a reason in ERR. */
int addr_parse_pool(const char *list, struct server_pool *pool, char *err, size_t errlen);

/* Whether A and B are the same address: both the same unix socket path, or
 * the same host (as written, in any case) and port. */
int addr_same(const struct server_addr *a, const struct server_addr *b);

/* Connect to ADDR within TIMEOUT_MS. Returns a non-blocking, close-on-exec
 * socket (TCP_NODELAY for TCP) that the caller owns, or -1 with a reason in
 * ERR. */
int addr_dial(const struct server_addr *addr, int timeout_ms, char *err, size_t errlen);

/* Wait up to TIMEOUT_MS until FD is ready for EVENTS (poll's POLLIN,
 * POLLOUT): 1 when ready, 0 on timeout, -1 on error. */
int addr_wait(int fd, short events, int timeout_ms);

#endif
