/* gzlines.h -- stream a gzip file as lines, in bounded memory.
 *
 * The file is inflated block by block; a line is handed out as a pointer into
 * the reader's buffer, valid until the next call. Lines longer than
 * RECORD_MAX_LINE are reported as overlong and their bytes skipped, so memory
 * stays bounded whatever the input. */
#ifndef MEMC_LOAD_GZLINES_H
#define MEMC_LOAD_GZLINES_H

#include <stddef.h>
#include <stdint.h>

struct gzlines;

struct file_id;

/* Open PATH, which must be a regular file (a FIFO would block the open, or
 * the load, for ever), and describe it in *ID. NULL with a reason in ERR
 * (not naming PATH) when it cannot be opened or is not a regular file. */
struct gzlines *gzlines_open(const char *path, struct file_id *id, char *err, size_t errlen);

/* What gzlines_next returns when the file's own bytes are bad: not gzip,
 * corrupt, truncated (so far: it may still be being written), or followed
 * by bytes that are neither a gzip member nor zero padding. */
#define GZLINES_BAD (-2)

/* The next line, without its '\n'. Returns 1 with *LINE and *LEN set (and
 * *OVERLONG set when the line was too long to keep: its bytes are not
 * returned), 0 at the end of the stream, GZLINES_BAD, or -1 when the file
 * cannot be read (or memory is short), with a reason in ERR either way.
 * Zero bytes after the last member are padding, as gzip -d reads them. The
 * caller names the file in its message. */
int gzlines_next(struct gzlines *gz, const char **line, size_t *len, int *overlong,
		 char *err, size_t errlen);

/* Compressed bytes read so far: progress is measured against the file size. */
uint64_t gzlines_bytes_in(const struct gzlines *gz);

void gzlines_close(struct gzlines *gz);

/* "zlib 1.2.13": the inflate library in use (see inflate.h), for --version. */
const char *gzlines_backend(void);

#endif
