/* renameq.h -- the rename-order rule, with no I/O.
 *
 * Files are indexed in chronological order. A file may be renamed only when
 * it loaded completely and every earlier file has been renamed, so the
 * renamed files are always a chronological prefix of the run, whatever order
 * the workers finish in. The first file that fails (or whose rename fails)
 * blocks the queue: every later file is held back and loads again next run. */
#ifndef MEMC_LOAD_RENAMEQ_H
#define MEMC_LOAD_RENAMEQ_H

#include <stddef.h>

enum file_state { FILE_PENDING, FILE_LOADED, FILE_FAILED, FILE_RENAMED };

struct renameq {
	size_t n;
	size_t next;  /* first file not renamed yet */
	int blocked;  /* file `next` failed: nothing more will be renamed */
	enum file_state *state;
};

/* 0, or -1 when out of memory. */
int renameq_init(struct renameq *q, size_t n);
void renameq_free(struct renameq *q);

/* File IDX finished: LOADED when it may be renamed, failed otherwise. */
void renameq_finish(struct renameq *q, size_t idx, int loaded);

/* The file to rename now, or -1 when none may be. The caller renames it and
 * reports the outcome with renameq_renamed before asking again. */
long renameq_next(const struct renameq *q);
void renameq_renamed(struct renameq *q, size_t idx, int ok);

/* True when IDX loaded but an earlier file keeps it from being renamed. */
int renameq_held_back(const struct renameq *q, size_t idx);

/* The file that blocks the queue, or -1 while nothing blocks it. */
long renameq_blocker(const struct renameq *q);

#endif
