/* inflate_isal.c -- gzip members decoded with ISA-L's igzip, about twice as
 * fast as zlib on x86-64. Built only when the Makefile finds libisal.
 *
 * Two things ISA-L 2.30 does differently from zlib, handled here so both
 * backends accept and reject the same files:
 * - isal_inflate() can parse the gzip header itself (crc_flag ISAL_GZIP), but
 *   only when the whole header arrives in one input buffer: it keeps its parse
 *   state in a local variable, so a header split across two reads (a later
 *   member near a read boundary, or a long FNAME/FEXTRA) fails at random
 *   (intel/isa-l issue #224). isal_read_gzip_header() with a header struct
 *   that lives as long as the member resumes correctly, so the header is read
 *   with it, and isal_inflate() only does the deflate data and the trailer.
 * - ISA-L ignores the reserved FLG bits, which zlib and gzip reject, and
 *   checks the magic and method only once ten header bytes are in. */
#ifdef HAVE_ISAL

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <isa-l.h>

#include "inflate.h"

struct isal_dec {
	struct inflate_state st;
	struct isal_gzip_header hdr; /* ISA-L's parse state for a split header */
	int in_header;
	size_t hdr_seen; /* header bytes consumed so far */
};

#define STR_(x) #x
#define STR(x) STR_(x)

static const char *isal_name(void)
{
#ifdef ISAL_MAJOR_VERSION
	/* The headers' version: ISA-L has no call that reports the library's. */
	return "ISA-L igzip " STR(ISAL_MAJOR_VERSION) "." STR(ISAL_MINOR_VERSION) "." STR(
		ISAL_PATCH_VERSION);
#else
	return "ISA-L igzip";
#endif
}

static void start_member(struct isal_dec *d)
{
	isal_gzip_header_init(&d->hdr);
	d->in_header = 1;
	d->hdr_seen = 0;
}

static void *isal_open(void)
{
	/* calloc: isal_inflate_init() leaves some fields unset. */
	struct isal_dec *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	isal_inflate_init(&d->st);
	start_member(d);
	return d;
}

/* zlib's words where the meaning is the same, so messages match. */
static const char *reason(int rc, int in_header)
{
	switch (rc) {
	case ISAL_INVALID_WRAPPER:
		return "incorrect header check";
	case ISAL_UNSUPPORTED_METHOD:
		return "unknown compression method";
	case ISAL_INCORRECT_CHECKSUM:
		/* ISA-L compares CRC and length in one go. */
		return in_header ? "header crc mismatch" : "incorrect data or length check";
	case ISAL_INVALID_BLOCK:
		return "invalid block";
	case ISAL_INVALID_SYMBOL:
		return "invalid code";
	case ISAL_INVALID_LOOKBACK:
		return "invalid distance too far back";
	default:
		return "inflate failed";
	}
}

/* The first four header bytes, checked as zlib does and in its order, as
 * soon as each arrives: ISA-L looks at them only once all ten fixed bytes are
 * in, so a short or damaged header would get another reason from it. */
static int check_start(const struct isal_dec *d, char *err, size_t errlen)
{
	static const struct {
		uint8_t mask, want;
		const char *why;
	} rule[4] = {
		{0xff, 0x1f, "incorrect header check"},	   /* ID1 */
		{0xff, 0x8b, "incorrect header check"},	   /* ID2 */
		{0xff, 8, "unknown compression method"},   /* CM: deflate */
		{0xe0, 0, "unknown header flags set"},	   /* FLG: reserved bits */
	};

	for (size_t i = d->hdr_seen; i < 4 && i - d->hdr_seen < d->st.avail_in; i++) {
		if ((d->st.next_in[i - d->hdr_seen] & rule[i].mask) != rule[i].want) {
			snprintf(err, errlen, "corrupt gzip data: %s", rule[i].why);
			return INFLATE_CORRUPT;
		}
	}
	return 0;
}

/* Consume header bytes. 1 when the header is complete, 0 when it needs more
 * input, INFLATE_CORRUPT with a reason in ERR. */
static int read_header(struct isal_dec *d, char *err, size_t errlen)
{
	uint32_t before = d->st.avail_in;
	int rc;

	if (check_start(d, err, errlen) < 0)
		return INFLATE_CORRUPT;
	rc = isal_read_gzip_header(&d->st, &d->hdr);
	d->hdr_seen += before - d->st.avail_in;
	if (rc == ISAL_END_INPUT)
		return 0;
	if (rc != ISAL_DECOMP_OK) {
		snprintf(err, errlen, "corrupt gzip data: %s", reason(rc, 1));
		return INFLATE_CORRUPT;
	}
	d->in_header = 0;
	/* The header is read: now inflate checks the trailer's CRC and length. */
	d->st.crc_flag = ISAL_GZIP;
	return 1;
}

/* Inflate, then check the trailer: INFLATE_MORE, INFLATE_MEMBER_END or -1. */
static int read_data(struct isal_dec *d, char *err, size_t errlen)
{
	int rc = isal_inflate(&d->st);

	if (rc != ISAL_DECOMP_OK) {
		snprintf(err, errlen, "corrupt gzip data: %s", reason(rc, 0));
		return INFLATE_CORRUPT;
	}
	return d->st.block_state == ISAL_BLOCK_FINISH ? INFLATE_MEMBER_END : INFLATE_MORE;
}

static int isal_run(void *dec, struct inflate_io *io, char *err, size_t errlen)
{
	struct isal_dec *d = dec;
	/* ISA-L counts in uint32_t; a larger buffer is simply offered in parts. */
	uint32_t in = io->avail_in > UINT32_MAX ? UINT32_MAX : (uint32_t)io->avail_in;
	uint32_t out = io->avail_out > UINT32_MAX ? UINT32_MAX : (uint32_t)io->avail_out;
	int rc;

	/* ISA-L never writes to its input; the cast only matches its prototype. */
	d->st.next_in = (uint8_t *)io->next_in;
	d->st.avail_in = in;
	d->st.next_out = io->next_out;
	d->st.avail_out = out;
	rc = d->in_header ? read_header(d, err, errlen) : 1;
	if (rc == 1)
		rc = read_data(d, err, errlen);
	else if (rc == 0)
		rc = INFLATE_MORE;
	io->next_in += in - d->st.avail_in;
	io->avail_in -= in - d->st.avail_in;
	io->next_out += out - d->st.avail_out;
	io->avail_out -= out - d->st.avail_out;
	return rc;
}

static void isal_next_member(void *dec)
{
	struct isal_dec *d = dec;

	isal_inflate_reset(&d->st);
	start_member(d);
}

static void isal_close(void *dec)
{
	free(dec);
}

const struct inflate_backend inflate_isal = {
	.name = isal_name,
	.open = isal_open,
	.run = isal_run,
	.next_member = isal_next_member,
	.close = isal_close,
};

#else

/* ISO C wants a declaration in every file. */
typedef int inflate_isal_not_built;

#endif
