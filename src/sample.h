/* sample.h -- --verify for one file: choose a uniformly random sample of
 * its records, and read it back once every record was acknowledged.
 *
 * A record is in the sample when a hash of its key, seeded anew each run,
 * falls under the fraction: every key has the same chance, and the choice
 * can be made again from the key alone. So the sample is kept in memory
 * while it fits (SAMPLE_KEEP bytes) and otherwise chosen again from a
 * second read of the file, and a worker stays small at any fraction and any
 * file size. */
#ifndef MEMC_LOAD_SAMPLE_H
#define MEMC_LOAD_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "report.h"
#include "mc/sink.h"

/* Most bytes of sampled records kept in memory. */
#define SAMPLE_KEEP (8u * 1024 * 1024)
/* Most sampled keys refused as too large that are remembered; with more,
 * the file is not read back (its error rate says what went wrong). */
#define SAMPLE_REFUSED_MAX (1024 * 1024)

struct sample;

/* For a load with CFG; NULL when nothing is to be read back (no --verify,
 * or --dry) or when out of memory (then ST's failure says so). */
struct sample *sample_new(const struct config *cfg, struct file_stats *st);

/* The worker sent this record, whose key hashes to HASH (keyhash.h, with
 * the run's seed), to server SERVER (config.h's numbering). */
void sample_offer(struct sample *sp, int server, uint64_t hash, const char *key, size_t keylen,
		  const uint8_t *value, size_t valuelen);

/* A server refused the record KEY as too large (an acks_too_large_fn, CTX
 * the sample): the key's records are left out of the sample, since the
 * server holds none of them now (memcached drops a key's old value when a
 * set of it is refused). */
void sample_too_large(const char *key, size_t keylen, void *ctx);

/* Read the sample back and count it into st->verify; when the sample did
 * not fit, PATH is read again (it must still be the file ST describes) and
 * SINK says each record's server. A missing record, or one that could not
 * be read back, fails the file: st->failure says why. SERVERS (the load's,
 * sink_get_servers) gets what the read-back saw too: a restart it met. */
void sample_run(struct sample *sp, const char *path, struct sink *sink, struct file_stats *st,
		struct server_seen *servers);

void sample_free(struct sample *sp);

#endif
