/* numfmt.h -- a double as the shortest decimal that reads back as the same
 * double (as Python's repr prints it): for --dry's record lines and the
 * --stats-json report. */
#ifndef MEMC_LOAD_NUMFMT_H
#define MEMC_LOAD_NUMFMT_H

#include <stddef.h>

/* Write V into BUF (32 bytes are always enough). */
void numfmt_double(char *buf, size_t size, double v);

#endif
