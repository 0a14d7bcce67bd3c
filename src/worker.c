/* worker.c -- one file: gzip lines -> records -> packed values -> sink. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gz/gzlines.h"
#include "clock.h"
#include "line/encode.h"
#include "log.h"
#include "numfmt.h"
#include "line/pack.h"
#include "sample.h"
#include "line/record.h"
#include "mc/sink.h"
#include "worker.h"

/* --dry: "ADDR - KEY -> apps: [1, 2] lat: 1.5 lon: 2.5" at debug level. */
static void log_dry_record(const struct config *cfg, const struct record *rec, const char *key)
{
	char text[4096], num[32];
	size_t n = 0;

	for (size_t i = 0; i < rec->napps && n < sizeof(text) - 32; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%u", i ? ", " : "", rec->apps[i]);
	if (n >= sizeof(text) - 32)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", ...");
	text[n] = '\0';

	char coords[96] = "";
	size_t c = 0;
	if (rec->has_lat) {
		numfmt_double(num, sizeof(num), rec->lat);
		c += (size_t)snprintf(coords + c, sizeof(coords) - c, " lat: %s", num);
	}
	if (rec->has_lon) {
		numfmt_double(num, sizeof(num), rec->lon);
		snprintf(coords + c, sizeof(coords) - c, " lon: %s", num);
	}
	log_debug("%s - %s -> apps: [%s]%s", cfg->servers[rec->type].spec, key, text, coords);
}

static void count_error(struct file_stats *st, enum err_kind kind, uint64_t n)
{
	st->by_kind[kind] += n;
	st->errors += n;
}

/* Sum what the servers (SERVERS, one per server of the run) did during
 * the load into ST, and log their evictions: memcached may evict any record
 * at any time, and says how many, so that alone fails nothing. */
static void count_servers(const struct config *cfg, const struct server_seen *servers,
			  struct file_stats *st)
{
	for (int s = 0; s < cfg->table.n; s++) {
		st->restarts += servers[s].restarts;
		st->evicted += servers[s].evicted;
		if (servers[s].evicted > 0)
			log_warn("%s evicted %llu items during the load: records of this file may be "
				 "among them",
				 config_server_addr(cfg, s)->spec,
				 (unsigned long long)servers[s].evicted);
	}
}

/* 0 when a server restarted during the load (and lost records it had
 * acknowledged) or could not be asked after the last record, with the
 * reason in st->failure; else 1. */
static int servers_kept_all(const struct config *cfg, const struct server_seen *servers,
			    struct file_stats *st)
{
	for (int s = 0; s < cfg->table.n; s++) {
		const char *spec = config_server_addr(cfg, s)->spec;

		if (servers[s].restarts > 0) {
			snprintf(st->failure, sizeof(st->failure),
				 "%s restarted during the load and lost the records it had acknowledged",
				 spec);
			return 0;
		}
		if (servers[s].unconfirmed) {
			snprintf(st->failure, sizeof(st->failure),
				 "%s could not be asked after the last record whether it still holds "
				 "them",
				 spec);
			return 0;
		}
	}
	return 1;
}

/* Every this many lines, ask whether to stop, and see whether a progress
 * report is due: often enough that a stop is prompt even when every record
 * fails at once, rarely enough to cost nothing per line. */
#define PROGRESS_LINES 256
#define PROGRESS_SECONDS 0.25

/* Ask PROGRESS whether to stop, with the counts so far when a report is due
 * (every PROGRESS_SECONDS), else with NULL. */
static int check_progress(const struct file_stats *st, struct gzlines *gz, struct sink *sink,
			  double *last, worker_progress_fn *progress, void *ctx)
{
	struct file_stats now;
	double t = clock_seconds();

	if (t - *last < PROGRESS_SECONDS)
		return progress(NULL, ctx);
	*last = t;
	now = *st;
	now.bytes_in = gzlines_bytes_in(gz);
	if (sink != NULL) {
		struct sink_stats ss;
		sink_get_stats(sink, &ss);
		now.processed += ss.stored;
	}
	return progress(&now, ctx);
}

void worker_run(const struct config *cfg, const char *path, struct file_stats *st,
		struct server_seen *servers, worker_progress_fn *progress, void *ctx)
{
	char key[RECORD_MAX_KEY + 1];
	struct record rec;
	struct packbuf value = {0};
	struct gzlines *gz = NULL;
	struct sink *sink = NULL;
	struct sample *sp = NULL;
	double started = clock_seconds();
	double last_progress = started;
	int rc;

	memset(st, 0, sizeof(*st));
	memset(servers, 0, (size_t)cfg->table.n * sizeof(*servers));
	if (record_init(&rec) < 0 || encode_init(&value) < 0) {
		snprintf(st->failure, sizeof(st->failure), "out of memory");
		goto out;
	}
	/* Errors are written straight into the report's failure text. */
	gz = gzlines_open(path, &st->opened, st->failure, sizeof(st->failure));
	if (gz == NULL)
		goto out;
	st->has_id = 1;
	if (!cfg->dry) {
		sink = sink_open(cfg, st->failure, sizeof(st->failure));
		if (sink == NULL)
			goto out;
		sp = sample_new(cfg, st);
		if (sp == NULL && st->failure[0] != '\0')
			goto out;
		if (sp != NULL)
			sink_on_too_large(sink, sample_too_large, sp);
	}

	const char *line;
	size_t len;
	int overlong;
	while ((rc = gzlines_next(gz, &line, &len, &overlong, st->failure, sizeof(st->failure))) ==
	       1) {
		st->lines++;
		if (progress != NULL && st->lines % PROGRESS_LINES == 0 &&
		    check_progress(st, gz, sink, &last_progress, progress, ctx) != 0) {
			snprintf(st->failure, sizeof(st->failure), "interrupted");
			break;
		}
		enum line_status status =
			overlong ? LINE_ERR_TOO_LONG : encode_line(&rec, line, len, &value);
		if (status == LINE_BLANK) {
			st->blank++;
			continue;
		}
		if (status != LINE_OK) {
			count_error(st, line_err_kind(status), 1);
			log_debug("%s:%llu: %s error", path, (unsigned long long)st->lines,
				  err_kind_name(line_err_kind(status)));
			continue;
		}
		st->apps_dropped += rec.apps_dropped;
		st->coords_dropped += (uint64_t)rec.coords_dropped;
		size_t keylen = pack_key(&rec, key);
		if (cfg->dry) {
			/* encode_line keeps no array of apps; the log line needs one. */
			if (log_enabled(LEVEL_DEBUG) && record_parse(&rec, line, len) == LINE_OK)
				log_dry_record(cfg, &rec, key);
			st->processed++;
			continue;
		}
		int server = sink_put(sink, rec.type, key, keylen, value.data, value.len);
		sample_offer(sp, server, key, keylen, value.data, value.len);
	}
	if (rc == 0)
		st->read_to_end = 1;
	else if (rc == GZLINES_BAD && st->opened.size == 0)
		st->input_empty = 1;
	else if (rc == GZLINES_BAD)
		st->input_bad = 1;
out:
	if (sink != NULL) {
		struct sink_stats ss;
		sink_finish(sink);
		sink_get_stats(sink, &ss);
		sink_get_servers(sink, servers);
		st->processed += ss.stored;
		count_error(st, ERR_REJECTED, ss.rejected);
		/* Like a bad line: counted in the error rate, no bar to the rename,
		 * since no later run could store the record either. */
		count_error(st, ERR_TOO_LARGE, ss.too_large);
		count_error(st, ERR_UNDELIVERED, ss.failed);
		st->delivered_all =
			ss.rejected == 0 && ss.failed == 0 && servers_kept_all(cfg, servers, st);
		if (ss.rejected + ss.failed > 0 && st->failure[0] == '\0')
			snprintf(st->failure, sizeof(st->failure),
				 "%llu records rejected, %llu undelivered",
				 (unsigned long long)ss.rejected, (unsigned long long)ss.failed);
		/* Only a file that loaded is worth reading back. */
		if (st->read_to_end && st->delivered_all) {
			sink_hang_up(sink);
			sample_run(sp, path, sink, st, servers);
			/* A restart the read-back met is the cause of what it missed. */
			if (!servers_kept_all(cfg, servers, st))
				st->delivered_all = 0;
		}
		count_servers(cfg, servers, st);
		sample_free(sp);
		sink_close(sink);
	} else if (cfg->dry) {
		st->delivered_all = 1;
	}
	if (gz != NULL)
		st->bytes_in = gzlines_bytes_in(gz);
	gzlines_close(gz);
	packbuf_free(&value);
	record_free(&rec);
	st->seconds = clock_seconds() - started;
}
