/* coord.h -- a lat or lon field to a double, by the line rules: whitespace
 * (space.h) around the number ignored, as Python's float() ignores it, and
 * the number itself in strict decimal syntax, [+-] digits [. digits]
 * [e [+-] digits] with at least one mantissa digit, at most 127 bytes,
 * finite, and the double strtod gives. Pure, no I/O. */
#ifndef MEMC_LOAD_COORD_H
#define MEMC_LOAD_COORD_H

#include <float.h>
#include <stddef.h>

/* The coordinate field S[0, LEN); READABLE bytes from S may be read (at
 * least LEN: more lets it read words at a time). 0 with *OUT set, or -1,
 * also for a field that is empty or only whitespace. */
int coord_parse(const char *s, size_t len, size_t readable, double *out);

/* With extended precision, Clinger's fast path (an integer of at most
 * 2^53 divided by an exact power of ten rounds once, correctly) would
 * round twice; then only strtod converts. */
#define COORD_FAST (FLT_EVAL_METHOD == 0)

/* The powers of ten a double holds exactly: 1e0 to 1e22. */
#define COORD_POW10 23
extern const double coord_pow10[COORD_POW10];

/* V (not negative), negated when NEG (0 or 1), with no branch: a
 * coordinate's sign is as good as random. -0.0 for 0 when NEG, as the
 * negation gives. */
static inline double coord_signed(double v, int neg)
{
	static const double sign[2] = {1.0, -1.0};

	return v * sign[neg];
}

#endif
