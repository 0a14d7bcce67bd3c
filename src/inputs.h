/* inputs.h -- the files to load, in chronological order. */
#ifndef MEMC_LOAD_INPUTS_H
#define MEMC_LOAD_INPUTS_H

#include <stddef.h>

#include "config.h"

/* The FILE operands, or else the pattern's matches, sorted by file name
 * (chronological for timestamp names), without names that start with '.'
 * (already loaded). Sets *FILES (free with inputs_free) and *N; returns 0, or
 * -1 with a reason in ERR. An empty list is not an error here. */
int inputs_collect(const struct config *cfg, char ***files, size_t *n, char *err, size_t errlen);
void inputs_free(char **files, size_t n);

/* The name a loaded file is renamed to: ".NAME" in its own directory. */
int inputs_done_name(const char *path, char *out, size_t outlen);

/* True when PATH's file name starts with '.': loaded by an earlier run. */
int inputs_is_done(const char *path);

/* Compare two paths by file name, then by whole path (qsort order). */
int inputs_compare(const char *a, const char *b);

#endif
