/* test_signals.c -- the first signal asks to stop, the second ends the
 * process after the abort function; blocked signals wait for the wait mask.
 *
 * Each scenario runs in a child of the test, since it changes the process's
 * dispositions and may end it; the child answers with its exit status. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "signals.h"

#define GUARD_SECONDS 20

/* The abort function writes a byte here, so the parent can count its runs. */
static int abort_fd = -1;
static pid_t scenario_pid;

static void count_abort(void)
{
	char b = 'A';
	ssize_t r = write(abort_fd, &b, 1);

	(void)r;
}

/* In the child, a failed check cannot be a cmocka failure: say where, and
 * exit with a status no scenario expects. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			check_failed(__LINE__, #cond);                                             \
	} while (0)

static void __attribute__((noreturn)) check_failed(int line, const char *what)
{
	fprintf(stderr, "test_signals.c:%d: check failed in the child: %s\n", line, what);
	_exit(1);
}

static int is_pending(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	return sigpending(&set) == 0 && sigismember(&set, sig) == 1;
}

static int is_blocked(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	return sigprocmask(SIG_BLOCK, NULL, &set) == 0 && sigismember(&set, sig) == 1;
}

/* The test binary may have inherited SIGINT or SIGTERM blocked or ignored;
 * each scenario starts from the defaults, as the program does from a shell. */
static void start_clean(void)
{
	sigset_t none;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void guard_fired(int sig)
{
	static const char msg[] = "test_signals: alarm guard fired: a scenario hung\n";
	ssize_t r;

	(void)sig;
	r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	if (scenario_pid > 0)
		kill(scenario_pid, SIGKILL);
	_exit(1);
}

struct outcome {
	int status; /* as from waitpid */
	int aborts; /* runs of the abort function */
};

/* Run SCENARIO in a child; its return value is the child's exit status. A
 * scenario that hangs is ended by its own alarm (SIGALRM), and the parent's
 * guard covers the rest. */
static struct outcome in_child(int (*scenario)(void))
{
	struct outcome o = {-1, 0};
	struct sigaction sa;
	int p[2];
	char buf[16];
	ssize_t n;
	pid_t waited;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = guard_fired;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	assert_int_equal(pipe(p), 0);
	alarm(GUARD_SECONDS + 5);
	scenario_pid = fork();
	if (scenario_pid == 0) {
		close(p[0]);
		abort_fd = p[1];
		signal(SIGALRM, SIG_DFL);
		alarm(GUARD_SECONDS);
		start_clean();
		_exit(scenario());
	}
	close(p[1]);
	waited = scenario_pid > 0 ? waitpid(scenario_pid, &o.status, 0) : -1;
	/* The child is gone, so this read ends at end of file. */
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		o.aborts += (int)n;
	close(p[0]);
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	assert_true(scenario_pid > 0);
	assert_int_equal(waited, scenario_pid);
	scenario_pid = 0;
	return o;
}

static void assert_exited(struct outcome o, int code)
{
	assert_true(WIFEXITED(o.status));
	assert_int_equal(WEXITSTATUS(o.status), code);
}

/* ---- scenarios, each in its own child ---- */

static int first_sigterm(void)
{
	CHECK(signals_install(0, count_abort) == 0);
	CHECK(signals_stop_requested() == 0);
	raise(SIGTERM);
	CHECK(signals_stop_requested() == SIGTERM);
	return 0; /* alive */
}

static int first_sigint(void)
{
	CHECK(signals_install(0, count_abort) == 0);
	raise(SIGINT);
	CHECK(signals_stop_requested() == SIGINT);
	return 0;
}

static int sigterm_then_sigint(void)
{
	CHECK(signals_install(0, count_abort) == 0);
	raise(SIGTERM);
	CHECK(signals_stop_requested() == SIGTERM);
	raise(SIGINT);
	return 0; /* must not get here */
}

static int sigterm_twice(void)
{
	CHECK(signals_install(0, count_abort) == 0);
	raise(SIGTERM);
	raise(SIGTERM);
	return 0;
}

static int second_signal_without_abort_fn(void)
{
	CHECK(signals_install(0, NULL) == 0);
	raise(SIGINT);
	raise(SIGINT);
	return 0;
}

/* Blocked outside the wait: the signal waits, pending, until sigsuspend
 * with the wait mask lets it in; afterwards it is blocked again. */
static int blocked_until_sigsuspend(void)
{
	CHECK(signals_install(1, count_abort) == 0);
	CHECK(is_blocked(SIGTERM) && is_blocked(SIGINT));
	CHECK(!sigismember(signals_wait_mask(), SIGTERM));
	CHECK(!sigismember(signals_wait_mask(), SIGINT));
	raise(SIGTERM);
	CHECK(signals_stop_requested() == 0);
	CHECK(is_pending(SIGTERM));
	CHECK(sigsuspend(signals_wait_mask()) == -1 && errno == EINTR);
	CHECK(signals_stop_requested() == SIGTERM);
	CHECK(!is_pending(SIGTERM));
	/* A second signal now is held too, not fatal until the next wait. */
	CHECK(is_blocked(SIGINT));
	raise(SIGINT);
	CHECK(is_pending(SIGINT));
	return 0;
}

/* The supervisor's wait: ppoll with the wait mask. The first signal ends
 * the wait, the second, also held until a wait, ends the process. */
static int blocked_until_ppoll(void)
{
	int p[2];
	struct pollfd pfd;

	CHECK(pipe(p) == 0);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	CHECK(signals_install(1, count_abort) == 0);
	raise(SIGINT);
	CHECK(signals_stop_requested() == 0);
	CHECK(ppoll(&pfd, 1, NULL, signals_wait_mask()) == -1 && errno == EINTR);
	CHECK(signals_stop_requested() == SIGINT);
	raise(SIGTERM);
	CHECK(is_pending(SIGTERM));
	ppoll(&pfd, 1, NULL, signals_wait_mask());
	return 0; /* must not get here */
}

/* What the caller had blocked stays blocked while waiting; ours are let in
 * even if the caller had blocked them too. */
static int wait_mask_keeps_other_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	CHECK(signals_install(1, NULL) == 0);
	CHECK(sigismember(signals_wait_mask(), SIGUSR1) == 1);
	CHECK(sigismember(signals_wait_mask(), SIGTERM) == 0);
	CHECK(sigismember(signals_wait_mask(), SIGINT) == 0);
	return 0;
}

static int reset_then_sigterm(void)
{
	CHECK(signals_install(1, count_abort) == 0);
	signals_reset_in_child();
	CHECK(!is_blocked(SIGTERM) && !is_blocked(SIGINT));
	raise(SIGTERM);
	return 0; /* must not get here */
}

/* Even after a stop was asked for: a worker's first signal ends it. */
static int stop_then_reset_then_sigint(void)
{
	CHECK(signals_install(0, count_abort) == 0);
	raise(SIGTERM);
	CHECK(signals_stop_requested() == SIGTERM);
	signals_reset_in_child();
	raise(SIGINT);
	return 0;
}

/* ---- the tests ---- */

static void first_signal_asks_to_stop(void **state)
{
	struct outcome o;

	(void)state;
	o = in_child(first_sigterm);
	assert_exited(o, 0);
	assert_int_equal(o.aborts, 0);
	o = in_child(first_sigint);
	assert_exited(o, 0);
	assert_int_equal(o.aborts, 0);
}

static void second_signal_aborts_and_exits(void **state)
{
	struct outcome o;

	(void)state;
	o = in_child(sigterm_then_sigint);
	assert_exited(o, 128 + SIGINT);
	assert_int_equal(o.aborts, 1);
	o = in_child(sigterm_twice);
	assert_exited(o, 128 + SIGTERM);
	assert_int_equal(o.aborts, 1);
	o = in_child(second_signal_without_abort_fn);
	assert_exited(o, 128 + SIGINT);
	assert_int_equal(o.aborts, 0);
}

static void blocked_signal_waits_for_sigsuspend(void **state)
{
	struct outcome o;

	(void)state;
	o = in_child(blocked_until_sigsuspend);
	assert_exited(o, 0);
	assert_int_equal(o.aborts, 0);
}

static void blocked_signals_arrive_in_ppoll(void **state)
{
	struct outcome o;

	(void)state;
	o = in_child(blocked_until_ppoll);
	assert_exited(o, 128 + SIGTERM);
	assert_int_equal(o.aborts, 1);
}

static void wait_mask_keeps_caller_blocked(void **state)
{
	(void)state;
	assert_exited(in_child(wait_mask_keeps_other_signals), 0);
}

static void reset_in_child_restores_defaults(void **state)
{
	struct outcome o;

	(void)state;
	o = in_child(reset_then_sigterm);
	assert_true(WIFSIGNALED(o.status));
	assert_int_equal(WTERMSIG(o.status), SIGTERM);
	assert_int_equal(o.aborts, 0);
	o = in_child(stop_then_reset_then_sigint);
	assert_true(WIFSIGNALED(o.status));
	assert_int_equal(WTERMSIG(o.status), SIGINT);
	assert_int_equal(o.aborts, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_signal_asks_to_stop),
		cmocka_unit_test(second_signal_aborts_and_exits),
		cmocka_unit_test(blocked_signal_waits_for_sigsuspend),
		cmocka_unit_test(blocked_signals_arrive_in_ppoll),
		cmocka_unit_test(wait_mask_keeps_caller_blocked),
		cmocka_unit_test(reset_in_child_restores_defaults),
	};
	return cmocka_run_group_tests_name("signals", tests, NULL, NULL);
}
