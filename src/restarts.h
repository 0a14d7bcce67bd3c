/* restarts.h -- the servers over the files of one run, told from what each
 * file's load saw of them (report.h's server_seen). Pure.
 *
 * Each worker learns who its servers are (serverid.h) and fails its file if
 * one restarted during its load. A restart between two files is seen only
 * by comparing files: when a later file meets a newer process of a server,
 * the records that earlier files stored on the old one are gone. And the
 * run's own figures of a server count each of its processes once, however
 * many files, loading at the same time, saw it. */
#ifndef MEMC_LOAD_RESTARTS_H
#define MEMC_LOAD_RESTARTS_H

#include <stddef.h>

#include "report.h"

/* The newest process known of each server; zero it to start. */
struct restarts {
	struct server_span newest[MAX_SERVERS];
};

/* Told that server SERVER's process OLD was replaced by NOW: records
 * stored on OLD are lost. */
typedef void restarts_fn(int server, const struct server_span *old,
			 const struct server_span *now, void *ctx);

/* A file's load ended having seen SEEN (NSERVERS entries). For each server
 * it met a newer process of than any file before, RESTARTED is called. */
void restarts_add(struct restarts *r, const struct server_seen *seen, int nservers,
		  restarts_fn *restarted, void *ctx);

/* The first server for which HELD (NSERVERS entries: the process holding a
 * file's records there, pid 0 for none) names a process other than the
 * newest known (its records there are lost), or -1. */
int restarts_stale(const struct restarts *r, const struct server_span *held, int nservers);

/* Whether A and B name the same process. */
int restarts_same(const struct server_span *a, const struct server_span *b);

/* The run's figures of server SERVER from what NFILES files saw of it
 * (FILES[k] has the file's entries, or is NULL for a file that reported
 * none): the restarts (its processes seen, less one, each once), and the
 * items it evicted while the run watched it (each process's count from
 * the lowest seen to the highest), into *RESTARTS and *EVICTED. */
void restarts_run_figures(const struct server_seen *const *files, size_t nfiles, int server,
			  uint64_t *restarts, uint64_t *evicted);

#endif
