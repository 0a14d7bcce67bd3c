/* restarts.h -- servers that restarted between the files of one run, told
 * from what each file's load saw of them (report.h's server_seen). Pure.
 *
 * Each worker learns who its servers are (serverid.h) and fails its file if
 * one restarted during its load. A restart between two files is seen only
 * by comparing files: when a later file meets a newer process of a server,
 * the records that earlier files stored on the old one are gone. */
#ifndef MEMC_LOAD_RESTARTS_H
#define MEMC_LOAD_RESTARTS_H

#include "report.h"

/* The newest process known of each server; zero it to start. */
struct restarts {
	struct server_seen newest[REPORT_SERVERS];
};

/* Told that server SERVER's process OLD was replaced by NEW: records
 * stored on OLD are lost. */
typedef void restarts_fn(int server, const struct server_seen *old,
			 const struct server_seen *now, void *ctx);

/* A file's load ended having seen SEEN (REPORT_SERVERS entries). For each
 * server it met a newer process of than any file before, RESTARTED is
 * called. */
void restarts_add(struct restarts *r, const struct server_seen *seen, restarts_fn *restarted,
		  void *ctx);

/* The first server for which SEEN names a process older than the newest
 * known (its records there are lost), or -1. */
int restarts_stale(const struct restarts *r, const struct server_seen *seen);

/* Whether A and B name the same process. */
int restarts_same(const struct server_seen *a, const struct server_seen *b);

#endif
