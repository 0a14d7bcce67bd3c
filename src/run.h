/* run.h -- the supervisor's record of one run, for the files that carry it
 * out: supervisor.c (forked workers), serial.c (--serial) and renames.c
 * (what becomes of a finished file). Not for anyone else. */
#ifndef MEMC_LOAD_RUN_H
#define MEMC_LOAD_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "renameq.h"
#include "report.h"
#include "restarts.h"
#include "worker.h"
#include "keys/settle.h"

/* One input file as the supervisor sees it while the run goes on. */
struct file_run {
	struct file_stats st; /* the worker's latest progress, then its result */
	struct server_seen *servers; /* what its load saw of each server of the run */
	int running;
	int has_result;      /* the worker's final report arrived */
	int high_error_rate; /* read to its end with an error rate over the limit */
	uint64_t log_lost;   /* log lines its worker could not write, last reported */
	int log_errno;       /* and the errno of the first */
	int gone;            /* its name no longer exists: it will not load again */
	/* Servers that restarted after the file was renamed and did not get
	 * its records again: they are lost there. */
	struct server_set lost;
	/* The process of each server that holds the file's records: its
	 * load's first, or that of the latest repair re-sending them all. */
	struct server_span *held;

	/* Newest wins (keys/settle.h): its key digests and its repair. */
	int loaded;             /* its load ended, well or not */
	int load_ok;            /* and every record was acknowledged */
	int handed;             /* its fate went to the rename queue */
	int digests;            /* its digests may be on disk */
	unsigned load_runs;     /* runs of its load's digest */
	unsigned repair_runs;   /* runs of its repair's (its repair set) */
	int repair_failed;
	int late;               /* named older than a file an earlier run renamed */
	struct file_stats repair; /* the latest repair's counts: processed = re-sent */
	int has_repair_result;
	int repair_keyed;       /* the latest repair had sources (writes its digest) */
	struct server_set repair_resend; /* and re-sent everything for these */
	struct server_seen *repair_servers; /* what the repair saw of each server */
	unsigned repairs;       /* repairs and mends that reported */
	uint64_t shared_keys, resent; /* their figures, summed */
};

struct run {
	const struct config *cfg;
	char **files;
	size_t n;
	struct file_run *fr;
	struct server_seen *seen; /* every file's servers[], one block */
	struct server_seen *repair_seen; /* and every file's repair_servers[] */
	struct server_span *held; /* and every file's held[] (settling.c) */
	struct renameq *q;
	size_t next;    /* the next file to start */
	size_t running; /* files being loaded now */
	size_t repairs_running;
	uint64_t activities_ended; /* loads and repairs that reported, for probe.c */
	uint64_t checked_at[MAX_SERVERS]; /* activities_ended when each was last asked */
	int stopping;
	double started;
	double wall_started;
	uint64_t bytes_total; /* for the status line */
	struct restarts restarts;

	/* Newest wins (keys/settle.h); settle NULL with --dry. */
	struct settle *settle;
	char keydir[4096]; /* the run's key digests; "" when none are kept */
	int one_at_a_time; /* none could be: one worker, whatever -w says */
	struct settle_source *src; /* the sources of the repair being started */
	size_t nsrc;
	struct server_set resend; /* and the servers it re-sends everything to */
};

/* Task numbers of the pool: a file's load, or its repair. */
#define RUN_REPAIR_TASK(run, idx) ((long)((run)->n + (idx)))

/* ---- settling.c: newest wins ---- */

/* Set up the rule and, with more than one worker, the directory of key
 * digests (removing what killed runs left). 0, or -1 after saying why. */
int run_keys_open(struct run *run);
void run_keys_close(struct run *run);

/* The path of file IDX's digest of KIND (with keys kept), into OUT. */
void run_digest_path(const struct run *run, size_t idx, enum settle_kind kind, char *out,
		     size_t outlen);

/* Warn of the files named older than one an earlier run already renamed
 * in their directory: they can only overwrite newer values. */
void run_find_late(struct run *run);

/* The next repair to start, as a task number, or -1; the run's src and
 * nsrc hold its sources until the next call. */
long run_next_repair(struct run *run);

/* Task TASK, a repair, starts (in worker PID; 0 with --serial). */
void run_repair_started(struct run *run, long task, long pid);

/* File IDX's repair ended: OK when every re-sent record was acknowledged. */
void run_repair_ended(struct run *run, size_t idx, int ok, const char *why);

/* Remove the digests the rule will not ask for again. */
void run_drop_digests(struct run *run);

/* Hand to the rename queue every file the rule is done with (renames.c),
 * rename what may be, and drop the digests no longer needed. */
void run_settle(struct run *run);

/* The run ends (a stop): the files still waiting for their repair fail. */
void run_settle_abandon(struct run *run);

/* A repair's message DATA of TYPE, for its file F; and its end (pid 0:
 * it could not start, errno in STATUS). */
void run_repair_message(struct run *run, struct file_run *f, const void *data,
			enum report_type type);
void run_repair_finished(struct run *run, size_t idx, pid_t pid, int status);

/* Why worker PID, which did not report, ended with wait STATUS, into WHY. */
void run_worker_end_reason(const struct run *run, pid_t pid, int status, char *why,
			   size_t whylen);

/* In a forked worker: load file IDX, writing the keys it stores to its
 * digest when the run keeps them (repair.c). */
void run_load_file(const struct run *run, size_t idx, struct file_stats *st,
		   struct server_seen *seen, worker_progress_fn *progress, void *ctx);

/* In a forked worker: repair file IDX from the run's src (repair.c). */
void repair_run(const struct run *run, size_t idx, struct file_stats *st,
		struct server_seen *servers);

/* File IDX is done; its final counts are in run->fr[IDX].st. COUNTED when a
 * worker reported them. Renames what may be renamed now. */
void run_finish_file(struct run *run, size_t idx, int counted);

/* File IDX's load (RESENT NULL) or repair (re-sending every record for
 * RESENT) saw SEEN, one per server of the run: a server that restarted
 * since a file's records went there has the rule re-send them. */
void run_servers_seen(struct run *run, size_t idx, const struct server_seen *seen,
		      const struct server_set *resent);

/* What a probe of the servers (no file's) saw: SEEN, one per server. */
void run_servers_met(struct run *run, const struct server_seen *seen);

/* ---- probe.c ---- */

/* When nothing runs: ask each server that holds the run's records, and
 * was not asked since the last load or repair ended, who it is, and have
 * what a restart lost re-sent. 1 when it asked any. */
int run_probe_servers(struct run *run);

/* Warn of the settled files whose records a restarted server did not get
 * again: the run stopped first, or re-sending them failed. */
void run_report_unmended(struct run *run);

/* Fail file IDX without a worker's counts (no worker, or it died). */
void run_fail_file(struct run *run, size_t idx, const char *why);

/* Draw the status line from the finished files and the running ones. */
void run_show_progress(struct run *run, int force);

/* --serial: every file in this process, one after another. */
void serial_run(struct run *run);

#endif
