/* clock.h -- seconds on the monotonic clock, for durations and rates, and
 * on the real-time clock, for timestamps. */
#ifndef MEMC_LOAD_CLOCK_H
#define MEMC_LOAD_CLOCK_H

#include <time.h>

static inline double clock_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds since the epoch, with their fraction. */
static inline double clock_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
