/* known_run.h -- the three files of one run, described by both reports:
 * test_statsjson.c and test_metrics.c each add what only theirs shows. */
#ifndef KNOWN_RUN_H
#define KNOWN_RUN_H

#include <string.h>

#include "statsjson.h"

/* The run's two servers: idfa's (0) and gaid's (1). */
static const char *const known_run_servers[2] = {"127.0.0.1:33013", "127.0.0.1:33014"};

/* What the second file saw of them: idfa's restarted during its load (pid
 * 10, then 11) and evicted 5 items. */
static struct server_seen known_run_seen[2];

/* A renamed file with errors of four kinds whose gaid server lost its
 * records later; a failed one whose idfa server restarted and evicted 5
 * items; one never started. */
static inline void known_run_files(struct report_file f[3])
{
	memset(known_run_seen, 0, sizeof(known_run_seen));
	known_run_seen[0].first = (struct server_span){10, 1000, 0, 0};
	known_run_seen[0].last = (struct server_span){11, 1100, 0, 5};
	known_run_seen[0].restarts = 1;
	known_run_seen[0].evicted = 5;
	memset(f, 0, 3 * sizeof(*f));
	f[0].name = "/data/a/20170929000000.tsv.gz";
	f[0].outcome = OUTCOME_RENAMED;
	f[0].high_error_rate = 1;
	f[0].st.lines = 7;
	f[0].st.blank = 1;
	f[0].st.processed = 2;
	f[0].st.errors = 4;
	f[0].st.by_kind[ERR_FIELDS] = 1;
	f[0].st.by_kind[ERR_DEV_TYPE] = 1;
	f[0].st.by_kind[ERR_DEV_ID] = 1;
	f[0].st.by_kind[ERR_KEY] = 1;
	f[0].st.apps_dropped = 2;
	f[0].st.coords_dropped = 1;
	f[0].st.bytes_in = 120;
	server_set_add(&f[0].lost, 1);
	f[1].name = "/data/a/20170929000100.tsv.gz";
	f[1].outcome = OUTCOME_FAILED;
	f[1].st.lines = 1;
	f[1].st.errors = 1;
	f[1].st.by_kind[ERR_UNDELIVERED] = 1;
	f[1].st.bytes_in = 40;
	f[1].st.restarts = 1;
	f[1].st.evicted = 5;
	f[1].servers = known_run_seen;
	f[2].name = "/data/a/20170929000200.tsv.gz";
	f[2].outcome = OUTCOME_PENDING;
}

#endif
