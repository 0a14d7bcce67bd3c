/* supervisor.c -- the run: one forked worker per file, their reports, and
 * a stop on a signal.
 *
 * The mechanism (fork, pipes, polling, reaping) is pool.c's; what becomes
 * of a finished file (renames in chronological order, failures, files set
 * aside) is renames.c's, with the rename-order rule in renameq.c; loading a
 * file is worker.c's, in a forked child or, with --serial (serial.c), in
 * this process; the summary and exit status are summary.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "lock.h"
#include "log.h"
#include "pool.h"
#include "progress.h"
#include "renameq.h"
#include "report.h"
#include "run.h"
#include "signals.h"
#include "runreport.h"
#include "supervisor.h"
#include "worker.h"

/* Draw the status line from the finished files and the running ones. */
void run_show_progress(struct run *run, int force)
{
	struct progress_view v = {
		.files_total = run->n,
		.running = run->running,
		.bytes_total = run->bytes_total,
		.elapsed = clock_seconds() - run->started,
	};

	for (size_t i = 0; i < run->next; i++) {
		v.files_done += !run->fr[i].running;
		v.records += run->fr[i].st.processed;
		v.bytes_in += run->fr[i].st.bytes_in;
	}
	progress_show(&v, force);
}

/* ---- the pool's callbacks: one forked worker per file ---- */

/* A repair first: it is what the renames wait for. */
static long next_task(void *ctx)
{
	struct run *run = ctx;
	long repair = run_next_repair(run);

	if (repair >= 0)
		return repair;
	if (run->next < run->n)
		return (long)run->next++;
	/* The last thing: a restart no load met may yet ask for re-sends. */
	return run_probe_servers(run) ? run_next_repair(run) : -1;
}

static void worker_started(long task, pid_t pid, void *ctx)
{
	struct run *run = ctx;

	if (task >= (long)run->n) {
		run_repair_started(run, task, (long)pid);
		return;
	}
	run->fr[task].running = 1;
	run->fr[task].digests = run->keydir[0] != '\0';
	run->running++;
	if (run->settle != NULL)
		settle_started(run->settle, (size_t)task, SETTLE_LOAD);
	log_info("Started %s (worker pid %ld)", run->files[task], (long)pid);
}

/* A forked worker's progress goes up its pipe; a lost report is harmless.
 * It never asks the worker to stop: a stopping supervisor sends SIGTERM. */
static int send_progress(const struct file_stats *so_far, void *ctx)
{
	struct report_counts msg;

	if (so_far == NULL)
		return 0;
	memset(&msg, 0, sizeof(msg));
	msg.type = REPORT_PROGRESS;
	msg.stats = *so_far;
	msg.log_lost = log_failures(&msg.log_errno);
	pool_send(*(int *)ctx, &msg, sizeof(msg));
	return 0;
}

/* The servers the load met, one message each, before the result. */
static int send_servers(int fd, const struct server_seen *seen, int nservers)
{
	for (int s = 0; s < nservers; s++) {
		struct report_server msg = {.type = REPORT_SERVER, .server = (uint32_t)s};

		if (seen[s].first.pid == 0 && seen[s].restarts == 0 && seen[s].evicted == 0 &&
		    !seen[s].unconfirmed)
			continue; /* nothing seen of it */
		msg.seen = seen[s];
		if (pool_send(fd, &msg, sizeof(msg)) < 0)
			return -1;
	}
	return 0;
}

/* In the new worker: load the file (or repair it), and report. */
static int worker_main(long idx, int fd, void *ctx)
{
	const struct run *run = ctx;
	struct report_counts msg;
	struct server_seen *seen = run->fr[idx % (long)run->n].servers; /* the worker's own copy */

	signals_reset_in_child();
	log_failures_reset();
	/* The lock is the supervisor's: a worker that outlived a killed
	 * supervisor would otherwise keep it, and every later run would wait. */
	lock_drop_inherited();
	memset(&msg, 0, sizeof(msg));
	msg.type = REPORT_RESULT;
	if (idx >= (long)run->n) {
		size_t file = (size_t)idx - run->n;
		seen = run->fr[file].repair_servers;
		repair_run(run, file, &msg.stats, seen);
	} else {
		run_load_file(run, (size_t)idx, &msg.stats, seen, send_progress, &fd);
	}
	msg.log_lost = log_failures(&msg.log_errno);
	if (send_servers(fd, seen, run->cfg->table.n) < 0)
		return 3;
	return pool_send(fd, &msg, sizeof(msg)) == 0 ? 0 : 3;
}

static void worker_message(long task, const void *data, size_t len, void *ctx)
{
	struct run *run = ctx;
	struct file_run *f = &run->fr[task % (long)run->n];
	enum report_type type = report_type_of(data, len);

	if (task >= (long)run->n) {
		run_repair_message(run, f, data, type);
		return;
	}
	if (type == REPORT_SERVER) {
		const struct report_server *msg = data;
		if (msg->server < (uint32_t)run->cfg->table.n)
			f->servers[msg->server] = msg->seen;
		return;
	}
	if (type == 0 || f->has_result)
		return;
	const struct report_counts *msg = data;
	f->st = msg->stats;
	f->has_result = type == REPORT_RESULT;
	f->log_lost = msg->log_lost;
	f->log_errno = msg->log_errno;
	if (type == REPORT_PROGRESS)
		run_show_progress(run, 0);
}

/* Stop: no new workers, and the pool ends the running ones now; what they
 * had not finished is not renamed and loads next run. */
static int stop_requested(void *ctx)
{
	struct run *run = ctx;
	int sig = signals_take_pending();

	if (!run->stopping && sig) {
		size_t n = run->running + run->repairs_running;
		run->stopping = 1;
		log_warn("Stopping on signal %d: %zu worker%s interrupted; a second signal ends "
			 "everything at once",
			 sig, n, n == 1 ? "" : "s");
	}
	return run->stopping;
}

void run_worker_end_reason(const struct run *run, pid_t pid, int status, char *why,
			      size_t whylen)
{
	if (WIFSIGNALED(status) && run->stopping)
		snprintf(why, whylen, "interrupted (worker %ld stopped by signal %d)", (long)pid,
			 WTERMSIG(status));
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "worker %ld killed by signal %d", (long)pid, WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		snprintf(why, whylen, "worker %ld exited with status %d", (long)pid,
			 WEXITSTATUS(status));
	else
		snprintf(why, whylen, "worker %ld ended without a report", (long)pid);
}

static void worker_finished(long task, pid_t pid, int status, void *ctx)
{
	struct run *run = ctx;

	if (task >= (long)run->n) {
		(void)stop_requested(run);
		run_repair_finished(run, (size_t)task - run->n, pid, status);
		return;
	}
	long idx = task;
	struct file_run *f = &run->fr[idx];
	char why[128];

	if (pid == 0) {
		snprintf(why, sizeof(why), "cannot start a worker: %s", strerror(status));
		run_fail_file(run, (size_t)idx, why);
		return;
	}
	/* The signal that ended it may be the run's own stop, not yet let in. */
	(void)stop_requested(run);
	run->running--;
	/* Its lost log lines, as last reported: also those of a worker that
	 * died after a progress report. */
	log_failures_add(f->log_lost, f->log_errno);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && f->has_result)
		run_finish_file(run, (size_t)idx, 1);
	else {
		run_worker_end_reason(run, pid, status, why, sizeof(why));
		run_fail_file(run, (size_t)idx, why);
	}
	run_show_progress(run, 1);
}

static void run_forked(struct run *run)
{
	static const struct pool_ops ops = {
		.next_task = next_task,
		.run_task = worker_main,
		.on_started = worker_started,
		.on_message = worker_message,
		.on_finished = worker_finished,
		.stopping = stop_requested,
	};
	int nkids = run->cfg->workers < (long)run->n ? run->cfg->workers : (int)run->n;

	if (run->one_at_a_time)
		nkids = 1;

	if (pool_run(nkids, &ops, run, signals_wait_mask()) < 0) {
		char why[128];
		snprintf(why, sizeof(why), "cannot run workers: %s", strerror(errno));
		log_error("%s", why);
		/* Nothing else will load the files no worker took. */
		for (; run->next < run->n; run->next++)
			run_fail_file(run, run->next, why);
	}
}

/* The run's end, as RUN left it, into R: every consumer reads it there. */
static void report_run(const struct run *run, struct run_report *r)
{
	for (size_t i = 0; i < run->n; i++) {
		const struct file_run *f = &run->fr[i];
		r->files[i] = (struct report_file){
			.name = run->files[i],
			.outcome = renameq_outcome(run->q, i),
			.high_error_rate = f->high_error_rate,
			.gone = f->gone,
			.st = f->st,
			.servers = f->servers,
			.lost = f->lost,
			.late = f->late,
			.repaired = f->repairs > 0,
			.shared_keys = f->shared_keys,
			.resent = f->resent,
		};
	}
	r->n = run->n;
	r->seen = run->seen;
	r->nservers = run->cfg->table.n;
	for (int s = 0; s < r->nservers; s++)
		r->server_names[s] = config_server_addr(run->cfg, s)->spec;
	r->ran = 1;
	r->started = run->wall_started;
	r->seconds = clock_seconds() - run->started;
	r->ended = clock_wall();
	r->signal = signals_stop_requested();
	r->dry = run->cfg->dry;
	r->started_files = run->next;
	r->blocker = renameq_blocker(run->q);
}

int supervisor_run(const struct config *cfg, char **files, size_t n, struct run_report *r)
{
	struct run run;

	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	run.files = files;
	run.n = n;
	run.started = clock_seconds();
	run.wall_started = clock_wall();
	run.fr = calloc(n ? n : 1, sizeof(*run.fr));
	run.seen = calloc((n ? n : 1) * (size_t)cfg->table.n + 1, sizeof(*run.seen));
	run.repair_seen = calloc((n ? n : 1) * (size_t)cfg->table.n + 1, sizeof(*run.seen));
	run.q = renameq_new(n, !cfg->dry);
	r->files = calloc(n ? n : 1, sizeof(*r->files));
	if (run.fr == NULL || run.seen == NULL || run.repair_seen == NULL || run.q == NULL ||
	    r->files == NULL || signals_install(!cfg->serial, pool_kill_all) < 0) {
		log_error("out of memory");
		renameq_free(run.q);
		free(run.repair_seen);
		free(run.seen);
		free(run.fr);
		return -1;
	}
	if (run_keys_open(&run) < 0) {
		run_keys_close(&run);
		renameq_free(run.q);
		free(run.repair_seen);
		free(run.seen);
		free(run.fr);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		run.fr[i].servers = run.seen + i * (size_t)cfg->table.n;
		run.fr[i].repair_servers = run.repair_seen + i * (size_t)cfg->table.n;
	}
	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		if (stat(files[i], &sb) == 0)
			run.bytes_total += (uint64_t)sb.st_size;
	}
	if (!cfg->dry)
		run_find_late(&run);
	if (n == 0)
		; /* nothing to load: the summary says so */
	else if (cfg->serial)
		serial_run(&run);
	else
		run_forked(&run);
	run_settle_abandon(&run);
	run_report_unmended(&run);
	run_keys_close(&run);
	progress_done();
	report_run(&run, r);
	renameq_free(run.q);
	free(run.repair_seen);
	free(run.fr);
	return 0;
}
