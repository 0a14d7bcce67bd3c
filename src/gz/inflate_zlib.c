/* inflate_zlib.c -- gzip members decoded with zlib's stream API.
 *
 * Always built: it is the fallback where ISA-L is missing, and the reference
 * the ISA-L backend is tested against. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "inflate.h"

static const char *zlib_name(void)
{
	static char name[32];

	snprintf(name, sizeof(name), "zlib %s", zlibVersion());
	return name;
}

static void *zlib_open(void)
{
	z_stream *zs = calloc(1, sizeof(*zs));

	if (zs == NULL)
		return NULL;
	/* 16 + MAX_WBITS: gzip wrapper only, so a zlib or raw stream is an error. */
	if (inflateInit2(zs, 16 + MAX_WBITS) != Z_OK) {
		free(zs);
		return NULL;
	}
	return zs;
}

static int zlib_run(void *dec, struct inflate_io *io, char *err, size_t errlen)
{
	z_stream *zs = dec;
	/* zlib counts in uInt; a larger buffer is simply offered in parts. */
	uInt in = io->avail_in > UINT_MAX ? UINT_MAX : (uInt)io->avail_in;
	uInt out = io->avail_out > UINT_MAX ? UINT_MAX : (uInt)io->avail_out;
	int rc;

	zs->next_in = (Bytef *)io->next_in;
	zs->avail_in = in;
	zs->next_out = io->next_out;
	zs->avail_out = out;
	rc = inflate(zs, Z_NO_FLUSH);
	io->next_in += in - zs->avail_in;
	io->avail_in -= in - zs->avail_in;
	io->next_out += out - zs->avail_out;
	io->avail_out -= out - zs->avail_out;
	switch (rc) {
	case Z_STREAM_END:
		return INFLATE_MEMBER_END;
	case Z_OK:
	case Z_BUF_ERROR: /* no progress possible: needs more input */
		return INFLATE_MORE;
	case Z_MEM_ERROR:
		snprintf(err, errlen, "out of memory");
		return -1;
	default:
		snprintf(err, errlen, "corrupt gzip data: %s",
			 zs->msg != NULL ? zs->msg : "inflate failed");
		return INFLATE_CORRUPT;
	}
}

static void zlib_next_member(void *dec)
{
	inflateReset(dec);
}

static void zlib_close(void *dec)
{
	if (dec == NULL)
		return;
	inflateEnd(dec);
	free(dec);
}

const struct inflate_backend inflate_zlib = {
	.name = zlib_name,
	.open = zlib_open,
	.run = zlib_run,
	.next_member = zlib_next_member,
	.close = zlib_close,
};
