/* test_pool.c -- every task runs once, its messages, of any length up to
 * POOL_MSG_MAX, arrive whole and in order, a message cut off by its
 * child's end is dropped, its end is reported once, and no child outlives
 * the pool. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pool.h"

#define MAX_TASKS     16
#define MSG_SIZE      24
#define GUARD_SECONDS 20

/* What a task's child does. */
enum how {
	SEND_AND_EXIT, /* K messages, then exit with task % 5 */
	KILL_SELF,     /* K messages, then SIGKILL */
	SEND_PARTIAL,  /* K messages and half of one more, then exit */
	PAUSE,         /* nothing until a signal ends it */
	READY_PAUSE,   /* one message, so the pool wakes, then as PAUSE */
	ASK_KILL_ALL,  /* SIGUSR1 to the pool's process, then as PAUSE */
	KILL_ALL,      /* pool_kill_all, then as SEND_AND_EXIT */
};

/* The callbacks only record; the test asserts after pool_run, because a
 * failed assertion inside a callback would jump out of a running pool. */
struct tctx {
	long ntasks;
	long next;
	size_t msg_size; /* the longest message; they vary from 1 byte up (msg_len) */
	int k;           /* messages per task */
	enum how how[MAX_TASKS];

	long next_calls;
	long next_calls_at_stop; /* -1 until stopping first says yes */
	int stop_when_started;   /* stop once any task has started */
	long stop_when_finished; /* stop once this task has ended, or -1 */

	int nstarted, nfinished;
	int running, max_running;
	int started[MAX_TASKS];
	int finished[MAX_TASKS];
	int finish_order[MAX_TASKS]; /* 1 for the first task to end, ... */
	pid_t pid[MAX_TASKS];
	pid_t finished_pid[MAX_TASKS];
	int status[MAX_TASKS];
	int received[MAX_TASKS]; /* messages so far, each checked in order */
	int bad_msgs;
	int stray_events; /* a callback for a task that is not running */
};

static void ctx_init(struct tctx *c, long ntasks, size_t msg_size, int k)
{
	memset(c, 0, sizeof(*c));
	c->ntasks = ntasks;
	c->msg_size = msg_size;
	c->k = k;
	c->next_calls_at_stop = -1;
	c->stop_when_finished = -1;
}

/* Message SEQ of TASK: its first bytes name it, the rest is a pattern, so a
 * message that is torn, misplaced or from another task does not match. */
static void fill_msg(unsigned char *buf, size_t size, long task, int seq)
{
	for (size_t j = 0; j < size; j++)
		buf[j] = (unsigned char)(task + 3 * seq + 7 * (long)j);
	buf[0] = (unsigned char)task;
	buf[1] = (unsigned char)seq;
}

/* The length of message SEQ of TASK: the longest first, then all sorts. */
static size_t msg_len(size_t longest, long task, int seq)
{
	return seq == 0 ? longest : 1 + ((size_t)seq * 131 + (size_t)task) % longest;
}

static int send_msgs(int fd, long task, int count, size_t longest)
{
	unsigned char buf[PIPE_BUF];

	for (int i = 0; i < count; i++) {
		size_t len = msg_len(longest, task, i);
		fill_msg(buf, len, task, i);
		if (pool_send(fd, buf, len) < 0)
			return -1;
	}
	return 0;
}

/* Half of a frame (pool.h): its length, and half of its bytes. */
static void send_half(int fd, long task, int seq, size_t longest)
{
	unsigned char frame[PIPE_BUF];
	uint32_t len = (uint32_t)msg_len(longest, task, seq);

	memcpy(frame, &len, sizeof(len));
	fill_msg(frame + sizeof(len), len, task, seq);
	(void)!write(fd, frame, sizeof(len) + len / 2);
}

/* The test binary may have inherited SIGTERM ignored or blocked; a child
 * that waits to be stopped must be stoppable. Its own alarm ends it should
 * the pool never send the signal, so a failing test leaves no process. */
static void __attribute__((noreturn)) pause_until_signal(void)
{
	sigset_t none;

	signal(SIGTERM, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	alarm(GUARD_SECONDS + 10);
	for (;;)
		pause();
}

static long t_next_task(void *ctx)
{
	struct tctx *c = ctx;

	c->next_calls++;
	return c->next < c->ntasks ? c->next++ : -1;
}

static int t_run_task(long task, int fd, void *ctx)
{
	const struct tctx *c = ctx;
	switch (c->how[task]) {
	case SEND_AND_EXIT:
		break;
	case KILL_SELF:
		send_msgs(fd, task, c->k, c->msg_size);
		raise(SIGKILL);
		return 99;
	case SEND_PARTIAL:
		send_msgs(fd, task, c->k, c->msg_size);
		send_half(fd, task, c->k, c->msg_size);
		return (int)(task % 5);
	case PAUSE:
		pause_until_signal();
	case READY_PAUSE:
		send_msgs(fd, task, 1, c->msg_size);
		pause_until_signal();
	case ASK_KILL_ALL:
		kill(getppid(), SIGUSR1);
		pause_until_signal();
	case KILL_ALL:
		pool_kill_all();
		break;
	}
	return send_msgs(fd, task, c->k, c->msg_size) == 0 ? (int)(task % 5) : 98;
}

static void t_on_started(long task, pid_t pid, void *ctx)
{
	struct tctx *c = ctx;

	if (task < 0 || task >= MAX_TASKS || c->started[task]) {
		c->stray_events++;
		return;
	}
	c->started[task]++;
	c->pid[task] = pid;
	c->nstarted++;
	if (++c->running > c->max_running)
		c->max_running = c->running;
}

static void t_on_message(long task, const void *msg, size_t len, void *ctx)
{
	struct tctx *c = ctx;
	unsigned char want[PIPE_BUF];
	size_t want_len;

	if (task < 0 || task >= MAX_TASKS || !c->started[task] || c->finished[task]) {
		c->stray_events++;
		return;
	}
	want_len = msg_len(c->msg_size, task, c->received[task]);
	fill_msg(want, want_len, task, c->received[task]);
	if (len != want_len || memcmp(msg, want, len) != 0)
		c->bad_msgs++;
	c->received[task]++;
}

static void t_on_finished(long task, pid_t pid, int status, void *ctx)
{
	struct tctx *c = ctx;

	if (task < 0 || task >= MAX_TASKS) {
		c->stray_events++;
		return;
	}
	c->finished[task]++;
	c->finished_pid[task] = pid;
	c->status[task] = status;
	c->finish_order[task] = ++c->nfinished;
	if (pid > 0)
		c->running--;
}

static int t_stopping(void *ctx)
{
	struct tctx *c = ctx;
	int yes = (c->stop_when_started && c->nstarted > 0) ||
		  (c->stop_when_finished >= 0 && c->finished[c->stop_when_finished]);

	if (yes && c->next_calls_at_stop < 0)
		c->next_calls_at_stop = c->next_calls;
	return yes;
}

static const struct pool_ops ops = {
	.next_task = t_next_task,
	.run_task = t_run_task,
	.on_started = t_on_started,
	.on_message = t_on_message,
	.on_finished = t_on_finished,
	.stopping = t_stopping,
};

/* A pool that hangs must fail the test, not the build's patience; the
 * handler ends the pool's children so none is left behind. */
static void guard_fired(int sig)
{
	static const char msg[] = "test_pool: alarm guard fired: the pool hung\n";
	ssize_t r;

	(void)sig;
	r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	pool_kill_all();
	_exit(1);
}

static void guard_on(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = guard_fired;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	alarm(GUARD_SECONDS);
}

static void guard_off(void)
{
	alarm(0);
	signal(SIGALRM, SIG_DFL);
}

/* The pool reaps what it forks: no child is left, running or a zombie. */
static void assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) != -1;
	return n;
}

/* Run the pool, and check it closed every pipe end it opened. */
static int run_pool(int max_children, struct tctx *c)
{
	int rc, before = open_fds();

	guard_on();
	rc = pool_run(max_children, &ops, c, NULL);
	guard_off();
	assert_int_equal(open_fds(), before);
	return rc;
}

/* Task T started once, and ended once, by exiting with task % 5 after
 * sending every message. */
static void assert_ran_to_end(const struct tctx *c, long t)
{
	assert_int_equal(c->started[t], 1);
	assert_int_equal(c->finished[t], 1);
	assert_true(c->pid[t] > 0);
	assert_int_equal(c->finished_pid[t], c->pid[t]);
	assert_true(WIFEXITED(c->status[t]));
	assert_int_equal(WEXITSTATUS(c->status[t]), t % 5);
	assert_int_equal(c->received[t], c->k);
}

static void assert_stopped_by(const struct tctx *c, long t, int sig)
{
	assert_int_equal(c->started[t], 1);
	assert_int_equal(c->finished[t], 1);
	assert_int_equal(c->finished_pid[t], c->pid[t]);
	assert_true(WIFSIGNALED(c->status[t]));
	assert_int_equal(WTERMSIG(c->status[t]), sig);
}

static void every_task_once(void **state)
{
	struct tctx c;

	(void)state;
	ctx_init(&c, 7, MSG_SIZE, 5);
	assert_int_equal(run_pool(3, &c), 0);
	assert_no_children();
	for (long t = 0; t < 7; t++)
		assert_ran_to_end(&c, t);
	assert_int_equal(c.bad_msgs, 0);
	assert_int_equal(c.stray_events, 0);
	assert_int_equal(c.nstarted, 7);
	assert_int_equal(c.nfinished, 7);
	/* Three start before the pool first waits, and never a fourth. */
	assert_int_equal(c.max_running, 3);
	assert_int_equal(c.running, 0);
}

static void killed_child_is_reported(void **state)
{
	struct tctx c;

	(void)state;
	ctx_init(&c, 5, MSG_SIZE, 4);
	c.how[1] = KILL_SELF;
	assert_int_equal(run_pool(2, &c), 0);
	assert_no_children();
	assert_stopped_by(&c, 1, SIGKILL);
	/* What it sent before it died was already in the pipe. */
	assert_int_equal(c.received[1], 4);
	for (long t = 0; t < 5; t++)
		if (t != 1)
			assert_ran_to_end(&c, t);
	assert_int_equal(c.bad_msgs, 0);
	assert_int_equal(c.stray_events, 0);
}

static void partial_message_is_dropped(void **state)
{
	struct tctx c;

	(void)state;
	ctx_init(&c, 3, MSG_SIZE, 3);
	c.how[1] = SEND_PARTIAL;
	assert_int_equal(run_pool(3, &c), 0);
	assert_no_children();
	for (long t = 0; t < 3; t++)
		assert_ran_to_end(&c, t); /* task 1: its whole messages only */
	assert_int_equal(c.bad_msgs, 0);
	assert_int_equal(c.stray_events, 0);
}

/* The largest message: still atomic, still whole, also when several
 * children fill their pipes at once. */
static void pipe_buf_messages(void **state)
{
	struct tctx c;

	(void)state;
	ctx_init(&c, 4, POOL_MSG_MAX, 20);
	assert_int_equal(run_pool(3, &c), 0);
	assert_no_children();
	for (long t = 0; t < 4; t++)
		assert_ran_to_end(&c, t);
	assert_int_equal(c.bad_msgs, 0);
	assert_int_equal(c.stray_events, 0);
}

static void bad_arguments(void **state)
{
	struct tctx c;

	(void)state;
	ctx_init(&c, 3, MSG_SIZE, 1);
	errno = 0;
	assert_int_equal(pool_send(1, "", POOL_MSG_MAX + 1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(pool_run(0, &ops, &c, NULL), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(pool_run(-1, &ops, &c, NULL), -1);
	assert_int_equal(errno, EINVAL);
	/* Refused before anything ran. */
	assert_int_equal(c.next_calls, 0);
	assert_int_equal(c.nstarted + c.nfinished, 0);
	assert_no_children();
}

static void no_tasks(void **state)
{
	struct tctx c;

	(void)state;
	ctx_init(&c, 0, MSG_SIZE, 1);
	assert_int_equal(run_pool(3, &c), 0);
	assert_int_equal(c.next_calls, 1);
	assert_int_equal(c.nstarted + c.nfinished, 0);
	assert_no_children();
}

/* The pool asks whether to stop before each wait, so the child says it is
 * there (one message) to wake it; after that it would wait for ever. */
static void stop_after_first_start(void **state)
{
	struct tctx c;

	(void)state;
	ctx_init(&c, 10, MSG_SIZE, 1);
	c.how[0] = READY_PAUSE;
	c.stop_when_started = 1;
	assert_int_equal(run_pool(1, &c), 0);
	assert_no_children();
	assert_int_equal(c.next_calls, 1);
	assert_int_equal(c.next_calls_at_stop, 1);
	assert_int_equal(c.nstarted, 1);
	assert_stopped_by(&c, 0, SIGTERM);
	assert_int_equal(c.received[0], 1);
	assert_int_equal(c.nfinished, 1);
	assert_int_equal(c.stray_events, 0);
}

/* Stopping with a full pool: each running child gets SIGTERM, and no task
 * is taken after the pool was told to stop. */
static void stop_ends_every_running_child(void **state)
{
	struct tctx c;

	(void)state;
	ctx_init(&c, 10, MSG_SIZE, 1);
	for (long t = 0; t < 10; t++)
		c.how[t] = READY_PAUSE;
	c.stop_when_started = 1;
	assert_int_equal(run_pool(3, &c), 0);
	assert_no_children();
	assert_true(c.next_calls_at_stop > 0);
	assert_int_equal(c.next_calls, c.next_calls_at_stop);
	assert_int_equal(c.nstarted, 3);
	assert_int_equal(c.nfinished, 3);
	for (long t = 0; t < 10; t++)
		if (c.started[t])
			assert_stopped_by(&c, t, SIGTERM);
	assert_int_equal(c.bad_msgs, 0);
	assert_int_equal(c.stray_events, 0);
}

/* Task 1 exits at once while 0 and 2 wait to be stopped; the stop comes only
 * once task 1's end is reported. Were its write end open in another child,
 * its end of file would never come and the guard would fail the test.
 * Task 2 starts after task 1, task 0 before: both ways round. */
static void child_holds_only_its_own_pipe(void **state)
{
	struct tctx c;

	(void)state;
	ctx_init(&c, 3, MSG_SIZE, 0);
	c.how[0] = PAUSE;
	c.how[2] = PAUSE;
	c.stop_when_finished = 1;
	assert_int_equal(run_pool(3, &c), 0);
	assert_no_children();
	assert_ran_to_end(&c, 1);
	assert_int_equal(c.finish_order[1], 1);
	assert_stopped_by(&c, 0, SIGTERM);
	assert_stopped_by(&c, 2, SIGTERM);
	assert_int_equal(c.stray_events, 0);
}

/* No free descriptor for a pipe: each task is reported as not started
 * (pid 0, errno as status) and the run still ends. */
static void start_failure_is_reported(void **state)
{
	struct tctx c;
	struct rlimit old, low;
	int fds[64], nfds = 0, fd, open_errno, rc;

	(void)state;
	ctx_init(&c, 2, MSG_SIZE, 1);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (nfds < 64 && (fd = open("/dev/null", O_RDONLY)) >= 0)
		fds[nfds++] = fd;
	open_errno = errno;
	rc = run_pool(2, &c);
	while (nfds > 0)
		close(fds[--nfds]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(open_errno, EMFILE);
	assert_int_equal(rc, 0);
	assert_no_children();
	assert_int_equal(c.nstarted, 0);
	for (long t = 0; t < 2; t++) {
		assert_int_equal(c.finished[t], 1);
		assert_int_equal(c.finished_pid[t], 0);
		assert_int_equal(c.status[t], EMFILE);
	}
	assert_int_equal(c.next_calls, 3);
}

static void kill_all_outside_a_pool(void **state)
{
	struct tctx c;
	int rc;

	(void)state;
	pool_kill_all();
	/* Nor straight after one has run, while its dead frame is still
	 * intact: the pool must not leave a pointer to itself behind. */
	ctx_init(&c, 2, MSG_SIZE, 1);
	guard_on();
	rc = pool_run(2, &ops, &c, NULL);
	pool_kill_all();
	guard_off();
	assert_int_equal(rc, 0);
	assert_no_children();
	assert_ran_to_end(&c, 0);
	assert_ran_to_end(&c, 1);
}

/* A child may inherit a handler that calls pool_kill_all; there it must
 * not reach the parent's pool and kill its siblings. */
static void kill_all_in_a_child_does_nothing(void **state)
{
	struct tctx c;

	(void)state;
	ctx_init(&c, 2, MSG_SIZE, 1);
	c.how[0] = PAUSE;
	c.how[1] = KILL_ALL;
	c.stop_when_finished = 1;
	assert_int_equal(run_pool(2, &c), 0);
	assert_no_children();
	assert_ran_to_end(&c, 1);
	assert_stopped_by(&c, 0, SIGTERM);
	assert_int_equal(c.stray_events, 0);
}

/* In the process running the pool: what the signals module does on a second
 * signal. Every child must be gone, not even a zombie, when it exits. */
static void kill_all_and_exit(int sig)
{
	int gone;

	(void)sig;
	pool_kill_all();
	gone = waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
	_exit(gone ? 0 : 1);
}

/* As in the program: the signal is blocked except while the pool waits,
 * and arrives when three children run. Runs in a child of the test, since
 * the handler ends the process that runs the pool. */
static void kill_all_reaps_every_child(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	guard_on();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct tctx c;
		struct sigaction sa;
		sigset_t usr1, wait_mask;

		ctx_init(&c, 3, MSG_SIZE, 0);
		c.how[0] = PAUSE;
		c.how[1] = PAUSE;
		c.how[2] = ASK_KILL_ALL;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = kill_all_and_exit;
		sigemptyset(&sa.sa_mask);
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		if (sigaction(SIGUSR1, &sa, NULL) < 0 ||
		    sigprocmask(SIG_BLOCK, &usr1, &wait_mask) < 0)
			_exit(2);
		sigdelset(&wait_mask, SIGUSR1);
		alarm(GUARD_SECONDS);
		pool_run(3, &ops, &c, &wait_mask);
		_exit(3); /* the pool ended without the signal */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	guard_off();
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_no_children();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_task_once),
		cmocka_unit_test(killed_child_is_reported),
		cmocka_unit_test(partial_message_is_dropped),
		cmocka_unit_test(pipe_buf_messages),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(no_tasks),
		cmocka_unit_test(stop_after_first_start),
		cmocka_unit_test(stop_ends_every_running_child),
		cmocka_unit_test(child_holds_only_its_own_pipe),
		cmocka_unit_test(start_failure_is_reported),
		cmocka_unit_test(kill_all_outside_a_pool),
		cmocka_unit_test(kill_all_in_a_child_does_nothing),
		cmocka_unit_test(kill_all_reaps_every_child),
	};
	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
