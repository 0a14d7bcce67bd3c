/* settle.c -- which file repairs from which older activities, and when a
 * file is settled (settle.h). Pure. */
#include <stdint.h>
#include <stdlib.h>

#include "settle.h"

enum state {
	IDLE,         /* not started */
	LOADING,      /* its load runs */
	LOADED,       /* its load ended well; older files not all settled yet */
	NEEDS_REPAIR, /* every older file settled, and it overlapped one */
	REPAIRING,    /* named by settle_next_repair; its repair runs */
	SETTLED,
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
	struct span load, repair;
};

struct settle {
	size_t n;
	size_t first_open; /* files before it are settled */
	int failed;        /* a file at or after first_open failed */
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

/* The older activities that may have written after file F's load began:
 * into SRC when it is not NULL; returns how many. */
static size_t sources_of(const struct settle *s, size_t f, struct settle_source *src)
{
	uint64_t since = s->f[f].load.start;
	size_t n = 0;

	for (size_t g = 0; g < f; g++) {
		const struct file *o = &s->f[g];
		if (o->load.ran && o->load.end > since) {
			if (src != NULL)
				src[n] = (struct settle_source){g, SETTLE_LOAD};
			n++;
		}
		if (o->repair.ran && o->repair.end > since) {
			if (src != NULL)
				src[n] = (struct settle_source){g, SETTLE_REPAIR};
			n++;
		}
	}
	return n;
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
		if (!f->aside && sources_of(s, s->first_open, NULL) > 0) {
			f->state = NEEDS_REPAIR;
			return;
		}
		f->state = SETTLED;
		s->first_open++;
	}
}

static struct span *span_of(struct file *f, enum settle_kind kind)
{
	return kind == SETTLE_LOAD ? &f->load : &f->repair;
}

void settle_started(struct settle *s, size_t file, enum settle_kind kind)
{
	struct file *f = &s->f[file];
	struct span *sp = span_of(f, kind);

	sp->start = ++s->clock;
	sp->end = 0;
	sp->ran = 1;
	if (kind == SETTLE_LOAD && f->state == IDLE)
		f->state = LOADING;
}

void settle_ended(struct settle *s, size_t file, enum settle_kind kind, int ok)
{
	struct file *f = &s->f[file];
	struct span *sp = span_of(f, kind);

	if (sp->ran && sp->end == 0)
		sp->end = ++s->clock;
	if (f->state == SETTLED || f->state == FAILED)
		return;
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

long settle_next_repair(struct settle *s, struct settle_source *src, size_t *nsrc)
{
	advance(s);
	if (s->failed || s->first_open >= s->n || s->f[s->first_open].state != NEEDS_REPAIR)
		return -1;
	*nsrc = sources_of(s, s->first_open, src);
	s->f[s->first_open].state = REPAIRING;
	return (long)s->first_open;
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
