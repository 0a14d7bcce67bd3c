/* space.h -- the whitespace of the line rules: what Python 2's str.strip()
 * and its int() and float() skip, which the original script relied on.
 *
 * Those are the six bytes C's isspace() gives in the "C" locale: space,
 * tab, newline, vertical tab, form feed and carriage return. Written out
 * rather than isspace(), whose answer depends on the locale and costs a
 * call and a table look-up per byte. */
#ifndef MEMC_LOAD_SPACE_H
#define MEMC_LOAD_SPACE_H

#include <stddef.h>

/* Whether C is one of the six. */
static inline int space_byte(char c)
{
	/* \t \n \v \f \r are 9 to 13: one comparison for the five. */
	return c == ' ' || (unsigned char)(c - '\t') <= '\r' - '\t';
}

/* Take the whitespace off both ends of *S[0, *LEN), as str.strip() does;
 * returns how many bytes were taken off the front. The usual field has
 * none: one look at each end. */
static inline size_t space_trim(const char **s, size_t *len)
{
	const char *p = *s;
	size_t n = *len;

	while (n > 0 && space_byte(p[n - 1]))
		n--;
	while (n > 0 && space_byte(*p))
		p++, n--;
	size_t front = (size_t)(p - *s);
	*s = p;
	*len = n;
	return front;
}

#endif
