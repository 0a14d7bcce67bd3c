/* record_ref.h -- the previous line parser, a reference for the tests. */
#ifndef MEMC_LOAD_RECORD_REF_H
#define MEMC_LOAD_RECORD_REF_H

#include "record.h"

/* record_parse as it was: same rules, slower. REC from record_init. */
enum line_status ref_record_parse(struct record *rec, const char *line, size_t len);

/* record_parse_coord as it was. */
int ref_record_parse_coord(const char *s, size_t len, double *out);

#endif
