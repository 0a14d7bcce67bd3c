/* record_ref.h -- the previous line parser, a reference for the tests. */
#ifndef MEMC_LOAD_RECORD_REF_H
#define MEMC_LOAD_RECORD_REF_H

#include "line/record.h"

/* record_parse as it was: same rules, slower. REC from record_init. */
enum line_status ref_record_parse(struct record *rec, const char *line, size_t len);

/* record_parse_coord as it was. */
int ref_record_parse_coord(const char *s, size_t len, double *out);

/* Whether the rules as they were and as they are (issue 15: whitespace
 * stripped at the line's ends and around coordinates and app items, signs
 * in app items) must agree on LINE: 1 when it has no whitespace at its
 * ends but one CR before the end, none in its coordinates and apps, and no
 * sign in its apps; 0 when they may differ. */
int ref_rules_agree(const char *line, size_t len);

#endif
