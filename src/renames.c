/* renames.c -- what becomes of a finished file: renamed in chronological
 * order (renameq.h), failed, set aside (badinput.h), or found to have lost
 * its records to a server that restarted after its rename (restarts.h). */
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

/* restarts.h's callback: a later file met a newer process of SERVER than
 * OLD, so the renamed files whose records went to OLD lost them. */
static void server_restarted(int server, const struct server_span *old,
			     const struct server_span *now, void *ctx)
{
	struct run *run = ctx;

	for (size_t k = 0; k < run->n; k++) {
		struct file_run *f = &run->fr[k];

		if (renameq_outcome(run->q, k) != OUTCOME_RENAMED ||
		    !restarts_same(&f->servers[server].last, old))
			continue;
		server_set_add(&f->lost, server);
		log_warn("%s restarted (pid %u, now pid %u) after %s was renamed: the file's records "
			 "there are lost; rename its .NAME back to load it again",
			 server_spec(run->cfg, server), (unsigned)old->pid, (unsigned)now->pid,
			 run->files[k]);
	}
}

void run_servers_seen(struct run *run, const struct server_seen *seen)
{
	restarts_add(&run->restarts, seen, run->cfg->table.n, server_restarted, run);
}

/* Rename FILES[K] to its done name, if it is still the file that was
 * loaded. 0, or -1 after saying why not. */
static int rename_loaded(struct run *run, size_t k)
{
	const char *path = run->files[k];
	struct file_run *f = &run->fr[k];
	char done[4096], why[sizeof(f->st.failure)];
	int stale = restarts_stale(&run->restarts, f->servers, run->cfg->table.n);

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
		run_servers_seen(run, f->servers);
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
