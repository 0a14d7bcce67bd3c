/* options.c -- the option table, and what is made from it. */
#include <string.h>

#include "config.h"
#include "options.h"

/* --help's option column; a longer one puts its help on the next line. */
#define HELP_INDENT 26

#define SERVERS_HELP(type, server) "server(s) for " type " records (default " server ")"

const struct option_spec option_table[OPTION_COUNT] = {
	[OPT_PATTERN] = {"pattern", 'p', VALUE_GLOB, "GLOB", NULL,
			 "input files when no FILE is given\n"
			 "(default " DEFAULT_PATTERN ")"},
	[OPT_WORKERS] = {"workers", 'w', VALUE_NUMBER, "N", NULL,
			 "most worker processes at once (default: online CPUs)"},
	[OPT_ATTEMPTS] = {"attempts", 'a', VALUE_NUMBER, "N", NULL,
			  "delivery attempts per record (default " CONFIG_STR(DEFAULT_ATTEMPTS) ")"},
	[OPT_TIMEOUT] = {"timeout", 0, VALUE_NUMBER, "MS", NULL,
			 "memcached connect and I/O timeout (default " CONFIG_STR(DEFAULT_TIMEOUT_MS) ")"},
	[OPT_IDFA] = {"idfa", 0, VALUE_SERVERS, "SERVERS", DEFAULT_IDFA_SERVER,
		      SERVERS_HELP("idfa", DEFAULT_IDFA_SERVER)},
	[OPT_GAID] = {"gaid", 0, VALUE_SERVERS, "SERVERS", DEFAULT_GAID_SERVER,
		      SERVERS_HELP("gaid", DEFAULT_GAID_SERVER)},
	[OPT_ADID] = {"adid", 0, VALUE_SERVERS, "SERVERS", DEFAULT_ADID_SERVER,
		      SERVERS_HELP("adid", DEFAULT_ADID_SERVER)},
	/* The last of the four explains them all. */
	[OPT_DVID] = {"dvid", 0, VALUE_SERVERS, "SERVERS", DEFAULT_DVID_SERVER,
		      SERVERS_HELP("dvid", DEFAULT_DVID_SERVER) "\n"
		      "SERVERS: HOST:PORT, [IPv6]:PORT or /socket/path, or a\n"
		      "comma-separated list of them: a ketama pool"},
	[OPT_MAX_ERROR_RATE] = {"max-error-rate", 0, VALUE_NUMBER, "R", NULL,
				"highest acceptable error rate per file (default "
				CONFIG_STR(DEFAULT_MAX_ERROR_RATE) ")"},
	[OPT_VERIFY] = {"verify", 0, VALUE_NUMBER, "FRACTION", NULL,
			"read back this share of each file's records, chosen at\n"
			"random, and compare (default " CONFIG_STR(DEFAULT_VERIFY) "; 0: none)"},
	/* The words are protocol_names in cli.c; test_cli checks they parse. */
	[OPT_PROTOCOL] = {"protocol", 0, VALUE_WORD, "P", "auto meta text",
			  "how the sets speak to memcached: auto (meta when the\n"
			  "server speaks it, else text), meta or text\n"
			  "(default " DEFAULT_PROTOCOL_NAME "; --serial always speaks text)"},
	[OPT_SETTLE] = {"settle", 0, VALUE_NUMBER, "SECONDS", NULL,
			"a bad file unchanged this long is set aside as\n"
			".NAME.bad, an empty one loaded as an empty log\n"
			"(default " CONFIG_STR(DEFAULT_SETTLE) ")"},
	[OPT_HOLD_BAD] = {"hold-bad", 0, VALUE_NONE, NULL, NULL,
			  "a bad or empty file fails and holds back every later\n"
			  "file, for a person to look at"},
	[OPT_DRY] = {"dry", 0, VALUE_NONE, NULL, NULL,
		     "parse and pack only: connect to nothing, rename nothing"},
	[OPT_TEST] = {"test", 't', VALUE_NONE, NULL, NULL,
		      "run the protobuf round-trip self test and exit"},
	[OPT_LOG] = {"log", 'l', VALUE_FILE, "FILE", NULL,
		     "append log lines to FILE instead of stderr"},
	[OPT_SYSLOG] = {"syslog", 0, VALUE_NONE, NULL, NULL,
			"log to syslog (daemon facility) instead of stderr;\n"
			"to both when stderr is a terminal"},
	[OPT_STATS_JSON] = {"stats-json", 0, VALUE_FILE, "FILE", NULL,
			    "write each file's counts and the totals to FILE as JSON"},
	[OPT_METRICS] = {"metrics", 0, VALUE_FILE, "FILE", NULL,
			 "write the run's figures to FILE for Prometheus\n"
			 "(node_exporter's textfile collector)"},
	[OPT_LOCK] = {"lock", 0, VALUE_FILE, "FILE", NULL,
		      "lock FILE for the whole run: one run at a time\n"
		      "(default DIR/" DEFAULT_LOCK_NAME " if all inputs are in DIR)"},
	[OPT_LOCK_WAIT] = {"lock-wait", 0, VALUE_NUMBER, "SECONDS", NULL,
			   "wait up to SECONDS for another run's lock (default 0)"},
	[OPT_NO_LOCK] = {"no-lock", 0, VALUE_NONE, NULL, NULL,
			 "take no lock: runs over the same files may overlap"},
	[OPT_SERIAL] = {"serial", 0, VALUE_NONE, NULL, NULL,
			"the serial reference algorithm (benchmark baseline)"},
	[OPT_NO_PROGRESS] = {"no-progress", 0, VALUE_NONE, NULL, NULL,
			     "no status line on a terminal"},
	[OPT_QUIET] = {"quiet", 'q', VALUE_NONE, NULL, NULL,
		       "log warnings and errors only (and no status line)"},
	[OPT_VERBOSE] = {"verbose", 'v', VALUE_NONE, NULL, NULL, "log debug messages too"},
	[OPT_HELP] = {"help", 'h', VALUE_NONE, NULL, NULL, "show this help and exit"},
	[OPT_VERSION] = {"version", 'V', VALUE_NONE, NULL, NULL,
			 "show the version and library versions and exit"},
	[OPT_LIST_OPTIONS] = {"list-options", 0, VALUE_NONE, NULL, NULL, NULL},
};

/* As --list-options names them, by enum option_value. */
static const char *const value_names[] = {
	[VALUE_NONE] = "none",	   [VALUE_FILE] = "file",	  [VALUE_GLOB] = "glob",
	[VALUE_NUMBER] = "number", [VALUE_SERVERS] = "servers", [VALUE_WORD] = "word",
};
_Static_assert(sizeof(value_names) / sizeof(value_names[0]) == VALUE_WORD + 1,
	       "a name for each enum option_value, which scripts/completion.sh knows too");

static int getopt_val(enum option_id id)
{
	return option_table[id].letter ? option_table[id].letter : OPTION_LONG_ONLY + (int)id;
}

void options_getopt(struct option longopts[OPTION_COUNT + 1], char shortopts[OPTIONS_SHORT_MAX])
{
	size_t n = 0;

	shortopts[n++] = ':';
	for (int id = 0; id < OPTION_COUNT; id++) {
		const struct option_spec *o = &option_table[id];
		int has_arg = o->value == VALUE_NONE ? no_argument : required_argument;

		longopts[id] = (struct option){o->name, has_arg, NULL, getopt_val(id)};
		if (o->letter) {
			shortopts[n++] = o->letter;
			if (has_arg == required_argument)
				shortopts[n++] = ':';
		}
	}
	longopts[OPTION_COUNT] = (struct option){NULL, 0, NULL, 0};
	shortopts[n] = '\0';
}

int options_id_of(int val)
{
	for (int id = 0; id < OPTION_COUNT; id++)
		if (getopt_val(id) == val)
			return id;
	return -1;
}

void options_help(FILE *out)
{
	for (int id = 0; id < OPTION_COUNT; id++) {
		const struct option_spec *o = &option_table[id];
		const char *line = o->help;
		int width;

		if (line == NULL)
			continue;
		if (o->letter)
			width = fprintf(out, "  -%c, --%s", o->letter, o->name);
		else
			width = fprintf(out, "      --%s", o->name);
		if (o->metavar)
			width += fprintf(out, " %s", o->metavar);
		/* Two blanks at least between the column and the help. */
		if (width > HELP_INDENT - 2) {
			fputc('\n', out);
			width = 0;
		}
		for (;;) {
			size_t len = strcspn(line, "\n");

			fprintf(out, "%*s%.*s\n", HELP_INDENT - width, "", (int)len, line);
			if (line[len] == '\0')
				break;
			line += len + 1;
			width = 0;
		}
	}
}

void options_list(FILE *out)
{
	for (int id = 0; id < OPTION_COUNT; id++) {
		const struct option_spec *o = &option_table[id];

		if (o->help == NULL)
			continue;
		fprintf(out, "--%s\t", o->name);
		if (o->letter)
			fprintf(out, "-%c", o->letter);
		fprintf(out, "\t%s\t%s\t%s\n", o->metavar ? o->metavar : "", value_names[o->value],
			o->words ? o->words : "");
	}
}
