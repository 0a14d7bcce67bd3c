/* badinput.c -- a bad or empty input: set aside, an empty log, or a failure. */
#include <stdio.h>
#include <string.h>

#include "fileid.h"
#include "badinput.h"
#include "clock.h"
#include "inputs.h"
#include "log.h"

/* Append " ; it may still be being written: THEN once unchanged for N s"
 * to the failure: the operator learns why it did not go, and when it will. */
static void still_young(const struct config *cfg, struct file_stats *st, const char *then)
{
	size_t len = strlen(st->failure);

	snprintf(st->failure + len, sizeof(st->failure) - len,
		 "; it may still be being written: %s once unchanged for %d s", then, cfg->settle);
}

enum badinput_fate badinput_settle(const struct config *cfg, const char *path,
				   struct file_stats *st)
{
	char aside[4096 + 16], why[sizeof(st->failure)];
	int settled = st->has_id && file_id_settled(&st->opened, cfg->settle, clock_wall());

	if (cfg->hold_bad)
		return BADINPUT_FAILS;
	if (st->input_empty) {
		if (!settled) {
			snprintf(st->failure, sizeof(st->failure), "empty file");
			still_young(cfg, st, "loaded as an empty log");
			return BADINPUT_FAILS;
		}
		log_warn("%s is empty (0 bytes, unchanged for %d s or more): loaded as an empty log",
			 path, cfg->settle);
		st->failure[0] = '\0';
		st->read_to_end = st->delivered_all = 1;
		return BADINPUT_EMPTY_LOG;
	}
	if (!settled) {
		still_young(cfg, st, "set aside");
		return BADINPUT_FAILS;
	}
	/* --dry renames nothing: the bad file fails, and stays. */
	if (cfg->dry)
		return BADINPUT_FAILS;
	if (inputs_set_aside(path, &st->opened, aside, sizeof(aside), why, sizeof(why)) < 0) {
		size_t len = strlen(st->failure);
		snprintf(st->failure + len, sizeof(st->failure) - len, "; cannot set it aside: %s",
			 why);
		return BADINPUT_FAILS;
	}
	log_error("%s: %s; set aside as %s: it can never load", path, st->failure, aside);
	return BADINPUT_SET_ASIDE;
}
