/* summary.c -- what the log says of each file as it ends, and of the run. */
#include <stdio.h>

#include "log.h"
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

void summary_log_run(const struct run_report *r)
{
	struct run_totals t;
	const size_t *count = t.by_outcome;

	run_report_totals(r, &t);
	for (size_t i = 0; i < r->n; i++)
		if (r->files[i].outcome == OUTCOME_HELD_BACK && r->blocker >= 0)
			log_warn("Held back %s: earlier file %s was not renamed; %s again next run",
				 r->files[i].name, r->files[r->blocker].name,
				 r->files[r->blocker].gone ? "it loads" : "both load");
	if (r->signal)
		log_warn("Stopped by signal %d: %zu files not started; they and every file not "
			 "renamed load again next run",
			 r->signal, r->n - r->started_files);
	log_info("Summary: files %zu, loaded %zu, failed %zu, renamed %zu, held back %zu, "
		 "set aside %zu, high error rate %zu; lines %llu, processed %llu, errors %llu; "
		 "%.2f s, %.0f records/s",
		 r->n, count[OUTCOME_LOADED] + count[OUTCOME_RENAMED] + count[OUTCOME_HELD_BACK],
		 count[OUTCOME_FAILED], count[OUTCOME_RENAMED], count[OUTCOME_HELD_BACK],
		 count[OUTCOME_SET_ASIDE], t.high_error_rate, (unsigned long long)t.sum.lines,
		 (unsigned long long)t.sum.processed, (unsigned long long)t.sum.errors, r->seconds,
		 r->seconds > 0 ? (double)t.sum.processed / r->seconds : 0.0);
}
