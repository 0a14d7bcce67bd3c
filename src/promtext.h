/* promtext.h -- the Prometheus text exposition format, version 0.0.4: HELP
 * and TYPE lines, samples with at most one label, and their values. Pure:
 * everything goes into a FILE *, and nothing depends on the locale.
 *
 * Names are the caller's constants and are not checked; label values and
 * help texts are escaped as the format wants them. */
#ifndef MEMC_LOAD_PROMTEXT_H
#define MEMC_LOAD_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "# HELP NAME HELP" and "# TYPE NAME TYPE" ("gauge", "counter", ...). */
void promtext_family(FILE *out, const char *name, const char *type, const char *help);

/* One sample line: NAME{LABEL="VALUE"} V, or NAME V when LABEL is NULL. */
void promtext_uint(FILE *out, const char *name, const char *label, const char *value, uint64_t v);
void promtext_double(FILE *out, const char *name, const char *label, const char *value, double v);

/* V as a sample's value into BUF (32 bytes are enough): an integral value
 * below 2^53 in full ("1718000000"), any other the shortest decimal that
 * reads back as V ("0.1", "1.7180000001234567e+09"), always with '.';
 * "NaN", "+Inf" or "-Inf" when V is not finite. */
void promtext_number(char *buf, size_t size, double v);

#endif
