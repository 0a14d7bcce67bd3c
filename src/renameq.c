/* renameq.c -- which finished files may be renamed, and when. */
#include <stdlib.h>

#include "renameq.h"

int renameq_init(struct renameq *q, size_t n)
{
	q->n = n;
	q->next = 0;
	q->blocked = 0;
	q->state = calloc(n ? n : 1, sizeof(*q->state));
	return q->state ? 0 : -1;
}

void renameq_free(struct renameq *q)
{
	free(q->state);
	q->state = NULL;
}

static void advance(struct renameq *q)
{
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

long renameq_next(const struct renameq *q)
{
	if (q->blocked || q->next >= q->n || q->state[q->next] != FILE_LOADED)
		return -1;
	return (long)q->next;
}

void renameq_renamed(struct renameq *q, size_t idx, int ok)
{
	if (idx != q->next || q->state[idx] != FILE_LOADED)
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

int renameq_held_back(const struct renameq *q, size_t idx)
{
	return idx < q->n && q->blocked && idx > q->next && q->state[idx] == FILE_LOADED;
}

long renameq_blocker(const struct renameq *q)
{
	return q->blocked ? (long)q->next : -1;
}
