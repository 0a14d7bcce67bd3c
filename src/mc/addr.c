/* addr.c -- server addresses, from the command line to a connected socket. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"

/* A unix socket's path must fit, with its NUL, in sockaddr_un. */
#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)NULL)->sun_path)

/* "1".."65535", decimal digits only (strtol alone would take "+1" and " 1"). */
static int parse_port(const char *s, unsigned *port)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

int addr_parse(const char *spec, struct server_addr *addr, char *err, size_t errlen)
{
	const char *host = spec, *colon;
	size_t hostlen;

	memset(addr, 0, sizeof(*addr));
	if (strlen(spec) >= sizeof(addr->spec)) {
		snprintf(err, errlen, "invalid server '%.40s...': too long", spec);
		return -1;
	}
	snprintf(addr->spec, sizeof(addr->spec), "%s", spec);
	if (spec[0] == '/') {
		if (strlen(spec) >= SUN_PATH_MAX) {
			snprintf(err, errlen, "invalid server '%s': socket path too long (at most %zu bytes)",
				 spec, SUN_PATH_MAX - 1);
			return -1;
		}
		snprintf(addr->host, sizeof(addr->host), "%s", spec);
		addr->is_unix = 1;
		return 0;
	}
	if (spec[0] == '[') {
		/* "[IPv6]:PORT": the brackets keep the address's colons apart. */
		const char *close = strchr(spec, ']');
		if (close == NULL || close[1] != ':' || close == spec + 1) {
			snprintf(err, errlen, "invalid server '%s': expected [ADDRESS]:PORT", spec);
			return -1;
		}
		host = spec + 1;
		hostlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL || colon == spec) {
			snprintf(err, errlen, "invalid server '%s': expected HOST:PORT", spec);
			return -1;
		}
		hostlen = (size_t)(colon - spec);
	}
	if (hostlen >= sizeof(addr->host)) {
		snprintf(err, errlen, "invalid server '%s': name too long", spec);
		return -1;
	}
	if (parse_port(colon + 1, &addr->port) < 0) {
		snprintf(err, errlen, "invalid server '%s': port must be 1-65535", spec);
		return -1;
	}
	memcpy(addr->host, host, hostlen);
	addr->host[hostlen] = '\0';
	return 0;
}

int addr_parse_pool(const char *list, struct server_pool *pool, char *err, size_t errlen)
{
	const char *p = list;

	memset(pool, 0, sizeof(*pool));
	if (strlen(list) >= sizeof(pool->spec)) {
		snprintf(err, errlen, "server list too long: %.40s...", list);
		return -1;
	}
	snprintf(pool->spec, sizeof(pool->spec), "%s", list);
	for (;;) {
		char one[sizeof(pool->addr[0].spec)];
		size_t len = strcspn(p, ",");

		if (len == 0) {
			snprintf(err, errlen, "invalid server list '%s': empty entry", list);
			return -1;
		}
		if (pool->n == MAX_POOL) {
			snprintf(err, errlen, "invalid server list '%.40s...': more than %d servers", list,
				 MAX_POOL);
			return -1;
		}
		if (len >= sizeof(one)) {
			snprintf(err, errlen, "invalid server '%.40s...': too long", p);
			return -1;
		}
		snprintf(one, sizeof(one), "%.*s", (int)len, p);
		if (addr_parse(one, &pool->addr[pool->n], err, errlen) < 0)
			return -1;
		for (int i = 0; i < pool->n; i++)
			if (strcmp(pool->addr[i].spec, one) == 0) {
				snprintf(err, errlen, "invalid server list '%s': %s given twice", list, one);
				return -1;
			}
		pool->n++;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* Finish a non-blocking connect on FD within the timeout: 0 or an errno. */
int addr_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;

	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	return n;
}

static int connect_wait(int fd, const struct sockaddr *sa, socklen_t salen, int timeout_ms)
{
	int err = 0;
	socklen_t errlen = sizeof(err);

	if (connect(fd, sa, salen) == 0)
		return 0;
	/* Only TCP connects go on in the background; a unix socket's EAGAIN
	 * means the server's backlog is full, and nothing is under way. */
	if (errno != EINPROGRESS)
		return errno;
	if (addr_wait(fd, POLLOUT, timeout_ms) <= 0)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
		return errno;
	return err;
}

static int dial_unix(const struct server_addr *addr, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int e;

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* addr_parse has checked that the path fits. */
	memcpy(sun.sun_path, addr->host, strnlen(addr->host, SUN_PATH_MAX - 1));
	e = connect_wait(fd, (const struct sockaddr *)&sun, sizeof(sun), timeout_ms);
	if (e != 0) {
		snprintf(err, errlen, "connect: %s", strerror(e));
		close(fd);
		return -1;
	}
	return fd;
}

int addr_dial(const struct server_addr *addr, int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res, *ai;
	char port[16];
	int rc, fd = -1;

	if (addr->is_unix)
		return dial_unix(addr, timeout_ms, err, errlen);
	snprintf(port, sizeof(port), "%u", addr->port);
	rc = getaddrinfo(addr->host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %.200s: %s", addr->host, gai_strerror(rc));
		return -1;
	}
	snprintf(err, errlen, "no address");
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			continue;
		}
		int e = connect_wait(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms);
		if (e != 0) {
			snprintf(err, errlen, "connect: %s", strerror(e));
			close(fd);
			fd = -1;
			continue;
		}
		int one = 1;
		/* The last, small batch of a file must not wait for Nagle. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	freeaddrinfo(res);
	return fd;
}

int addr_same(const struct server_addr *a, const struct server_addr *b)
{
	return a->is_unix == b->is_unix && a->port == b->port &&
	       (a->is_unix ? strcmp(a->host, b->host) : strcasecmp(a->host, b->host)) == 0;
}
