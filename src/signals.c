/* signals.c -- stop requests, and the second signal that ends everything. */
#include <string.h>
#include <unistd.h>

#include "signals.h"

/* SIGHUP too: the terminal went away, which is no reason to leave a
 * half-done run without its summary. */
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

static volatile sig_atomic_t stop_signal;
static void (*abort_fn)(void);
static sigset_t wait_mask;

static void on_signal(int sig)
{
	if (stop_signal == 0) {
		stop_signal = sig;
		return;
	}
	/* A second signal: the user wants out now. */
	if (abort_fn != NULL)
		abort_fn();
	_exit(128 + sig);
}

int signals_install(int block, void (*abort)(void))
{
	struct sigaction sa;
	sigset_t stops;

	abort_fn = abort;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking call returns EINTR and the loop looks. */
	signals_stop_set(&stops);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		if (sigaction(stop_signals[i], &sa, NULL) < 0)
			return -1;
	if (sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &stops, &wait_mask) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigdelset(&wait_mask, stop_signals[i]);
	return 0;
}

void signals_stop_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaddset(set, stop_signals[i]);
}

int signals_stop_requested(void)
{
	return stop_signal;
}

int signals_take_pending(void)
{
	sigset_t pending, old;

	if (sigpending(&pending) == 0)
		for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
			if (sigismember(&pending, stop_signals[i])) {
				/* Unblocked for a moment: the handler runs now. */
				sigprocmask(SIG_SETMASK, &wait_mask, &old);
				sigprocmask(SIG_SETMASK, &old, NULL);
				break;
			}
	return stop_signal;
}

const sigset_t *signals_wait_mask(void)
{
	return &wait_mask;
}

void signals_reset_in_child(void)
{
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		signal(stop_signals[i], SIG_DFL);
	abort_fn = NULL;
	sigprocmask(SIG_SETMASK, &wait_mask, NULL);
}
