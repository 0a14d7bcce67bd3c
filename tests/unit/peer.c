/* peer.c -- for unit tests: a scripted server on the far end of a socketpair(2), in a thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "peer.h"

int peer_dial(struct peer_thread *t, int *fd, int sndbuf, void *(*serve)(void *), void *arg,
	      char *err, size_t errlen)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	/* The client's end is non-blocking, as a real connection of the code
	 * under test is; the server's end blocks, which keeps scripts simple. */
	if (fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) < 0 ||
	    (sndbuf > 0 && setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0)) {
		snprintf(err, errlen, "socket options: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	*fd = sv[1];
	if (pthread_create(&t->id, NULL, serve, arg) != 0) {
		snprintf(err, errlen, "pthread_create failed");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	t->started = 1;
	return sv[0];
}

void peer_join(struct peer_thread *t)
{
	if (t->started)
		pthread_join(t->id, NULL);
	t->started = 0;
}

void peer_note(int **keys, size_t *n, size_t *cap, int key)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		*keys = realloc(*keys, *cap * sizeof(**keys));
		if (*keys == NULL)
			abort();
	}
	(*keys)[(*n)++] = key;
}

int peer_send(int fd, const void *buf, size_t len, size_t chunk, useconds_t gap)
{
	const char *p = buf;
	size_t step = chunk > 0 ? chunk : len;

	for (size_t at = 0; at < len;) {
		size_t n = len - at < step ? len - at : step;
		ssize_t w = send(fd, p + at, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		at += (size_t)w;
		if (gap > 0 && at < len)
			usleep(gap);
	}
	return 0;
}
