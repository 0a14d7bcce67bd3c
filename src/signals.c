/* signals.c -- stop requests, and the second signal that ends everything. */
#include <string.h>
#include <unistd.h>

#include "signals.h"

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
	sigset_t both;

	abort_fn = abort;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking call returns EINTR and the loop looks. */
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;

	sigemptyset(&both);
	sigaddset(&both, SIGINT);
	sigaddset(&both, SIGTERM);
	if (sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &both, &wait_mask) < 0)
		return -1;
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	return 0;
}

int signals_stop_requested(void)
{
	return stop_signal;
}

const sigset_t *signals_wait_mask(void)
{
	return &wait_mask;
}

void signals_reset_in_child(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	abort_fn = NULL;
	sigprocmask(SIG_SETMASK, &wait_mask, NULL);
}
