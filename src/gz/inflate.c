/* inflate.c -- which inflate backend this process uses.
 *
 * Chosen at run time rather than build time so that one binary can compare
 * the two: tests run every gzip case through both, benchmarks time both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inflate.h"

const struct inflate_backend *inflate_choose(void)
{
#ifdef HAVE_ISAL
	const char *want = getenv("MEMC_LOAD_INFLATE");

	if (want == NULL || strcmp(want, "zlib") != 0)
		return &inflate_isal;
#endif
	return &inflate_zlib;
}

const char *inflate_describe(void)
{
	static char text[128];
	const struct inflate_backend *b = inflate_choose();

#ifdef HAVE_ISAL
	/* zlib is named either way: it is linked in, and one variable away. */
	if (b == &inflate_isal)
		snprintf(text, sizeof(text), "%s (%s with MEMC_LOAD_INFLATE=zlib)",
			 inflate_isal.name(), inflate_zlib.name());
	else
		snprintf(text, sizeof(text), "%s (MEMC_LOAD_INFLATE=zlib; %s built in)",
			 inflate_zlib.name(), inflate_isal.name());
#else
	snprintf(text, sizeof(text), "%s", b->name());
#endif
	return text;
}
