/* swar.h -- eight bytes of a line at a time in one 64-bit word (SWAR).
 *
 * The line parser's byte classes and decimal digits, without SIMD
 * instructions, so they run on any CPU. Every mask is exact for each byte:
 * no carry or borrow crosses from one byte into the next, so any set bit is
 * a real match, not only the lowest. Byte I of a word is the I-th byte in
 * memory, whatever the machine's byte order. */
#ifndef MEMC_LOAD_SWAR_H
#define MEMC_LOAD_SWAR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SWAR_ONES UINT64_C(0x0101010101010101)
#define SWAR_HIGH UINT64_C(0x8080808080808080)

/* The 8 bytes at P. */
static inline uint64_t swar_load(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* The N (< 8) bytes at P, then zero bytes: nothing past P + N is read. */
static inline uint64_t swar_load_tail(const char *p, size_t n)
{
	char b[8] = {0};

	memcpy(b, p, n);
	return swar_load(b);
}

/* The high bit of each byte of W that equals C. */
static inline uint64_t swar_eq(uint64_t w, unsigned char c)
{
	uint64_t z = w ^ (SWAR_ONES * c);

	return ~(((z & ~SWAR_HIGH) + ~SWAR_HIGH) | z) & SWAR_HIGH;
}

/* The high bit of each byte of W below C (1 <= C <= 0x80). */
static inline uint64_t swar_below(uint64_t w, unsigned char c)
{
	return ~(((w & ~SWAR_HIGH) + SWAR_ONES * (0x80u - c)) | w) & SWAR_HIGH;
}

/* The high bit of each byte of W that is not an ASCII digit. */
static inline uint64_t swar_nondigit(uint64_t w)
{
	uint64_t v = w ^ (SWAR_ONES * '0'); /* digits become 0..9 */

	return (((v & ~SWAR_HIGH) + SWAR_ONES * 0x76) | v) & SWAR_HIGH;
}

/* The index of the first byte of a nonzero mask M. */
static inline unsigned swar_first(uint64_t m)
{
	return (unsigned)__builtin_ctzll(m) >> 3;
}

/* How many bits of X are set: without a POPCNT instruction (not in the
 * x86-64 baseline) the compiler would call a library function. */
static inline unsigned swar_popcount(uint64_t x)
{
	x -= (x >> 1) & UINT64_C(0x5555555555555555);
	x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
	return (unsigned)((x * SWAR_ONES) >> 56);
}

/* The mask M (high bits of bytes) as 8 bits, bit I for byte I. */
static inline unsigned swar_bits(uint64_t m)
{
	/* Each byte's bit lands in the top byte; no two products overlap. */
	return (unsigned)(((m >> 7) * UINT64_C(0x0102040810204080)) >> 56);
}

/* The number written by the last N (1 to 8) bytes of W, all digits; the
 * bytes before them are ignored. Three multiplications instead of a loop
 * of N: pairs of digits, then fours, then all eight. */
static inline uint64_t swar_value(uint64_t w, unsigned n)
{
	uint64_t v = (w ^ (SWAR_ONES * '0')) & (~UINT64_C(0) << (8 * (8 - n)));

	v = (v * (10 * 256 + 1)) >> 8;
	v = ((v & UINT64_C(0x00ff00ff00ff00ff)) * (100 * 65536 + 1)) >> 16;
	return ((v & UINT64_C(0x0000ffff0000ffff)) * ((UINT64_C(10000) << 32) + 1)) >> 32;
}

/* How many bytes of W are digits before the first that is not, with their
 * number in *VALUE (0 when there are none). */
static inline unsigned swar_leading_digits(uint64_t w, uint64_t *value)
{
	uint64_t nd = swar_nondigit(w);
	unsigned n = nd ? swar_first(nd) : 8;

	*value = n ? swar_value(w << (8 * (8 - n)), n) : 0;
	return n;
}

#endif
