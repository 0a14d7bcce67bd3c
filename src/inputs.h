/* inputs.h -- the files to load, in chronological order. */
#ifndef MEMC_LOAD_INPUTS_H
#define MEMC_LOAD_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include <sys/stat.h>

#include "config.h"

struct file_id;

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
