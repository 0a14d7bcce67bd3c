/* report.h -- what a worker tells the supervisor about its file.
 *
 * A worker writes fixed-size messages into its pipe; each is well under
 * PIPE_BUF, so a write is atomic and a read returns whole messages. Both ends
 * are the same binary, so the struct layout is the wire format. */
#ifndef MEMC_LOAD_REPORT_H
#define MEMC_LOAD_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "errkind.h"


struct file_stats {
	uint64_t lines;     /* every line read, blank ones included */
	uint64_t blank;
	uint64_t processed; /* acknowledged by a server (or packed, with --dry) */
	uint64_t errors;    /* sum of by_kind */
	uint64_t by_kind[ERR_KINDS];
	uint64_t apps_dropped;
	uint64_t coords_dropped;
	uint64_t bytes_in; /* compressed bytes read */
	double seconds;
	int read_to_end;     /* the whole gzip stream was read */
	int delivered_all;   /* every parsed record acknowledged */
	char failure[512];   /* why the file failed, if it did */
};

/* A worker sends PROGRESS reports (counts so far) while it runs, then one
 * RESULT with the final counts. */
enum report_type { REPORT_RESULT = 1, REPORT_PROGRESS };

struct report_msg {
	uint32_t type;
	int log_errno;      /* the errno of its first lost log line (log.h) */
	uint64_t log_lost;  /* log lines the worker could not write, so far */
	struct file_stats stats;
};

/* True when the file may be renamed: read to its end, everything delivered. */
int file_stats_complete(const struct file_stats *st);

/* errors / (processed + errors), 0 when both are 0. */
double file_stats_error_rate(const struct file_stats *st);

/* Add SRC's counts into DST (for the summary). */
void file_stats_add(struct file_stats *dst, const struct file_stats *src);

/* Write one message to FD; 0 or -1 (errno). */
int report_write(int fd, const struct report_msg *msg);

#endif
