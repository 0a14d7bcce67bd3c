/* digest.h -- the keys an activity stored, as 64-bit hashes on disk: what a
 * repair set is computed from (settle.h). A worker adds a hash per record
 * stored; they are kept in a fixed buffer, sorted, and written out as a
 * sorted run when it fills, so memory stays bounded at any file size and
 * the disk holds 8 bytes per record. Reading merges the runs of one or more
 * digests: every hash once, in ascending order.
 *
 * A hash collision can only put a key in a repair set that needs not be
 * there (an extra re-send), never leave one out. */
#ifndef MEMC_LOAD_DIGEST_H
#define MEMC_LOAD_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* Hashes held in memory before a run is written (4 MB, and as much again
 * to sort them), and so the most a run holds. */
#define DIGEST_BUFFER (512 * 1024)

/* A digest on disk: runs named PATH.0, PATH.1, ... */
struct digest_ref {
	const char *path;
	unsigned runs;
};

struct digest_writer;
struct digest_reader;

/* Write runs named PATH.0, PATH.1, ... NULL with a reason in ERR. */
struct digest_writer *digest_create(const char *path, char *err, size_t errlen);

/* 0, or -1 with a reason in ERR (a run could not be written). */
int digest_add(struct digest_writer *w, uint64_t hash, char *err, size_t errlen);

/* Write what is buffered and close: 0, or -1 with a reason in ERR. The
 * number of runs written goes to *RUNS. Frees W either way. */
int digest_close(struct digest_writer *w, unsigned *runs, char *err, size_t errlen);

/* Read the NREFS digests REFS, merged. NULL with a reason in ERR. */
struct digest_reader *digest_open(const struct digest_ref *refs, size_t nrefs, char *err,
				  size_t errlen);

/* The next hash, ascending, each once: 1 with it in *HASH, 0 at the end,
 * -1 with a reason in ERR. */
int digest_next(struct digest_reader *r, uint64_t *hash, char *err, size_t errlen);

void digest_free(struct digest_reader *r);

/* Write the hashes both A and B hold to W, ascending: how many, or -1 with
 * a reason in ERR. */
long long digest_intersect(struct digest_reader *a, struct digest_reader *b,
			   struct digest_writer *w, char *err, size_t errlen);

/* Read run I of REF, which has at most DIGEST_BUFFER hashes, into BUF:
 * how many, or -1 with a reason in ERR. */
long digest_load_run(const struct digest_ref *ref, unsigned i, uint64_t *buf, char *err,
		     size_t errlen);

/* Remove the runs of REF. */
void digest_remove(const struct digest_ref *ref);

#endif
