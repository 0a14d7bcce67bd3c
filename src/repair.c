/* repair.c -- in a forked worker: a file's load with its key digest, and
 * its repair: the keys it shares with
 * the older activities it overlapped (keys/settle.h), and its records of
 * them re-sent in file order, so that the newest file's last line of each
 * key is the one memcached holds last.
 *
 * The repair set is the intersection of the file's own key digest and its
 * sources', merged from disk; it is itself written as a digest (a newer
 * file may repair from this repair). Each of its runs, at most
 * DIGEST_BUFFER hashes, is one pass over the file: memory stays bounded
 * whatever the number of shared keys, and within a pass the records of a
 * key go in file order.
 *
 * A repair also re-sends every record of the file for the servers the run
 * names (a server that restarted lost them), in its first pass; a mend is
 * a repair of a settled, perhaps renamed, file with only that part. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"
#include "keys/digest.h"
#include "log.h"
#include "run.h"
#include "worker.h"

/* Into ALL, what a pass saw of the servers: the first pass's first process,
 * the last one's last; a new process between passes is a restart. */
static void add_servers(struct server_seen *all, const struct server_seen *pass, int n,
			int first)
{
	for (int s = 0; s < n; s++) {
		if (first) {
			all[s] = pass[s];
			continue;
		}
		if (pass[s].first.pid != 0 && all[s].last.pid != 0 &&
		    !restarts_same(&pass[s].first, &all[s].last))
			all[s].restarts++;
		all[s].last = pass[s].last;
		all[s].restarts += pass[s].restarts;
		all[s].evicted += pass[s].evicted;
		all[s].unconfirmed |= pass[s].unconfirmed;
	}
}

/* The repair set of file IDX into the digest at OUT: how many keys, with
 * the runs in *RUNS, or -1 with the reason in ST->failure. */
static long long repair_set(const struct run *run, size_t idx, const char *out, unsigned *runs,
			    struct file_stats *st)
{
	char own[4200], (*paths)[4200] = calloc(run->nsrc + 1, sizeof(*paths));
	struct digest_ref *refs = calloc(run->nsrc + 1, sizeof(*refs));
	struct digest_reader *mine = NULL, *theirs = NULL;
	struct digest_writer *w = NULL;
	long long n = -1;

	if (paths == NULL || refs == NULL) {
		snprintf(st->failure, sizeof(st->failure), "out of memory");
		goto done;
	}
	for (size_t i = 0; i < run->nsrc; i++) {
		const struct settle_source *src = &run->src[i];
		const struct file_run *g = &run->fr[src->file];
		run_digest_path(run, src->file, src->kind, paths[i], sizeof(paths[i]));
		refs[i] = (struct digest_ref){paths[i],
					      src->kind == SETTLE_LOAD ? g->load_runs : g->repair_runs};
	}
	run_digest_path(run, idx, SETTLE_LOAD, own, sizeof(own));
	struct digest_ref own_ref = {own, run->fr[idx].load_runs};
	mine = digest_open(&own_ref, 1, st->failure, sizeof(st->failure));
	if (mine != NULL)
		theirs = digest_open(refs, run->nsrc, st->failure, sizeof(st->failure));
	if (theirs != NULL)
		w = digest_create(out, st->failure, sizeof(st->failure));
	if (w != NULL) {
		n = digest_intersect(mine, theirs, w, st->failure, sizeof(st->failure));
		if (digest_close(w, runs, st->failure, sizeof(st->failure)) < 0)
			n = -1;
	}
done:
	digest_free(mine);
	digest_free(theirs);
	free(refs);
	free(paths);
	return n;
}

/* The name file IDX has now: a mend may come after its rename. */
static const char *current_name(const struct run *run, size_t idx, char *done, size_t donelen)
{
	const char *path = run->files[idx];

	if (renameq_outcome(run->q, idx) == OUTCOME_RENAMED &&
	    inputs_done_name(path, done, donelen) == 0)
		return done;
	return path;
}

void repair_run(const struct run *run, size_t idx, struct file_stats *st,
		struct server_seen *servers)
{
	const struct config *cfg = run->cfg;
	char out[4200], done[4096];
	const char *path = current_name(run, idx, done, sizeof(done));
	unsigned runs = 0;
	struct file_stats pass;
	struct server_seen *pass_servers = calloc((size_t)cfg->table.n, sizeof(*pass_servers));
	uint64_t *only = malloc(DIGEST_BUFFER * sizeof(*only));
	int resend = !server_set_empty(&run->resend);

	memset(st, 0, sizeof(*st));
	memset(servers, 0, (size_t)cfg->table.n * sizeof(*servers));
	if (pass_servers == NULL || only == NULL) {
		snprintf(st->failure, sizeof(st->failure), "out of memory");
		goto done;
	}
	if (run->nsrc > 0) {
		run_digest_path(run, idx, SETTLE_REPAIR, out, sizeof(out));
		long long shared = repair_set(run, idx, out, &runs, st);
		if (shared < 0)
			goto done;
		st->repair_keys = (uint64_t)shared;
		st->digest_runs = runs;
	}
	/* The first pass also re-sends everything for RESEND; later ones may
	 * send a few of those records again, harmlessly, in file order. */
	for (unsigned i = 0; i < runs || (i == 0 && resend); i++) {
		long n = 0;
		if (i < runs)
			n = digest_load_run(&(struct digest_ref){out, runs}, i, only, st->failure,
					    sizeof(st->failure));
		if (n < 0)
			goto done;
		struct worker_keys keys = {
		    .repair = 1,
		    .filter = {only, (size_t)n, i == 0 && resend ? &run->resend : NULL},
		    .restarts_mended = 1,
		    .expect = &run->fr[idx].st.opened};
		worker_run(cfg, path, &keys, &pass, pass_servers, NULL, NULL);
		add_servers(servers, pass_servers, cfg->table.n, i == 0);
		st->processed += pass.processed;
		st->seconds += pass.seconds;
		st->bytes_in += pass.bytes_in;
		if (!file_stats_complete(&pass)) {
			snprintf(st->failure, sizeof(st->failure), "%.200s%s%.300s",
				 path == done ? path : "", path == done ? ": " : "",
				 pass.failure[0] ? pass.failure : "not every record was acknowledged");
			goto done;
		}
	}
	/* A restart it met is mended like a load's (settling.c). */
	st->read_to_end = 1;
	st->delivered_all = 1;
done:
	free(only);
	free(pass_servers);
}

/* Load file IDX, writing the keys it stores to its digest when the run
 * keeps them. */
void run_load_file(const struct run *run, size_t idx, struct file_stats *st,
		   struct server_seen *seen, worker_progress_fn *progress, void *ctx)
{
	char path[4200], err[sizeof(st->failure)];
	struct worker_keys keys = {0};

	keys.restarts_mended = 1; /* settling.c re-sends what a restart lost */
	if (run->keydir[0] == '\0') {
		worker_run(run->cfg, run->files[idx], &keys, st, seen, progress, ctx);
		return;
	}
	run_digest_path(run, idx, SETTLE_LOAD, path, sizeof(path));
	keys.digest = digest_create(path, err, sizeof(err));
	if (keys.digest == NULL) {
		memset(st, 0, sizeof(*st));
		snprintf(st->failure, sizeof(st->failure), "%s", err);
		return;
	}
	worker_run(run->cfg, run->files[idx], &keys, st, seen, progress, ctx);
	snprintf(err, sizeof(err), "a write failed");
	if (digest_close(keys.digest, &st->digest_runs, err, sizeof(err)) < 0)
		st->keys_unknown = 1;
	if (st->keys_unknown) { /* what it wrote is not all its keys */
		log_warn("%s: cannot write its key digest (%s): newer files loading beside it "
			 "re-send all their records",
			 run->files[idx], err);
		digest_remove(&(struct digest_ref){path, st->digest_runs + 1});
		st->digest_runs = 0;
	}
}
