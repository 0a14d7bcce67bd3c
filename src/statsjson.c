/* statsjson.c -- the --stats-json report, and writing it out. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "outfile.h"
#include "statsjson.h"
#include "mc/verify.h"

/* File names are bytes, JSON strings are Unicode. Printable ASCII stands for
 * itself (quote and backslash escaped); every other byte becomes \u00XX of
 * its value. The output is plain ASCII, any parser reads it, and each
 * character's code is one byte of the name, so nothing is lost. */
static void put_string(FILE *out, const char *s)
{
	putc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p > 0x7e)
			fprintf(out, "\\u%04x", *p);
		else
			putc(*p, out);
	}
	putc('"', out);
}

/* The shortest decimal that reads back as V, always with a '.' or an
 * exponent so a JSON reader sees a float, never an int. */
static void put_double(FILE *out, double v)
{
	char buf[40];

	if (!isfinite(v)) /* JSON has no inf or nan; no count here is ever one */
		v = 0.0;
	numfmt_double(buf, sizeof(buf), v);
	fputs(buf, out);
	if (strpbrk(buf, ".e") == NULL)
		fputs(".0", out);
}

/* Durations to the microsecond: more digits would be noise. */
static void put_seconds(FILE *out, double v)
{
	put_double(out, round(v * 1e6) / 1e6);
}

/* ISO 8601 local time with the UTC offset: 2017-09-29T00:10:03+03:00. */
static void put_time(FILE *out, time_t t)
{
	struct tm tm;
	char buf[64];
	size_t len;

	if (localtime_r(&t, &tm) == NULL ||
	    (len = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", &tm)) < 5) {
		fputs("null", out);
		return;
	}
	/* strftime's %z is +hhmm; the extended format wants +hh:mm. */
	fprintf(out, "\"%.*s:%s\"", (int)(len - 2), buf, buf + len - 2);
}

static void put_counts(FILE *out, const struct file_stats *st)
{
	fprintf(out,
		"\"lines\": %" PRIu64 ", \"blank\": %" PRIu64 ", \"processed\": %" PRIu64
		", \"errors\": %" PRIu64 ", \"errors_by_kind\": {",
		st->lines, st->blank, st->processed, st->errors);
	for (int k = 0; k < ERR_KINDS; k++)
		fprintf(out, "%s\"%s\": %" PRIu64, k ? ", " : "", err_kind_name((enum err_kind)k),
			st->by_kind[k]);
	fprintf(out,
		"}, \"apps_dropped\": %" PRIu64 ", \"coords_dropped\": %" PRIu64
		", \"bytes\": %" PRIu64,
		st->apps_dropped, st->coords_dropped, st->bytes_in);
}

/* The servers that did something to the file's records: restarted or
 * evicted during its load, or restarted after its rename. */
static void put_servers(FILE *out, const struct run_report *run, const struct report_file *f)
{
	int first = 1;

	fprintf(out, ", \"server_restarts\": %" PRIu32 ", \"evictions\": %" PRIu64 ", \"servers\": [",
		f->st.restarts, f->st.evicted);
	static const struct server_seen none;

	for (int s = 0; s < run->nservers; s++) {
		const struct server_seen *seen = f->servers != NULL ? &f->servers[s] : &none;

		if (seen->restarts == 0 && seen->evicted == 0 && !server_set_has(&f->lost, s))
			continue;
		fputs(first ? "{\"server\": " : ", {\"server\": ", out);
		put_string(out, run->server_names[s]);
		fprintf(out,
			", \"restarts\": %" PRIu32 ", \"evictions\": %" PRIu64
			", \"lost_after_rename\": %s}",
			seen->restarts, seen->evicted, server_set_has(&f->lost, s) ? "true" : "false");
		first = 0;
	}
	putc(']', out);
}

/* --verify's counts, and the estimated share of missing records with its
 * 95% Wilson interval; null when nothing was read back. */
static void put_verify(FILE *out, const struct file_stats *st)
{
	const struct verify_counts *c = &st->verify;
	double lo = 0, hi = 0;

	fputs(", \"verify\": ", out);
	if (!st->verified) {
		fputs("null", out);
		return;
	}
	fprintf(out,
		"{\"sampled\": %" PRIu64 ", \"equal\": %" PRIu64 ", \"missing\": %" PRIu64
		", \"different\": %" PRIu64 ", \"unverified\": %" PRIu64 ", \"missing_share\": ",
		c->sampled, c->equal, c->missing, c->different, c->unverified);
	put_double(out, c->sampled ? (double)c->missing / (double)c->sampled : 0.0);
	(void)verify_wilson(c->missing, c->sampled, &lo, &hi);
	fputs(", \"missing_low\": ", out);
	put_double(out, lo);
	fputs(", \"missing_high\": ", out);
	put_double(out, hi);
	putc('}', out);
}

static void put_file(FILE *out, const struct run_report *run, const struct report_file *f)
{
	fputs("{\"name\": ", out);
	put_string(out, f->name);
	fprintf(out, ", \"status\": \"%s\", ", file_outcome_name(f->outcome));
	put_counts(out, &f->st);
	fputs(", \"seconds\": ", out);
	put_seconds(out, f->st.seconds);
	fputs(", \"error_rate\": ", out);
	put_double(out, file_stats_error_rate(&f->st));
	put_servers(out, run, f);
	put_verify(out, &f->st);
	if (f->repaired)
		fprintf(out, ", \"repair\": {\"shared_keys\": %" PRIu64 ", \"resent\": %" PRIu64 "}",
			f->shared_keys, f->resent);
	else
		fputs(", \"repair\": null", out);
	fprintf(out, ", \"late\": %s", f->late ? "true" : "false");
	fprintf(out,
		", \"high_error_rate\": %s, \"failure\": ", f->high_error_rate ? "true" : "false");
	if (f->outcome != OUTCOME_FAILED && f->outcome != OUTCOME_SET_ASIDE)
		fputs("null", out);
	else
		put_string(out, f->st.failure[0] ? f->st.failure : "unknown error");
	putc('}', out);
}

static void put_totals(FILE *out, const struct run_report *run)
{
	struct run_totals t;

	run_report_totals(run, &t);
	fprintf(out, "{\"files\": %zu", run->n);
	for (int s = 0; s < OUTCOMES; s++)
		fprintf(out, ", \"%s\": %zu", file_outcome_name((enum file_outcome)s),
			t.by_outcome[s]);
	fprintf(out, ", \"high_error_rate\": %zu, ", t.high_error_rate);
	put_counts(out, &t.sum);
	fprintf(out, ", \"server_restarts\": %" PRIu64 ", \"evictions\": %" PRIu64,
		t.server_restarts, t.evicted);
	fprintf(out,
		", \"repaired\": %zu, \"shared_keys\": %" PRIu64 ", \"resent\": %" PRIu64
		", \"late\": %zu",
		t.repaired, t.shared_keys, t.resent, t.late);
	put_verify(out, &t.sum);
	fputs(", \"error_rate\": ", out);
	put_double(out, file_stats_error_rate(&t.sum));
	putc('}', out);
}

int statsjson_format(FILE *out, const struct run_report *run)
{
	fputs("{\n  \"version\": 1,\n  \"started\": ", out);
	put_time(out, (time_t)run->started);
	fputs(",\n  \"seconds\": ", out);
	put_seconds(out, run->seconds);
	fprintf(out, ",\n  \"exit_status\": %d,\n  \"interrupted_by_signal\": ",
		run_report_exit_status(run));
	if (run->signal)
		fprintf(out, "%d", run->signal);
	else
		fputs("null", out);
	fprintf(out, ",\n  \"dry_run\": %s,\n  \"files\": [", run->dry ? "true" : "false");
	for (size_t i = 0; i < run->n; i++) {
		fputs(i ? ",\n    " : "\n    ", out);
		put_file(out, run, &run->files[i]);
	}
	fputs(run->n ? "\n  ],\n  \"totals\": " : "],\n  \"totals\": ", out);
	put_totals(out, run);
	fputs("\n}\n", out);
	return ferror(out) ? -1 : 0;
}

static int format_any(FILE *out, const void *run)
{
	return statsjson_format(out, run);
}

int statsjson_write(const char *path, const struct run_report *run, char *err, size_t errlen)
{
	char why[1024];

	if (outfile_format(path, format_any, run, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "Cannot write statistics to %s: %s", path, why);
	return -1;
}
