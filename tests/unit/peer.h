/* peer.h -- for unit tests: a scripted server on the far end of a socketpair(2), in a thread. */
#ifndef PEER_H
#define PEER_H

#include <pthread.h>
#include <stddef.h>
#include <unistd.h>

/* The thread serving one connection; started says whether to join it. */
struct peer_thread {
	pthread_t id;
	int started;
};

/* A dial for the code under test: open a socketpair, put the server's end
 * in *FD and start SERVE(ARG) on T (*FD is set first, so ARG may hold it;
 * the thread owns and closes it). Returns the client's end, non-blocking,
 * with SO_SNDBUF at SNDBUF when that is > 0; or -1 with a reason in ERR and
 * both ends closed. */
int peer_dial(struct peer_thread *t, int *fd, int sndbuf, void *(*serve)(void *), void *arg,
	      char *err, size_t errlen);

/* Wait for T's thread, if it runs: after this its records may be read. */
void peer_join(struct peer_thread *t);

/* Append KEY to the list *KEYS of *N entries (room for *CAP); aborts when
 * out of memory, as a test cannot go on without it. */
void peer_note(int **keys, size_t *n, size_t *cap, int key);

/* Send LEN bytes in writes of CHUNK bytes (all at once when 0) with GAP
 * microseconds between them, so the client meets replies split anywhere.
 * -1 when the client hung up first. */
int peer_send(int fd, const void *buf, size_t len, size_t chunk, useconds_t gap);

#endif
