/* pipeline.c -- memcached's text protocol, pipelined, with exact counts. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "log.h"
#include "pipeline.h"

/* At most this many records, or bytes, unacknowledged on one connection:
 * enough to keep the server busy (4096 was no faster here), small enough to
 * keep a worker small. nutcracker 0.5.0 stalled with 4096 sets in flight
 * from one client and ran at full speed with 1024. */
#define MAX_IN_FLIGHT 1024
#define MAX_OUT_BYTES (1024 * 1024)
/* Queued bytes worth a write() without waiting for more. */
#define SEND_CHUNK (64 * 1024)
/* Replies are short ("STORED\r\n"); a longer unterminated one is garbage. */
#define IN_CAP (64 * 1024)

struct pipeline {
	const struct server_addr *addr;
	int timeout_ms;
	int attempts;
	int fd;       /* -1 while not connected */
	int down;     /* gave up: every further record fails at once */
	int failures; /* connection failures since the last reply */

	/* Commands of every unacknowledged record, oldest first, from out[base]. */
	char *out;
	size_t base, len, cap;
	size_t sent; /* bytes of out written on this connection */

	/* The length in out of each unacknowledged record, as a ring. */
	uint32_t *lens;
	size_t head, count;

	char in[IN_CAP];
	size_t in_len;

	struct pipeline_stats stats;
};

struct pipeline *pipeline_new(const struct server_addr *addr, int timeout_ms, int attempts)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->lens = malloc(MAX_IN_FLIGHT * sizeof(*p->lens));
	p->cap = MAX_OUT_BYTES;
	p->out = malloc(p->cap);
	if (p->lens == NULL || p->out == NULL) {
		pipeline_free(p);
		return NULL;
	}
	p->addr = addr;
	p->timeout_ms = timeout_ms;
	p->attempts = attempts;
	p->fd = -1;
	return p;
}

void pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p->out);
	free(p->lens);
	free(p);
}

void pipeline_get_stats(const struct pipeline *p, struct pipeline_stats *out)
{
	*out = p->stats;
}

/* Wait until FD is ready for EVENTS; 1 when ready, 0 on timeout, -1 on error. */
static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;

	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Finish a non-blocking connect on FD within the timeout: 0 or an errno. */
static int connect_wait(struct pipeline *p, int fd, const struct sockaddr *sa, socklen_t salen)
{
	int err = 0;
	socklen_t errlen = sizeof(err);

	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return errno;
	if (wait_fd(fd, POLLOUT, p->timeout_ms) <= 0)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
		return errno;
	return err;
}

/* Connect to a unix-socket server. 0, or -1 with a reason in WHY. */
static int dial_unix(struct pipeline *p, char *why, size_t whylen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	/* cli.c has checked that the path fits. */
	size_t n = strnlen(p->addr->host, sizeof(sun.sun_path) - 1);
	memcpy(sun.sun_path, p->addr->host, n);
	err = connect_wait(p, fd, (const struct sockaddr *)&sun, sizeof(sun));
	if (err != 0) {
		snprintf(why, whylen, "connect: %s", strerror(err));
		close(fd);
		return -1;
	}
	p->fd = fd;
	return 0;
}

/* Connect to the server within the timeout. 0, or -1 with a reason in WHY. */
static int dial(struct pipeline *p, char *why, size_t whylen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res, *ai;
	char port[16];
	int rc;

	if (p->addr->is_unix)
		return dial_unix(p, why, whylen);
	snprintf(port, sizeof(port), "%u", p->addr->port);
	rc = getaddrinfo(p->addr->host, port, &hints, &res);
	if (rc != 0) {
		snprintf(why, whylen, "cannot resolve %.200s: %s", p->addr->host, gai_strerror(rc));
		return -1;
	}
	snprintf(why, whylen, "no address");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				ai->ai_protocol);

		if (fd < 0) {
			snprintf(why, whylen, "socket: %s", strerror(errno));
			continue;
		}
		int err = connect_wait(p, fd, ai->ai_addr, ai->ai_addrlen);
		if (err != 0) {
			snprintf(why, whylen, "connect: %s", strerror(err));
			close(fd);
			continue;
		}
		int one = 1;
		/* The last, small batch of a file must not wait for Nagle. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		p->fd = fd;
		break;
	}
	freeaddrinfo(res);
	return p->fd >= 0 ? 0 : -1;
}

/* Drop every unacknowledged record as failed: the server is given up. */
static void give_up(struct pipeline *p, const char *why)
{
	log_error("%s: giving up after %d attempts: %s; %zu records in flight and the rest of "
		  "this server's records fail",
		  p->addr->spec, p->attempts, why, p->count);
	p->stats.failed += p->count;
	p->count = p->head = 0;
	p->base = p->len = p->sent = 0;
	p->down = 1;
}

/* Close the connection; the next one starts by sending every record not
 * acknowledged yet. */
static void drop_connection(struct pipeline *p)
{
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	p->in_len = 0;
	p->sent = p->base;
}

/* The connection is lost or unusable: drop it, and give up on the server
 * once every attempt is spent. */
static void conn_failed(struct pipeline *p, const char *why)
{
	drop_connection(p);
	p->failures++;
	if (p->failures >= p->attempts) {
		give_up(p, why);
		return;
	}
	long backoff = backoff_ms(p->failures);
	log_warn("%s: %s (attempt %d of %d); retrying %zu records in %ld ms", p->addr->spec, why,
		 p->failures, p->attempts, p->count, backoff);
	backoff_sleep(backoff);
}

static int starts_with(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && memcmp(line, word, n) == 0 && (len == n || line[n] == ' ');
}

/* The oldest record got its reply: drop its bytes. */
static void ack_oldest(struct pipeline *p)
{
	p->base += p->lens[p->head];
	p->head = (p->head + 1) % MAX_IN_FLIGHT;
	p->count--;
	p->failures = 0;
	if (p->count == 0 && p->sent == p->len)
		p->base = p->len = p->sent = 0;
}

/* Log a rejection with the key, read back from the oldest record's command. */
static void log_rejected(struct pipeline *p, const char *reply, size_t len)
{
	const char *key = p->out + p->base + 4; /* after "set " */
	const char *end = memchr(key, ' ', p->lens[p->head]);

	log_warn("%s rejected %.*s: %.*s", p->addr->spec, end ? (int)(end - key) : 0, key,
		 (int)len, reply);
}

/* Match every complete reply line to its record. 0, or -1 when the
 * connection must be dropped (after counting what could be counted). */
static int parse_replies(struct pipeline *p)
{
	size_t at = 0;

	while (at < p->in_len) {
		char *line = p->in + at;
		char *nl = memchr(line, '\n', p->in_len - at);
		if (nl == NULL)
			break;
		size_t len = (size_t)(nl - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		at = (size_t)(nl - p->in) + 1;

		if (p->count == 0) {
			conn_failed(p, "reply without a request");
			return -1;
		}
		if (len == 6 && memcmp(line, "STORED", 6) == 0) {
			p->stats.stored++;
			ack_oldest(p);
		} else if (starts_with(line, len, "NOT_STORED") || starts_with(line, len, "EXISTS") ||
			   starts_with(line, len, "NOT_FOUND") ||
			   starts_with(line, len, "SERVER_ERROR")) {
			log_rejected(p, line, len);
			p->stats.rejected++;
			ack_oldest(p);
		} else if (starts_with(line, len, "CLIENT_ERROR") || starts_with(line, len, "ERROR")) {
			/* The server misread a command: count this one rejected,
			 * then resynchronize on a fresh connection. That is no
			 * failure of the server's, so no attempt is spent. */
			log_rejected(p, line, len);
			p->stats.rejected++;
			ack_oldest(p);
			drop_connection(p);
			return -1;
		} else {
			char why[128];
			snprintf(why, sizeof(why), "unexpected reply '%.*s'", len > 40 ? 40 : (int)len,
				 line);
			conn_failed(p, why);
			return -1;
		}
	}
	memmove(p->in, p->in + at, p->in_len - at);
	p->in_len -= at;
	if (p->in_len == IN_CAP) {
		conn_failed(p, "reply line too long");
		return -1;
	}
	return 0;
}

/* One round of I/O: write what the socket takes, read what has come.
 * With BLOCK, first wait (up to the timeout) until one of them can happen.
 * Returns 0 while the connection is usable, -1 after it was dropped. */
static int pump(struct pipeline *p, int block)
{
	char why[256];

	if (p->fd < 0) {
		if (dial(p, why, sizeof(why)) < 0) {
			conn_failed(p, why);
			return -1;
		}
	}
	if (block) {
		short events = POLLIN | (p->sent < p->len ? POLLOUT : 0);
		int n = wait_fd(p->fd, events, p->timeout_ms);
		if (n == 0) {
			snprintf(why, sizeof(why), "no reply within %d ms", p->timeout_ms);
			conn_failed(p, why);
			return -1;
		}
	}
	if (p->sent < p->len) {
		ssize_t w = send(p->fd, p->out + p->sent, p->len - p->sent, MSG_NOSIGNAL);
		if (w > 0) {
			p->sent += (size_t)w;
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			conn_failed(p, why);
			return -1;
		}
	}
	ssize_t r = recv(p->fd, p->in + p->in_len, IN_CAP - p->in_len, 0);
	if (r > 0) {
		p->in_len += (size_t)r;
		return parse_replies(p);
	}
	if (r == 0) {
		conn_failed(p, "connection closed by server");
		return -1;
	}
	if (errno != EAGAIN && errno != EINTR) {
		snprintf(why, sizeof(why), "recv: %s", strerror(errno));
		conn_failed(p, why);
		return -1;
	}
	return 0;
}

/* Make room for NEED more bytes of commands. 0, or -1 when out of memory. */
static int reserve(struct pipeline *p, size_t need)
{
	if (p->len + need <= p->cap)
		return 0;
	if (p->base > 0) {
		memmove(p->out, p->out + p->base, p->len - p->base);
		p->len -= p->base;
		p->sent -= p->base;
		p->base = 0;
	}
	if (p->len + need <= p->cap)
		return 0;
	size_t cap = p->cap;
	while (cap < p->len + need)
		cap *= 2;
	char *out = realloc(p->out, cap);
	if (out == NULL)
		return -1;
	p->out = out;
	p->cap = cap;
	return 0;
}

/* Decimal digits of V at BUF; returns the count. Hand-written: snprintf
 * costs more than the rest of building a command. */
static size_t put_decimal(char *buf, size_t v)
{
	char tmp[24];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* Copy N bytes to W; returns the end. Commands are bytes with a length,
 * not C strings. */
static char *append(char *w, const void *src, size_t n)
{
	memcpy(w, src, n); /* NOLINT(bugprone-not-null-terminated-result) */
	return w + n;
}

void pipeline_put(struct pipeline *p, const char *key, size_t keylen, const uint8_t *value,
		  size_t valuelen)
{
	/* Keep what is in flight bounded, whatever the server's speed. */
	while (!p->down && (p->count == MAX_IN_FLIGHT || p->len - p->base >= MAX_OUT_BYTES))
		pump(p, 1);
	if (p->down) {
		p->stats.failed++;
		return;
	}

	size_t need = 4 + keylen + 5 + 24 + 2 + valuelen + 2;
	if (reserve(p, need) < 0) {
		log_error("%s: out of memory queueing a record", p->addr->spec);
		p->stats.failed++;
		return;
	}
	/* "set KEY 0 0 LEN\r\nVALUE\r\n": flags 0, no expiry. */
	char *w = p->out + p->len;
	w = append(w, "set ", 4);
	w = append(w, key, keylen);
	w = append(w, " 0 0 ", 5);
	w += put_decimal(w, valuelen);
	w = append(w, "\r\n", 2);
	w = append(w, value, valuelen);
	w = append(w, "\r\n", 2);

	size_t n = (size_t)(w - (p->out + p->len));
	p->len += n;
	p->lens[(p->head + p->count) % MAX_IN_FLIGHT] = (uint32_t)n;
	p->count++;

	if (p->len - p->sent >= SEND_CHUNK)
		pump(p, 0);
}

void pipeline_flush(struct pipeline *p)
{
	while (!p->down && p->count > 0)
		pump(p, 1);
}
