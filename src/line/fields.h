/* fields.h -- the first four fields of the usual line at once, for record.c. */
#ifndef MEMC_LOAD_FIELDS_H
#define MEMC_LOAD_FIELDS_H

#include <stddef.h>

struct fields {
	const char *tab[3]; /* the tabs that end dev_id, lat and lon */
	double coord[2];    /* lat and lon, both present */
};

/* With AVX2, for a line of at least FIELDS_MIN_LINE bytes whose first four
 * fields end within its first 96, whose dev_id is a valid key and whose
 * coordinates are plain decimals ([+-] digits [. digits], at most 16
 * bytes after the sign): 0 with F filled as the line rules would. -1 for
 * any other line, which the portable path then reads. */
#define FIELDS_MIN_LINE 128
int fields_avx2(const char *line, size_t len, struct fields *f);

#endif
