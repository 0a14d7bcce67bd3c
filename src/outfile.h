/* outfile.h -- write a whole output file the way its kind wants it.
 *
 * A symbolic link is followed, link after link, to the name at the end of
 * the chain, and stays a link. What that name is decides the rest:
 * - a regular file, or nothing yet: replaced atomically, by a temporary
 *   file in the same directory that is fsynced and renamed over the name,
 *   so a reader sees the old content or the new, whole;
 * - a FIFO or a device (/dev/null, /dev/full, a terminal): written in
 *   place, never replaced; a FIFO that no process reads is an error, not
 *   a wait;
 * - a directory or a socket: an error.
 * Every write and the close are checked: ENOSPC from /dev/full is an error.
 *
 * SIGINT and SIGTERM are blocked while a temporary file exists, so a signal
 * that ends the process cannot leave one behind, and unblocked while a FIFO
 * or device is written, so a reader that never reads cannot make the
 * process deaf to them (see signals.h: the second one ends the run). */
#ifndef MEMC_LOAD_OUTFILE_H
#define MEMC_LOAD_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

/* Write DATA (LEN bytes) to PATH as above. 0, or -1 with a reason in ERR
 * that names the file acted on when it is not PATH itself (a temporary
 * file, a link's target); no temporary file is left behind. */
int outfile_write(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* FORMAT(out, ARG) writes the whole text to OUT and returns 0, or -1 on a
 * stream error. */
typedef int outfile_format_fn(FILE *out, const void *arg);

/* Format the text whole in memory first, then write it to PATH as
 * outfile_write does: one buffer reaches the file, whatever the file is.
 * 0, or -1 with a reason in ERR. */
int outfile_format(const char *path, outfile_format_fn *format, const void *arg, char *err,
		   size_t errlen);

#endif
