/* test_statsjson.c -- the --stats-json report: its exact text, the escaping
 * of names that are any bytes, the totals, and the atomic replacement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "known_run.h"
#include "statsjson.h"

/* The report of RUN as a string; free it. */
static char *format(const struct run_report *run)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	assert_int_equal(statsjson_format(out, run), 0);
	assert_int_equal(fclose(out), 0);
	return buf;
}

static void use_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

/* The name as written: the text between "name": " and the next ", "status". */
static char *name_json(const char *name)
{
	struct report_file f;
	struct run_report run;
	char *text, *start, *end, *out;

	memset(&f, 0, sizeof(f));
	f.name = name;
	f.outcome = OUTCOME_RENAMED;
	memset(&run, 0, sizeof(run));
	run.files = &f;
	run.n = 1;
	text = format(&run);
	start = strstr(text, "{\"name\": \"");
	assert_non_null(start);
	start += strlen("{\"name\": \"");
	end = strstr(start, "\", \"status\": ");
	assert_non_null(end);
	out = strndup(start, (size_t)(end - start));
	assert_non_null(out);
	free(text);
	return out;
}

static void whole_report(void **state)
{
	struct report_file f[3];
	struct run_report run;
	char *text;

	(void)state;
	use_tz("UTC0");
	known_run_files(f);
	f[0].st.seconds = 0.25;
	f[1].st.seconds = 1.0000004; /* written to the microsecond */
	snprintf(f[1].st.failure, sizeof(f[1].st.failure), "0 records rejected, 1 undelivered");
	/* The idfa server restarted during the second file's load and evicted
	 * 5 items; the gaid server restarted after the first was renamed. */
	memset(&run, 0, sizeof(run));
	memcpy(run.server_names, known_run_servers, sizeof(known_run_servers));
	run.nservers = 2;
	run.started = 1506643803; /* 2017-09-29 00:10:03 UTC */
	run.seconds = 2.5;
	run.signal = 15;
	run.files = f;
	run.n = 3;
	f[0].repaired = 1;
	f[0].shared_keys = 3;
	f[0].resent = 4;
	f[0].late = 1;
	text = format(&run);
	assert_string_equal(
		text,
		"{\n"
		"  \"version\": 1,\n"
		"  \"started\": \"2017-09-29T00:10:03+00:00\",\n"
		"  \"seconds\": 2.5,\n"
		"  \"exit_status\": 143,\n"
		"  \"interrupted_by_signal\": 15,\n"
		"  \"dry_run\": false,\n"
		"  \"files\": [\n"
		"    {\"name\": \"/data/a/20170929000000.tsv.gz\", \"status\": \"renamed\", "
		"\"lines\": 7, \"blank\": 1, \"processed\": 2, \"errors\": 4, \"errors_by_kind\": "
		"{\"fields\": 1, \"dev_type\": 1, \"dev_id\": 1, \"key\": 1, \"too_long\": 0, "
		"\"rejected\": 0, \"too_large\": 0, \"undelivered\": 0}, \"apps_dropped\": 2, \"coords_dropped\": 1, "
		"\"bytes\": 120, \"seconds\": 0.25, \"error_rate\": 0.6666666666666666, "
		"\"server_restarts\": 0, \"evictions\": 0, \"servers\": [{\"server\": "
		"\"127.0.0.1:33014\", \"restarts\": 0, \"evictions\": 0, \"lost_after_rename\": true}], "
		"\"verify\": null, \"repair\": {\"shared_keys\": 3, \"resent\": 4}, "
		"\"late\": true, \"high_error_rate\": true, \"failure\": null},\n"
		"    {\"name\": \"/data/a/20170929000100.tsv.gz\", \"status\": \"failed\", "
		"\"lines\": 1, \"blank\": 0, \"processed\": 0, \"errors\": 1, \"errors_by_kind\": "
		"{\"fields\": 0, \"dev_type\": 0, \"dev_id\": 0, \"key\": 0, \"too_long\": 0, "
		"\"rejected\": 0, \"too_large\": 0, \"undelivered\": 1}, \"apps_dropped\": 0, \"coords_dropped\": 0, "
		"\"bytes\": 40, \"seconds\": 1.0, \"error_rate\": 1.0, "
		"\"server_restarts\": 1, \"evictions\": 5, \"servers\": [{\"server\": "
		"\"127.0.0.1:33013\", \"restarts\": 1, \"evictions\": 5, \"lost_after_rename\": false}], "
		"\"verify\": null, \"repair\": null, \"late\": false, \"high_error_rate\": false, "
		"\"failure\": \"0 records rejected, 1 undelivered\"},\n"
		"    {\"name\": \"/data/a/20170929000200.tsv.gz\", \"status\": \"not_started\", "
		"\"lines\": 0, \"blank\": 0, \"processed\": 0, \"errors\": 0, \"errors_by_kind\": "
		"{\"fields\": 0, \"dev_type\": 0, \"dev_id\": 0, \"key\": 0, \"too_long\": 0, "
		"\"rejected\": 0, \"too_large\": 0, \"undelivered\": 0}, \"apps_dropped\": 0, \"coords_dropped\": 0, "
		"\"bytes\": 0, \"seconds\": 0.0, \"error_rate\": 0.0, "
		"\"server_restarts\": 0, \"evictions\": 0, \"servers\": [], "
		"\"verify\": null, \"repair\": null, \"late\": false, \"high_error_rate\": false, "
		"\"failure\": null}\n"
		"  ],\n"
		"  \"totals\": {\"files\": 3, \"not_started\": 1, \"loaded\": 0, \"renamed\": 1, "
		"\"held_back\": 0, \"failed\": 1, \"set_aside\": 0, \"high_error_rate\": 1, \"lines\": 8, \"blank\": 1, "
		"\"processed\": 2, \"errors\": 5, \"errors_by_kind\": {\"fields\": 1, \"dev_type\": 1, "
		"\"dev_id\": 1, \"key\": 1, \"too_long\": 0, \"rejected\": 0, \"too_large\": 0, \"undelivered\": 1}, "
		"\"apps_dropped\": 2, \"coords_dropped\": 1, \"bytes\": 160, "
		"\"server_restarts\": 1, \"evictions\": 5, \"repaired\": 1, \"shared_keys\": 3, "
		"\"resent\": 4, \"late\": 1, \"verify\": null, \"error_rate\": 0.7142857142857143}\n"
		"}\n");
	free(text);
}

static void empty_run_and_dry(void **state)
{
	struct run_report run;
	char *text;

	(void)state;
	use_tz("UTC0");
	memset(&run, 0, sizeof(run));
	run.dry = 1;
	text = format(&run);
	assert_string_equal(text, "{\n"
				  "  \"version\": 1,\n"
				  "  \"started\": \"1970-01-01T00:00:00+00:00\",\n"
				  "  \"seconds\": 0.0,\n"
				  "  \"exit_status\": 0,\n"
				  "  \"interrupted_by_signal\": null,\n"
				  "  \"dry_run\": true,\n"
				  "  \"files\": [],\n"
				  "  \"totals\": {\"files\": 0, \"not_started\": 0, \"loaded\": 0, "
				  "\"renamed\": 0, \"held_back\": 0, \"failed\": 0, \"set_aside\": 0, "
				  "\"high_error_rate\": 0, \"lines\": 0, \"blank\": 0, "
				  "\"processed\": 0, \"errors\": 0, \"errors_by_kind\": "
				  "{\"fields\": 0, \"dev_type\": 0, \"dev_id\": 0, \"key\": 0, "
				  "\"too_long\": 0, \"rejected\": 0, \"too_large\": 0, \"undelivered\": 0}, "
				  "\"apps_dropped\": 0, \"coords_dropped\": 0, \"bytes\": 0, "
				  "\"server_restarts\": 0, \"evictions\": 0, \"repaired\": 0, "
				  "\"shared_keys\": 0, \"resent\": 0, \"late\": 0, \"verify\": null, "
				  "\"error_rate\": 0.0}\n"
				  "}\n");
	free(text);
}

/* The local time carries its offset, east and west of UTC. */
static void started_in_local_time(void **state)
{
	struct run_report run;
	char *text;

	(void)state;
	memset(&run, 0, sizeof(run));
	run.started = 1506643803;
	use_tz("MSK-3");
	text = format(&run);
	assert_non_null(strstr(text, "\"started\": \"2017-09-29T03:10:03+03:00\",\n"));
	free(text);
	use_tz("IST-5:30");
	text = format(&run);
	assert_non_null(strstr(text, "\"started\": \"2017-09-29T05:40:03+05:30\",\n"));
	free(text);
	use_tz("EST5");
	text = format(&run);
	assert_non_null(strstr(text, "\"started\": \"2017-09-28T19:10:03-05:00\",\n"));
	free(text);
	use_tz("UTC0");
}

static void names_are_escaped(void **state)
{
	static const struct {
		const char *name, *json;
	} cases[] = {
		{"plain/20170929000000.tsv.gz", "plain/20170929000000.tsv.gz"},
		{"a\"b", "a\\\"b"},
		{"a\\b", "a\\\\b"},
		{"\\\"", "\\\\\\\""},
		{"tab\there", "tab\\u0009here"},
		{"nl\ncr\r", "nl\\u000acr\\u000d"},
		{"\x01\x1f\x7f", "\\u0001\\u001f\\u007f"},
		{" ~/", " ~/"},
		/* UTF-8 is bytes too: each byte its own \u00XX */
		{"caf\xc3\xa9", "caf\\u00c3\\u00a9"},
		/* invalid UTF-8: a lone continuation byte, a truncated sequence, 0xff */
		{"\x80x\xe2\x82y\xff", "\\u0080x\\u00e2\\u0082y\\u00ff"},
		{"", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = name_json(cases[i].name);
		assert_string_equal(got, cases[i].json);
		free(got);
	}
}

/* Every byte 1..255 in one name: the output is printable ASCII, and reading
 * each escape back gives the bytes again. */
static void escaping_is_lossless(void **state)
{
	char name[256];
	unsigned char back[256];
	size_t n = 0;
	char *got;

	(void)state;
	for (int b = 1; b < 256; b++)
		name[b - 1] = (char)b;
	name[255] = '\0';
	got = name_json(name);
	for (const char *p = got; *p; p++) {
		unsigned v;
		assert_true(*p >= 0x20 && *p <= 0x7e);
		if (p[0] == '\\' && p[1] == 'u') {
			assert_int_equal(sscanf(p + 2, "%4x", &v), 1);
			assert_true(v >= 1 && v <= 0xff);
			back[n++] = (unsigned char)v;
			p += 5;
		} else if (p[0] == '\\') {
			assert_true(p[1] == '"' || p[1] == '\\');
			back[n++] = (unsigned char)p[1];
			p++;
		} else {
			back[n++] = (unsigned char)*p;
		}
	}
	assert_int_equal(n, 255);
	assert_memory_equal(back, name, 255);
	free(got);
}

static void failure_text(void **state)
{
	struct report_file f;
	struct run_report run;
	char *text;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&run, 0, sizeof(run));
	run.files = &f;
	run.n = 1;
	f.name = "x";
	/* A reason is written only for a failed file, escaped like a name. */
	f.outcome = OUTCOME_HELD_BACK;
	snprintf(f.st.failure, sizeof(f.st.failure), "left over");
	text = format(&run);
	assert_non_null(strstr(text, "\"status\": \"held_back\""));
	assert_non_null(strstr(text, "\"failure\": null}"));
	assert_non_null(strstr(text, "\"held_back\": 1,"));
	free(text);
	f.outcome = OUTCOME_FAILED;
	snprintf(f.st.failure, sizeof(f.st.failure), "bad \"gzip\"\n\xff");
	text = format(&run);
	assert_non_null(strstr(text, "\"failure\": \"bad \\\"gzip\\\"\\u000a\\u00ff\"}"));
	free(text);
	f.st.failure[0] = '\0';
	text = format(&run);
	assert_non_null(strstr(text, "\"failure\": \"unknown error\"}"));
	free(text);
	f.outcome = OUTCOME_LOADED;
	text = format(&run);
	assert_non_null(strstr(text, "\"status\": \"loaded\""));
	assert_non_null(strstr(text, "\"loaded\": 1,"));
	free(text);
}

/* Floats always look like floats, in the fewest digits that read back. */
static void numbers(void **state)
{
	struct report_file f;
	struct run_report run;
	char *text;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&run, 0, sizeof(run));
	f.name = "x";
	f.st.processed = 9999999;
	f.st.errors = 1;
	f.st.lines = UINT64_MAX;
	f.st.seconds = 3.0;
	run.files = &f;
	run.n = 1;
	run.seconds = 0.0000004; /* under half a microsecond */
	text = format(&run);
	assert_non_null(strstr(text, "\"seconds\": 0.0,\n"));
	assert_non_null(strstr(text, "\"lines\": 18446744073709551615,"));
	assert_non_null(strstr(text, "\"seconds\": 3.0, \"error_rate\": 1e-07,"));
	free(text);
}

/* Names of the entries of DIR other than . and .., space-separated. */
static void list_dir(const char *dir, char *out, size_t len)
{
	DIR *d = opendir(dir);
	const struct dirent *e;
	size_t k = 0;

	assert_non_null(d);
	out[0] = '\0';
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			k += (size_t)snprintf(out + k, len - k, "%s%s", k ? " " : "", e->d_name);
	closedir(d);
}

static void write_replaces_atomically(void **state)
{
	char dir[] = "/tmp/test_statsjson.XXXXXX";
	char path[256], bad[300], names[512], err[512];
	struct run_report run;
	struct stat sb;
	char *want;
	FILE *f;
	size_t got;
	mode_t mask;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/stats.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("an older report, longer than the new one will be......................", f);
	fclose(f);
	memset(&run, 0, sizeof(run));
	run.setup_failed = 1;
	want = format(&run);

	assert_int_equal(statsjson_write(path, &run, err, sizeof(err)), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	char *text = calloc(1, strlen(want) + 64);
	assert_non_null(text);
	got = fread(text, 1, strlen(want) + 63, f);
	fclose(f);
	assert_int_equal(got, strlen(want));
	assert_string_equal(text, want);
	free(text);
	/* No temporary file left, and the mode a new file gets. */
	list_dir(dir, names, sizeof(names));
	assert_string_equal(names, "stats.json");
	mask = umask(0);
	umask(mask);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0666 & ~mask);

	/* A directory that does not exist: an error that names the file. */
	snprintf(bad, sizeof(bad), "%s/missing/stats.json", dir);
	assert_int_equal(statsjson_write(bad, &run, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Cannot write statistics to "));
	assert_non_null(strstr(err, bad));
	assert_non_null(strstr(err, "No such file or directory"));

	/* A directory is refused, before any temporary file is made. */
	snprintf(bad, sizeof(bad), "%s/sub", dir);
	assert_int_equal(mkdir(bad, 0700), 0);
	assert_int_equal(statsjson_write(bad, &run, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "it is a directory"));
	list_dir(dir, names, sizeof(names));
	assert_true(strcmp(names, "stats.json sub") == 0 || strcmp(names, "sub stats.json") == 0);
	assert_int_equal(rmdir(bad), 0);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(want);
}

/* A bare file name is written in the current directory. */
static void write_bare_name(void **state)
{
	char dir[] = "/tmp/test_statsjson.XXXXXX";
	char old[4096], names[512], err[512];
	struct run_report run;

	(void)state;
	assert_non_null(getcwd(old, sizeof(old)));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	memset(&run, 0, sizeof(run));
	assert_int_equal(statsjson_write("s.json", &run, err, sizeof(err)), 0);
	list_dir(".", names, sizeof(names));
	assert_string_equal(names, "s.json");
	assert_int_equal(unlink("s.json"), 0);
	assert_int_equal(chdir(old), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_report),
		cmocka_unit_test(empty_run_and_dry),
		cmocka_unit_test(started_in_local_time),
		cmocka_unit_test(names_are_escaped),
		cmocka_unit_test(escaping_is_lossless),
		cmocka_unit_test(failure_text),
		cmocka_unit_test(numbers),
		cmocka_unit_test(write_replaces_atomically),
		cmocka_unit_test(write_bare_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
