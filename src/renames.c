/* renames.c -- what becomes of a finished file: renamed in chronological
 * order (renameq.h), failed, or set aside (badinput.h); and which files a
 * server that restarted lost the records of (restarts.h), to be re-sent
 * (keys/settle.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileid.h"
#include "badinput.h"
#include "inputs.h"
#include "log.h"
#include "run.h"
#include "summary.h"

static const char *server_spec(const struct config *cfg, int server)
{
	return config_server_addr(cfg, server)->spec;
}

/* FILE K's records on SERVER are gone: the rule has them re-sent. */
static void lose(struct run *run, size_t k, int server, const char *how)
{
	if (run->settle == NULL)
		return;
	memset(&run->fr[k].held[server], 0, sizeof(run->fr[k].held[server]));
	settle_lost(run->settle, k, server);
	log_info("%s: %s %s; its records there are sent again", run->files[k],
		 server_spec(run->cfg, server), how);
}

/* restarts.h's callback: a newer process of SERVER than OLD was met, so
 * the files whose records went to an older one lost them. */
static void server_restarted(int server, const struct server_span *old,
			     const struct server_span *now, void *ctx)
{
	struct run *run = ctx;

	log_warn("%s restarted (pid %u, now pid %u): the records this run stored there are sent "
		 "again",
		 server_spec(run->cfg, server), (unsigned)old->pid, (unsigned)now->pid);
	for (size_t k = 0; run->held != NULL && k < run->n; k++) {
		const struct server_span *held = &run->fr[k].held[server];
		if (held->pid != 0 && !restarts_same(held, now))
			lose(run, k, server, "restarted after the file's records went there");
	}
}

void run_servers_met(struct run *run, const struct server_seen *seen)
{
	for (int s = 0; s < run->cfg->table.n; s++)
		if (seen[s].last.pid != 0)
			run->checked_at[s] = run->activities_ended;
	restarts_add(&run->restarts, seen, run->cfg->table.n, server_restarted, run);
}

void run_servers_seen(struct run *run, size_t idx, const struct server_seen *seen,
		      const struct server_set *resent)
{
	struct file_run *f = &run->fr[idx];

	run->activities_ended++;
	run_servers_met(run, seen);
	for (int s = 0; f->held != NULL && s < run->cfg->table.n; s++) {
		const struct server_seen *x = &seen[s];
		if (x->first.pid == 0)
			continue;
		if (resent == NULL || server_set_has(resent, s))
			f->held[s] = x->first;
		/* Records sent to a process other than the newest are lost. */
		if (x->restarts > 0 || !restarts_same(&x->first, &run->restarts.newest[s]))
			lose(run, idx, s, resent ? "restarted during the file's repair"
						 : "restarted during the file's load");
	}
}

void run_report_unmended(struct run *run)
{
	struct server_set lost;

	for (size_t k = 0; run->settle != NULL && k < run->n; k++) {
		if (!settle_unmended(run->settle, k, &lost))
			continue;
		for (int s = 0; s < run->cfg->table.n; s++) {
			if (!server_set_has(&lost, s))
				continue;
			if (renameq_outcome(run->q, k) == OUTCOME_RENAMED)
				server_set_add(&run->fr[k].lost, s);
			log_warn("%s restarted and did not get %s's records again: they are lost "
				 "there; rename its .NAME back to load it again",
				 server_spec(run->cfg, s), run->files[k]);
		}
	}
}

/* Rename FILES[K] to its done name, if it is still the file that was
 * loaded. 0, or -1 after saying why not. */
static int rename_loaded(struct run *run, size_t k)
{
	const char *path = run->files[k];
	struct file_run *f = &run->fr[k];
	char done[4096], why[sizeof(f->st.failure)];
	/* The rule re-sends what a restart lost before a file settles; this
	 * is the last guard that it did. */
	int stale = f->held ? restarts_stale(&run->restarts, f->held, run->cfg->table.n) : -1;

	if (stale >= 0) {
		snprintf(why, sizeof(why),
			 "%s restarted after the file was loaded, and lost its records there",
			 server_spec(run->cfg, stale));
		log_error("%s: %s; not renamed, it loads again next run", path, why);
		snprintf(f->st.failure, sizeof(f->st.failure), "%s", why);
		return -1;
	}
	if (f->st.has_id && file_id_check(path, &f->st.opened, why, sizeof(why)) < 0) {
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

void run_finish_file(struct run *run, size_t idx, int counted)
{
	const struct config *cfg = run->cfg;
	struct file_run *f = &run->fr[idx];
	const char *path = run->files[idx];
	enum badinput_fate fate = BADINPUT_FAILS;

	f->running = 0;
	if (f->st.input_bad || f->st.input_empty)
		fate = badinput_settle(cfg, path, &f->st);
	int complete = file_stats_complete(&f->st);

	if (counted) {
		summary_log_file(path, &f->st);
		run_servers_seen(run, idx, f->servers, NULL);
	}
	if (f->st.read_to_end)
		f->high_error_rate = summary_log_rate(path, &f->st, complete, cfg->max_error_rate);
	if (fate == BADINPUT_SET_ASIDE)
		renameq_set_aside(run->q, idx);
	else if (!complete)
		log_error("%s failed: %s; not renamed", path,
			  f->st.failure[0] ? f->st.failure : "unknown error");
	f->loaded = 1;
	f->load_ok = complete;
	f->load_runs = f->st.digest_runs;
	if (fate == BADINPUT_SET_ASIDE) {
		renameq_finish(run->q, idx, complete);
		f->handed = 1;
		if (run->settle != NULL)
			settle_set_aside(run->settle, idx);
	} else if (run->settle != NULL) {
		if (f->st.keys_unknown)
			settle_keys_unknown(run->settle, idx);
		settle_ended(run->settle, idx, SETTLE_LOAD, complete);
	}
	run_settle(run);
}

void run_settle(struct run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		struct file_run *f = &run->fr[i];

		if (!f->loaded || f->handed)
			continue;
		/* A file that did not load, or whose repair failed, fails now;
		 * one that did waits until the rule says its records hold. */
		if (!f->load_ok || f->repair_failed)
			renameq_finish(run->q, i, 0);
		else if (run->settle == NULL || settle_final(run->settle, i))
			renameq_finish(run->q, i, 1);
		else
			continue;
		f->handed = 1;
	}
	rename_ready(run);
	run_drop_digests(run);
}

void run_settle_abandon(struct run *run)
{
	int first = 1;

	for (size_t i = 0; i < run->n; i++) {
		struct file_run *f = &run->fr[i];

		if (!f->loaded || f->handed)
			continue;
		/* The first fails (its repair never ran), and holds the rest back. */
		if (first) {
			snprintf(f->st.failure, sizeof(f->st.failure),
				 "interrupted before its repair (older files loading beside it may "
				 "have overwritten its values)");
			log_error("%s: %s; not renamed", run->files[i], f->st.failure);
		}
		renameq_finish(run->q, i, !first);
		f->handed = 1;
		first = 0;
	}
	rename_ready(run);
}

void run_fail_file(struct run *run, size_t idx, const char *why)
{
	memset(&run->fr[idx].st, 0, sizeof(run->fr[idx].st));
	snprintf(run->fr[idx].st.failure, sizeof(run->fr[idx].st.failure), "%s", why);
	run_finish_file(run, idx, 0);
}
