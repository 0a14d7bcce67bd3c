/* drylog.c -- what --dry says of each record it would store. */
#include <stdio.h>

#include "drylog.h"
#include "log.h"
#include "numfmt.h"

/* --dry: "ADDR - KEY -> apps: [1, 2] lat: 1.5 lon: 2.5" at debug level. */
void drylog_record(const struct config *cfg, const struct record *rec, const char *key)
{
	char text[4096], num[32];
	size_t n = 0;

	for (size_t i = 0; i < rec->napps && n < sizeof(text) - 32; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%u", i ? ", " : "", rec->apps[i]);
	if (n >= sizeof(text) - 32)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", ...");
	text[n] = '\0';

	char coords[96] = "";
	size_t c = 0;
	if (rec->has_lat) {
		numfmt_double(num, sizeof(num), rec->lat);
		c += (size_t)snprintf(coords + c, sizeof(coords) - c, " lat: %s", num);
	}
	if (rec->has_lon) {
		numfmt_double(num, sizeof(num), rec->lon);
		snprintf(coords + c, sizeof(coords) - c, " lon: %s", num);
	}
	log_debug("%s - %s -> apps: [%s]%s", cfg->servers[rec->type].spec, key, text, coords);
}
