/* report.c -- per-file counts and the worker's messages. */
#include <string.h>

#include "pool.h"
#include "report.h"

int file_stats_complete(const struct file_stats *st)
{
	return st->read_to_end && st->delivered_all;
}

double file_stats_error_rate(const struct file_stats *st)
{
	uint64_t total = st->processed + st->errors;

	return total ? (double)st->errors / (double)total : 0.0;
}

void file_stats_add(struct file_stats *dst, const struct file_stats *src)
{
	dst->lines += src->lines;
	dst->blank += src->blank;
	dst->processed += src->processed;
	dst->errors += src->errors;
	for (int k = 0; k < ERR_KINDS; k++)
		dst->by_kind[k] += src->by_kind[k];
	dst->apps_dropped += src->apps_dropped;
	dst->coords_dropped += src->coords_dropped;
	dst->bytes_in += src->bytes_in;
	dst->verified |= src->verified;
	dst->verify.sampled += src->verify.sampled;
	dst->verify.equal += src->verify.equal;
	dst->verify.missing += src->verify.missing;
	dst->verify.different += src->verify.different;
	dst->verify.unverified += src->verify.unverified;
	dst->restarts += src->restarts;
	dst->evicted += src->evicted;
}

enum report_type report_type_of(const void *msg, size_t len)
{
	uint32_t type;

	_Static_assert(sizeof(struct report_counts) <= POOL_MSG_MAX, "a report fits a frame");
	if (len < sizeof(type))
		return 0;
	memcpy(&type, msg, sizeof(type));
	switch (type) {
	case REPORT_PROGRESS:
	case REPORT_RESULT:
		return len == sizeof(struct report_counts) ? (enum report_type)type : 0;
	case REPORT_SERVER:
		return len == sizeof(struct report_server) ? REPORT_SERVER : 0;
	default:
		return 0;
	}
}

void server_seen_from_watch(const struct server_watch *w, int unconfirmed,
			    struct server_seen *seen)
{
	memset(seen, 0, sizeof(*seen));
	if (w->have_id) {
		seen->first = (struct server_span){w->first.pid, (uint32_t)w->first.started,
						   w->first.evictions, w->first_last_evictions};
		seen->last = (struct server_span){w->now.pid, (uint32_t)w->now.started,
						  w->evict_base, w->now.evictions};
		if (w->restarts == 0)
			seen->last.evictions_first = w->first.evictions;
	}
	seen->restarts = w->restarts;
	seen->evicted = serverid_evicted(w);
	seen->evicted_between = w->evicted_between;
	seen->unconfirmed = (uint32_t)unconfirmed;
}
