/* supervisor.c -- the run's policy: which file loads next, what a worker's
 * report means for its file, and renames in chronological order.
 *
 * The mechanism (fork, pipes, polling, reaping) is pool.c's; the rename-
 * order rule and each file's outcome are renameq.c's; loading a file is
 * worker.c's, in a forked child or, with --serial, right here; the summary
 * and exit status are summary.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "inputs.h"
#include "lock.h"
#include "log.h"
#include "pool.h"
#include "progress.h"
#include "renameq.h"
#include "report.h"
#include "restarts.h"
#include "signals.h"
#include "summary.h"
#include "supervisor.h"
#include "worker.h"

struct run {
	const struct config *cfg;
	char **files;
	size_t n;
	struct file_run *fr;
	struct renameq *q;
	size_t next;    /* the next file to start */
	size_t running; /* files being loaded now */
	int stopping;
	double started;
	double wall_started;
	uint64_t bytes_total; /* for the status line */
	struct restarts restarts;
};

static const char *server_spec(const struct config *cfg, int server)
{
	return cfg->servers[server / MAX_POOL].addr[server % MAX_POOL].spec;
}

/* restarts.h's callback: a later file met a newer process of SERVER than
 * OLD, so the renamed files whose records went to OLD lost them. */
static void server_restarted(int server, const struct server_seen *old,
			     const struct server_seen *now, void *ctx)
{
	struct run *run = ctx;

	for (size_t k = 0; k < run->n; k++) {
		struct file_run *f = &run->fr[k];

		if (renameq_outcome(run->q, k) != OUTCOME_RENAMED ||
		    !restarts_same(&f->st.servers[server], old))
			continue;
		server_set_add(&f->lost, server);
		log_warn("%s restarted (pid %u, now pid %u) after %s was renamed: the file's records "
			 "there are lost; rename its .NAME back to load it again",
			 server_spec(run->cfg, server), (unsigned)old->pid, (unsigned)now->pid,
			 run->files[k]);
	}
}

/* Draw the status line from the finished files and the running ones. */
static void show_progress(struct run *run, int force)
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

/* Rename FILES[K] to its done name, if it is still the file that was
 * loaded. 0, or -1 after saying why not. */
static int rename_loaded(struct run *run, size_t k)
{
	const char *path = run->files[k];
	struct file_run *f = &run->fr[k];
	char done[4096], why[sizeof(f->st.failure)];
	int stale = restarts_stale(&run->restarts, f->st.servers);

	if (stale >= 0) {
		snprintf(why, sizeof(why),
			 "%s restarted after the file was loaded, and lost its records there",
			 server_spec(run->cfg, stale));
		log_error("%s: %s; not renamed, it loads again next run", path, why);
		snprintf(f->st.failure, sizeof(f->st.failure), "%s", why);
		return -1;
	}
	if (f->st.has_id && inputs_check_unchanged(path, &f->st.opened, why, sizeof(why)) < 0) {
		f->gone = access(path, F_OK) != 0;
		log_error("%s %s; not renamed%s", path, why,
			  f->gone ? "" : ", it loads again next run");
		snprintf(f->st.failure, sizeof(f->st.failure), "%s", why);
		return -1;
	}
	if (inputs_done_name(path, done, sizeof(done)) < 0) {
		errno = ENAMETOOLONG;
	} else if (rename(path, done) == 0) {
		log_info("Renamed %s to %s", path, done);
		return 0;
	}
	snprintf(why, sizeof(why), "cannot rename: %s", strerror(errno));
	log_error("Cannot rename %s: %s; it and the files after it load again next run", path,
		  why + strlen("cannot rename: "));
	snprintf(f->st.failure, sizeof(f->st.failure), "%s", why);
	return -1;
}

static void rename_ready(struct run *run)
{
	long k;

	while ((k = renameq_next(run->q)) >= 0)
		renameq_renamed(run->q, (size_t)k, rename_loaded(run, (size_t)k) == 0);
}

/* File IDX is done; its final counts are in run->fr[IDX].st. COUNTED when a
 * worker reported them. */
static void finish_file(struct run *run, size_t idx, int counted)
{
	const struct config *cfg = run->cfg;
	struct file_run *f = &run->fr[idx];
	const char *path = run->files[idx];
	int complete = file_stats_complete(&f->st);

	f->running = 0;
	if (counted) {
		summary_log_file(path, &f->st);
		restarts_add(&run->restarts, f->st.servers, server_restarted, run);
	}
	if (f->st.read_to_end) {
		double rate = file_stats_error_rate(&f->st);
		if (rate <= cfg->max_error_rate && complete) {
			log_info("%s: Acceptable error rate (%.4f). Successful load", path, rate);
		} else if (rate <= cfg->max_error_rate) {
			log_info("%s: Acceptable error rate (%.4f), but not every record was stored",
				 path, rate);
		} else {
			log_error("%s: High error rate (%.4f > %.4f). Failed load", path, rate,
				  cfg->max_error_rate);
			f->high_error_rate = 1;
		}
	}
	if (!complete)
		log_error("%s failed: %s; not renamed", path,
			  f->st.failure[0] ? f->st.failure : "unknown error");
	renameq_finish(run->q, idx, complete);
	rename_ready(run);
}

/* Fail file IDX without a worker's counts (no worker, or it died). */
static void fail_file(struct run *run, size_t idx, const char *why)
{
	memset(&run->fr[idx].st, 0, sizeof(run->fr[idx].st));
	snprintf(run->fr[idx].st.failure, sizeof(run->fr[idx].st.failure), "%s", why);
	finish_file(run, idx, 0);
}

/* ---- the pool's callbacks: one forked worker per file ---- */

static long next_file(void *ctx)
{
	struct run *run = ctx;

	return run->next < run->n ? (long)run->next++ : -1;
}

static void worker_started(long idx, pid_t pid, void *ctx)
{
	struct run *run = ctx;

	run->fr[idx].running = 1;
	run->running++;
	log_info("Started %s (worker pid %ld)", run->files[idx], (long)pid);
}

/* A forked worker's progress goes up its pipe; a lost report is harmless.
 * It never asks the worker to stop: a stopping supervisor sends SIGTERM. */
static int send_progress(const struct file_stats *so_far, void *ctx)
{
	struct report_msg msg;

	if (so_far == NULL)
		return 0;
	memset(&msg, 0, sizeof(msg));
	msg.type = REPORT_PROGRESS;
	msg.stats = *so_far;
	msg.log_lost = log_failures(&msg.log_errno);
	pool_send(*(int *)ctx, &msg, sizeof(msg));
	return 0;
}

/* In the new worker: load the file, and report. */
static int worker_main(long idx, int fd, void *ctx)
{
	const struct run *run = ctx;
	struct report_msg msg;

	signals_reset_in_child();
	log_failures_reset();
	/* The lock is the supervisor's: a worker that outlived a killed
	 * supervisor would otherwise keep it, and every later run would wait. */
	lock_drop_inherited();
	memset(&msg, 0, sizeof(msg));
	msg.type = REPORT_RESULT;
	worker_run(run->cfg, run->files[idx], &msg.stats, send_progress, &fd);
	msg.log_lost = log_failures(&msg.log_errno);
	return pool_send(fd, &msg, sizeof(msg)) == 0 ? 0 : 3;
}

static void worker_message(long idx, const void *data, void *ctx)
{
	struct run *run = ctx;
	const struct report_msg *msg = data;
	struct file_run *f = &run->fr[idx];

	if (msg->type == REPORT_RESULT) {
		f->st = msg->stats;
		f->has_result = 1;
	} else if (msg->type == REPORT_PROGRESS && !f->has_result) {
		f->st = msg->stats;
		show_progress(run, 0);
	} else {
		return;
	}
	f->log_lost = msg->log_lost;
	f->log_errno = msg->log_errno;
}

static void worker_finished(long idx, pid_t pid, int status, void *ctx)
{
	struct run *run = ctx;
	struct file_run *f = &run->fr[idx];
	char why[128];

	if (pid == 0) {
		snprintf(why, sizeof(why), "cannot start a worker: %s", strerror(status));
		fail_file(run, (size_t)idx, why);
		return;
	}
	run->running--;
	/* Its lost log lines, as last reported: also those of a worker that
	 * died after a progress report. */
	log_failures_add(f->log_lost, f->log_errno);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && f->has_result)
		finish_file(run, (size_t)idx, 1);
	else {
		if (WIFSIGNALED(status) && run->stopping)
			snprintf(why, sizeof(why), "interrupted (worker %ld stopped by signal %d)",
				 (long)pid, WTERMSIG(status));
		else if (WIFSIGNALED(status)) {
			snprintf(why, sizeof(why), "worker %ld killed by signal %d", (long)pid,
				 WTERMSIG(status));
			f->killed_by = WTERMSIG(status);
			f->killed_pid = (long)pid;
		}
		else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			snprintf(why, sizeof(why), "worker %ld exited with status %d", (long)pid,
				 WEXITSTATUS(status));
		else
			snprintf(why, sizeof(why), "worker %ld ended without a report", (long)pid);
		fail_file(run, (size_t)idx, why);
	}
	show_progress(run, 1);
}

/* Workers the stop signal SIG ended before the supervisor got it (a signal
 * to every process of the run: pkill, a process group) were interrupted
 * like the others; their files say so. How many. */
static size_t interrupted_before(struct run *run, int sig)
{
	size_t n = 0;

	for (size_t i = 0; i < run->next; i++) {
		struct file_run *f = &run->fr[i];
		if (f->killed_by != sig)
			continue;
		snprintf(f->st.failure, sizeof(f->st.failure),
			 "interrupted (worker %ld stopped by signal %d)", f->killed_pid, sig);
		f->killed_by = 0;
		n++;
	}
	return n;
}

/* Stop: no new workers, and the pool ends the running ones now; what they
 * had not finished is not renamed and loads next run. */
static int stop_requested(void *ctx)
{
	struct run *run = ctx;
	int sig = signals_stop_requested();

	if (!run->stopping && sig) {
		size_t n = run->running + interrupted_before(run, sig);
		run->stopping = 1;
		log_warn("Stopping on signal %d: %zu worker%s interrupted; a second signal ends "
			 "everything at once",
			 sig, n, n == 1 ? "" : "s");
	}
	return run->stopping;
}

static void run_forked(struct run *run)
{
	static const struct pool_ops ops = {
		.next_task = next_file,
		.run_task = worker_main,
		.on_started = worker_started,
		.on_message = worker_message,
		.on_finished = worker_finished,
		.stopping = stop_requested,
	};
	int nkids = run->cfg->workers < (long)run->n ? run->cfg->workers : (int)run->n;

	if (pool_run(nkids, sizeof(struct report_msg), &ops, run, signals_wait_mask()) < 0) {
		char why[128];
		snprintf(why, sizeof(why), "cannot run workers: %s", strerror(errno));
		log_error("%s", why);
		/* Nothing else will load the files no worker took. */
		for (; run->next < run->n; run->next++)
			fail_file(run, run->next, why);
	}
}

/* ---- --serial: every file in this process, one after another ---- */

static int serial_progress(const struct file_stats *so_far, void *ctx)
{
	struct run *run = ctx;

	if (so_far != NULL) {
		run->fr[run->next - 1].st = *so_far;
		show_progress(run, 0);
	}
	return signals_stop_requested();
}

static void run_serial(struct run *run)
{
	while (run->next < run->n && !signals_stop_requested()) {
		size_t i = run->next++;
		struct file_stats st;

		run->fr[i].running = 1;
		run->running = 1;
		log_info("Started %s", run->files[i]);
		/* Not into fr[i].st: serial_progress writes there meanwhile. */
		worker_run(run->cfg, run->files[i], &st, serial_progress, run);
		run->fr[i].st = st;
		run->running = 0;
		finish_file(run, i, 1);
		show_progress(run, 1);
	}
}

int supervisor_run(const struct config *cfg, char **files, size_t n, int inputs_lost,
		   struct metrics_run *m)
{
	struct run run;
	int status;

	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	run.files = files;
	run.n = n;
	run.started = clock_seconds();
	run.wall_started = clock_wall();
	run.fr = calloc(n ? n : 1, sizeof(*run.fr));
	run.q = renameq_new(n, !cfg->dry);
	if (run.fr == NULL || run.q == NULL || signals_install(!cfg->serial, pool_kill_all) < 0) {
		log_error("out of memory");
		renameq_free(run.q);
		free(run.fr);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		if (stat(files[i], &sb) == 0)
			run.bytes_total += (uint64_t)sb.st_size;
	}
	if (n == 0)
		; /* nothing to load: the summary says so */
	else if (cfg->serial)
		run_serial(&run);
	else
		run_forked(&run);
	progress_done();
	struct run_summary sum = {
		.cfg = cfg,
		.files = files,
		.fr = run.fr,
		.q = run.q,
		.n = n,
		.started_files = run.next,
		.signal = signals_stop_requested(),
		.seconds = clock_seconds() - run.started,
		.wall_started = run.wall_started,
		.inputs_lost = inputs_lost,
	};
	status = summary_finish(&sum, m);
	renameq_free(run.q);
	free(run.fr);
	return status;
}
