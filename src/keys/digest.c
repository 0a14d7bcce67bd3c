/* digest.c -- sorted runs of key hashes on disk, and their merge. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys/digest.h"
#include "keys/hashsort.h"

struct digest_writer {
	char path[4096];
	uint64_t *buf, *scratch;
	uint32_t *bucket_end; /* HASHSORT_BUCKETS */
	size_t n;
	unsigned runs;
};

/* Hashes a run being read takes from its file at once: a fread per hash
 * would cost more than the rest of the merge. */
#define RUN_CHUNK 1024

/* One run being read: its file, the hash at its head, and what was read
 * after it. */
struct run {
	FILE *f;
	uint64_t head;
	int live;
	size_t next, have;
	uint64_t chunk[RUN_CHUNK];
};

struct digest_reader {
	struct run *runs;
	size_t n;
	int started;
	uint64_t last;
};

static int run_name(char *out, size_t outlen, const char *path, unsigned i)
{
	int n = snprintf(out, outlen, "%s.%u", path, i);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

struct digest_writer *digest_create(const char *path, char *err, size_t errlen)
{
	struct digest_writer *w = calloc(1, sizeof(*w));

	if (w != NULL) {
		w->buf = malloc(DIGEST_BUFFER * sizeof(*w->buf));
		w->scratch = malloc(DIGEST_BUFFER * sizeof(*w->scratch));
		w->bucket_end = malloc(HASHSORT_BUCKETS * sizeof(*w->bucket_end));
	}
	if (w == NULL || w->buf == NULL || w->scratch == NULL || w->bucket_end == NULL) {
		if (w != NULL) {
			free(w->buf);
			free(w->scratch);
			free(w->bucket_end);
		}
		free(w);
		snprintf(err, errlen, "out of memory for the key digest");
		return NULL;
	}
	int n = snprintf(w->path, sizeof(w->path), "%s", path);
	if (n < 0 || (size_t)n + 12 > sizeof(w->path)) {
		snprintf(err, errlen, "%s: digest path too long", path);
		free(w->buf);
		free(w->scratch);
		free(w->bucket_end);
		free(w);
		return NULL;
	}
	return w;
}

/* Sort what is buffered, drop repeats, write it as the next run. */
static int write_run(struct digest_writer *w, char *err, size_t errlen)
{
	char name[4200];
	size_t m = 0;

	if (w->n == 0)
		return 0;
	hashsort(w->buf, w->scratch, w->n, w->bucket_end);
	uint64_t *sorted = w->scratch;
	w->scratch = w->buf; /* the sorted hashes are the next run's buffer */
	w->buf = sorted;
	for (size_t i = 0; i < w->n; i++)
		if (m == 0 || w->buf[m - 1] != w->buf[i])
			w->buf[m++] = w->buf[i];
	if (run_name(name, sizeof(name), w->path, w->runs) < 0) {
		snprintf(err, errlen, "%s: digest path too long", w->path);
		return -1;
	}
	FILE *f = fopen(name, "wb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	int ok = fwrite(w->buf, sizeof(*w->buf), m, f) == m;
	int e = errno;
	if (fclose(f) != 0 && ok) {
		ok = 0;
		e = errno;
	}
	if (!ok) {
		snprintf(err, errlen, "%s: %s", name, strerror(e));
		return -1;
	}
	w->runs++;
	w->n = 0;
	return 0;
}

int digest_add(struct digest_writer *w, uint64_t hash, char *err, size_t errlen)
{
	if (w->n == DIGEST_BUFFER && write_run(w, err, errlen) < 0)
		return -1;
	w->buf[w->n++] = hash;
	return 0;
}

int digest_close(struct digest_writer *w, unsigned *runs, char *err, size_t errlen)
{
	int rc = write_run(w, err, errlen);

	*runs = w->runs;
	free(w->buf);
	free(w->scratch);
	free(w->bucket_end);
	free(w);
	return rc;
}

/* Read run R's next hash into its head; 0, or -1 with a reason in ERR. */
static int advance(struct run *r, char *err, size_t errlen)
{
	if (r->next == r->have) {
		r->have = fread(r->chunk, sizeof(r->chunk[0]), RUN_CHUNK, r->f);
		r->next = 0;
	}
	if (r->next < r->have) {
		r->head = r->chunk[r->next++];
		return 0;
	}
	r->live = 0;
	if (ferror(r->f)) {
		snprintf(err, errlen, "reading a key digest: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Open run I of REF into R, at its first hash. 0, or -1 with a reason in
 * ERR (and R->f NULL or open, for digest_free). */
static int open_run(struct run *r, const struct digest_ref *ref, unsigned i, char *err,
		    size_t errlen)
{
	char name[4200];

	if (run_name(name, sizeof(name), ref->path, i) < 0) {
		snprintf(err, errlen, "%s: digest path too long", ref->path);
		return -1;
	}
	r->f = fopen(name, "rb");
	if (r->f == NULL) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	r->live = 1;
	return advance(r, err, errlen);
}

struct digest_reader *digest_open(const struct digest_ref *refs, size_t nrefs, char *err,
				  size_t errlen)
{
	struct digest_reader *r = calloc(1, sizeof(*r));
	size_t total = 0;

	for (size_t k = 0; k < nrefs; k++)
		total += refs[k].runs;
	if (r == NULL || (r->runs = calloc(total ? total : 1, sizeof(*r->runs))) == NULL) {
		free(r);
		snprintf(err, errlen, "out of memory for the key digest");
		return NULL;
	}
	for (size_t k = 0; k < nrefs; k++)
		for (unsigned i = 0; i < refs[k].runs; i++)
			if (open_run(&r->runs[r->n++], &refs[k], i, err, errlen) < 0) {
				digest_free(r);
				return NULL;
			}
	return r;
}

int digest_next(struct digest_reader *r, uint64_t *hash, char *err, size_t errlen)
{
	for (;;) {
		struct run *low = NULL;
		/* A handful of runs: a scan is as quick as a heap. */
		for (size_t i = 0; i < r->n; i++)
			if (r->runs[i].live && (low == NULL || r->runs[i].head < low->head))
				low = &r->runs[i];
		if (low == NULL)
			return 0;
		uint64_t h = low->head;
		if (advance(low, err, errlen) < 0)
			return -1;
		if (r->started && h == r->last)
			continue;
		r->started = 1;
		r->last = h;
		*hash = h;
		return 1;
	}
}

void digest_free(struct digest_reader *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (r->runs[i].f != NULL)
			fclose(r->runs[i].f);
	free(r->runs);
	free(r);
}

long long digest_intersect(struct digest_reader *a, struct digest_reader *b,
			   struct digest_writer *w, char *err, size_t errlen)
{
	uint64_t x = 0, y = 0;
	long long n = 0;
	int ra = digest_next(a, &x, err, errlen), rb = digest_next(b, &y, err, errlen);

	while (ra == 1 && rb == 1) {
		if (x < y) {
			ra = digest_next(a, &x, err, errlen);
		} else if (y < x) {
			rb = digest_next(b, &y, err, errlen);
		} else {
			if (digest_add(w, x, err, errlen) < 0)
				return -1;
			n++;
			ra = digest_next(a, &x, err, errlen);
			rb = digest_next(b, &y, err, errlen);
		}
	}
	return ra < 0 || rb < 0 ? -1 : n;
}

long digest_load_run(const struct digest_ref *ref, unsigned i, uint64_t *buf, char *err,
		     size_t errlen)
{
	char name[4200];

	if (run_name(name, sizeof(name), ref->path, i) < 0) {
		snprintf(err, errlen, "%s: digest path too long", ref->path);
		return -1;
	}
	FILE *f = fopen(name, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	size_t n = fread(buf, sizeof(*buf), DIGEST_BUFFER, f);
	int bad = ferror(f);
	int e = errno;
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "%s: %s", name, strerror(e));
		return -1;
	}
	return (long)n;
}

void digest_remove(const struct digest_ref *ref)
{
	char name[4200];

	for (unsigned i = 0; i < ref->runs; i++)
		if (run_name(name, sizeof(name), ref->path, i) == 0)
			(void)unlink(name);
}
