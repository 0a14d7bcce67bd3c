/* signals.h -- SIGINT and SIGTERM: the first asks the run to stop, the
 * second ends it at once.
 *
 * The supervisor keeps both signals blocked except while it waits in ppoll
 * with signals_wait_mask(), so a stop request can never slip in between
 * checking for one and waiting. On a second signal the handler itself kills
 * every tracked worker with SIGKILL and exits, so nothing is orphaned. */
#ifndef MEMC_LOAD_SIGNALS_H
#define MEMC_LOAD_SIGNALS_H

#include <signal.h>
#include <sys/types.h>

/* Install the handlers for a run with at most MAX_CHILDREN workers; with
 * BLOCK, keep the signals blocked outside signals_wait_mask(). 0 or -1. */
int signals_install(int max_children, int block);

/* The signal that asked the run to stop, or 0. */
int signals_stop_requested(void);

/* The mask to wait with (the signals unblocked). */
const sigset_t *signals_wait_mask(void);

/* Remember a running worker (slot 0..max_children-1), or forget it (pid 0). */
void signals_track(int slot, pid_t pid);

/* In a new worker: default dispositions, signals unblocked. */
void signals_reset_in_child(void);

#endif
