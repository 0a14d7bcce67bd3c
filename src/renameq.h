/* renameq.h -- the rename-order rule, and the one record of what became of
 * each file. No I/O.
 *
 * Files are indexed in chronological order. A file may be renamed only when
 * it loaded completely and every earlier file has been renamed, so the
 * renamed files are always a chronological prefix of the run, whatever order
 * the workers finish in. The first file that fails (or whose rename fails)
 * blocks the queue: every later file is held back and loads again next run.
 * A file set aside (its bytes are bad: it can never load) leaves the queue
 * and blocks nothing. Log lines, the summary, --stats-json and the exit
 * status all read a file's outcome from here. */
#ifndef MEMC_LOAD_RENAMEQ_H
#define MEMC_LOAD_RENAMEQ_H

#include <stddef.h>

enum file_outcome {
	OUTCOME_PENDING,   /* not finished: not started, or still loading */
	OUTCOME_LOADED,    /* loaded completely, not renamed (yet, or a dry run) */
	OUTCOME_RENAMED,   /* loaded completely and renamed */
	OUTCOME_HELD_BACK, /* loaded completely, but an earlier file was not renamed */
	OUTCOME_FAILED,    /* not loaded completely, or its rename failed */
	OUTCOME_SET_ASIDE, /* can never load: renamed out of the way, blocks nothing */
	OUTCOMES
};

struct renameq;

/* A queue for N files. Without RENAMES (a dry run) nothing is ever renamed
 * or held back. NULL when out of memory. */
struct renameq *renameq_new(size_t n, int renames);
void renameq_free(struct renameq *q);

/* File IDX finished: LOADED when it may be renamed, failed otherwise. Only
 * the first report about a file counts. */
void renameq_finish(struct renameq *q, size_t idx, int loaded);

/* File IDX, not finished yet, was set aside: it blocks nothing. */
void renameq_set_aside(struct renameq *q, size_t idx);

/* The file to rename now, or -1 when none may be. The caller renames it and
 * reports the outcome with renameq_renamed before asking again. */
long renameq_next(const struct renameq *q);
void renameq_renamed(struct renameq *q, size_t idx, int ok);

/* Its name in reports: "not_started", "loaded", "renamed", "held_back",
 * "failed", "set_aside". */
const char *file_outcome_name(enum file_outcome outcome);

/* What became of file IDX so far. */
enum file_outcome renameq_outcome(const struct renameq *q, size_t idx);

/* The file that blocks the queue, or -1 while nothing blocks it. */
long renameq_blocker(const struct renameq *q);

#endif
