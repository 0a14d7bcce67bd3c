/* inputs.c -- FILE operands or glob(3) matches, sorted, dot-names skipped. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int inputs_is_done(const char *path)
{
	return base_name(path)[0] == '.';
}

int inputs_compare(const char *a, const char *b)
{
	int c = strcmp(base_name(a), base_name(b));

	return c ? c : strcmp(a, b);
}

static int compare_paths(const void *a, const void *b)
{
	return inputs_compare(*(char *const *)a, *(char *const *)b);
}

int inputs_done_name(const char *path, char *out, size_t outlen)
{
	const char *base = base_name(path);
	int n = snprintf(out, outlen, "%.*s.%s", (int)(base - path), path, base);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* GCC 12's -fanalyzer reports each strdup() stored in list[kept] as leaked:
 * it loses track of pointers stored in a heap array at a variable index. */
#if defined(__GNUC__) && __GNUC__ >= 10 && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
/* Append copies of the names in SRC that do not start with '.'. */
static int keep_undotted(char **src, size_t nsrc, char ***files, size_t *n)
{
	char **list = calloc(nsrc ? nsrc : 1, sizeof(*list));
	size_t kept = 0;

	if (list == NULL)
		return -1;
	for (size_t i = 0; i < nsrc; i++) {
		if (inputs_is_done(src[i]))
			continue;
		list[kept] = strdup(src[i]);
		if (list[kept] == NULL) {
			inputs_free(list, kept);
			return -1;
		}
		kept++;
	}
	qsort(list, kept, sizeof(*list), compare_paths);
	*files = list;
	*n = kept;
	return 0;
}
#if defined(__GNUC__) && __GNUC__ >= 10 && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

int inputs_collect(const struct config *cfg, char ***files, size_t *n, char *err, size_t errlen)
{
	glob_t g;
	int rc;

	if (cfg->nfiles > 0) {
		if (keep_undotted(cfg->files, (size_t)cfg->nfiles, files, n) < 0)
			goto nomem;
		return 0;
	}
	rc = glob(cfg->pattern, 0, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		*files = NULL;
		*n = 0;
		return 0;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", cfg->pattern,
			 rc == GLOB_NOSPACE ? "out of memory" : "read error while matching");
		return -1;
	}
	rc = keep_undotted(g.gl_pathv, g.gl_pathc, files, n);
	globfree(&g);
	if (rc < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void inputs_free(char **files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
}
