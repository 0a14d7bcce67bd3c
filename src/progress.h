/* progress.h -- one live status line on a terminal: files done, records/s,
 * MB/s of input read, ETA. Fed by the workers' progress reports. */
#ifndef MEMC_LOAD_PROGRESS_H
#define MEMC_LOAD_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct progress_view {
	size_t files_done, files_total, running;
	uint64_t records;     /* processed so far, all files */
	uint64_t bytes_in;    /* compressed bytes read so far */
	uint64_t bytes_total; /* compressed size of every input */
	double elapsed;       /* seconds since the run started */
};

/* Format the status line (no newline) into BUF. Pure: for the tests. */
void progress_format(char *buf, size_t size, const struct progress_view *v);

/* Draw on stderr from now on (only call when it is a terminal). */
void progress_enable(void);
/* Redraw, at most a few times a second unless FORCE. */
void progress_show(const struct progress_view *v, int force);
/* Erase the line for good (before the summary). */
void progress_done(void);

#endif
