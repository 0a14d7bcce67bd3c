/* acks.h -- what each reply line says about the records in flight (window.h),
 * counted. No I/O but the log lines naming rejected records: pipeline.c
 * reads the lines and acts on the verdict.
 *
 * A text set and a loud ms are answered in order: the reply is the oldest
 * record's. A quiet ms is answered only when it is not stored: NS, EX or NF
 * name their record by its slot (the opaque token), and every quiet record
 * before it was processed before it, without an error, so it is stored;
 * MN says the same of the whole batch before its mark. An error line has no
 * token: in a quiet batch it could be any record's, so nothing is counted,
 * and the batch must be sent again answered (window_recode, WINDOW_LOUD). */
#ifndef MEMC_LOAD_ACKS_H
#define MEMC_LOAD_ACKS_H

#include <stddef.h>
#include <stdint.h>

#include "window.h"

/* Told the key of each record refused as too large (--verify leaves such
 * keys out of its sample: the server holds no value of theirs). */
typedef void acks_too_large_fn(const char *key, size_t keylen, void *ctx);

struct ack_counts {
	uint64_t stored;    /* STORED, HD, or passed by an MN */
	uint64_t rejected;  /* answered, not stored: NOT_STORED, NS, SERVER_ERROR, ... */
	uint64_t too_large; /* over the server's item size limit */
	acks_too_large_fn *on_too_large; /* NULL: nobody to tell */
	void *ctx;                       /* passed to on_too_large */
};

enum ack {
	ACK_OK,      /* counted; read on */
	ACK_RESYNC,  /* the server misread the oldest command (counted rejected): go
			on with a fresh connection; no failure of the server's */
	ACK_UNKNOWN, /* an error in a quiet batch: it names no record, nothing is
			counted; send the window again, answered, on a fresh connection */
	ACK_BUSY,    /* "ERROR Too many open connections": the connection failed */
	ACK_GARBAGE, /* out of step with what was sent: the connection failed */
};

/* Count what LINE (LEN bytes, without "\r\n") says about the records in W
 * (not empty) into C, and drop them from W. Each rejected record is logged
 * with its key and LINE, SPEC naming the server: the first few of each
 * count as warnings (log_nth). */
enum ack acks_line(struct window *w, const char *line, size_t len, struct ack_counts *c,
		   const char *spec);

#endif
