/* inputs.h -- the files to load, in chronological order. */
#ifndef MEMC_LOAD_INPUTS_H
#define MEMC_LOAD_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include <sys/stat.h>

#include "config.h"

/* Which file a worker read, and what it looked like when opened: a file is
 * renamed only if its path still names exactly this. */
struct file_id {
	uint64_t dev, ino;
	uint64_t size;
	int64_t mtime_sec;
	long mtime_nsec;
};

/* Told of an input left out, and WHY; ERROR when that is the user's loss
 * (the file cannot be loaded), not a mere duplicate. CTX is the caller's. */
typedef void inputs_skip_fn(const char *path, const char *why, int error, void *ctx);

/* The FILE operands, or else the pattern's matches, sorted by file name
 * (chronological for timestamp names), without names that start with '.'
 * (already loaded), and each file once. Left out, and told to SKIP: a name
 * for a file given before (the same path again, another path to it, a hard
 * link), and a file whose loaded name .NAME would be longer than its file
 * system allows (it could never be renamed, and would hold back every later
 * file on every run). Sets *FILES (free with inputs_free) and *N; returns
 * 0, or -1 with a reason in ERR. An empty list is not an error here. */
int inputs_collect(const struct config *cfg, char ***files, size_t *n, inputs_skip_fn *skip,
		   void *ctx, char *err, size_t errlen);
void inputs_free(char **files, size_t n);

/* The name a loaded file is renamed to: ".NAME" in its own directory. */
int inputs_done_name(const char *path, char *out, size_t outlen);

/* The one directory every input is in, as written with its final '/' ("" for
 * the current directory), into OUT: the pattern's directory when it has no
 * wildcard, else the directory of every FILE operand to load. 1 when there is
 * one; 0 when not (a wildcard in the pattern's directory, operands in several
 * directories, no operand to load); -1 when it does not fit in OUTLEN. */
int inputs_dir(const struct config *cfg, char *out, size_t outlen);

/* True when PATH's file name starts with '.': loaded by an earlier run. */
int inputs_is_done(const char *path);

/* "a FIFO", "a directory", ...: what a file of MODE is, for messages. */
const char *inputs_type_name(mode_t mode);

/* Describe the file SB was taken of. */
void inputs_file_id(const struct stat *sb, struct file_id *id);

/* 0 when PATH still names the file OPENED describes, with the same size and
 * modification time; else -1 with what became of it in WHY: "was deleted
 * during the load", "was renamed to .NAME by another run", "changed during
 * the load (...)". */
int inputs_check_unchanged(const char *path, const struct file_id *opened, char *why,
			   size_t whylen);

/* Whether the file OPENED describes was last changed SETTLE seconds or more
 * before NOW (unix time): a writer would have touched it since. */
int inputs_settled(const struct file_id *opened, int settle, double now);

/* Rename PATH out of every later run's way, if it is still the file OPENED
 * describes: to .NAME.bad in its own directory, or .NAME.bad.1 to .99 when
 * that is taken (an earlier bad file is kept); NAME is cut where the whole
 * would be too long for the file system. 0 with the new name in OUT, or -1
 * with the reason in WHY. */
int inputs_set_aside(const char *path, const struct file_id *opened, char *out, size_t outlen,
		     char *why, size_t whylen);

/* Compare two paths by file name, then by whole path (qsort order). */
int inputs_compare(const char *a, const char *b);

#endif
