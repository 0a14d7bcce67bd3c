/* inflate.h -- gzip members decoded by zlib or by ISA-L's igzip, chosen at run time.
 *
 * A decoder handles one gzip member at a time: header, deflate data, and the
 * CRC and length in the trailer. Finding member boundaries, telling trailing
 * garbage from a next member, and detecting the end of the file are the
 * caller's job (gzlines.c), so both backends behave the same there. */
#ifndef MEMC_LOAD_INFLATE_H
#define MEMC_LOAD_INFLATE_H

#include <stddef.h>

/* Both sides of one decode step; the backend advances them past what it used. */
struct inflate_io {
	const unsigned char *next_in;
	size_t avail_in;
	unsigned char *next_out;
	size_t avail_out;
};

/* What run returns: more to do, a member's end, or its data is corrupt
 * (-1 is any other failure, such as out of memory). */
enum { INFLATE_MORE = 0, INFLATE_MEMBER_END = 1, INFLATE_CORRUPT = -2 };

struct inflate_backend {
	/* "zlib 1.2.13": library and version, for --version. */
	const char *(*name)(void);
	/* A decoder ready for a first member; NULL when out of memory. */
	void *(*open)(void);
	/* Decode from IO until the input is used up, the output is full or the
	 * member's trailer is verified. INFLATE_MORE, INFLATE_MEMBER_END (IO's
	 * input then starts right after the trailer), INFLATE_CORRUPT with a
	 * reason such as "corrupt gzip data: ..." in ERR, or -1 with one such as
	 * "out of memory". */
	int (*run)(void *dec, struct inflate_io *io, char *err, size_t errlen);
	/* Forget the finished member; the next byte of input starts a new one. */
	void (*next_member)(void *dec);
	void (*close)(void *dec);
};

/* Always there. */
extern const struct inflate_backend inflate_zlib;

#ifdef HAVE_ISAL
/* Only in builds with ISA-L. */
extern const struct inflate_backend inflate_isal;
#endif

/* The backend for this process: ISA-L when built in, unless the environment
 * says MEMC_LOAD_INFLATE=zlib. */
const struct inflate_backend *inflate_choose(void);

/* For --version: the backend in use and, in ISA-L builds, the other one. */
const char *inflate_describe(void);

#endif
