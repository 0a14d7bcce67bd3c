/* gzlines.c -- gzip members inflated block by block, split into lines.
 *
 * The decoder (zlib or ISA-L, see inflate.h) sees only one member at a time;
 * this file reads the file, tells a next member from trailing garbage and a
 * clean end from truncation, so every backend rejects the same files with the
 * same words. gzread() would be shorter, but it silently passes non-gzip
 * input through and hides truncation. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gzlines.h"
#include "inflate.h"
#include "fileid.h"
#include "line/record.h"

/* Reads small enough that the input buffer stays in the CPU's cache, and
 * so what one decoder call inflates from it (about 130 KiB here) while the
 * lines are parsed: with 1 MiB reads the kernel's copy into a cold buffer
 * cost a tenth of the whole load's CPU time, and parsing a 1 MiB output
 * block read its lines from the L3 cache (1M generated lines: 0.94 s of
 * CPU with 1 MiB reads, 0.87 s with 64 KiB; zlib's the same either way).
 * Each read and each decoder call has a fixed cost (ISA-L copies its
 * 32 KiB window out and back on every call), which 64 KiB still repays.
 * The decoder is offered all free space of out. */
#define IN_CHUNK (64 * 1024)
#define OUT_CHUNK (256 * 1024)
/* A kept line plus one inflated block always fit. */
#define OUT_CAP (RECORD_MAX_LINE + 1 + OUT_CHUNK)

struct gzlines {
	int fd;
	const struct inflate_backend *inflate;
	void *dec;
	int member_done; /* the current gzip member ended; another may follow */
	int padding;     /* zero bytes after the last member: only zeros may follow */
	int input_eof;
	int stream_eof;  /* no more output will come */
	uint64_t bytes_in;
	unsigned char *in;
	const unsigned char *next_in; /* unconsumed bytes of in */
	size_t avail_in;
	char *out;
	size_t start, end; /* unconsumed bytes of out */
	int skipping;      /* inside an overlong line, discarding up to '\n' */
};

const char *gzlines_backend(void)
{
	return inflate_describe();
}

struct gzlines *gzlines_open(const char *path, struct file_id *id, char *err, size_t errlen)
{
	struct gzlines *gz = calloc(1, sizeof(*gz));
	struct stat sb;

	if (gz == NULL)
		goto nomem;
	gz->fd = -1;
	gz->in = malloc(IN_CHUNK);
	gz->out = malloc(OUT_CAP);
	if (gz->in == NULL || gz->out == NULL)
		goto nomem;
	/* O_NONBLOCK: opening a FIFO with no writer would wait for one. */
	gz->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (gz->fd < 0 || fstat(gz->fd, &sb) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "not a regular file (%s)", file_type_name(sb.st_mode));
		goto fail;
	}
	if (fcntl(gz->fd, F_SETFL, 0) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	file_id_of(&sb, id);
	/* A hint that the kernel may read further ahead; harmless if refused. */
	(void)posix_fadvise(gz->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	gz->inflate = inflate_choose();
	gz->dec = gz->inflate->open();
	if (gz->dec == NULL)
		goto nomem;
	return gz;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	gzlines_close(gz);
	return NULL;
}

/* Read more compressed input. 0, or -1 on a read error. */
static int fill_input(struct gzlines *gz, char *err, size_t errlen)
{
	ssize_t n;

	do
		n = read(gz->fd, gz->in, IN_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		gz->input_eof = 1;
	gz->next_in = gz->in;
	gz->avail_in = (size_t)n;
	gz->bytes_in += (uint64_t)n;
	return 0;
}

/* Skip the zero bytes at the start of the unused input; 0, or
 * GZLINES_BAD when another byte comes first. */
static int skip_padding(struct gzlines *gz, char *err, size_t errlen)
{
	while (gz->avail_in > 0 && gz->next_in[0] == 0)
		gz->next_in++, gz->avail_in--;
	if (gz->avail_in == 0)
		return 0;
	snprintf(err, errlen, "trailing garbage after gzip data");
	return GZLINES_BAD;
}

/* Inflate into out[end..]. 0 (possibly with nothing new at stream end), -1,
 * or GZLINES_BAD. */
static int inflate_more(struct gzlines *gz, char *err, size_t errlen)
{
	size_t before = gz->end;

	while (gz->end == before && !gz->stream_eof) {
		if (gz->avail_in == 0 && !gz->input_eof) {
			int first = gz->bytes_in == 0;
			if (fill_input(gz, err, errlen) < 0)
				return -1;
			if (first && gz->avail_in > 0 &&
			    (gz->avail_in < 2 || gz->in[0] != 0x1f || gz->in[1] != 0x8b)) {
				snprintf(err, errlen, "not in gzip format");
				return GZLINES_BAD;
			}
		}
		if (gz->member_done) {
			if (gz->avail_in == 0 && gz->input_eof) {
				gz->stream_eof = 1;
				break;
			}
			/* Concatenated members are one stream, as gzip -d reads them;
			 * zero bytes after the last are padding (gzip -d skips them
			 * too); anything else is damage. */
			if (gz->avail_in > 0 && gz->next_in[0] == 0)
				gz->padding = 1;
			if (gz->padding) {
				if (skip_padding(gz, err, errlen) < 0)
					return GZLINES_BAD;
				continue;
			}
			if (gz->avail_in == 0)
				continue;
			if (gz->next_in[0] != 0x1f) {
				snprintf(err, errlen, "trailing garbage after gzip data");
				return GZLINES_BAD;
			}
			gz->inflate->next_member(gz->dec);
			gz->member_done = 0;
		}
		if (gz->avail_in == 0 && gz->input_eof) {
			if (gz->bytes_in == 0)
				snprintf(err, errlen, "empty file, not in gzip format");
			else
				snprintf(err, errlen, "unexpected end of file (truncated gzip)");
			return GZLINES_BAD;
		}
		struct inflate_io io = {
			.next_in = gz->next_in,
			.avail_in = gz->avail_in,
			.next_out = (unsigned char *)gz->out + gz->end,
			.avail_out = OUT_CAP - gz->end,
		};
		int rc = gz->inflate->run(gz->dec, &io, err, errlen);
		gz->next_in = io.next_in;
		gz->avail_in = io.avail_in;
		gz->end = (size_t)((char *)io.next_out - gz->out);
		if (rc < 0)
			return rc == INFLATE_CORRUPT ? GZLINES_BAD : -1;
		if (rc == INFLATE_MEMBER_END)
			gz->member_done = 1;
	}
	return 0;
}

int gzlines_next(struct gzlines *gz, const char **line, size_t *len, int *overlong,
		 char *err, size_t errlen)
{
	size_t scanned = 0; /* bytes already searched for '\n' */

	for (;;) {
		char *base = gz->out + gz->start;
		size_t avail = gz->end - gz->start;
		char *nl = memchr(base + scanned, '\n', avail - scanned);

		if (nl != NULL) {
			size_t n = (size_t)(nl - base);
			gz->start += n + 1;
			*line = base;
			*overlong = gz->skipping || n > RECORD_MAX_LINE;
			*len = *overlong ? 0 : n;
			gz->skipping = 0;
			return 1;
		}
		scanned = avail;
		if (gz->skipping || avail > RECORD_MAX_LINE) {
			/* Too long to keep: drop what we have, remember to skip to '\n'. */
			gz->skipping = 1;
			gz->start = gz->end = 0;
			scanned = 0;
		} else if (gz->start > 0 && gz->end + OUT_CHUNK > OUT_CAP) {
			memmove(gz->out, base, avail);
			gz->start = 0;
			gz->end = avail;
		}
		if (gz->stream_eof) {
			if (gz->skipping) {
				gz->skipping = 0;
				*line = gz->out;
				*len = 0;
				*overlong = 1;
				return 1;
			}
			if (avail == 0)
				return 0;
			/* A last line without '\n' is still a line. */
			*line = gz->out + gz->start;
			*len = avail;
			*overlong = 0;
			gz->start = gz->end;
			return 1;
		}
		int rc = inflate_more(gz, err, errlen);
		if (rc < 0)
			return rc;
	}
}

uint64_t gzlines_bytes_in(const struct gzlines *gz)
{
	return gz->bytes_in;
}

void gzlines_close(struct gzlines *gz)
{
	if (gz == NULL)
		return;
	if (gz->dec != NULL)
		gz->inflate->close(gz->dec);
	if (gz->fd >= 0)
		close(gz->fd);
	free(gz->in);
	free(gz->out);
	free(gz);
}
