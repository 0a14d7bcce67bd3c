/* metrics.c -- which figures the --metrics file has, and writing it out. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errkind.h"
#include "metrics.h"
#include "outfile.h"
#include "promtext.h"

#define NAME(s) "memc_load_last_run_" s

static void gauge(FILE *out, const char *name, const char *help, uint64_t v)
{
	promtext_family(out, name, "gauge", help);
	promtext_uint(out, name, NULL, NULL, v);
}

static void gauge_double(FILE *out, const char *name, const char *help, double v)
{
	promtext_family(out, name, "gauge", help);
	promtext_double(out, name, NULL, NULL, v);
}

/* Times to the microsecond, as --stats-json's: more digits would be noise. */
static double usec(double v)
{
	return round(v * 1e6) / 1e6;
}

static void put_run(FILE *out, const struct run_report *m)
{
	gauge_double(out, NAME("start_timestamp_seconds"),
		     "When the last run began loading, in seconds since the epoch.", usec(m->started));
	gauge_double(out, NAME("end_timestamp_seconds"),
		     "When the last run ended, in seconds since the epoch.", usec(m->ended));
	gauge_double(out, NAME("duration_seconds"), "How long the last run took.",
		     usec(m->seconds));
	gauge(out, NAME("exit_status"),
	      "The exit status of the last run: 0 every file renamed, 1 a failure, "
	      "75 another run held the lock, 128+N stopped by signal N.",
	      (uint64_t)run_report_exit_status(m));
	gauge(out, NAME("signal"), "The signal that stopped the last run, or 0.",
	      m->signal < 0 ? 0 : (uint64_t)m->signal);
	gauge(out, NAME("dry_run"), "1 when the last run was a --dry run, else 0.", m->dry != 0);
}

static void put_files(FILE *out, const struct run_totals *t)
{
	promtext_family(out, NAME("files"), "gauge",
			"Input files of the last run by what became of them.");
	for (int s = 0; s < OUTCOMES; s++)
		promtext_uint(out, NAME("files"), "status",
			      file_outcome_name((enum file_outcome)s), t->by_outcome[s]);
	gauge(out, NAME("files_high_error_rate"),
	      "Files of the last run read to their end with an error rate over --max-error-rate.",
	      t->high_error_rate);
	gauge(out, NAME("files_lost_after_rename"),
	      "Files renamed by the last run whose records a server lost when it restarted later "
	      "in the run.",
	      t->lost_after_rename);
	gauge(out, NAME("files_repaired"),
	      "Files of the last run that re-sent the keys they share with older files loading "
	      "beside them.",
	      t->repaired);
	gauge(out, NAME("keys_shared"),
	      "Keys of the last run's repaired files that older files loading beside them also "
	      "stored.",
	      t->shared_keys);
	gauge(out, NAME("files_late"),
	      "Files of the last run named older than a file an earlier run had already renamed.",
	      t->late);
	gauge(out, NAME("records_resent"),
	      "Records the last run re-sent so that the newest file's value of a key wins.",
	      t->resent);
}

static void put_records(FILE *out, const struct file_stats *sum)
{
	gauge(out, NAME("lines"), "Lines read by the last run, blank ones included.", sum->lines);
	gauge(out, NAME("blank_lines"), "Blank lines read by the last run.", sum->blank);
	gauge(out, NAME("records_processed"),
	      "Records of the last run acknowledged by a server (packed, in a --dry run).",
	      sum->processed);
	promtext_family(out, NAME("record_errors"), "gauge",
			"Records of the last run not stored, by kind of error.");
	for (int k = 0; k < ERR_KINDS; k++)
		promtext_uint(out, NAME("record_errors"), "kind", err_kind_name((enum err_kind)k),
			      sum->by_kind[k]);
	gauge_double(out, NAME("error_ratio"),
		     "Errors / (records processed + errors) over every file of the last run.",
		     file_stats_error_rate(sum));
	gauge(out, NAME("apps_dropped"), "App items of the last run that were not numbers.",
	      sum->apps_dropped);
	gauge(out, NAME("coords_dropped"),
	      "Coordinates of the last run that were not finite numbers.", sum->coords_dropped);
	gauge(out, NAME("read_bytes"), "Compressed input bytes read by the last run.",
	      sum->bytes_in);
}

static void put_servers(FILE *out, const struct run_totals *t)
{
	const struct verify_counts *c = &t->sum.verify;

	gauge(out, NAME("server_restarts"),
	      "Times a server was found restarted during the last run, each restart once.",
	      t->server_restarts);
	gauge(out, NAME("evicted_items"),
	      "Items the servers evicted while the last run watched them, each server once.",
	      t->evicted);
	gauge(out, NAME("verify_sampled_records"), "Records the last run read back (--verify).",
	      c->sampled);
	promtext_family(out, NAME("verify_records"), "gauge",
			"Records the last run read back (--verify), by what was found.");
	promtext_uint(out, NAME("verify_records"), "result", "equal", c->equal);
	promtext_uint(out, NAME("verify_records"), "result", "missing", c->missing);
	promtext_uint(out, NAME("verify_records"), "result", "different", c->different);
	promtext_uint(out, NAME("verify_records"), "result", "unverified", c->unverified);
}

int metrics_format(FILE *out, const struct run_report *m)
{
	struct run_totals t;

	run_report_totals(m, &t);
	put_run(out, m);
	put_files(out, &t);
	put_records(out, &t.sum);
	put_servers(out, &t);
	return ferror(out) ? -1 : 0;
}

static int format_any(FILE *out, const void *m)
{
	return metrics_format(out, m);
}

int metrics_write(const char *path, const struct run_report *m, char *err, size_t errlen)
{
	char why[1024];

	if (outfile_format(path, format_any, m, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "Cannot write metrics to %s: %s", path, why);
	return -1;
}
