/* pool.h -- a pool of forked child processes, each with a pipe back to the
 * parent, at most a given number at once (after git's run_processes_parallel).
 *
 * The pool owns the children, their pipes and their reaping; the caller
 * says what the next task is, what runs in the child, what to do with a
 * message from a child and what to do when a child has ended. A message is
 * any bytes, up to POOL_MSG_MAX of them; on the pipe it goes as its length
 * (a uint32_t) and then its bytes, in one write of at most PIPE_BUF, so a
 * write is atomic and each message arrives whole; one cut off by the
 * child's end is dropped. The child owns the write end of its pipe, the parent
 * every read end; end of file on a pipe means the child has gone, so it is
 * reaped at once: no zombies. A child is killed when the parent dies, of
 * whatever cause (Linux's PR_SET_PDEATHSIG): no orphans either. */
#ifndef MEMC_LOAD_POOL_H
#define MEMC_LOAD_POOL_H

#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The longest message: a whole frame fits in PIPE_BUF. */
#define POOL_MSG_MAX (PIPE_BUF - sizeof(uint32_t))

struct pool_ops {
	/* The next task to start (0 or more), or -1 when there is none now:
	 * asked again after a child ends, since its end may make one. */
	long (*next_task)(void *ctx);
	/* In the new child, after the pool has let go of the parent's pipes:
	 * do TASK, writing messages to FD. Returns the child's exit status. */
	int (*run_task)(long task, int fd, void *ctx);
	/* TASK runs in child PID. */
	void (*on_started)(long task, pid_t pid, void *ctx);
	/* A whole message MSG of LEN bytes from TASK's child (suitably aligned
	 * for any struct). */
	void (*on_message)(long task, const void *msg, size_t len, void *ctx);
	/* TASK's child has ended and was reaped with wait STATUS (as from
	 * waitpid), or could not be started (PID 0, errno in STATUS). */
	void (*on_finished)(long task, pid_t pid, int status, void *ctx);
	/* Asked before each wait: nonzero when the run must stop. Then no
	 * task is started any more and each running child gets one SIGTERM;
	 * the pool still waits for every child and reports its end. */
	int (*stopping)(void *ctx);
};

/* Run tasks with at most MAX_CHILDREN children at once until no child runs
 * and next_task has none (or stopping says so). Signals are
 * waited for with WAIT_MASK (NULL: the current mask), so a caller that
 * blocks its signals everywhere else cannot miss one. 0, or -1 with errno
 * when the pool could not be set up or waiting failed (the children that
 * were running are then killed and reaped, and reported as ended). */
int pool_run(int max_children, const struct pool_ops *ops, void *ctx, const sigset_t *wait_mask);

/* Send the message MSG of LEN bytes (at most POOL_MSG_MAX) from a child,
 * whole. 0, or -1 with errno. */
int pool_send(int fd, const void *msg, size_t len);

/* From a signal handler: SIGKILL and reap every child of the running pool.
 * Async-signal-safe; does nothing when no pool is running. */
void pool_kill_all(void);

#endif
