/* drylog.h -- --dry's line per record, at debug level:
 * "ADDR - KEY -> apps: [1, 2] lat: 1.5 lon: 2.5". */
#ifndef MEMC_LOAD_DRYLOG_H
#define MEMC_LOAD_DRYLOG_H

#include "config.h"
#include "line/record.h"

/* REC (its apps decoded), to be stored under KEY. */
void drylog_record(const struct config *cfg, const struct record *rec, const char *key);

#endif
