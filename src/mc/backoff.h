/* backoff.h -- the pause before retrying a server: 50 ms after the first
 * failure, twice as long after each further one, at most a second. Shared
 * by the pipelined and the --serial delivery paths, as documented for -a. */
#ifndef MEMC_LOAD_BACKOFF_H
#define MEMC_LOAD_BACKOFF_H

#include <errno.h>
#include <time.h>

#define BACKOFF_FIRST_MS 50
#define BACKOFF_MAX_MS 1000

/* The pause after FAILURES failures in a row (1 or more), in milliseconds. */
static inline long backoff_ms(int failures)
{
	long ms = BACKOFF_FIRST_MS;

	for (int i = 1; i < failures && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static inline void backoff_sleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

#endif
