/* inputs.c -- FILE operands or glob(3) matches, sorted, dot-names and
 * duplicates skipped, and the names a file is renamed to. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileid.h"
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
/* Whether SRC[I] names the same file as an earlier kept name; its index in
 * SRC then goes to *FIRST. Files that cannot be stat'ed are kept: their
 * worker reports why they cannot be read. Quadratic, and cheap next to
 * loading even thousands of files. */
static int given_before(char **src, const unsigned char *kept, size_t i, size_t *first)
{
	struct stat a, b;

	if (stat(src[i], &a) < 0)
		return 0;
	for (size_t j = 0; j < i; j++)
		if (kept[j] && stat(src[j], &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			*first = j;
			return 1;
		}
	return 0;
}

/* The longest file name PATH's directory takes, or 0 when it does not say. */
static long name_max(const char *path)
{
	const char *base = base_name(path);
	char dir[4096];
	long max;

	snprintf(dir, sizeof(dir), "%.*s", base == path ? 1 : (int)(base - path),
		 base == path ? "." : path);
	max = pathconf(dir, _PC_NAME_MAX);
	return max > 0 ? max : 0;
}

/* Whether PATH's loaded name .NAME fits its directory's file system; if not,
 * why not in WHY. */
static int done_name_fits(const char *path, char *why, size_t whylen)
{
	const char *base = base_name(path);
	long max = name_max(path);

	if (max <= 0 || strlen(base) + 1 <= (size_t)max)
		return 1;
	snprintf(why, whylen,
		 "its loaded name .%s would be %zu bytes, over the %ld its file system allows, so "
		 "it could never be renamed; rename it shorter to load it",
		 base, strlen(base) + 1, max);
	return 0;
}

/* Copies of the names in SRC that do not start with '.', each file once. */
static int keep_undotted(char **src, size_t nsrc, inputs_skip_fn *skip, void *ctx, char ***files,
			 size_t *n)
{
	char **list = calloc(nsrc ? nsrc : 1, sizeof(*list));
	unsigned char *kept = calloc(nsrc ? nsrc : 1, 1);
	size_t nkept = 0, first;
	char why[8192];

	if (list == NULL || kept == NULL)
		goto nomem;
	for (size_t i = 0; i < nsrc; i++) {
		if (inputs_is_done(src[i]))
			continue;
		if (given_before(src, kept, i, &first)) {
			snprintf(why, sizeof(why), "the same file as %s, given before", src[first]);
			if (skip != NULL)
				skip(src[i], why, 0, ctx);
			continue;
		}
		if (!done_name_fits(src[i], why, sizeof(why))) {
			if (skip != NULL)
				skip(src[i], why, 1, ctx);
			continue;
		}
		list[nkept] = strdup(src[i]);
		if (list[nkept] == NULL)
			goto nomem;
		kept[i] = 1;
		nkept++;
	}
	free(kept);
	qsort(list, nkept, sizeof(*list), compare_paths);
	*files = list;
	*n = nkept;
	return 0;
nomem:
	inputs_free(list, nkept);
	free(kept);
	return -1;
}
#if defined(__GNUC__) && __GNUC__ >= 10 && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* No match in a directory that is there is a run with nothing to do; in
 * one that is missing or unreadable, the pattern is wrong. The directory
 * is the pattern's part before its first wildcard, up to its last '/'.
 * 0, or -1 with a reason in ERR. */
static int pattern_dir_readable(const char *pattern, char *err, size_t errlen)
{
	char dir[4096];
	size_t fixed = strcspn(pattern, "*?[\\"), len = fixed;
	DIR *d;

	while (len > 0 && pattern[len - 1] != '/')
		len--;
	while (len > 1 && pattern[len - 1] == '/')
		len--;
	if (len >= sizeof(dir)) {
		snprintf(err, errlen, "No input files match %s: its directory is too long", pattern);
		return -1;
	}
	memcpy(dir, len > 0 ? pattern : ".", len > 0 ? len : 1);
	dir[len > 0 ? len : 1] = '\0';
	d = opendir(dir);
	if (d != NULL) {
		closedir(d);
		return 0;
	}
	if (errno == ENOENT || errno == ENOTDIR)
		snprintf(err, errlen, "No input files match %s: no such directory %s", pattern, dir);
	else
		snprintf(err, errlen, "No input files match %s: cannot read the directory %s: %s",
			 pattern, dir, strerror(errno));
	return -1;
}

int inputs_collect(const struct config *cfg, char ***files, size_t *n, inputs_skip_fn *skip,
		   void *ctx, char *err, size_t errlen)
{
	glob_t g;
	int rc;

	if (cfg->nfiles > 0) {
		if (keep_undotted(cfg->files, (size_t)cfg->nfiles, skip, ctx, files, n) < 0)
			goto nomem;
		return 0;
	}
	rc = glob(cfg->pattern, 0, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		*files = NULL;
		*n = 0;
		return pattern_dir_readable(cfg->pattern, err, errlen);
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", cfg->pattern,
			 rc == GLOB_NOSPACE ? "out of memory" : "read error while matching");
		return -1;
	}
	rc = keep_undotted(g.gl_pathv, g.gl_pathc, skip, ctx, files, n);
	globfree(&g);
	if (rc < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* The length of PATH's directory part, with its final '/'. */
static size_t dir_len(const char *path)
{
	return (size_t)(base_name(path) - path);
}

/* stat(2) the directory part P of length LEN; an empty one is ".". */
static int dir_stat(const char *p, size_t len, struct stat *st)
{
	char dir[4096];

	if (len == 0)
		return stat(".", st);
	if (len >= sizeof(dir))
		return -1;
	memcpy(dir, p, len);
	dir[len] = '\0';
	return stat(dir, st);
}

/* Do directory parts A and B (of lengths LA, LB) name one directory? As
 * written, or else by device and inode: "a/" and "./a/" are the same. */
static int same_dir(const char *a, size_t la, const char *b, size_t lb)
{
	struct stat sa, sb;

	if (la == lb && memcmp(a, b, la) == 0)
		return 1;
	return dir_stat(a, la, &sa) == 0 && dir_stat(b, lb, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int inputs_dir(const struct config *cfg, char *out, size_t outlen)
{
	const char *dir = NULL;
	size_t len = 0;

	if (cfg->nfiles == 0) {
		dir = cfg->pattern;
		len = dir_len(dir);
		/* A wildcard (or glob's escape) before the last '/' can match
		 * several directories. */
		for (size_t i = 0; i < len; i++)
			if (strchr("*?[\\", dir[i]) != NULL)
				return 0;
	}
	for (int i = 0; i < cfg->nfiles; i++) {
		const char *f = cfg->files[i];
		if (inputs_is_done(f))
			continue;
		if (dir == NULL) {
			dir = f;
			len = dir_len(f);
		} else if (!same_dir(dir, len, f, dir_len(f))) {
			return 0;
		}
	}
	if (dir == NULL)
		return 0;
	if (len >= outlen)
		return -1;
	memcpy(out, dir, len);
	out[len] = '\0';
	return 1;
}

void inputs_free(char **files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
}

/* Most names tried for a file set aside: .NAME.bad, then .bad.1 and on. */
#define SET_ASIDE_NAMES 100

int inputs_set_aside(const char *path, const struct file_id *opened, char *out, size_t outlen,
		     char *why, size_t whylen)
{
	const char *base = base_name(path);
	size_t len = strlen(base);
	long max = name_max(path);

	if (file_id_check(path, opened, why, whylen) < 0)
		return -1;
	for (int k = 0; k < SET_ASIDE_NAMES; k++) {
		char suffix[16];
		snprintf(suffix, sizeof(suffix), k == 0 ? ".bad" : ".bad.%d", k);
		/* A name too long for .NAME.bad is cut: set aside it must be. */
		size_t room = max > 0 ? (size_t)max - 1 - strlen(suffix) : len;
		int n = snprintf(out, outlen, "%.*s.%.*s%s", (int)(base - path), path,
				 (int)(len < room ? len : room), base, suffix);
		if (n < 0 || (size_t)n >= outlen) {
			snprintf(why, whylen, "its name is too long");
			return -1;
		}
		/* Never over an earlier bad file: a person may still want it. */
		if (renameat2(AT_FDCWD, path, AT_FDCWD, out, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST) {
			snprintf(why, whylen, "cannot rename it to %s: %s", out, strerror(errno));
			return -1;
		}
	}
	snprintf(why, whylen, "its names .%s.bad and .bad.1 to .bad.%d are all taken: remove or "
		 "rename some", base, SET_ASIDE_NAMES - 1);
	return -1;
}
