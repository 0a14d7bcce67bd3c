/* options.h -- the one table of command-line options. The parser's
 * getopt_long arrays, --help and --list-options (which the bash completion
 * is made from, and the docs tests read) all come from it. */
#ifndef MEMC_LOAD_OPTIONS_H
#define MEMC_LOAD_OPTIONS_H

#include <getopt.h>
#include <stdio.h>

/* Each option, in --help's order. */
enum option_id {
	OPT_PATTERN,
	OPT_WORKERS,
	OPT_ATTEMPTS,
	OPT_TIMEOUT,
	OPT_IDFA, /* the four device types' servers, in enum dev_type's order */
	OPT_GAID,
	OPT_ADID,
	OPT_DVID,
	OPT_MAX_ERROR_RATE,
	OPT_VERIFY,
	OPT_PROTOCOL,
	OPT_SETTLE,
	OPT_HOLD_BAD,
	OPT_DRY,
	OPT_TEST,
	OPT_LOG,
	OPT_SYSLOG,
	OPT_STATS_JSON,
	OPT_METRICS,
	OPT_LOCK,
	OPT_LOCK_WAIT,
	OPT_NO_LOCK,
	OPT_SERIAL,
	OPT_NO_PROGRESS,
	OPT_QUIET,
	OPT_VERBOSE,
	OPT_HELP,
	OPT_VERSION,
	OPT_LIST_OPTIONS, /* hidden: for the build and the tests */
	OPTION_COUNT
};

/* What an option's value is: how it is completed in the shell. */
enum option_value {
	VALUE_NONE,    /* takes no value */
	VALUE_FILE,    /* a file name */
	VALUE_GLOB,    /* a glob: only its directory can be completed */
	VALUE_NUMBER,  /* nothing to offer */
	VALUE_SERVERS, /* HOST:PORT or a socket path; words is the default */
	VALUE_WORD,    /* one of words */
};

struct option_spec {
	const char *name; /* the long name, without "--" */
	char letter;	  /* the short option, or 0 */
	enum option_value value;
	const char *metavar; /* the value's name in --help; NULL with VALUE_NONE */
	const char *words;   /* the values completion offers, blank-separated, or NULL */
	const char *help;    /* --help's lines for it, '\n' between; NULL: hidden */
};

extern const struct option_spec option_table[OPTION_COUNT];

/* getopt_long's val for each option: its letter, or this plus its id. */
#define OPTION_LONG_ONLY 256

/* getopt_long's arguments, from the table: LONGOPTS ends in a zero entry;
 * SHORTOPTS starts with ':', so a missing value is told from an unknown
 * option. */
#define OPTIONS_SHORT_MAX (2 * OPTION_COUNT + 2)
void options_getopt(struct option longopts[OPTION_COUNT + 1], char shortopts[OPTIONS_SHORT_MAX]);

/* The option getopt_long returned VAL for, or -1 if none is. */
int options_id_of(int val);

/* --help's lines for the options, one block each, in the table's order. */
void options_help(FILE *out);

/* --list-options: one line per option that --help shows, tab-separated:
 * --NAME, -L or nothing, METAVAR or nothing, the value's kind (none, file,
 * glob, number, servers, word), the words completion offers. */
void options_list(FILE *out);

#endif
