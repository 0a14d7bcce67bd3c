/* supervisor.c -- fork, pipes, reaping, and renames in chronological order.
 *
 * Each worker owns the write end of one pipe and sends its file's report
 * through it before it exits; the supervisor owns every read end. End of file
 * on a pipe means the worker is gone, so it is reaped at once: no zombies, and
 * a worker that dies without a report fails its file. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inputs.h"
#include "clock.h"
#include "log.h"
#include "progress.h"
#include "renameq.h"
#include "report.h"
#include "signals.h"
#include "statsjson.h"
#include "supervisor.h"
#include "worker.h"

struct child {
	pid_t pid;
	int fd;     /* read end of the worker's pipe; -1 when the slot is free */
	size_t idx; /* the file it loads */
	struct report_msg msg;
	size_t got; /* bytes of msg received so far */
	int has_result;
	struct file_stats live; /* the latest progress report */
};

struct run {
	const struct config *cfg;
	char **files;
	size_t n;
	struct renameq q;
	struct file_stats total;
	size_t ok, failed, high_rate;
	double started;
	time_t wall_started;
	/* With --stats-json, each file's counts and outcome, else NULL. A file
	 * no worker took stays STATSJSON_NOT_STARTED. */
	struct statsjson_file *report;
	struct child *kids; /* worker slots */
	struct pollfd *pfds;
	int nkids; /* cfg->workers, or fewer when there are fewer files */
	/* For the status line: */
	uint64_t bytes_total;
	struct file_stats serial_live; /* --serial: the file being loaded */
	size_t started_files;          /* files handed to a worker */
};

/* Draw the status line from the finished files and the running ones. */
static void show_progress(struct run *run, int force)
{
	struct progress_view v = {
		.files_done = run->ok + run->failed,
		.files_total = run->n,
		.records = run->total.processed + run->serial_live.processed,
		.bytes_in = run->total.bytes_in + run->serial_live.bytes_in,
		.bytes_total = run->bytes_total,
	};

	for (int i = 0; run->kids != NULL && i < run->nkids; i++) {
		if (run->kids[i].fd < 0)
			continue;
		v.running++;
		v.records += run->kids[i].live.processed;
		v.bytes_in += run->kids[i].live.bytes_in;
	}
	if (run->cfg->serial && v.files_done < v.files_total)
		v.running = 1;
	v.elapsed = clock_seconds() - run->started;
	progress_show(&v, force);
}

static void log_file_counts(const char *path, const struct file_stats *st)
{
	char kinds[512] = "";
	size_t k = 0;

	for (int i = 0; i < ERR_KINDS; i++)
		if (st->by_kind[i] && k < sizeof(kinds))
			k += (size_t)snprintf(kinds + k, sizeof(kinds) - k, " %s=%llu",
					      err_kind_name((enum err_kind)i),
					      (unsigned long long)st->by_kind[i]);
	log_info("Finished %s: lines=%llu processed=%llu errors=%llu%s%s%s blank=%llu "
		 "apps_dropped=%llu coords_dropped=%llu seconds=%.2f",
		 path, (unsigned long long)st->lines, (unsigned long long)st->processed,
		 (unsigned long long)st->errors, kinds[0] ? " (" : "", kinds[0] ? kinds + 1 : "",
		 kinds[0] ? ")" : "", (unsigned long long)st->blank,
		 (unsigned long long)st->apps_dropped, (unsigned long long)st->coords_dropped,
		 st->seconds);
}

static void rename_ready(struct run *run)
{
	long k;

	while ((k = renameq_next(&run->q)) >= 0) {
		const char *path = run->files[k];
		char done[4096];
		int ok = inputs_done_name(path, done, sizeof(done)) == 0 && rename(path, done) == 0;

		if (ok) {
			log_info("Renamed %s to %s", path, done);
		} else {
			int e = errno;
			log_error("Cannot rename %s: %s; it and the files after it load again next run",
				  path, strerror(e));
			if (run->report)
				snprintf(run->report[k].st.failure, sizeof(run->report[k].st.failure),
					 "cannot rename: %s", strerror(e));
		}
		renameq_renamed(&run->q, (size_t)k, ok);
	}
}

/* File IDX is done with ST: COUNTED when a worker reported its counts. */
static void finish_file(struct run *run, size_t idx, const struct file_stats *st, int counted)
{
	const struct config *cfg = run->cfg;
	const char *path = run->files[idx];
	int complete = file_stats_complete(st);
	int high = 0;

	file_stats_add(&run->total, st);
	if (counted)
		log_file_counts(path, st);
	if (st->read_to_end) {
		double rate = file_stats_error_rate(st);
		if (rate <= cfg->max_error_rate && complete) {
			log_info("%s: Acceptable error rate (%.4f). Successful load", path, rate);
		} else if (rate <= cfg->max_error_rate) {
			log_info("%s: Acceptable error rate (%.4f), but not every record was stored",
				 path, rate);
		} else {
			log_error("%s: High error rate (%.4f > %.4f). Failed load", path, rate,
				  cfg->max_error_rate);
			run->high_rate++;
			high = 1;
		}
	}
	if (run->report) {
		run->report[idx].st = *st;
		run->report[idx].status = complete ? STATSJSON_LOADED : STATSJSON_FAILED;
		run->report[idx].high_error_rate = high;
	}
	if (complete) {
		run->ok++;
	} else {
		run->failed++;
		log_error("%s failed: %s; not renamed", path, st->failure[0] ? st->failure : "unknown error");
	}
	if (cfg->dry)
		return;
	renameq_finish(&run->q, idx, complete);
	rename_ready(run);
}

/* Fail file IDX without a worker report (fork failed, worker died). */
static void fail_file(struct run *run, size_t idx, const char *why)
{
	struct file_stats st;

	memset(&st, 0, sizeof(st));
	snprintf(st.failure, sizeof(st.failure), "%s", why);
	finish_file(run, idx, &st, 0);
}

/* A forked worker's progress goes up its pipe; a lost report is harmless. */
static void send_progress(const struct file_stats *so_far, void *ctx)
{
	struct report_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.type = REPORT_PROGRESS;
	msg.stats = *so_far;
	report_write(*(int *)ctx, &msg);
}

/* In a new worker: drop what belongs to the supervisor (the other workers'
 * pipes, its own tables), then load the file and report. */
static void worker_main(struct run *run, size_t idx, int fd)
{
	struct report_msg msg;
	const struct config *cfg = run->cfg;
	const char *path = run->files[idx];

	signals_reset_in_child();
	for (int i = 0; i < run->nkids; i++)
		if (run->kids[i].fd >= 0)
			close(run->kids[i].fd);
	free(run->kids);
	free(run->pfds);
	free(run->report);
	renameq_free(&run->q);

	memset(&msg, 0, sizeof(msg));
	msg.type = REPORT_RESULT;
	worker_run(cfg, path, &msg.stats, send_progress, &fd);
	/* _exit: the parent's stdio buffers and atexit handlers are not ours. */
	_exit(report_write(fd, &msg) == 0 ? 0 : 3);
}

static int spawn(struct run *run, struct child *slot, size_t idx)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		worker_main(run, idx, fds[1]);
	}
	close(fds[1]);
	memset(slot, 0, sizeof(*slot));
	signals_track((int)(slot - run->kids), pid);
	slot->pid = pid;
	slot->fd = fds[0];
	slot->idx = idx;
	log_info("Started %s (worker pid %ld)", run->files[idx], (long)pid);
	return 0;
}

/* Read what the worker sent: 1 at end of file, 2 after a progress report,
 * 0 otherwise. A result stays in c->msg; progress reports go to c->live. */
static int drain(struct child *c)
{
	for (;;) {
		char *buf = (char *)&c->msg;
		ssize_t n = read(c->fd, buf + c->got, sizeof(c->msg) - c->got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : 1;
		if (n == 0)
			return 1;
		c->got += (size_t)n;
		if (c->got == sizeof(c->msg)) {
			c->got = 0;
			if (c->msg.type == REPORT_RESULT) {
				c->has_result = 1;
			} else if (c->msg.type == REPORT_PROGRESS) {
				c->live = c->msg.stats;
				return 2;
			}
		}
		return 0;
	}
}

static void reap(struct run *run, struct child *c)
{
	int status = 0;
	pid_t r;
	char why[128];

	close(c->fd);
	c->fd = -1;
	do
		r = waitpid(c->pid, &status, 0);
	while (r < 0 && errno == EINTR);
	signals_track((int)(c - run->kids), 0);

	if (r == c->pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 && c->has_result) {
		finish_file(run, c->idx, &c->msg.stats, 1);
		return;
	}
	if (r == c->pid && WIFSIGNALED(status) && signals_stop_requested())
		snprintf(why, sizeof(why), "interrupted (worker %ld stopped by signal %d)", (long)c->pid,
			 WTERMSIG(status));
	else if (r == c->pid && WIFSIGNALED(status))
		snprintf(why, sizeof(why), "worker %ld killed by signal %d", (long)c->pid, WTERMSIG(status));
	else if (r == c->pid && WIFEXITED(status) && WEXITSTATUS(status) != 0)
		snprintf(why, sizeof(why), "worker %ld exited with status %d", (long)c->pid,
			 WEXITSTATUS(status));
	else
		snprintf(why, sizeof(why), "worker %ld ended without a report", (long)c->pid);
	fail_file(run, c->idx, why);
}

static void run_forked(struct run *run)
{
	int nkids = run->nkids;
	size_t next = 0;
	int running = 0;

	run->kids = calloc((size_t)nkids, sizeof(*run->kids));
	run->pfds = calloc((size_t)nkids, sizeof(*run->pfds));
	if (run->kids == NULL || run->pfds == NULL) {
		log_error("out of memory");
		for (; next < run->n; next++)
			fail_file(run, next, "out of memory");
		goto out;
	}
	for (int i = 0; i < nkids; i++)
		run->kids[i].fd = -1;

	int stopping = 0;
	while ((next < run->n && !stopping) || running > 0) {
		struct child *kids = run->kids;
		struct pollfd *pfds = run->pfds;

		if (signals_stop_requested() && !stopping) {
			/* Stop: no new workers, and the running ones end now; what
			 * they had not finished is not renamed and loads next run. */
			stopping = 1;
			log_warn("Stopping on signal %d: %d workers interrupted; a second signal ends "
				 "everything at once",
				 signals_stop_requested(), running);
			for (int i = 0; i < nkids; i++)
				if (kids[i].fd >= 0)
					kill(kids[i].pid, SIGTERM);
		}
		for (int i = 0; i < nkids && next < run->n && !stopping; i++) {
			if (kids[i].fd >= 0)
				continue;
			if (spawn(run, &kids[i], next) < 0) {
				char why[128];
				snprintf(why, sizeof(why), "cannot start a worker: %s", strerror(errno));
				fail_file(run, next++, why);
				continue;
			}
			next++;
			run->started_files = next;
			running++;
		}
		if (running == 0)
			continue;

		int np = 0;
		for (int i = 0; i < nkids; i++) {
			if (kids[i].fd < 0)
				continue;
			pfds[np].fd = kids[i].fd;
			pfds[np].events = POLLIN;
			pfds[np].revents = 0;
			np++;
		}
		/* Signals are unblocked only while waiting here, so a stop request
		 * either wakes this wait or is seen at the top of the loop. */
		if (ppoll(pfds, (nfds_t)np, NULL, signals_wait_mask()) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			break;
		}
		for (int i = 0, p = 0; i < nkids; i++) {
			if (kids[i].fd < 0)
				continue;
			if (pfds[p++].revents == 0)
				continue;
			int got = drain(&kids[i]);
			if (got == 1) {
				reap(run, &kids[i]);
				running--;
				show_progress(run, 1);
			} else if (got == 2) {
				show_progress(run, 0);
			}
		}
	}
out:
	free(run->kids);
	free(run->pfds);
	run->kids = NULL;
	run->pfds = NULL;
}

static void serial_progress(const struct file_stats *so_far, void *ctx)
{
	struct run *run = ctx;

	run->serial_live = *so_far;
	show_progress(run, 0);
}

static void run_serial(struct run *run)
{
	for (size_t i = 0; i < run->n && !signals_stop_requested(); i++) {
		struct file_stats st;

		run->started_files = i + 1;
		log_info("Started %s", run->files[i]);
		worker_run(run->cfg, run->files[i], &st, serial_progress, run);
		memset(&run->serial_live, 0, sizeof(run->serial_live));
		finish_file(run, i, &st, 1);
		show_progress(run, 1);
	}
}

static void log_summary(struct run *run)
{
	double secs = clock_seconds() - run->started;
	size_t held = 0, renamed = 0;

	if (!run->cfg->dry) {
		long blocker = renameq_blocker(&run->q);
		for (size_t i = 0; i < run->n; i++) {
			renamed += run->q.state[i] == FILE_RENAMED;
			if (!renameq_held_back(&run->q, i))
				continue;
			held++;
			log_warn("Held back %s: earlier file %s was not renamed; both load again next run",
				 run->files[i], run->files[blocker]);
		}
	}
	if (signals_stop_requested())
		log_warn("Stopped by signal %d: %zu files not started; they and every file not "
			 "renamed load again next run",
			 signals_stop_requested(), run->n - run->started_files);
	log_info("Summary: files %zu, loaded %zu, failed %zu, renamed %zu, held back %zu, "
		 "high error rate %zu; lines %llu, processed %llu, errors %llu; %.2f s, %.0f records/s",
		 run->n, run->ok, run->failed, renamed, held, run->high_rate,
		 (unsigned long long)run->total.lines, (unsigned long long)run->total.processed,
		 (unsigned long long)run->total.errors, secs,
		 secs > 0 ? (double)run->total.processed / secs : 0.0);
}

/* Write the --stats-json report; returns STATUS, or 1 instead of 0 when the
 * report cannot be written. */
static int write_stats(struct run *run, int status)
{
	struct statsjson_run sr;
	char err[1024];
	sigset_t block, old;
	int rc;

	for (size_t i = 0; i < run->n; i++) {
		struct statsjson_file *f = &run->report[i];

		f->name = run->files[i];
		if (run->cfg->dry)
			continue; /* finish_file's LOADED or FAILED stands */
		switch (run->q.state[i]) {
		case FILE_RENAMED:
			f->status = STATSJSON_RENAMED;
			break;
		case FILE_FAILED:
			f->status = STATSJSON_FAILED;
			break;
		case FILE_LOADED:
			f->status = renameq_held_back(&run->q, i) ? STATSJSON_HELD_BACK
								   : STATSJSON_LOADED;
			break;
		case FILE_PENDING:
			break;
		}
	}
	memset(&sr, 0, sizeof(sr));
	sr.started = run->wall_started;
	sr.seconds = clock_seconds() - run->started;
	sr.exit_status = status;
	sr.signal = signals_stop_requested();
	sr.dry = run->cfg->dry;
	sr.files = run->report;
	sr.n = run->n;
	/* A second signal ends the run at once: after the report, not halfway
	 * through it with a temporary file left behind. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	rc = statsjson_write(run->cfg->stats_json, &sr, err, sizeof(err));
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		log_error("%s", err);
		return status == 0 ? 1 : status;
	}
	return status;
}

int supervisor_run(const struct config *cfg, char **files, size_t n)
{
	struct run run;
	int status;

	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	run.files = files;
	run.n = n;
	run.started = clock_seconds();
	run.wall_started = time(NULL);
	run.nkids = cfg->workers < (long)n ? cfg->workers : (int)n;
	if (cfg->stats_json)
		run.report = calloc(n ? n : 1, sizeof(*run.report));
	if (renameq_init(&run.q, n) < 0 || (cfg->stats_json && run.report == NULL) ||
	    signals_install(run.nkids, !cfg->serial) < 0) {
		log_error("out of memory");
		renameq_free(&run.q);
		free(run.report);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		if (stat(files[i], &sb) == 0)
			run.bytes_total += (uint64_t)sb.st_size;
	}
	if (cfg->serial)
		run_serial(&run);
	else
		run_forked(&run);
	progress_done();
	log_summary(&run);

	status = run.failed == 0 && run.high_rate == 0 ? 0 : 1;
	if (!cfg->dry)
		for (size_t i = 0; i < n; i++)
			if (run.q.state[i] != FILE_RENAMED)
				status = 1;
	if (signals_stop_requested())
		status = 128 + signals_stop_requested();
	if (cfg->stats_json)
		status = write_stats(&run, status);
	renameq_free(&run.q);
	free(run.report);
	return status;
}
