/* test_addr.c -- server addresses: what parses, what is refused and why,
 * and dialing real listeners on loopback and unix sockets. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "mc/addr.h"

/* The same bound addr.c checks against, taken from the header, not 108. */
#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)NULL)->sun_path)

/* Generous for a loopback connect, short enough not to stall a failing run. */
#define TIMEOUT_MS 2000

static char err[512];

static void parse_ok(const char *spec, const char *host, unsigned port, int is_unix)
{
	struct server_addr a;

	err[0] = '\0';
	if (addr_parse(spec, &a, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", spec, err);
	assert_string_equal(a.host, host);
	assert_int_equal(a.port, port);
	assert_int_equal(a.is_unix, is_unix);
	assert_string_equal(a.spec, spec);
}

static void parse_fails(const char *spec, const char *reason)
{
	struct server_addr a;

	err[0] = '\0';
	if (addr_parse(spec, &a, err, sizeof(err)) != -1)
		fail_msg("'%s' accepted as host '%s' port %u", spec, a.host, a.port);
	if (strstr(err, reason) == NULL)
		fail_msg("error '%s' for '%s' does not mention '%s'", err, spec, reason);
}

static void pool_fails(const char *list, const char *reason)
{
	struct server_pool p;

	err[0] = '\0';
	if (addr_parse_pool(list, &p, err, sizeof(err)) != -1)
		fail_msg("'%.60s...' accepted: %d servers, the first port %u", list, p.n,
			 p.addr[0].port);
	if (strstr(err, reason) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, reason);
}

/* "/" and N - 1 more bytes: a socket path N bytes long. */
static char *unix_path(size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, 'u', n);
	s[0] = '/';
	s[n] = '\0';
	return s;
}

static void parse_good(void **state)
{
	(void)state;
	parse_ok("127.0.0.1:11211", "127.0.0.1", 11211, 0);
	parse_ok("localhost:1", "localhost", 1, 0);
	parse_ok("[::1]:65535", "::1", 65535, 0);
	parse_ok("[fe80::1%lo]:2", "fe80::1%lo", 2, 0);
	parse_ok("/tmp/x.sock", "/tmp/x.sock", 0, 1);
}

static void parse_bad_port(void **state)
{
	(void)state;
	parse_fails("localhost", "HOST:PORT");
	parse_fails("127.0.0.1", "HOST:PORT");
	parse_fails("h:", "port");
	parse_fails("h:0", "port");
	parse_fails("h:65536", "port");
	parse_fails("h:99999999999999999999999", "port");
	/* strtol skips a sign and leading blanks; a port is digits only. */
	parse_fails("h:+1", "port");
	parse_fails("h: 1", "port");
	parse_fails("h:-1", "port");
	parse_fails("h:1x", "port");
	parse_fails("h:1 ", "port");
	parse_fails("[::1]:", "port");
	parse_fails("[::1]:x", "port");
}

static void parse_bad_host(void **state)
{
	char host[300], want[256];

	(void)state;
	parse_fails("", "HOST:PORT");
	parse_fails(":11211", "HOST:PORT");
	parse_fails("[::1]", "[ADDRESS]:PORT");
	parse_fails("[::1", "[ADDRESS]:PORT");
	parse_fails("[::1]11211", "[ADDRESS]:PORT");
	parse_fails("[]:1", "[ADDRESS]:PORT");

	/* struct server_addr keeps 255 bytes of name and its NUL. */
	memset(host, 'h', 256);
	memcpy(host + 256, ":1", 3);
	parse_fails(host, "name too long");
	memcpy(host + 255, ":1", 3);
	memset(want, 'h', 255);
	want[255] = '\0';
	parse_ok(host, want, 1, 0);
}

static void parse_unix_path_length(void **state)
{
	char *fits = unix_path(SUN_PATH_SIZE - 1), *too_long = unix_path(SUN_PATH_SIZE);

	(void)state;
	/* sun_path needs room for the NUL as well. */
	parse_ok(fits, fits, 0, 1);
	parse_fails(too_long, "socket path too long");
	free(fits);
	free(too_long);
}

static void parse_spec_too_long(void **state)
{
	char spec[400];

	(void)state;
	memset(spec, '0', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	memcpy(spec, "h:", 2);
	parse_fails(spec, "too long");
}

static void pool_good(void **state)
{
	struct server_pool p;

	(void)state;
	assert_int_equal(addr_parse_pool("a:1,b:2", &p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.spec, "a:1,b:2");
	assert_string_equal(p.addr[0].host, "a");
	assert_int_equal(p.addr[0].port, 1);
	assert_string_equal(p.addr[1].host, "b");
	assert_int_equal(p.addr[1].port, 2);

	assert_int_equal(addr_parse_pool("/run/mc.sock,[::1]:3,h:4", &p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 3);
	assert_true(p.addr[0].is_unix);
	assert_string_equal(p.addr[1].host, "::1");
	assert_string_equal(p.addr[2].spec, "h:4");

	/* The same host on two ports is two servers. */
	assert_int_equal(addr_parse_pool("h:1,h:2", &p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 2);
}

static void pool_bad(void **state)
{
	(void)state;
	pool_fails("", "empty entry");
	pool_fails(",", "empty entry");
	pool_fails("a:1,,b:2", "empty entry");
	pool_fails(",a:1", "empty entry");
	pool_fails("a:1,", "empty entry");
	pool_fails("a:1,b:2,a:1", "given twice");
	pool_fails("/s,/s", "given twice");
	/* A bad entry says what is wrong with it. */
	pool_fails("a:1,b:0", "port");
	pool_fails("a:1,[]:2", "[ADDRESS]:PORT");
}

/* An entry that addr_parse refuses as too long must not be cut short and
 * then accepted as something else: here the cut leaves "h:000...01", port
 * 1, where the entry says port 12. */
static void pool_entry_too_long(void **state)
{
	char spec[301];

	(void)state;
	memset(spec, '0', 300);
	spec[300] = '\0';
	memcpy(spec, "h:", 2);
	spec[298] = '1';
	spec[299] = '2';
	parse_fails(spec, "too long");
	pool_fails(spec, "too long");
}

/* "h:1,h:2,...,h:N" */
static void server_list(char *buf, size_t size, int n)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int i = 1; i <= n; i++) {
		int w = snprintf(buf + at, size - at, "%sh:%d", i > 1 ? "," : "", i);
		assert_true(w > 0 && (size_t)w < size - at);
		at += (size_t)w;
	}
}

static void pool_size_limit(void **state)
{
	struct server_pool p;
	char list[512];

	(void)state;
	server_list(list, sizeof(list), MAX_POOL);
	assert_int_equal(addr_parse_pool(list, &p, err, sizeof(err)), 0);
	assert_int_equal(p.n, MAX_POOL);
	assert_int_equal(p.addr[MAX_POOL - 1].port, MAX_POOL);
	server_list(list, sizeof(list), MAX_POOL + 1);
	pool_fails(list, "more than 32 servers");
}

/* Dialing: real listeners, on loopback and in a temporary directory. */

/* A TCP listener on FAMILY's loopback address, any free port; its port in
 * *PORT. -1 when the family has no loopback here. */
static int listen_tcp(int family, unsigned *port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					 : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static int listen_unix(const char *path, int backlog)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, backlog) < 0)
		fail_msg("listen on %s: %s", path, strerror(errno));
	return fd;
}

/* FD, from addr_dial, is what the header promises and really reaches the
 * listener LFD: a byte written on it arrives on the accepted end. */
static void check_dialed(int fd, int lfd)
{
	struct pollfd pfd = {.fd = lfd, .events = POLLIN};
	int peer;
	char c = 0;

	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(poll(&pfd, 1, TIMEOUT_MS), 1);
	peer = accept(lfd, NULL, NULL);
	assert_true(peer >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(read(peer, &c, 1), 1);
	assert_int_equal(c, 'x');
	close(peer);
}

struct tmpdir {
	char dir[64];
	char path[SUN_PATH_SIZE + 64];
};

static int make_tmpdir(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_addr.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int remove_tmpdir(void **state)
{
	struct tmpdir *t = *state;

	if (t->path[0] != '\0')
		unlink(t->path);
	rmdir(t->dir);
	free(t);
	return 0;
}

/* Listen on PATH, dial it by addr_parse and addr_dial, check the socket. */
static void dial_listening_unix(const char *path)
{
	struct server_addr a;
	int lfd = listen_unix(path, 8), fd;

	assert_int_equal(addr_parse(path, &a, err, sizeof(err)), 0);
	fd = addr_dial(&a, TIMEOUT_MS, err, sizeof(err));
	if (fd < 0)
		fail_msg("dial %s: %s", path, err);
	check_dialed(fd, lfd);
	close(fd);
	close(lfd);
}

static void dial_unix(void **state)
{
	struct tmpdir *t = *state;

	snprintf(t->path, sizeof(t->path), "%s/mc.sock", t->dir);
	dial_listening_unix(t->path);
}

/* The longest path addr_parse accepts fills sun_path but for the NUL; it
 * must reach the socket by that whole name. */
static void dial_unix_longest_path(void **state)
{
	struct tmpdir *t = *state;
	size_t dirlen = strlen(t->dir);

	memcpy(t->path, t->dir, dirlen);
	t->path[dirlen] = '/';
	memset(t->path + dirlen + 1, 's', SUN_PATH_SIZE - 1 - dirlen - 1);
	t->path[SUN_PATH_SIZE - 1] = '\0';
	assert_int_equal(strlen(t->path), SUN_PATH_SIZE - 1);
	dial_listening_unix(t->path);
}

static void dial_unix_missing(void **state)
{
	struct tmpdir *t = *state;
	struct server_addr a;

	snprintf(t->path, sizeof(t->path), "%s/none.sock", t->dir);
	assert_int_equal(addr_parse(t->path, &a, err, sizeof(err)), 0);
	err[0] = '\0';
	assert_int_equal(addr_dial(&a, TIMEOUT_MS, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "connect"));
	t->path[0] = '\0';
}

/* A unix listener whose backlog is full refuses a non-blocking connect
 * with EAGAIN at once; unlike TCP's EINPROGRESS, no connection is under
 * way. addr_dial must then fail (or wait), never hand back a socket that
 * is not connected. */
static void dial_unix_backlog_full(void **state)
{
	struct tmpdir *t = *state;
	struct server_addr a;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int lfd, fd, filler[16], nfill = 0, full = 0;

	snprintf(t->path, sizeof(t->path), "%s/busy.sock", t->dir);
	lfd = listen_unix(t->path, 0);
	memcpy(sun.sun_path, t->path, strlen(t->path));
	while (nfill < 16 && !full) {
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		assert_true(c >= 0);
		if (connect(c, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			assert_int_equal(errno, EAGAIN);
			full = 1;
			close(c);
		} else {
			filler[nfill++] = c;
		}
	}
	if (!full)
		skip();

	assert_int_equal(addr_parse(t->path, &a, err, sizeof(err)), 0);
	fd = addr_dial(&a, 200, err, sizeof(err));
	if (fd >= 0) {
		struct sockaddr_un peer;
		socklen_t len = sizeof(peer);
		int connected = getpeername(fd, (struct sockaddr *)&peer, &len) == 0;

		close(fd);
		if (!connected)
			fail_msg("addr_dial returned a socket that is not connected");
	} else {
		assert_non_null(strstr(err, "connect"));
	}
	while (nfill > 0)
		close(filler[--nfill]);
	close(lfd);
}

static void dial_tcp(void **state)
{
	struct server_addr a;
	unsigned port;
	int lfd = listen_tcp(AF_INET, &port), fd, nodelay = 0;
	socklen_t len = sizeof(nodelay);
	char spec[64];

	(void)state;
	assert_true(lfd >= 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	assert_int_equal(addr_parse(spec, &a, err, sizeof(err)), 0);
	fd = addr_dial(&a, TIMEOUT_MS, err, sizeof(err));
	if (fd < 0)
		fail_msg("dial %s: %s", spec, err);
	check_dialed(fd, lfd);
	/* The last small batch of a file must not wait for Nagle. */
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
	assert_true(nodelay);
	close(fd);
	close(lfd);
}

static void dial_tcp_ipv6(void **state)
{
	struct server_addr a;
	unsigned port;
	int lfd = listen_tcp(AF_INET6, &port), fd, nodelay = 0;
	socklen_t len = sizeof(nodelay);
	char spec[64];

	(void)state;
	if (lfd < 0)
		skip(); /* no IPv6 loopback here */
	snprintf(spec, sizeof(spec), "[::1]:%u", port);
	assert_int_equal(addr_parse(spec, &a, err, sizeof(err)), 0);
	fd = addr_dial(&a, TIMEOUT_MS, err, sizeof(err));
	if (fd < 0)
		fail_msg("dial %s: %s", spec, err);
	check_dialed(fd, lfd);
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
	assert_true(nodelay);
	close(fd);
	close(lfd);
}

/* A port that was free a moment ago: bound, read, closed, so nothing
 * listens there. */
static void dial_tcp_refused(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	struct server_addr a;
	char spec[64];
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)state;
	assert_true(s >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	close(s);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
	assert_int_equal(addr_parse(spec, &a, err, sizeof(err)), 0);
	err[0] = '\0';
	assert_int_equal(addr_dial(&a, TIMEOUT_MS, err, sizeof(err)), -1);
	if (strstr(err, "connect") == NULL)
		fail_msg("error '%s' does not mention 'connect'", err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_good),
		cmocka_unit_test(parse_bad_port),
		cmocka_unit_test(parse_bad_host),
		cmocka_unit_test(parse_unix_path_length),
		cmocka_unit_test(parse_spec_too_long),
		cmocka_unit_test(pool_good),
		cmocka_unit_test(pool_bad),
		cmocka_unit_test(pool_entry_too_long),
		cmocka_unit_test(pool_size_limit),
		cmocka_unit_test_setup_teardown(dial_unix, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(dial_unix_longest_path, make_tmpdir,
						remove_tmpdir),
		cmocka_unit_test_setup_teardown(dial_unix_missing, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(dial_unix_backlog_full, make_tmpdir,
						remove_tmpdir),
		cmocka_unit_test(dial_tcp),
		cmocka_unit_test(dial_tcp_ipv6),
		cmocka_unit_test(dial_tcp_refused),
	};
	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
