/* test_metrics.c -- the --metrics file: its exact text, every count taken
 * from the same totals as --stats-json, and its atomic replacement. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "known_run.h"
#include "metrics.h"

/* The metrics of M as a string; free it. */
static char *format(const struct run_report *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	assert_int_equal(metrics_format(out, m), 0);
	assert_int_equal(fclose(out), 0);
	return buf;
}

#define GAUGE(name, help) \
	"# HELP memc_load_last_run_" name " " help "\n# TYPE memc_load_last_run_" name " gauge\n"

/* The known run, with verification results: its totals through
 * statsjson_totals, then the metrics of those. */
static void whole_run(void **state)
{
	struct report_file f[3];
	struct run_report run;
	struct run_report m;
	char *text;

	(void)state;
	known_run_files(f);
	f[0].st.verified = 1;
	f[0].st.verify = (struct verify_counts){.sampled = 2, .equal = 1, .different = 1};
	f[1].st.verified = 1;
	f[1].st.verify = (struct verify_counts){.sampled = 3, .missing = 2, .unverified = 1};
	f[1].repaired = f[2].repaired = 1;
	f[1].shared_keys = 5, f[1].resent = 7;
	f[2].shared_keys = 1, f[2].resent = 1;
	f[2].late = 1;
	memset(&run, 0, sizeof(run));
	run.files = f;
	run.n = 3;
	memcpy(run.server_names, known_run_servers, sizeof(known_run_servers));
	run.nservers = 2;
	m = run;
	m.started = 1506643803.25;
	m.ended = 1506643805.1234567; /* written to the microsecond */
	m.seconds = 2.5;
	m.signal = 15;
	text = format(&m);
	assert_string_equal(
		text,
		GAUGE("start_timestamp_seconds", "When the last run began loading, in seconds since the epoch.")
		"memc_load_last_run_start_timestamp_seconds 1506643803.25\n"
		GAUGE("end_timestamp_seconds", "When the last run ended, in seconds since the epoch.")
		"memc_load_last_run_end_timestamp_seconds 1506643805.123457\n"
		GAUGE("duration_seconds", "How long the last run took.")
		"memc_load_last_run_duration_seconds 2.5\n"
		GAUGE("exit_status", "The exit status of the last run: 0 every file renamed, 1 a "
				     "failure, 75 another run held the lock, 128+N stopped by signal N.")
		"memc_load_last_run_exit_status 143\n"
		GAUGE("signal", "The signal that stopped the last run, or 0.")
		"memc_load_last_run_signal 15\n"
		GAUGE("dry_run", "1 when the last run was a --dry run, else 0.")
		"memc_load_last_run_dry_run 0\n"
		GAUGE("files", "Input files of the last run by what became of them.")
		"memc_load_last_run_files{status=\"not_started\"} 1\n"
		"memc_load_last_run_files{status=\"loaded\"} 0\n"
		"memc_load_last_run_files{status=\"renamed\"} 1\n"
		"memc_load_last_run_files{status=\"held_back\"} 0\n"
		"memc_load_last_run_files{status=\"failed\"} 1\n"
		"memc_load_last_run_files{status=\"set_aside\"} 0\n"
		GAUGE("files_high_error_rate", "Files of the last run read to their end with an error "
					       "rate over --max-error-rate.")
		"memc_load_last_run_files_high_error_rate 1\n"
		GAUGE("files_lost_after_rename", "Files renamed by the last run whose records a server "
						 "lost when it restarted later in the run.")
		"memc_load_last_run_files_lost_after_rename 1\n"
		GAUGE("files_repaired", "Files of the last run that re-sent the keys they share "
					"with older files loading beside them.")
		"memc_load_last_run_files_repaired 2\n"
		GAUGE("keys_shared", "Keys of the last run's repaired files that older files "
				     "loading beside them also stored.")
		"memc_load_last_run_keys_shared 6\n"
		GAUGE("files_late", "Files of the last run named older than a file an earlier run "
				    "had already renamed.")
		"memc_load_last_run_files_late 1\n"
		GAUGE("records_resent", "Records the last run re-sent so that the newest file's "
					"value of a key wins.")
		"memc_load_last_run_records_resent 8\n"
		GAUGE("lines", "Lines read by the last run, blank ones included.")
		"memc_load_last_run_lines 8\n"
		GAUGE("blank_lines", "Blank lines read by the last run.")
		"memc_load_last_run_blank_lines 1\n"
		GAUGE("records_processed", "Records of the last run acknowledged by a server (packed, "
					   "in a --dry run).")
		"memc_load_last_run_records_processed 2\n"
		GAUGE("record_errors", "Records of the last run not stored, by kind of error.")
		"memc_load_last_run_record_errors{kind=\"fields\"} 1\n"
		"memc_load_last_run_record_errors{kind=\"dev_type\"} 1\n"
		"memc_load_last_run_record_errors{kind=\"dev_id\"} 1\n"
		"memc_load_last_run_record_errors{kind=\"key\"} 1\n"
		"memc_load_last_run_record_errors{kind=\"too_long\"} 0\n"
		"memc_load_last_run_record_errors{kind=\"rejected\"} 0\n"
		"memc_load_last_run_record_errors{kind=\"too_large\"} 0\n"
		"memc_load_last_run_record_errors{kind=\"undelivered\"} 1\n"
		GAUGE("error_ratio", "Errors / (records processed + errors) over every file of the last "
				     "run.")
		"memc_load_last_run_error_ratio 0.7142857142857143\n"
		GAUGE("apps_dropped", "App items of the last run that were not numbers.")
		"memc_load_last_run_apps_dropped 2\n"
		GAUGE("coords_dropped", "Coordinates of the last run that were not finite numbers.")
		"memc_load_last_run_coords_dropped 1\n"
		GAUGE("read_bytes", "Compressed input bytes read by the last run.")
		"memc_load_last_run_read_bytes 160\n"
		GAUGE("server_restarts", "Times a server was found restarted during the last run, each "
					 "restart once.")
		"memc_load_last_run_server_restarts 1\n"
		GAUGE("evicted_items", "Items the servers evicted while the last run watched them, "
				       "each server once.")
		"memc_load_last_run_evicted_items 5\n"
		GAUGE("verify_sampled_records", "Records the last run read back (--verify).")
		"memc_load_last_run_verify_sampled_records 5\n"
		GAUGE("verify_records", "Records the last run read back (--verify), by what was found.")
		"memc_load_last_run_verify_records{result=\"equal\"} 1\n"
		"memc_load_last_run_verify_records{result=\"missing\"} 2\n"
		"memc_load_last_run_verify_records{result=\"different\"} 1\n"
		"memc_load_last_run_verify_records{result=\"unverified\"} 1\n");
	free(text);
}

/* What every metric needs, even with no file at all: the same lines, all
 * counts 0, the statuses and kinds present (a missing series is not a 0). */
static void empty_run(void **state)
{
	struct run_report m;
	char *text;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.lock_held = 1;
	m.dry = 1;
	text = format(&m);
	assert_non_null(strstr(text, "\nmemc_load_last_run_exit_status 75\n"));
	assert_non_null(strstr(text, "\nmemc_load_last_run_dry_run 1\n"));
	assert_non_null(strstr(text, "\nmemc_load_last_run_files{status=\"failed\"} 0\n"));
	assert_non_null(strstr(text, "\nmemc_load_last_run_record_errors{kind=\"too_long\"} 0\n"));
	assert_non_null(strstr(text, "\nmemc_load_last_run_error_ratio 0\n"));
	/* Each sample line follows its family's HELP and TYPE. */
	int helps = 0, types = 0;
	for (const char *p = text; (p = strstr(p, "# HELP ")) != NULL; p++)
		helps++;
	for (const char *p = text; (p = strstr(p, "# TYPE ")) != NULL; p++)
		types++;
	assert_int_equal(helps, 25);
	assert_int_equal(types, 25);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
}

/* Names in DIR, sorted, comma-separated, into BUF. */
static void list_dir(const char *dir, char *buf, size_t len)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	size_t used = 0;

	assert_true(n >= 0);
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' || strlen(names[i]->d_name) > 2)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
						 names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

static void write_replaces_atomically(void **state)
{
	char dir[] = "/tmp/test_metrics.XXXXXX";
	char path[512], names[512], err[1024], text[8192];
	struct run_report m;
	struct stat before, after;
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/memc_load.prom", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("old\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(stat(path, &before), 0);
	memset(&m, 0, sizeof(m));
	m.setup_failed = 1;
	assert_int_equal(metrics_write(path, &m, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &after), 0);
	assert_true(before.st_ino != after.st_ino); /* a new file, renamed over */
	list_dir(dir, names, sizeof(names));
	assert_string_equal(names, "memc_load.prom"); /* no temporary file left */
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	assert_non_null(strstr(text, "\nmemc_load_last_run_exit_status 1\n"));
	assert_int_equal(unlink(path), 0);

	/* No such directory: an error that names the file, and nothing made. */
	snprintf(path, sizeof(path), "%s/missing/memc_load.prom", dir);
	assert_int_equal(metrics_write(path, &m, err, sizeof(err)), -1);
	snprintf(text, sizeof(text),
		 "Cannot write metrics to %s: cannot create a temporary file in %s/missing: No such "
		 "file or directory",
		 path, dir);
	assert_string_equal(err, text);
	list_dir(dir, names, sizeof(names));
	assert_string_equal(names, "");
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_run),
		cmocka_unit_test(empty_run),
		cmocka_unit_test(write_replaces_atomically),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
