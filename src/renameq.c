/* renameq.c -- which finished files may be renamed, and when. */
#include <stdlib.h>

#include "renameq.h"

enum file_state { FILE_PENDING, FILE_LOADED, FILE_FAILED, FILE_RENAMED, FILE_SET_ASIDE };

struct renameq {
	size_t n;
	size_t next; /* first file not renamed yet */
	int blocked; /* file `next` failed: nothing more will be renamed */
	int renames; /* 0 for a dry run */
	enum file_state state[];
};

struct renameq *renameq_new(size_t n, int renames)
{
	struct renameq *q = calloc(1, sizeof(*q) + n * sizeof(q->state[0]));

	if (q == NULL)
		return NULL;
	q->n = n;
	q->renames = renames;
	return q;
}

void renameq_free(struct renameq *q)
{
	free(q);
}

static void advance(struct renameq *q)
{
	while (q->next < q->n && q->state[q->next] == FILE_SET_ASIDE)
		q->next++;
	if (q->next < q->n && q->state[q->next] == FILE_FAILED)
		q->blocked = 1;
}

void renameq_finish(struct renameq *q, size_t idx, int loaded)
{
	if (idx >= q->n || q->state[idx] != FILE_PENDING)
		return;
	q->state[idx] = loaded ? FILE_LOADED : FILE_FAILED;
	advance(q);
}

void renameq_set_aside(struct renameq *q, size_t idx)
{
	if (idx >= q->n || q->state[idx] != FILE_PENDING)
		return;
	q->state[idx] = FILE_SET_ASIDE;
	if (!q->blocked)
		advance(q);
}

long renameq_next(const struct renameq *q)
{
	if (!q->renames || q->blocked || q->next >= q->n || q->state[q->next] != FILE_LOADED)
		return -1;
	return (long)q->next;
}

void renameq_renamed(struct renameq *q, size_t idx, int ok)
{
	if (idx != q->next || renameq_next(q) != (long)idx)
		return;
	if (!ok) {
		q->state[idx] = FILE_FAILED;
		q->blocked = 1;
		return;
	}
	q->state[idx] = FILE_RENAMED;
	q->next++;
	advance(q);
}

const char *file_outcome_name(enum file_outcome outcome)
{
	static const char *const names[] = {
		[OUTCOME_PENDING] = "not_started", [OUTCOME_LOADED] = "loaded",
		[OUTCOME_RENAMED] = "renamed",     [OUTCOME_HELD_BACK] = "held_back",
		[OUTCOME_FAILED] = "failed",       [OUTCOME_SET_ASIDE] = "set_aside",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == OUTCOMES, "a name per outcome");

	return (unsigned)outcome < OUTCOMES ? names[outcome] : "?";
}

enum file_outcome renameq_outcome(const struct renameq *q, size_t idx)
{
	if (idx >= q->n)
		return OUTCOME_PENDING;
	switch (q->state[idx]) {
	case FILE_PENDING:
		return OUTCOME_PENDING;
	case FILE_FAILED:
		return OUTCOME_FAILED;
	case FILE_RENAMED:
		return OUTCOME_RENAMED;
	case FILE_SET_ASIDE:
		return OUTCOME_SET_ASIDE;
	case FILE_LOADED:
		break;
	}
	if (q->renames && q->blocked && idx > q->next)
		return OUTCOME_HELD_BACK;
	return OUTCOME_LOADED;
}

long renameq_blocker(const struct renameq *q)
{
	return q->renames && q->blocked ? (long)q->next : -1;
}
