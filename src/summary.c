/* summary.c -- the summary line, the exit status, --stats-json and the
 * figures of --metrics, each a one-to-one reading of the files' outcomes
 * (renameq.h). */
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "statsjson.h"
#include "summary.h"

void summary_log_file(const char *path, const struct file_stats *st)
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

int summary_log_rate(const char *path, const struct file_stats *st, int complete, double limit)
{
	double rate = file_stats_error_rate(st);

	if (rate > limit) {
		log_error("%s: High error rate (%.4f > %.4f). Failed load", path, rate, limit);
		return 1;
	}
	if (complete)
		log_info("%s: Acceptable error rate (%.4f). Successful load", path, rate);
	else
		log_info("%s: Acceptable error rate (%.4f), but not every record was stored", path,
			 rate);
	return 0;
}

static void log_summary(const struct run_summary *s)
{
	size_t count[OUTCOMES] = {0}, high = 0;
	struct file_stats total = {0};
	long blocker = renameq_blocker(s->q);

	for (size_t i = 0; i < s->n; i++) {
		enum file_outcome o = renameq_outcome(s->q, i);

		count[o]++;
		high += s->fr[i].high_error_rate != 0;
		file_stats_add(&total, &s->fr[i].st);
		if (o == OUTCOME_HELD_BACK)
			log_warn("Held back %s: earlier file %s was not renamed; %s again next run",
				 s->files[i], s->files[blocker],
				 s->fr[blocker].gone ? "it loads" : "both load");
	}
	if (s->signal)
		log_warn("Stopped by signal %d: %zu files not started; they and every file not "
			 "renamed load again next run",
			 s->signal, s->n - s->started_files);
	log_info("Summary: files %zu, loaded %zu, failed %zu, renamed %zu, held back %zu, "
		 "set aside %zu, high error rate %zu; lines %llu, processed %llu, errors %llu; "
		 "%.2f s, %.0f records/s",
		 s->n, count[OUTCOME_LOADED] + count[OUTCOME_RENAMED] + count[OUTCOME_HELD_BACK],
		 count[OUTCOME_FAILED], count[OUTCOME_RENAMED], count[OUTCOME_HELD_BACK],
		 count[OUTCOME_SET_ASIDE], high,
		 (unsigned long long)total.lines, (unsigned long long)total.processed,
		 (unsigned long long)total.errors, s->seconds,
		 s->seconds > 0 ? (double)total.processed / s->seconds : 0.0);
}

static int exit_status(const struct run_summary *s)
{
	/* A dry run renames nothing: there, loaded is as good as it gets. */
	enum file_outcome done = s->cfg->dry ? OUTCOME_LOADED : OUTCOME_RENAMED;

	if (s->signal)
		return 128 + s->signal;
	if (s->inputs_lost)
		return 1;
	for (size_t i = 0; i < s->n; i++) {
		if (renameq_outcome(s->q, i) != done || s->fr[i].high_error_rate)
			return 1;
		for (int server = 0; server < MAX_SERVERS; server++)
			if (server_set_has(&s->fr[i].lost, server))
				return 1;
	}
	/* The files are fine, but the log does not say so: nobody can tell
	 * from it what happened. Renames stand, they are about the data. */
	return log_failures(NULL) > 0;
}

/* Write the --stats-json report; returns STATUS, or 1 instead of 0 when the
 * report cannot be written. */
static int write_stats(const struct run_summary *s, struct statsjson_run *sr, int status)
{
	char err[1024];

	sr->exit_status = status;
	/* outfile.c holds a second signal off while a temporary file exists,
	 * and lets it through while a FIFO waits. */
	if (statsjson_write(s->cfg->stats_json, sr, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return status == 0 ? 1 : status;
	}
	return status;
}

int summary_finish(const struct run_summary *s, struct metrics_run *m)
{
	struct statsjson_file *files = calloc(s->n ? s->n : 1, sizeof(*files));
	const char *names[MAX_SERVERS];
	struct statsjson_run sr = {
		.started = (time_t)s->wall_started,
		.seconds = s->seconds,
		.signal = s->signal,
		.dry = s->cfg->dry,
		.server_names = names,
		.nservers = s->cfg->table.n,
		.files = files,
		.n = s->n,
	};
	int status;

	for (int i = 0; i < s->cfg->table.n; i++)
		names[i] = config_server_addr(s->cfg, i)->spec;

	log_summary(s);
	status = exit_status(s);
	if (files == NULL) {
		log_error("Cannot report the run: out of memory");
		return status == 0 ? 1 : status;
	}
	/* One report of the run, read by both --stats-json and --metrics. */
	for (size_t i = 0; i < s->n; i++) {
		files[i].name = s->files[i];
		files[i].status = renameq_outcome(s->q, i);
		files[i].high_error_rate = s->fr[i].high_error_rate;
		files[i].st = s->fr[i].st;
		files[i].servers = s->fr[i].servers;
		files[i].lost = s->fr[i].lost;
	}
	if (s->cfg->stats_json)
		status = write_stats(s, &sr, status);
	m->started = s->wall_started;
	m->ended = clock_wall();
	m->seconds = s->seconds;
	m->signal = s->signal;
	m->dry = s->cfg->dry;
	statsjson_totals(&sr, &m->totals);
	free(files);
	return status;
}
