/* worker.c -- one file: gzip lines -> records -> packed values -> sink. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gz/gzlines.h"
#include "clock.h"
#include "drylog.h"
#include "line/encode.h"
#include "log.h"
#include "line/pack.h"
#include "line/key.h"
#include "keys/digest.h"
#include "keys/keyhash.h"
#include "sample.h"
#include "line/record.h"
#include "mc/sink.h"
#include "worker.h"

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
 * acknowledged, unless MENDED: the run re-sends them) or could not be asked
 * after the last record, with the reason in st->failure; else 1. */
static int servers_kept_all(const struct config *cfg, const struct server_seen *servers,
			    int mended, struct file_stats *st)
{
	for (int s = 0; s < cfg->table.n; s++) {
		const char *spec = config_server_addr(cfg, s)->spec;

		if (servers[s].restarts > 0 && !mended) {
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

static int restarted(const struct config *cfg, const struct server_seen *servers)
{
	for (int s = 0; s < cfg->table.n; s++)
		if (servers[s].restarts > 0)
			return 1;
	return 0;
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

/* One file's load, from its first line to its last acknowledgement. */
struct load {
	const struct config *cfg;
	const char *path;
	const struct worker_keys *keys; /* NULL: store every record, no digest */
	struct file_stats *st;
	struct server_seen *servers;
	worker_progress_fn *progress;
	void *ctx;
	double last_progress;
	struct record rec;
	struct packbuf value;
	struct gzlines *gz;
	struct sink *sink;  /* NULL with --dry */
	struct sample *sp;  /* NULL without --verify */
};

/* Open the file and, unless --dry, the servers and the sample. 0, or -1
 * with st->failure saying why. */
static int load_open(struct load *l)
{
	struct file_stats *st = l->st;

	if (record_init(&l->rec) < 0 || encode_init(&l->value) < 0) {
		snprintf(st->failure, sizeof(st->failure), "out of memory");
		return -1;
	}
	/* Errors are written straight into the report's failure text. */
	l->gz = gzlines_open(l->path, &st->opened, st->failure, sizeof(st->failure));
	if (l->gz == NULL)
		return -1;
	st->has_id = 1;
	if (l->keys != NULL && l->keys->expect != NULL &&
	    !file_id_equal(&st->opened, l->keys->expect)) {
		snprintf(st->failure, sizeof(st->failure), "the file changed since its load");
		return -1;
	}
	if (l->cfg->dry)
		return 0;
	l->sink = sink_open(l->cfg, st->failure, sizeof(st->failure));
	if (l->sink == NULL)
		return -1;
	if (l->keys != NULL && l->keys->repair)
		return 0; /* a repair reads nothing back */
	l->sp = sample_new(l->cfg, st);
	if (l->sp == NULL && st->failure[0] != '\0')
		return -1;
	if (l->sp != NULL)
		sink_on_too_large(l->sink, sample_too_large, l->sp);
	return 0;
}

/* The server of KEY, when a repair pass's filter asks: only then is it
 * worth the look-up. */
static int server_of(struct load *l, enum dev_type type, const char *key, size_t keylen)
{
	return l->keys->filter.resend != NULL ? sink_server(l->sink, type, key, keylen) : -1;
}

/* Whether a repair pass leaves LINE out, told from its first two fields:
 * most of its lines, which are then not parsed at all. */
static int repair_skips(struct load *l, const char *line, size_t len)
{
	char key[MCPROTO_KEY_MAX + 1];
	enum dev_type type;
	size_t keylen = key_filter_line_key(line, len, key, &type);

	return keylen > 0 &&
	       !key_filter_passes(&l->keys->filter, keyhash(l->cfg->verify_seed, key, keylen),
				  server_of(l, type, key, keylen));
}

/* The key of a record about to be sent: into the digest; 0 when the
 * record is to be sent, 1 when a repair pass leaves it out. */
static int take_key(struct load *l, enum dev_type type, const char *key, size_t keylen,
		    uint64_t hash)
{
	const struct worker_keys *k = l->keys;

	if (k->repair && !key_filter_passes(&k->filter, hash, server_of(l, type, key, keylen)))
		return 1;
	char err[256];
	/* A digest that cannot be written fails nothing: the run then has
	 * newer files re-send everything instead (settle_keys_unknown). */
	if (k->digest != NULL && !l->st->keys_unknown &&
	    digest_add(k->digest, hash, err, sizeof(err)) < 0)
		l->st->keys_unknown = 1; /* repair.c says why */
	return 0;
}

/* One line: counted, and its record sent (with --dry, logged at debug level). */
static inline void take_line(struct load *l, const char *line, size_t len, int overlong)
{
	struct file_stats *st = l->st;
	char key[MCPROTO_KEY_MAX + 1];

	if (l->keys != NULL && l->keys->repair && !overlong && repair_skips(l, line, len))
		return;
	enum line_status status =
		overlong ? LINE_ERR_TOO_LONG : encode_line(&l->rec, line, len, &l->value);

	if (status == LINE_BLANK) {
		st->blank++;
		return;
	}
	if (status != LINE_OK) {
		count_error(st, line_err_kind(status), 1);
		log_debug("%s:%llu: %s error", l->path, (unsigned long long)st->lines,
			  err_kind_name(line_err_kind(status)));
		return;
	}
	st->apps_dropped += l->rec.apps_dropped;
	st->coords_dropped += (uint64_t)l->rec.coords_dropped;
	size_t keylen = key_build(&l->rec, key);
	if (l->sink == NULL) {
		/* encode_line keeps no array of apps: the log reads the value. */
		if (log_enabled(LEVEL_DEBUG) && pack_decode(l->value.data, l->value.len, &l->rec) == 0)
			drylog_record(l->cfg, &l->rec, key);
		st->processed++;
		return;
	}
	/* One hash per record, for the digest and the sample alike. */
	int keyed = l->keys != NULL && (l->keys->digest != NULL || l->keys->repair);
	uint64_t hash = keyed || l->sp != NULL ? keyhash(l->cfg->verify_seed, key, keylen) : 0;
	if (keyed && take_key(l, l->rec.type, key, keylen, hash) != 0)
		return;
	int server = sink_put(l->sink, l->rec.type, key, keylen, l->value.data, l->value.len);
	sample_offer(l->sp, server, hash, key, keylen, l->value.data, l->value.len);
}

/* Every line of the file, until its end, an error or a stop. */
static void load_lines(struct load *l)
{
	struct file_stats *st = l->st;
	const char *line;
	size_t len;
	int overlong, rc;

	while ((rc = gzlines_next(l->gz, &line, &len, &overlong, st->failure,
				  sizeof(st->failure))) == 1) {
		st->lines++;
		if (l->progress != NULL && st->lines % PROGRESS_LINES == 0 &&
		    check_progress(st, l->gz, l->sink, &l->last_progress, l->progress, l->ctx) != 0) {
			snprintf(st->failure, sizeof(st->failure), "interrupted");
			return;
		}
		take_line(l, line, len, overlong);
	}
	if (rc == 0)
		st->read_to_end = 1;
	else if (rc == GZLINES_BAD && st->opened.size == 0)
		st->input_empty = 1;
	else if (rc == GZLINES_BAD)
		st->input_bad = 1;
}

/* Wait for every record to be counted, read the sample back, and say what
 * the servers did. */
static void load_deliver(struct load *l)
{
	const struct config *cfg = l->cfg;
	struct file_stats *st = l->st;
	struct sink_stats ss;
	int mended = l->keys != NULL && l->keys->restarts_mended;

	sink_finish(l->sink);
	sink_get_stats(l->sink, &ss);
	sink_get_servers(l->sink, l->servers);
	st->processed += ss.stored;
	count_error(st, ERR_REJECTED, ss.rejected);
	/* Like a bad line: counted in the error rate, no bar to the rename,
	 * since no later run could store the record either. */
	count_error(st, ERR_TOO_LARGE, ss.too_large);
	count_error(st, ERR_UNDELIVERED, ss.failed);
	st->delivered_all =
		ss.rejected == 0 && ss.failed == 0 && servers_kept_all(cfg, l->servers, mended, st);
	if (ss.rejected + ss.failed > 0 && st->failure[0] == '\0')
		snprintf(st->failure, sizeof(st->failure), "%llu records rejected, %llu undelivered",
			 (unsigned long long)ss.rejected, (unsigned long long)ss.failed);
	/* Only a file that loaded is worth reading back; not one a restarted
	 * server lost records of, which the run re-sends anyway. */
	if (st->read_to_end && st->delivered_all && !restarted(cfg, l->servers)) {
		sink_hang_up(l->sink);
		sample_run(l->sp, l->path, l->sink, st, l->servers);
		/* A restart the read-back met is the cause of what it missed: the
		 * run sends those records again, or the file fails. */
		if (mended && restarted(cfg, l->servers) && !st->delivered_all) {
			st->delivered_all = 1;
			st->failure[0] = '\0';
		}
		if (!servers_kept_all(cfg, l->servers, mended, st))
			st->delivered_all = 0;
	}
	count_servers(cfg, l->servers, st);
}

void worker_run(const struct config *cfg, const char *path, const struct worker_keys *keys,
		struct file_stats *st, struct server_seen *servers, worker_progress_fn *progress,
		void *ctx)
{
	double started = clock_seconds();
	struct load l = {.cfg = cfg, .path = path, .keys = keys, .st = st, .servers = servers,
			 .progress = progress, .ctx = ctx, .last_progress = started};

	memset(st, 0, sizeof(*st));
	memset(servers, 0, (size_t)cfg->table.n * sizeof(*servers));
	if (load_open(&l) == 0)
		load_lines(&l);
	if (l.sink != NULL)
		load_deliver(&l);
	else if (cfg->dry && l.gz != NULL)
		st->delivered_all = 1;
	if (l.gz != NULL)
		st->bytes_in = gzlines_bytes_in(l.gz);
	sample_free(l.sp);
	sink_close(l.sink);
	gzlines_close(l.gz);
	packbuf_free(&l.value);
	record_free(&l.rec);
	st->seconds = clock_seconds() - started;
}
