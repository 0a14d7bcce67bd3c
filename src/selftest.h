/* selftest.h -- -t/--test: the protobuf round trip on built-in samples. */
#ifndef MEMC_LOAD_SELFTEST_H
#define MEMC_LOAD_SELFTEST_H

/* Parse, pack and unpack each sample and compare; log each failure.
 * Returns 0 when every sample survives the round trip, 1 otherwise. */
int selftest_run(void);

#endif
