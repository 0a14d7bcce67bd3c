/* signals.h -- SIGINT, SIGTERM and SIGHUP: the first asks the run to stop,
 * the second ends it at once.
 *
 * The supervisor keeps both signals blocked except while it waits in ppoll
 * with signals_wait_mask(), so a stop request can never slip in between
 * checking for one and waiting. On a second signal the handler calls the
 * abort function it was given (pool_kill_all: SIGKILL and reap every
 * worker) and exits, so nothing is orphaned. */
#ifndef MEMC_LOAD_SIGNALS_H
#define MEMC_LOAD_SIGNALS_H

#include <signal.h>

/* Install the handlers; with BLOCK, keep the signals blocked outside
 * signals_wait_mask(). ABORT, if not NULL, must be async-signal-safe; it
 * runs on the second signal, before the process exits. 0 or -1. */
int signals_install(int block, void (*abort)(void));

/* The stop signals (SIGINT, SIGTERM, SIGHUP), to block or unblock. */
void signals_stop_set(sigset_t *set);

/* The signal that asked the run to stop, or 0. */
int signals_stop_requested(void);

/* Let in a stop signal that came while the signals were blocked, and
 * return signals_stop_requested(): a signal to every process of the run
 * (pkill, a process group) may end the workers, and their ends be seen,
 * before the supervisor waits again. */
int signals_take_pending(void);

/* The mask to wait with (the signals unblocked). */
const sigset_t *signals_wait_mask(void);

/* In a new worker: default dispositions, signals unblocked. */
void signals_reset_in_child(void);

#endif
