/* lock.h -- one run at a time over the same files: an exclusive flock(2).
 *
 * The supervisor takes the lock before it collects its inputs and holds it
 * to the end, renames included; it is released when the descriptor is
 * closed or the process ends, however it ends. flock locks belong to the
 * open file description, which a forked worker shares: each worker closes
 * its copy (lock_drop_inherited), so a worker that outlives a killed
 * supervisor does not keep the lock. The lock file is never deleted:
 * deleting it would let a run lock a new file while another still holds
 * the old one. */
#ifndef MEMC_LOAD_LOCK_H
#define MEMC_LOAD_LOCK_H

#include <stddef.h>

#include "config.h"

/* lock_take's answer when another run holds the lock. */
#define LOCK_HELD (-2)

/* This run's lock file into OUT: --lock's FILE; else, unless --no-lock or
 * --dry, DIR/.memc_load.lock when every input is in directory DIR
 * (inputs_dir). 1 with the path, 0 for no lock, -1 when it does not fit. */
int lock_path(const struct config *cfg, char *out, size_t outlen);

/* Lock PATH (created 0644 if missing) exclusively, waiting up to
 * WAIT_SECONDS for another run to release it, and write our pid into it.
 * Returns the descriptor that holds the lock (close-on-exec); LOCK_HELD when
 * another run still holds it, with ERR naming the file and the holder's pid
 * when it wrote one; -1 with errno when the file cannot be opened or
 * locked, ERR saying why. Logs one line when it starts to wait. */
int lock_take(const char *path, int wait_seconds, char *err, size_t errlen);

/* Release the lock taken as FD (-1: none). */
void lock_release(int fd);

/* In a new worker: close the inherited lock descriptor, without unlocking. */
void lock_drop_inherited(void);

#endif
