/* badinput.h -- what becomes of a file that cannot load as it is: its own
 * bytes are bad (not gzip, corrupt, truncated), or it has none.
 *
 * A file still being written can look like either, so only one that has
 * not changed for --settle seconds is taken for what it is: a bad one is
 * set aside as .NAME.bad, out of every later run's way, and holds nothing
 * back; an empty one is an empty log, loaded with no records and renamed,
 * as the original script did. A younger one, and with --hold-bad every
 * one, fails like any other failure: the later files are held back, and it
 * loads again next run. */
#ifndef MEMC_LOAD_BADINPUT_H
#define MEMC_LOAD_BADINPUT_H

#include "config.h"
#include "report.h"

enum badinput_fate {
	BADINPUT_FAILS,     /* fails; st->failure says why, and when that may change */
	BADINPUT_EMPTY_LOG, /* loaded, with no records: ST now says so */
	BADINPUT_SET_ASIDE, /* renamed to .NAME.bad (or .bad.1, ...): blocks nothing */
};

/* Decide the fate of PATH, a finished file whose ST has input_bad or
 * input_empty set, and carry it out; the set aside and the empty log are
 * logged here. */
enum badinput_fate badinput_settle(const struct config *cfg, const char *path,
				   struct file_stats *st);

#endif
