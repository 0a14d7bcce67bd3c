/* signals.c -- stop requests, and the second signal that ends everything. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "signals.h"

static volatile sig_atomic_t stop_signal;
static volatile pid_t *children; /* read by the handler */
static int nchildren;
static sigset_t wait_mask;

static void on_signal(int sig)
{
	if (stop_signal == 0) {
		stop_signal = sig;
		return;
	}
	/* A second signal: the user wants out now. kill, waitpid and _exit
	 * are async-signal-safe; no worker survives, none is left a zombie. */
	for (int i = 0; i < nchildren; i++)
		if (children[i] > 0)
			kill(children[i], SIGKILL);
	for (int i = 0; i < nchildren; i++)
		if (children[i] > 0)
			while (waitpid(children[i], NULL, 0) < 0 && errno == EINTR)
				;
	_exit(128 + sig);
}

int signals_install(int max_children, int block)
{
	struct sigaction sa;
	sigset_t both;

	children = calloc((size_t)(max_children > 0 ? max_children : 1), sizeof(*children));
	if (children == NULL)
		return -1;
	nchildren = max_children;

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

void signals_track(int slot, pid_t pid)
{
	if (slot >= 0 && slot < nchildren)
		children[slot] = pid;
}

void signals_reset_in_child(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigprocmask(SIG_SETMASK, &wait_mask, NULL);
	free((void *)children);
	children = NULL;
	nchildren = 0;
}
