/* digest.c -- sorted runs of key hashes on disk, and their merge. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"

struct digest_writer {
	char path[4096];
	uint64_t *buf;
	size_t n;
	unsigned runs;
};

/* One run being read: its file and the hash at its head. */
struct run {
	FILE *f;
	uint64_t head;
	int live;
};

struct digest_reader {
	struct run *runs;
	unsigned n;
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

	if (w == NULL || (w->buf = malloc(DIGEST_BUFFER * sizeof(*w->buf))) == NULL) {
		free(w);
		snprintf(err, errlen, "out of memory for the key digest");
		return NULL;
	}
	int n = snprintf(w->path, sizeof(w->path), "%s", path);
	if (n < 0 || (size_t)n + 12 > sizeof(w->path)) {
		snprintf(err, errlen, "%s: digest path too long", path);
		free(w->buf);
		free(w);
		return NULL;
	}
	return w;
}

static int cmp_hash(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort what is buffered, drop repeats, write it as the next run. */
static int write_run(struct digest_writer *w, char *err, size_t errlen)
{
	char name[4200];
	size_t m = 0;

	if (w->n == 0)
		return 0;
	/* qsort: the C library's, as good as a radix sort at 8 MB here. */
	qsort(w->buf, w->n, sizeof(*w->buf), cmp_hash);
	for (size_t i = 0; i < w->n; i++)
		if (m == 0 || w->buf[m - 1] != w->buf[i])
			w->buf[m++] = w->buf[i];
	if (run_name(name, sizeof(name), w->path, w->runs) < 0) {
		snprintf(err, errlen, "%s: digest path too long", w->path);
		return -1;
	}
	FILE *f = fopen(name, "wb");
	int ok = f != NULL && fwrite(w->buf, sizeof(*w->buf), m, f) == m;
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	if (!ok) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
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
	free(w);
	return rc;
}

/* Read run R's next hash into its head; 0, or -1 with a reason in ERR. */
static int advance(struct run *r, char *err, size_t errlen)
{
	if (fread(&r->head, sizeof(r->head), 1, r->f) == 1)
		return 0;
	r->live = 0;
	if (ferror(r->f)) {
		snprintf(err, errlen, "reading a key digest: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct digest_reader *digest_open(const char *path, unsigned runs, char *err, size_t errlen)
{
	struct digest_reader *r = calloc(1, sizeof(*r));
	char name[4200];

	if (r == NULL || (runs > 0 && (r->runs = calloc(runs, sizeof(*r->runs))) == NULL)) {
		free(r);
		snprintf(err, errlen, "out of memory for the key digest");
		return NULL;
	}
	for (unsigned i = 0; i < runs; i++) {
		FILE *f = run_name(name, sizeof(name), path, i) < 0 ? NULL : fopen(name, "rb");
		if (f == NULL) {
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
			digest_free(r);
			return NULL;
		}
		r->runs[i].f = f;
		r->runs[i].live = 1;
		r->n = i + 1;
	}
	for (unsigned i = 0; i < r->n; i++)
		if (advance(&r->runs[i], err, errlen) < 0) {
			digest_free(r);
			return NULL;
		}
	return r;
}

int digest_next(struct digest_reader *r, uint64_t *hash, char *err, size_t errlen)
{
	for (;;) {
		struct run *low = NULL;
		/* A handful of runs per file: a scan is as quick as a heap. */
		for (unsigned i = 0; i < r->n; i++)
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
	for (unsigned i = 0; i < r->n; i++)
		if (r->runs[i].f != NULL)
			fclose(r->runs[i].f);
	free(r->runs);
	free(r);
}

void digest_remove(const char *path, unsigned runs)
{
	char name[4200];

	for (unsigned i = 0; i < runs; i++)
		if (run_name(name, sizeof(name), path, i) == 0)
			(void)unlink(name);
}
