/* apps.c -- the apps field: the item rules, and a kernel for any CPU.
 *
 * Hand-written rather than strtoul: strtoul accepts spaces inside an item
 * ("- 5") and wraps negative values, and this runs for every app of every
 * line, about 55 a line. A block of 64
 * bytes is classified first, 8 bytes to a 64-bit word: which are commas,
 * and whether any is neither digit nor comma. The commas become a list of
 * item ends, and an item's digits are then taken from the 8 bytes that end
 * at its comma: no item waits for the one before it, and no branch depends
 * on how many items a word happens to hold. apps_avx2.c reads the usual
 * field with vectors and leaves any other to this kernel. */
#include <string.h>

#include "apps.h"
#include "space.h"
#include "swar.h"

#define INLINE static inline __attribute__((always_inline))

/* The kept items so far, in locals: a store through a byte pointer could
 * alias a struct apps_out in memory and force every count back to memory
 * after every byte. */
struct apps_cursor {
	uint32_t *array;
	uint8_t *varints;
	size_t napps, dropped;
};

/* V as a protobuf varint at P; the bytes written. Values below 2^14, all
 * ids of four digits or fewer, take one path without branches, since
 * whether an id is below 128 is as good as random. */
INLINE size_t put_varint(uint8_t *p, uint32_t v)
{
	if (v < 0x4000) {
		unsigned big = v > 0x7f;
		/* Low 7 bits | 0x80, then the high 7: v + high part + 0x80. */
		uint32_t two = big ? v + (v & 0x3f80) + 0x80 : v;
		p[0] = (uint8_t)two;
		p[1] = (uint8_t)(two >> 8);
		return 1 + big;
	}
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

INLINE void keep(struct apps_cursor *c, uint32_t v)
{
	if (c->array != NULL)
		c->array[c->napps] = v;
	else
		c->varints += put_varint(c->varints, v);
	c->napps++;
}

/* The value of the item S[0, N), or -1 when it is dropped: no digits once
 * the whitespace around it and its sign are off, a byte that is not a
 * digit, or a value outside 0 to UINT32_MAX. Only leading zeros let an
 * item of more than ten digits fit. The usual item never comes here: it
 * is all digits, and scan converts it from its word. */
static int64_t item_value(const char *s, size_t n)
{
	uint64_t v = 0;
	int neg = 0;

	space_trim(&s, &n);
	if (n > 0 && (*s == '+' || *s == '-')) {
		neg = *s == '-';
		s++, n--;
	}
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)(s[i] - '0') > 9)
			return -1;
	while (n > 10 && *s == '0')
		s++, n--;
	if (n > 10)
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (neg && v != 0) /* the original could not store it: dropped */
		return -1;
	return v <= UINT32_MAX ? (int64_t)v : -1;
}

INLINE void items(const char *field, const int32_t *ends, size_t n, int dirty,
		  struct apps_cursor *c)
{
	for (size_t i = 1; i <= n; i++) {
		uint32_t len = (uint32_t)(ends[i] - ends[i - 1] - 1);
		if (!dirty && len - 1 < 8) {
			/* All digits: the 8 bytes that end the item, of which the
			 * field has 8 readable before it. */
			keep(c, (uint32_t)swar_value(swar_load(field + ends[i] - 8), len));
			continue;
		}
		int64_t v = item_value(field + ends[i - 1] + 1, len);
		if (v < 0)
			c->dropped++;
		else
			keep(c, (uint32_t)v);
	}
}

/* The commas of the 64 bytes at P as bits; *OTHER nonzero when a byte is
 * neither digit nor comma. */
INLINE uint64_t classify(const char *p, uint64_t *other)
{
	uint64_t comma = 0, odd = 0;

	for (unsigned i = 0; i < 8; i++) {
		uint64_t w = swar_load(p + 8 * i), c = swar_eq(w, ',');
		comma |= (uint64_t)swar_bits(c) << (8 * i);
		odd |= swar_nondigit(w) & ~c;
	}
	*other = odd;
	return comma;
}

/* Append the positions of the bits of BITS, plus BASE, to DST, eight at a
 * time whatever their number: up to 7 junk entries follow them. */
INLINE void flatten(int32_t *dst, uint64_t bits, int32_t base)
{
	while (bits != 0) {
#ifdef __GNUC__
#pragma GCC unroll 8
#endif
		for (int i = 0; i < 8; i++) {
			/* The top bit keeps ctz defined once BITS is empty. */
			dst[i] = base + __builtin_ctzll(bits | UINT64_C(1) << 63);
			bits &= bits - 1;
		}
		dst += 8;
	}
}

static int scan(const char *line, size_t at, size_t end, struct apps_out *out)
{
	/* -1, up to 7 ends left from the last chunk, a chunk's and the junk
	 * after them, and the field's end. */
	int32_t ends[1 + 7 + APPS_CHUNK + 7 + 1];
	const char *field = line + at;
	size_t len = end - at, n = 0;
	struct apps_cursor c = {out->array, out->varints, 0, 0};
	int dirty = 0;

	ends[0] = -1;
	for (size_t off = 0; off < len;) {
		size_t stop = len - off < APPS_CHUNK ? len : off + APPS_CHUNK, done = 0;

		for (; off < stop; off += 64) {
			size_t blk = 64;
			const char *p = field + off;
			char tail[64];
			uint64_t comma, other;

			if (stop - off < 64) { /* never read past the field: digits after it */
				blk = stop - off;
				memset(tail, '0', sizeof(tail));
				memcpy(tail, p, blk);
				p = tail;
			}
			comma = classify(p, &other);
			if (other != 0) {
				if (memchr(field + off, '\t', blk) != NULL)
					return -1;
				dirty = 1;
			}
			flatten(ends + 1 + n, comma, (int32_t)off);
			n += swar_popcount(comma);
		}
		off = stop;
		if (off == len) /* the last item ends with the field, maybe empty */
			ends[++n] = (int32_t)len;
		for (; n - done >= 8; done += 8)
			items(field, ends + done, 8, dirty, &c);
		if (off == len) {
			items(field, ends + done, n - done, dirty, &c);
			break;
		}
		for (size_t i = 0; i <= n - done; i++) /* the last end done, and the rest */
			ends[i] = ends[done + i];
		n -= done;
	}
	out->napps = c.napps;
	out->dropped = c.dropped;
	out->nbytes = out->array != NULL ? 0 : (size_t)(c.varints - out->varints);
	return 0;
}

int apps_scan(enum simd simd, const char *line, size_t at, size_t end, struct apps_out *out)
{
	if (simd == SIMD_AVX2)
		return apps_scan_avx2(line, at, end, out);
	return scan(line, at, end, out);
}
