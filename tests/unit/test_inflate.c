/* test_inflate.c -- the inflate backends give the same results: the same
 * lines from the same files, the same kind of failure on damaged ones, and
 * correct member boundaries whatever the input and output block sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "gz/gzlines.h"
#include "report.h"
#include "gz/inflate.h"
#include "line/record.h"

static char dir[] = "/tmp/test_inflate.XXXXXX";
static char path[256];

static const struct inflate_backend *const backends[] = {
	&inflate_zlib,
#ifdef HAVE_ISAL
	&inflate_isal,
#endif
};
#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/f.gz", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

/* Deterministic, so a failure reproduces. */
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void grow(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	b->cap = (b->len + more) * 2;
	b->p = realloc(b->p, b->cap);
	assert_non_null(b->p);
}

/* Append one gzip member of DATA to OUT: level and header fields vary with
 * VARIANT, so members are stored, fast or best, with or without FEXTRA,
 * FNAME, FCOMMENT and FHCRC. */
static void add_member(struct buf *out, const unsigned char *data, size_t len, int variant)
{
	static const int levels[] = {0, 1, 6, 9};
	unsigned char extra[] = {'x', 'y', 2, 0, 7, 7};
	char name[600];
	gz_header hdr;
	z_stream zs;

	memset(&hdr, 0, sizeof(hdr));
	memset(name, 'n', sizeof(name) - 1);
	name[(variant * 131) % (sizeof(name) - 1)] = '\0';
	if (variant & 4) {
		hdr.extra = extra;
		hdr.extra_len = sizeof(extra);
	}
	if (variant & 8)
		hdr.name = (Bytef *)name;
	if (variant & 16)
		hdr.comment = (Bytef *)"comment";
	hdr.hcrc = (variant & 32) != 0;
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, levels[variant & 3], Z_DEFLATED, 16 + MAX_WBITS, 8,
				      Z_DEFAULT_STRATEGY),
			 Z_OK);
	assert_int_equal(deflateSetHeader(&zs, &hdr), Z_OK);
	grow(out, deflateBound(&zs, len) + 1024);
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out->p + out->len;
	zs.avail_out = (uInt)(out->cap - out->len);
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	out->len += zs.total_out;
	deflateEnd(&zs);
}

/* Random text lines, some long enough to span several inflate blocks. */
static void add_lines(struct buf *text, size_t bytes)
{
	size_t end = text->len + bytes;

	grow(text, bytes);
	while (text->len < end) {
		size_t n = rnd(8) == 0 ? rnd(300000) : rnd(200);
		if (n > end - text->len)
			n = end - text->len;
		for (size_t i = 0; i < n; i++)
			text->p[text->len++] = (unsigned char)(rnd(4) == 0 ? ' ' + rnd(90) : 'a' + rnd(4));
		if (text->len < end)
			text->p[text->len++] = '\n';
	}
}

static void write_file(const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* What reading the file through gzlines gave. */
struct result {
	size_t lines;
	uint64_t digest; /* of every line's length, overlong flag and bytes */
	int status;
	char err[256];
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3u;
	return h;
}

static void read_with(const char *inflate, struct result *r)
{
	const char *line;
	size_t len;
	int overlong;
	struct gzlines *gz;
	struct file_id id;

	setenv("MEMC_LOAD_INFLATE", inflate, 1);
	memset(r, 0, sizeof(*r));
	r->digest = 0xcbf29ce484222325u;
	gz = gzlines_open(path, &id, r->err, sizeof(r->err));
	assert_non_null(gz);
	while ((r->status = gzlines_next(gz, &line, &len, &overlong, r->err, sizeof(r->err))) ==
	       1) {
		r->lines++;
		r->digest = fnv(r->digest, &len, sizeof(len));
		r->digest = fnv(r->digest, &overlong, sizeof(overlong));
		r->digest = fnv(r->digest, line, len);
	}
	gzlines_close(gz);
	unsetenv("MEMC_LOAD_INFLATE");
}

#ifdef HAVE_ISAL
/* The part of a reason that names the kind of failure, not the detail. */
static size_t kind_len(const char *err)
{
	const char *colon = strchr(err, ':');

	return colon != NULL ? (size_t)(colon - err) : strlen(err);
}

/* Whether two reasons name the same kind of failure. One known exception:
 * zlib checks a few things early that ISA-L does not (that a block's code
 * lengths form a complete code; the CRC before the length has arrived), so on
 * some damaged files ISA-L decodes on and runs out of input. Both reject the
 * file, ISA-L as truncated where zlib says corrupt; gzip -t itself says
 * "unexpected end of file" on some of these. */
static int same_kind(const char *zlib_err, const char *isal_err)
{
	size_t n = kind_len(zlib_err);

	if (n == kind_len(isal_err) && strncmp(zlib_err, isal_err, n) == 0)
		return 1;
	return strncmp(zlib_err, "corrupt gzip data:", 18) == 0 &&
	       strcmp(isal_err, "unexpected end of file (truncated gzip)") == 0;
}
#endif

/* Both backends read the file at PATH the same way; returns zlib's result. */
static void same_from_both(struct result *z)
{
	read_with("zlib", z);
#ifdef HAVE_ISAL
	struct result isal;

	read_with("isal", &isal);
	if (z->status != isal.status || !same_kind(z->err, isal.err))
		fail_msg("zlib: %d '%s', ISA-L: %d '%s'", z->status, z->err, isal.status,
			 isal.err);
	/* A damaged file may fail after a different number of lines. */
	if (z->status == 0) {
		assert_int_equal(z->lines, isal.lines);
		assert_true(z->digest == isal.digest);
	}
#endif
}

/* Expected digest of TEXT split into lines as gzlines does. */
static void expect_lines(const struct buf *text, const struct result *r)
{
	uint64_t h = 0xcbf29ce484222325u;
	size_t lines = 0, at = 0;

	while (at < text->len) {
		const unsigned char *nl = memchr(text->p + at, '\n', text->len - at);
		size_t n = nl != NULL ? (size_t)(nl - (text->p + at)) : text->len - at;
		int overlong = n > RECORD_MAX_LINE;
		size_t len = overlong ? 0 : n;
		h = fnv(h, &len, sizeof(len));
		h = fnv(h, &overlong, sizeof(overlong));
		h = fnv(h, text->p + at, len);
		lines++;
		at += n + 1;
	}
	assert_int_equal(r->lines, lines);
	assert_true(r->digest == h);
}

static void random_members_same_lines(void **state)
{
	struct buf text = {0}, gz = {0};
	struct result r;

	(void)state;
	/* Some 8 MB of text in 40 members, with member boundaries inside lines,
	 * an empty member, and two lines over RECORD_MAX_LINE. */
	for (int m = 0; m < 40; m++) {
		size_t from = text.len;
		if (m == 7) {
			/* nothing: an empty member */
		} else if (m == 20 || m == 30) {
			size_t n = RECORD_MAX_LINE + 1 + rnd(100000);
			grow(&text, n + 1);
			memset(text.p + text.len, 'L', n);
			text.len += n;
			text.p[text.len++] = '\n';
		} else {
			add_lines(&text, rnd(300000));
		}
		add_member(&gz, text.p + from, text.len - from, m);
	}
	write_file(gz.p, gz.len);
	same_from_both(&r);
	assert_int_equal(r.status, 0);
	expect_lines(&text, &r);
	free(text.p);
	free(gz.p);
}

/* A small two-member file and its text, for the damage tests; *FIRST_END
 * is where the first member ends. */
static void small_file(struct buf *text, struct buf *gz, size_t *first_end)
{
	static const char a[] = "idfa\t1rfw452y52g2gq4g\t55.55\t42.42\t1423,43,567,3,7,23\n"
				"gaid\t7rfw452y52g2gq4g\t55.55\t42.42\t7423,424\n";
	static const char b[] = "adid\tx\t1\t2\t3\ndvid\ty\t1\t2\t4,5,6\n";

	grow(text, sizeof(a) + sizeof(b));
	memcpy(text->p, a, sizeof(a) - 1);
	memcpy(text->p + sizeof(a) - 1, b, sizeof(b) - 1);
	text->len = sizeof(a) + sizeof(b) - 2;
	add_member(gz, (const unsigned char *)a, sizeof(a) - 1, 2 | 8 | 32);
	*first_end = gz->len;
	add_member(gz, (const unsigned char *)b, sizeof(b) - 1, 0 | 4 | 16);
}

/* Cut the file at every length: the same failure from both, or success. */
static void every_truncation(void **state)
{
	struct buf text = {0}, gz = {0};
	struct result r;
	size_t first_end;

	(void)state;
	small_file(&text, &gz, &first_end);
	for (size_t n = 0; n <= gz.len; n++) {
		write_file(gz.p, n);
		same_from_both(&r);
		if (n == gz.len) {
			assert_int_equal(r.status, 0);
			expect_lines(&text, &r);
		} else {
			/* Cut between the members, the file is whole, just shorter. */
			assert_int_equal(r.status, n == first_end ? 0 : GZLINES_BAD);
		}
	}
	free(text.p);
	free(gz.p);
}

/* Damage every byte in four ways: both backends agree on each result. */
static void every_damaged_byte(void **state)
{
	static const unsigned char flips[] = {0x01, 0x10, 0x80, 0xff};
	struct buf text = {0}, gz = {0};
	struct result r;
	size_t failed = 0, tried = 0, first_end;

	(void)state;
	small_file(&text, &gz, &first_end);
	for (size_t at = 0; at < gz.len; at++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			gz.p[at] ^= flips[f];
			write_file(gz.p, gz.len);
			same_from_both(&r);
			if (r.status == 0)
				expect_lines(&text, &r); /* e.g. a changed file name */
			else
				failed++;
			tried++;
			gz.p[at] ^= flips[f];
		}
	}
	/* Most damage must be caught, not just survived. */
	assert_true(failed > tried / 2);
	free(text.p);
	free(gz.p);
}

/* Random damage to random small files of one to three members. */
static void random_damage(void **state)
{
	(void)state;
	for (int round = 0; round < 100; round++) {
		struct buf text = {0}, gz = {0};
		struct result r;
		uint32_t members = 1 + rnd(3);

		for (uint32_t m = 0; m < members; m++) {
			size_t from = text.len;
			add_lines(&text, rnd(5000));
			add_member(&gz, text.p + from, text.len - from, (int)rnd(64));
		}
		for (int k = 0; k < 20; k++) {
			size_t at = rnd((uint32_t)gz.len);
			unsigned char x = (unsigned char)(1 + rnd(255));
			gz.p[at] ^= x;
			write_file(gz.p, gz.len);
			same_from_both(&r);
			if (r.status == 0)
				expect_lines(&text, &r);
			gz.p[at] ^= x;
		}
		free(text.p);
		free(gz.p);
	}
}

/* GZ with LEN bytes of TAIL (NULL: zeros) after it, as the test file. */
static void write_with_tail(const struct buf *gz, const char *tail, size_t len)
{
	struct buf f = {0};

	grow(&f, gz->len + len);
	memcpy(f.p, gz->p, gz->len);
	if (tail != NULL)
		memcpy(f.p + gz->len, tail, len);
	else
		memset(f.p + gz->len, 0, len);
	write_file(f.p, gz->len + len);
	free(f.p);
}

/* Zero bytes after the last member are padding, as gzip -d reads them, in
 * any number and across reads. */
static void zero_padding_is_no_error(void **state)
{
	static const size_t pads[] = {1, 7, 64 * 1024 + 3, 300 * 1024};
	static const char *const inflates[] = {"zlib", "isal"};
	struct buf text = {0}, gz = {0};
	struct result r;
	size_t first_end;

	(void)state;
	small_file(&text, &gz, &first_end);
	for (size_t p = 0; p < sizeof(pads) / sizeof(pads[0]); p++) {
		write_with_tail(&gz, NULL, pads[p]);
		for (size_t i = 0; i < NBACKENDS; i++) {
			read_with(inflates[i], &r);
			assert_int_equal(r.status, 0);
			expect_lines(&text, &r);
		}
	}
	free(text.p);
	free(gz.p);
}

/* What follows a good member decides the reason, word for word the same
 * from both backends. */
static void after_the_last_member(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *reason;
	} tails[] = {
		{"\0\0\0x", 4, "trailing garbage after gzip data"},
		{"x", 1, "trailing garbage after gzip data"},
		{"\x1f", 1, "unexpected end of file (truncated gzip)"},
		{"\x1f\x8b", 2, "unexpected end of file (truncated gzip)"},
		{"\x1f\x8b\x08\x00\0\0", 6, "unexpected end of file (truncated gzip)"},
		{"\x1f\x1f\x8b\x08", 4, "corrupt gzip data: incorrect header check"},
		{"\x1f\x8b\x07\x00", 4, "corrupt gzip data: unknown compression method"},
		{"\x1f\x8b\x08\x80", 4, "corrupt gzip data: unknown header flags set"},
	};
	static const char *const inflates[] = {"zlib", "isal"};
	struct buf text = {0}, gz = {0};
	struct result r;
	size_t first_end;

	(void)state;
	small_file(&text, &gz, &first_end);
	for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
		write_with_tail(&gz, tails[t].bytes, tails[t].len);
		for (size_t i = 0; i < NBACKENDS; i++) {
			read_with(inflates[i], &r);
			assert_int_equal(r.status, GZLINES_BAD);
			assert_string_equal(r.err, tails[t].reason);
			expect_lines(&text, &r); /* every line came out first */
		}
	}
	free(text.p);
	free(gz.p);
}

/* Drive one backend directly with IN and OUT byte blocks, as gzlines does;
 * the output must be TEXT and each member must end exactly at its trailer. */
static void drive(const struct inflate_backend *b, const struct buf *gz, const size_t *ends,
		  size_t members, const struct buf *text, size_t in_block, size_t out_block)
{
	unsigned char *out = malloc(text->len + out_block);
	void *dec = b->open();
	char err[256];
	size_t got = 0, in_at = 0, ended = 0;
	struct inflate_io io = {0};

	assert_non_null(out);
	assert_non_null(dec);
	while (ended < members) {
		if (io.avail_in == 0) {
			assert_true(in_at < gz->len);
			io.next_in = gz->p + in_at;
			io.avail_in = gz->len - in_at < in_block ? gz->len - in_at : in_block;
			in_at += io.avail_in;
		}
		io.next_out = out + got;
		io.avail_out = out_block;
		int rc = b->run(dec, &io, err, sizeof(err));
		if (rc < 0)
			fail_msg("%s, in %zu out %zu: %s", b->name(), in_block, out_block, err);
		got = (size_t)(io.next_out - out);
		assert_true(got <= text->len);
		if (rc == INFLATE_MEMBER_END) {
			size_t pos = in_at - io.avail_in;
			if (pos != ends[ended])
				fail_msg("%s, in %zu out %zu: member %zu ended at %zu, not %zu",
					 b->name(), in_block, out_block, ended, pos, ends[ended]);
			ended++;
			b->next_member(dec);
		}
	}
	assert_int_equal(in_at - io.avail_in, gz->len);
	assert_int_equal(got, text->len);
	assert_memory_equal(out, text->p, text->len);
	b->close(dec);
	free(out);
}

static void any_block_sizes(void **state)
{
	static const size_t in_blocks[] = {1, 2, 3, 10, 11, 4093, 65536, 1 << 20};
	static const size_t out_blocks[] = {1, 7, 4096, 300000};
	struct buf text = {0}, gz = {0};
	size_t ends[16], members = 0;

	(void)state;
	/* Every header variant at least once, each member with its own text. */
	for (int v = 0; v < 64; v += 5) {
		size_t from = text.len;
		add_lines(&text, v == 10 ? 0 : rnd(20000));
		add_member(&gz, text.p + from, text.len - from, v);
		ends[members++] = gz.len;
	}
	for (size_t b = 0; b < NBACKENDS; b++)
		for (size_t i = 0; i < sizeof(in_blocks) / sizeof(in_blocks[0]); i++)
			for (size_t o = 0; o < sizeof(out_blocks) / sizeof(out_blocks[0]); o++) {
				/* Byte by byte both ways is slow and adds nothing. */
				if (in_blocks[i] < 4 && out_blocks[o] < 8)
					continue;
				drive(backends[b], &gz, ends, members, &text, in_blocks[i],
				      out_blocks[o]);
			}
	free(text.p);
	free(gz.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_members_same_lines),
		cmocka_unit_test(every_truncation),
		cmocka_unit_test(every_damaged_byte),
		cmocka_unit_test(random_damage),
		cmocka_unit_test(after_the_last_member),
		cmocka_unit_test(zero_padding_is_no_error),
		cmocka_unit_test(any_block_sizes),
	};
	return cmocka_run_group_tests_name("inflate backends", tests, setup, teardown);
}
