/* coord.c -- coordinates: checked and converted in one pass.
 *
 * Hand-written because strtod alone accepts spaces, hex, "inf" and "nan",
 * and is the slowest step of a line when called twice per line. The usual
 * coordinate (a sign, up to 7 digits, a point, up to 15 digits) is read a
 * word at a time (fields_avx2.c reads a line's pair with vectors);
 * anything else goes the long way, byte by byte, and to strtod when
 * Clinger's fast path cannot round it. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "space.h"
#include "swar.h"

static inline int is_digit(char c)
{
	return (unsigned char)(c - '0') < 10; /* one comparison */
}

/* Powers of ten that a double holds exactly, and as integers. */
const double coord_pow10[COORD_POW10] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};
static const uint64_t pow10_u64[] = {
	UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
	UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
	UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
	UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000),
	UINT64_C(1000000000000000), UINT64_C(10000000000000000), UINT64_C(100000000000000000),
	UINT64_C(1000000000000000000), UINT64_C(10000000000000000000),
};

/* A coordinate as it usually is, [+-] digits . digits with at most 7
 * before the point and 15 after it, read 8 bytes at a time. S must have 32
 * readable bytes. 0 with *OUT set, or -1 to leave the field to the general
 * parser, which decides every other case. */
static int coord_common(const char *s, size_t len, double *out)
{
	size_t i = (s[0] == '-') | (s[0] == '+'); /* no branch on the sign */
	uint64_t m, frac, more;
	unsigned before = swar_leading_digits(swar_load(s + i), &m), after = 0;

	i += before;
	if (before == 8)
		return -1;
	if (s[i] == '.') {
		after = swar_leading_digits(swar_load(s + i + 1), &frac);
		if (after == 8) {
			unsigned rest = swar_leading_digits(swar_load(s + i + 9), &more);
			if (rest == 8)
				return -1;
			frac = frac * pow10_u64[rest] + more;
			after += rest;
		}
		if (before + after > 19) /* m could wrap */
			return -1;
		m = m * pow10_u64[after] + frac;
		i += 1 + after;
	}
	if (i != len || before + after == 0 || m > (UINT64_C(1) << 53))
		return -1;
	*out = coord_signed((double)m / coord_pow10[after], s[0] == '-');
	return 0;
}

/* The number in a lat or lon field: strict decimal syntax, [+-] digits
 * [. digits] [e [+-] digits] with at least one mantissa digit, with any
 * whitespace around it taken off first (the original's float() took it
 * off); no space inside, hex, "inf" or "nan", which strtod alone would
 * accept. Checked and
 * converted in one pass: when the digits make an integer of at most 2^53
 * and the power of ten is one a double holds exactly, one IEEE division or
 * multiplication rounds correctly (Clinger's fast path), so the result is
 * strtod's; coordinates with 10 decimals always take it. Other numbers go
 * to strtod, which the program never puts in another locale than "C". */
int coord_parse(const char *s, size_t len, size_t readable, double *out)
{
	uint64_t m = 0;
	size_t i = 0;
	int digits = 0, frac = 0, exp = 0, exp_digits = 0, neg = 0, exp_neg = 0;

	readable -= space_trim(&s, &len);
	if (len == 0 || len > 127)
		return -1;
#if COORD_FAST
	if (readable >= 32 && coord_common(s, len, out) == 0)
		return 0;
#else
	(void)readable;
#endif
	if (s[0] == '+' || s[0] == '-')
		neg = s[i++] == '-';
	for (; i < len && is_digit(s[i]); i++, digits++)
		m = m * 10 + (uint64_t)(s[i] - '0');
	if (i < len && s[i] == '.')
		for (i++; i < len && is_digit(s[i]); i++, digits++, frac++)
			m = m * 10 + (uint64_t)(s[i] - '0');
	if (digits == 0)
		return -1;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			exp_neg = s[i++] == '-';
		for (; i < len && is_digit(s[i]); i++, exp_digits++)
			if (exp < 100000)
				exp = exp * 10 + (s[i] - '0');
		if (exp_digits == 0)
			return -1;
	}
	if (i != len)
		return -1;

	int exp10 = (exp_neg ? -exp : exp) - frac;
#if COORD_FAST
	if (digits <= 19 && m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
		double v = exp10 < 0 ? (double)m / coord_pow10[-exp10] : (double)m * coord_pow10[exp10];
		*out = neg ? -v : v;
		return 0;
	}
#endif
	char buf[128];
	memcpy(buf, s, len);
	buf[len] = '\0';
	double v = strtod(buf, NULL);
	if (!isfinite(v))
		return -1;
	*out = v;
	return 0;
}
