/* settle.c -- which file repairs from which older activities, and when a
 * file is settled (settle.h). Pure. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "settle.h"

enum state {
	IDLE,         /* not started */
	LOADING,      /* its load runs */
	LOADED,       /* its load ended well; older files not all settled yet */
	NEEDS_REPAIR, /* every older file settled, and it overlapped one */
	REPAIRING,    /* named by settle_next_repair; its repair runs */
	SETTLED,      /* (a mend may still run for it: see lost and busy) */
	FAILED,
};

/* One activity's span on the rule's clock; end 0 while it runs. */
struct span {
	uint64_t start, end;
	int ran;
};

struct file {
	enum state state;
	int aside; /* set aside: settles without a repair */
	int keys_unknown; /* its load's digest could not be written */
	/* A newer file overlapping its REPAIR (the pass with sources; a mend
	 * never starts that span) re-sends its keys of the file's repair set;
	 * one overlapping any of its second passes (PASS: the latest repair or
	 * mend) re-sends all its records for RESENT, the servers of every such
	 * pass. */
	struct span load, repair, pass;
	int pass_keyed; /* the pass named (or under way) has sources */
	struct server_set resent;
	struct server_set lost;     /* servers it is to re-send everything to */
	struct server_set mending;  /* those its pass under way re-sends to */
	struct server_set unmended; /* a mend of them failed */
};

struct settle {
	size_t n;
	size_t first_open; /* files before it are settled */
	int failed;        /* a file at or after first_open failed */
	int busy;          /* a repair or a mend was named and has not ended */
	uint64_t clock;
	struct file *f;
};

struct settle *settle_new(size_t nfiles)
{
	struct settle *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->f = calloc(nfiles > 0 ? nfiles : 1, sizeof(*s->f));
	if (s->f == NULL) {
		free(s);
		return NULL;
	}
	s->n = nfiles;
	return s;
}

void settle_free(struct settle *s)
{
	if (s == NULL)
		return;
	free(s->f);
	free(s);
}

size_t settle_max_sources(const struct settle *s)
{
	return 2 * s->n;
}

static void every_server(struct server_set *set)
{
	memset(set, 0xff, sizeof(*set));
}

/* The older activities that may have written after file F's load began:
 * into SRC when it is not NULL, returning how many whose keys count; and
 * the servers they re-sent everything to, added to *RESEND. */
static size_t sources_of(const struct settle *s, size_t f, struct settle_source *src,
			 struct server_set *resend)
{
	uint64_t since = s->f[f].load.start;
	size_t n = 0;

	for (size_t g = 0; g < f; g++) {
		const struct file *o = &s->f[g];
		if (o->load.ran && o->load.end > since && o->keys_unknown) {
			every_server(resend); /* any key it stored may be ours */
		} else if (o->load.ran && o->load.end > since) {
			if (src != NULL)
				src[n] = (struct settle_source){g, SETTLE_LOAD};
			n++;
		}
		if (o->repair.ran && o->repair.end > since) {
			if (src != NULL)
				src[n] = (struct settle_source){g, SETTLE_REPAIR};
			n++;
		}
		if (o->pass.ran && o->pass.end > since)
			server_set_union(resend, &o->resent);
	}
	return n;
}

/* The oldest settled file with records to re-send, or -1. */
static long first_lost(const struct settle *s)
{
	for (size_t g = 0; g < s->first_open; g++)
		if (!server_set_empty(&s->f[g].lost))
			return (long)g;
	return -1;
}

/* Settle every file that can be now, oldest first: up to the first one
 * still running, needing a repair, or failed. */
static void advance(struct settle *s)
{
	while (s->first_open < s->n && !s->failed) {
		struct file *f = &s->f[s->first_open];
		if (f->state == FAILED) {
			s->failed = 1;
			return;
		}
		if (f->state != LOADED)
			return;
		/* A mend to come or under way overlaps it, whatever it did. */
		if (s->busy || first_lost(s) >= 0)
			return;
		struct server_set resend = f->lost;
		if (!f->aside && (sources_of(s, s->first_open, NULL, &resend) > 0 ||
				  !server_set_empty(&resend))) {
			f->state = NEEDS_REPAIR;
			return;
		}
		f->state = SETTLED;
		s->first_open++;
	}
}

static void span_start(struct span *sp, uint64_t now)
{
	sp->start = now;
	sp->end = 0;
	sp->ran = 1;
}

static void span_end(struct span *sp, uint64_t now)
{
	if (sp->ran && sp->end == 0)
		sp->end = now;
}

void settle_started(struct settle *s, size_t file, enum settle_kind kind)
{
	struct file *f = &s->f[file];

	++s->clock;
	if (kind == SETTLE_LOAD) {
		span_start(&f->load, s->clock);
	} else {
		span_start(&f->pass, s->clock);
		if (f->pass_keyed) /* a mend leaves the repair's span as it was */
			span_start(&f->repair, s->clock);
	}
	if (kind == SETTLE_LOAD && f->state == IDLE)
		f->state = LOADING;
}

void settle_ended(struct settle *s, size_t file, enum settle_kind kind, int ok)
{
	struct file *f = &s->f[file];

	++s->clock;
	if (kind == SETTLE_LOAD) {
		span_end(&f->load, s->clock);
	} else {
		span_end(&f->pass, s->clock);
		span_end(&f->repair, s->clock);
		s->busy = 0;
	}
	if (f->state == SETTLED && kind == SETTLE_REPAIR && !ok)
		server_set_union(&f->unmended, &f->mending); /* its mend failed */
	if (f->state == SETTLED || f->state == FAILED) {
		advance(s);
		return;
	}
	if (!ok)
		f->state = FAILED;
	else if (kind == SETTLE_LOAD && f->state == LOADING)
		f->state = LOADED;
	else if (kind == SETTLE_REPAIR && f->state == REPAIRING) {
		f->state = SETTLED;
		s->first_open++;
	}
	advance(s);
}

/* Name G's pass: it re-sends everything of RESEND, and so must every
 * settled file newer than G afterwards (their lines of the same keys are
 * newer); unsettled ones see it as a source. */
static long name_pass(struct settle *s, size_t g, const struct server_set *resend, int keyed,
		      struct server_set *out)
{
	struct file *f = &s->f[g];

	*out = f->mending = *resend;
	/* Its span is one for all its passes: a newer file that overlapped
	 * any of them re-sends for the servers of all. */
	server_set_union(&f->resent, resend);
	if (!server_set_empty(resend))
		for (size_t h = g + 1; h < s->first_open; h++)
			server_set_union(&s->f[h].lost, resend);
	memset(&f->lost, 0, sizeof(f->lost));
	f->pass_keyed = keyed;
	s->busy = 1;
	return (long)g;
}

long settle_next_repair(struct settle *s, struct settle_source *src, size_t *nsrc,
			struct server_set *resend)
{
	advance(s);
	if (s->busy)
		return -1;
	long g = first_lost(s);
	if (g >= 0) {
		struct server_set want = s->f[g].lost;
		*nsrc = 0;
		return name_pass(s, (size_t)g, &want, 0, resend);
	}
	if (s->failed || s->first_open >= s->n || s->f[s->first_open].state != NEEDS_REPAIR)
		return -1;
	struct file *f = &s->f[s->first_open];
	struct server_set want = f->lost;
	*nsrc = sources_of(s, s->first_open, src, &want);
	if (f->keys_unknown && *nsrc > 0) {
		*nsrc = 0; /* its own keys are not known: everything, everywhere */
		every_server(&want);
	}
	f->state = REPAIRING;
	return name_pass(s, s->first_open, &want, *nsrc > 0, resend);
}

void settle_keys_unknown(struct settle *s, size_t file)
{
	s->f[file].keys_unknown = 1;
}

void settle_lost(struct settle *s, size_t file, int server)
{
	struct file *f = &s->f[file];

	if (f->state == IDLE || f->state == FAILED || f->aside)
		return;
	server_set_add(&f->lost, server);
}

int settle_unmended(const struct settle *s, size_t file, struct server_set *lost)
{
	const struct file *f = &s->f[file];

	if (f->state != SETTLED)
		return 0;
	*lost = f->lost;
	server_set_union(lost, &f->unmended);
	return !server_set_empty(lost);
}

int settle_done(const struct settle *s, size_t file)
{
	return s->f[file].state == SETTLED;
}

int settle_final(const struct settle *s, size_t file)
{
	if (file < s->first_open)
		return 1;
	for (size_t g = s->first_open; g <= file; g++)
		if (s->f[g].state == FAILED)
			return 1;
	return 0;
}

void settle_set_aside(struct settle *s, size_t file)
{
	s->f[file].aside = 1;
	settle_ended(s, file, SETTLE_LOAD, 1);
}

int settle_keys_needed(const struct settle *s, size_t file)
{
	const struct file *f = &s->f[file];

	if (!settle_final(s, file))
		return 1;
	if (s->f[file].state != SETTLED)
		return 0; /* it or an older file failed: nothing newer repairs */
	uint64_t last = f->load.end > f->repair.end ? f->load.end : f->repair.end;
	for (size_t g = file + 1; g < s->n; g++)
		if (!settle_final(s, g) && s->f[g].load.ran && s->f[g].load.start < last)
			return 1;
	return 0;
}
