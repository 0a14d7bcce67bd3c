/* numfmt.c -- shortest round-trip decimals. */
#include <stdio.h>
#include <stdlib.h>

#include "numfmt.h"

void numfmt_double(char *buf, size_t size, double v)
{
	/* printf has no "shortest" conversion: try precisions until one reads
	 * back exactly; 17 significant digits always do. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}
