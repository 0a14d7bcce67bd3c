/* pool.c -- fork, pipes, polling and reaping for a pool of children. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool.h"

/* What came from a child, up to a whole frame (pool.h): PIPE_BUF bytes,
 * aligned for any struct, since a message is handed on in place. */
struct inbox {
	_Alignas(max_align_t) unsigned char bytes[PIPE_BUF];
};

struct slot {
	pid_t pid;  /* 0 while the slot is free */
	int fd;     /* read end of the child's pipe */
	long task;
	size_t got; /* bytes in the inbox, the start of a frame first */
	int broken; /* it sent what is no frame: the rest is ignored */
	struct inbox *in;
};

struct pool {
	struct slot *slots;
	struct pollfd *pfds;
	struct inbox *inboxes; /* one per slot */
	int n;
	const struct pool_ops *ops;
	void *ctx;
};

/* The running pool, for pool_kill_all in a signal handler. */
static struct pool *pool_for_signal;

enum drain_result { DRAIN_OPEN, DRAIN_CLOSED };

static void free_tables(struct pool *pp)
{
	free(pp->slots);
	free(pp->pfds);
	free(pp->inboxes);
	pp->slots = NULL;
	pp->pfds = NULL;
	pp->inboxes = NULL;
}

/* In the new child: let go of the parent's side of the pool, run the task,
 * and end. _exit: the parent's stdio buffers and atexit handlers are not the
 * child's to flush or run. */
static void __attribute__((noreturn)) child_main(struct pool *pp, struct slot *self, int fd,
						  pid_t parent)
{
	long task = self->task;

	/* A child never outlives the parent, however the parent dies (SIGKILL
	 * gives it no chance to stop its children); if it died before this
	 * call, the check after it sees that. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	pool_for_signal = NULL;
	for (int i = 0; i < pp->n; i++)
		if (pp->slots[i].pid > 0 && &pp->slots[i] != self)
			close(pp->slots[i].fd);
	free_tables(pp);
	_exit(pp->ops->run_task(task, fd, pp->ctx));
}

static int spawn(struct pool *pp, struct slot *s, long task)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid_t parent = getpid();

	s->task = task;
	s->got = 0;
	s->broken = 0;
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(pp, s, fds[1], parent);
	}
	close(fds[1]);
	s->pid = pid;
	s->fd = fds[0];
	return 0;
}

/* Hand on every whole frame at the start of S's inbox, and keep the rest. */
static void deliver(struct pool *pp, struct slot *s)
{
	size_t at = 0;
	uint32_t len;

	while (s->got - at >= sizeof(len)) {
		memcpy(&len, s->in->bytes + at, sizeof(len));
		if (len > POOL_MSG_MAX) { /* no frame of pool_send's: out of step for good */
			s->broken = 1;
			s->got = 0;
			return;
		}
		if (s->got - at < sizeof(len) + len)
			break;
		/* Moved to the aligned start first: the message is read as a struct. */
		memmove(s->in->bytes, s->in->bytes + at + sizeof(len), len);
		pp->ops->on_message(s->task, s->in->bytes, len, pp->ctx);
		at += sizeof(len) + len;
	}
	memmove(s->in->bytes, s->in->bytes + at, s->got - at);
	s->got -= at;
}

/* Read what has come from S's child (one read: poll said it would not
 * block) and hand on every whole message. */
static enum drain_result drain(struct pool *pp, struct slot *s)
{
	ssize_t n;

	do
		n = read(s->fd, s->in->bytes + s->got, sizeof(s->in->bytes) - s->got);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return DRAIN_OPEN;
	if (n <= 0)
		return DRAIN_CLOSED;
	if (s->broken)
		return DRAIN_OPEN;
	s->got += (size_t)n;
	deliver(pp, s);
	return DRAIN_OPEN;
}

static void reap(struct pool *pp, struct slot *s)
{
	int status = 0;
	pid_t pid = s->pid;

	close(s->fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	s->pid = 0;
	s->fd = -1;
	pp->ops->on_finished(s->task, pid, status, pp->ctx);
}

static struct slot *free_slot(struct pool *pp)
{
	for (int i = 0; i < pp->n; i++)
		if (pp->slots[i].pid == 0)
			return &pp->slots[i];
	return NULL;
}

static void signal_all(struct pool *pp, int sig)
{
	for (int i = 0; i < pp->n; i++)
		if (pp->slots[i].pid > 0)
			kill(pp->slots[i].pid, sig);
}

/* Wait for news from any child. 0, or -1 with errno. */
static int wait_children(struct pool *pp, const sigset_t *wait_mask)
{
	int np = 0;

	for (int i = 0; i < pp->n; i++) {
		if (pp->slots[i].pid == 0)
			continue;
		pp->pfds[np].fd = pp->slots[i].fd;
		pp->pfds[np].events = POLLIN;
		pp->pfds[np].revents = 0;
		np++;
	}
	if (ppoll(pp->pfds, (nfds_t)np, NULL, wait_mask) < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0, p = 0; i < pp->n; i++) {
		struct slot *s = &pp->slots[i];
		if (s->pid == 0)
			continue;
		if (pp->pfds[p++].revents != 0 && drain(pp, s) == DRAIN_CLOSED)
			reap(pp, s);
	}
	return 0;
}

static int running(const struct pool *pp)
{
	int k = 0;

	for (int i = 0; i < pp->n; i++)
		k += pp->slots[i].pid > 0;
	return k;
}

int pool_run(int max_children, const struct pool_ops *ops, void *ctx, const sigset_t *wait_mask)
{
	struct pool pp = {.n = max_children, .ops = ops, .ctx = ctx};
	int stopping = 0, more = 1, rc = 0;

	if (max_children < 1) {
		errno = EINVAL;
		return -1;
	}
	pp.slots = calloc((size_t)max_children, sizeof(*pp.slots));
	pp.pfds = calloc((size_t)max_children, sizeof(*pp.pfds));
	pp.inboxes = calloc((size_t)max_children, sizeof(*pp.inboxes));
	if (pp.slots == NULL || pp.pfds == NULL || pp.inboxes == NULL) {
		free_tables(&pp);
		errno = ENOMEM;
		return -1;
	}
	for (int i = 0; i < max_children; i++) {
		pp.slots[i].fd = -1;
		pp.slots[i].in = &pp.inboxes[i];
	}
	pool_for_signal = &pp;
	for (;;) {
		struct slot *s;

		if (!stopping && ops->stopping(ctx)) {
			stopping = 1;
			signal_all(&pp, SIGTERM);
		}
		while (!stopping && more && (s = free_slot(&pp)) != NULL) {
			long task = ops->next_task(ctx);
			if (task < 0) {
				more = 0;
			} else if (spawn(&pp, s, task) < 0) {
				int e = errno;
				ops->on_finished(task, 0, e, ctx);
			} else {
				ops->on_started(task, s->pid, ctx);
			}
		}
		if (running(&pp) == 0)
			break;
		/* A child's end may make a new task: ask again. */
		more = 1;
		if (wait_children(&pp, wait_mask) < 0) {
			int e = errno;
			/* Cannot wait for them: end them rather than orphan them. */
			signal_all(&pp, SIGKILL);
			for (int i = 0; i < pp.n; i++)
				if (pp.slots[i].pid > 0)
					reap(&pp, &pp.slots[i]);
			errno = e;
			rc = -1;
			break;
		}
	}
	pool_for_signal = NULL;
	free_tables(&pp);
	return rc;
}

int pool_send(int fd, const void *msg, size_t len)
{
	unsigned char frame[PIPE_BUF];
	uint32_t head = (uint32_t)len;
	ssize_t n;

	if (len > POOL_MSG_MAX) {
		errno = EINVAL;
		return -1;
	}
	memcpy(frame, &head, sizeof(head));
	memcpy(frame + sizeof(head), msg, len);
	do
		n = write(fd, frame, sizeof(head) + len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)(sizeof(head) + len)) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

void pool_kill_all(void)
{
	struct pool *pp = pool_for_signal;

	if (pp == NULL)
		return;
	/* kill and waitpid are async-signal-safe; no child survives, none is
	 * left a zombie. */
	signal_all(pp, SIGKILL);
	for (int i = 0; i < pp->n; i++)
		if (pp->slots[i].pid > 0)
			while (waitpid(pp->slots[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
}
