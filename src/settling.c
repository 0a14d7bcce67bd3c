/* settling.c -- newest wins: the run's side of keys/settle.h. Which repair
 * starts next, what a repair's end does, and the key digests on disk: one
 * private directory per run, each file's digests dropped as soon as the
 * rule no longer needs them, and what a killed run left removed. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keys/digest.h"
#include "log.h"
#include "run.h"

#define KEYDIR_PREFIX "memc_load-keys."

static const char *temp_dir(void)
{
	const char *t = getenv("TMPDIR");

	return t != NULL && t[0] != '\0' ? t : "/tmp";
}

/* Remove DIR and the digests in it. */
static void remove_keydir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4200];

	if (d == NULL)
		return;
	/* readdir_r is deprecated; one stream per thread makes readdir safe. */
	// cppcheck-suppress readdirCalled
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(dir);
}

/* The digest directories of runs that were killed: ours (by owner), named
 * for a process that no longer exists. */
static void remove_stale_keydirs(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *e;
	char path[4200];

	if (d == NULL)
		return;
	/* readdir_r is deprecated; one stream per thread makes readdir safe. */
	// cppcheck-suppress readdirCalled
	while ((e = readdir(d)) != NULL) {
		char *end;
		struct stat sb;

		if (strncmp(e->d_name, KEYDIR_PREFIX, strlen(KEYDIR_PREFIX)) != 0)
			continue;
		errno = 0;
		long pid = strtol(e->d_name + strlen(KEYDIR_PREFIX), &end, 10);
		if (errno != 0 || *end != '.' || pid <= 0 || pid > INT_MAX ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name) >= (int)sizeof(path) ||
		    lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid())
			continue;
		log_info("Removing the key digests of a run that was stopped (pid %ld): %s", pid, path);
		remove_keydir(path);
	}
	closedir(d);
}

int run_keys_open(struct run *run)
{
	const struct config *cfg = run->cfg;

	if (cfg->dry)
		return 0; /* nothing is stored: nothing to settle */
	run->held = calloc(run->n * (size_t)cfg->table.n + 1, sizeof(*run->held));
	for (size_t i = 0; run->held != NULL && i < run->n; i++)
		run->fr[i].held = run->held + i * (size_t)cfg->table.n;
	run->settle = run->held ? settle_new(run->n) : NULL;
	run->src = run->settle ? calloc(settle_max_sources(run->settle) + 1, sizeof(*run->src))
			       : NULL;
	if (run->src == NULL) {
		log_error("out of memory");
		return -1;
	}
	const char *tmp = temp_dir();
	remove_stale_keydirs(tmp);
	/* One load at a time overlaps nothing: no digest is ever read. */
	if (cfg->serial || cfg->workers < 2 || run->n < 2)
		return 0;
	int n = snprintf(run->keydir, sizeof(run->keydir), "%s/" KEYDIR_PREFIX "%ld.XXXXXX", tmp,
			 (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(run->keydir) - 32 || mkdtemp(run->keydir) == NULL) {
		/* Loads side by side would leave older values without their
		 * digests; one at a time they need none. */
		log_warn("Cannot make a directory for the key digests in %s (%s): loading one file "
			 "at a time, which needs none; set TMPDIR to a writable directory",
			 tmp,
			 n < 0 || (size_t)n >= sizeof(run->keydir) - 32 ? "path too long"
									 : strerror(errno));
		run->keydir[0] = '\0';
		run->one_at_a_time = 1;
	}
	return 0;
}

void run_keys_close(struct run *run)
{
	if (run->keydir[0] != '\0')
		remove_keydir(run->keydir);
	run->keydir[0] = '\0';
	settle_free(run->settle);
	run->settle = NULL;
	free(run->src);
	run->src = NULL;
	free(run->held);
	run->held = NULL;
	for (size_t i = 0; i < run->n; i++)
		run->fr[i].held = NULL;
}

void run_digest_path(const struct run *run, size_t idx, enum settle_kind kind, char *out,
		     size_t outlen)
{
	snprintf(out, outlen, "%s/%c%zu", run->keydir, kind == SETTLE_LOAD ? 'L' : 'R', idx);
}

/* Remove file IDX's digests, once nothing can ask for them again: the disk
 * holds only the keys of files not yet settled and of those they overlapped. */
static void drop_digests(struct run *run, size_t idx)
{
	struct file_run *f = &run->fr[idx];
	char path[4200];

	if (!f->digests || settle_keys_needed(run->settle, idx))
		return;
	run_digest_path(run, idx, SETTLE_LOAD, path, sizeof(path));
	digest_remove(&(struct digest_ref){path, f->load_runs});
	run_digest_path(run, idx, SETTLE_REPAIR, path, sizeof(path));
	digest_remove(&(struct digest_ref){path, f->repair_runs});
	f->digests = 0;
}

void run_drop_digests(struct run *run)
{
	if (run->settle == NULL || run->keydir[0] == '\0')
		return;
	for (size_t i = 0; i < run->next; i++)
		drop_digests(run, i);
}

/* The newest done name (".NAME" without its dot) in DIR that looks like
 * BASE (same length, same extension), into OUT; "" when none. */
static void newest_done(const char *dir, const char *base, char *out, size_t outlen)
{
	const char *ext = strchr(base, '.');
	DIR *d = opendir(dir[0] ? dir : ".");
	struct dirent *e;

	out[0] = '\0';
	if (d == NULL)
		return;
	/* readdir_r is deprecated; one stream per thread makes readdir safe. */
	// cppcheck-suppress readdirCalled
	while ((e = readdir(d)) != NULL) {
		const char *name = e->d_name + 1, *dot = strchr(name, '.');
		if (e->d_name[0] != '.' || strlen(name) != strlen(base) || dot == NULL ||
		    ext == NULL || strcmp(dot, ext) != 0 || strcmp(name, out) <= 0 ||
		    strlen(name) >= outlen)
			continue;
		snprintf(out, outlen, "%s", name);
	}
	closedir(d);
}

void run_find_late(struct run *run)
{
	char dir[4096] = "", done[256] = "", cached[4096 + 256] = "\1";

	for (size_t i = 0; i < run->n; i++) {
		const char *path = run->files[i], *slash = strrchr(path, '/');
		const char *base = slash ? slash + 1 : path;
		size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
		char key[sizeof(cached)];

		if (dirlen >= sizeof(dir) || strlen(base) >= sizeof(done))
			continue;
		memcpy(dir, path, dirlen);
		dir[dirlen] = '\0';
		/* One scan per directory and shape of name: files come in order. */
		snprintf(key, sizeof(key), "%s\n%zu%s", dir, strlen(base),
			 strchr(base, '.') ? strchr(base, '.') : "");
		if (strcmp(key, cached) != 0) {
			newest_done(dir, base, done, sizeof(done));
			snprintf(cached, sizeof(cached), "%s", key);
		}
		if (done[0] == '\0' || strcmp(base, done) >= 0)
			continue;
		run->fr[i].late = 1;
		log_warn("%s is older than %s%s, which an earlier run loaded: loading it now overwrites "
			 "that file's newer values of the keys both have; to keep the newest, rename "
			 "%s.%s back to %s%s so that it loads again after this one",
			 path, dir, done, dir, done, dir, done);
	}
}

long run_next_repair(struct run *run)
{
	long idx;

	if (run->settle == NULL)
		return -1;
	while ((idx = settle_next_repair(run->settle, run->src, &run->nsrc, &run->resend)) >= 0) {
		if (run->keydir[0] != '\0' || run->nsrc == 0)
			return RUN_REPAIR_TASK(run, (size_t)idx);
		/* Cannot be: without digests no two activities overlap. */
		run_repair_ended(run, (size_t)idx, 0, "no key digests were kept");
	}
	return -1;
}

void run_repair_started(struct run *run, long task, long pid)
{
	size_t idx = (size_t)task - run->n;
	struct file_run *f = &run->fr[idx];

	run->repairs_running++;
	f->has_repair_result = 0;
	f->repair_keyed = run->nsrc > 0;
	f->repair_resend = run->resend;
	settle_started(run->settle, idx, SETTLE_REPAIR);
	if (run->nsrc > 0)
		log_debug("Repairing %s (worker pid %ld): re-sending its records of the keys that "
			  "%zu older load%s or repair%s overlapping it also stored",
			  run->files[idx], pid, run->nsrc, run->nsrc == 1 ? "" : "s",
			  run->nsrc == 1 ? "" : "s");
	if (!server_set_empty(&run->resend))
		log_info("Re-sending %s's records to the servers that lost them, or to which an "
			 "older file's were re-sent while it loaded (worker pid %ld)",
			 run->files[idx], pid);
}

void run_repair_ended(struct run *run, size_t idx, int ok, const char *why)
{
	struct file_run *f = &run->fr[idx];
	int settled = settle_done(run->settle, idx); /* a mend */

	run->repairs_running--;
	settle_ended(run->settle, idx, SETTLE_REPAIR, ok);
	if (!ok && settled) {
		log_error("%s: re-sending its records failed: %s", run->files[idx], why);
	} else if (!ok) {
		f->repair_failed = 1;
		snprintf(f->st.failure, sizeof(f->st.failure), "its repair failed: %s", why);
		log_error("%s: its repair failed: %s; not renamed, it and the files after it load "
			  "again next run",
			  run->files[idx], why);
	}
	run_settle(run);
}

/* A repair's messages: its servers, and its result. */
void run_repair_message(struct run *run, struct file_run *f, const void *data,
			enum report_type type)
{
	if (type == REPORT_SERVER) {
		const struct report_server *msg = data;
		if (msg->server < (uint32_t)run->cfg->table.n)
			f->repair_servers[msg->server] = msg->seen;
	} else if (type == REPORT_RESULT && !f->has_repair_result) {
		const struct report_counts *msg = data;
		f->repair = msg->stats;
		if (f->repair_keyed)
			f->repair_runs = msg->stats.digest_runs;
		f->has_repair_result = 1;
		f->repairs++;
		f->shared_keys += msg->stats.repair_keys;
		f->resent += msg->stats.processed;
		log_failures_add(msg->log_lost, msg->log_errno);
	}
}

void run_repair_finished(struct run *run, size_t idx, pid_t pid, int status)
{
	struct file_run *f = &run->fr[idx];
	char why[sizeof(f->repair.failure)];

	if (pid == 0)
		snprintf(why, sizeof(why), "cannot start a worker: %s", strerror(status));
	else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0 && f->has_repair_result))
		run_worker_end_reason(run, pid, status, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", f->repair.failure);
	int ok = pid != 0 && f->has_repair_result && file_stats_complete(&f->repair);
	if (f->has_repair_result) {
		/* A restart it met is mended like a load's. */
		run_servers_seen(run, idx, f->repair_servers, &f->repair_resend);
		/* Most overlapping files share no key: say so only at debug level. */
		if (f->repair.repair_keys > 0)
			log_info("Repaired %s: %llu of its keys were also stored by older files "
				 "loading beside it; %llu records re-sent",
				 run->files[idx], (unsigned long long)f->repair.repair_keys,
				 (unsigned long long)f->repair.processed);
		else
			log_debug("Repaired %s: no key shared with the older files loading beside it",
				  run->files[idx]);
	}
	run_repair_ended(run, idx, ok, why);
	run_show_progress(run, 1);
}
