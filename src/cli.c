/* cli.c -- the command line to struct config: getopt_long over options.h's table,
 * whose names are the original memc_load.py's. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"

static const char *const default_servers[DEV_TYPES] = {
	DEFAULT_IDFA_SERVER, DEFAULT_GAID_SERVER, DEFAULT_ADID_SERVER, DEFAULT_DVID_SERVER,
};

/* --protocol's values, by enum protocol. */
static const char *const protocol_names[] = {
	[PROTOCOL_AUTO] = "auto",
	[PROTOCOL_META] = "meta",
	[PROTOCOL_TEXT] = "text",
};

void cli_usage(FILE *out)
{
	fputs("usage: memc_load [options] [FILE...]\n"
	      "Try 'memc_load --help' for more information.\n",
	      out);
}

void cli_help(FILE *out)
{
	fputs("usage: memc_load [options] [FILE...]\n"
	      "Load gzipped installed-apps logs into memcached, one worker process per file.\n"
	      "\n",
	      out);
	options_help(out);
	fputs("\n"
	      "Exit status: 0 every file loaded and renamed, or nothing to load; 1 a file\n"
	      "failed, was held back or set aside, or had a high error rate; 2 usage error;\n"
	      "75 another run holds the lock. See memc_load(1).\n",
	      out);
}

/* A whole-string decimal integer within [MIN, MAX]. */
static int parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* A whole-string decimal number within [0, 1]. */
static int parse_fraction(const char *s, double *out)
{
	char *end;
	double v;

	/* Decimal only: strtod alone also takes hex floats, "inf" and spaces. */
	if (*s == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 || v > 1)
		return -1;
	*out = v;
	return 0;
}

/* One of protocol_names. */
static int parse_protocol(const char *s, enum protocol *out)
{
	for (size_t i = 0; i < sizeof(protocol_names) / sizeof(protocol_names[0]); i++)
		if (strcmp(s, protocol_names[i]) == 0) {
			*out = (enum protocol)i;
			return 0;
		}
	return -1;
}

/* --verify's sample is chosen anew each run: a random seed, or the clock
 * and pid when the kernel will not give one. */
static uint64_t verify_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
	return seed;
}

static void set_defaults(struct config *cfg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(cfg, 0, sizeof(*cfg));
	cfg->pattern = DEFAULT_PATTERN;
	cfg->workers = cpus > 0 ? (int)cpus : 1;
	cfg->attempts = DEFAULT_ATTEMPTS;
	cfg->timeout_ms = DEFAULT_TIMEOUT_MS;
	cfg->max_error_rate = DEFAULT_MAX_ERROR_RATE;
	cfg->verify = DEFAULT_VERIFY;
	cfg->protocol = DEFAULT_PROTOCOL;
	cfg->settle = DEFAULT_SETTLE;
	cfg->verify_seed = verify_seed();
	for (int t = 0; t < DEV_TYPES; t++)
		addr_parse_pool(default_servers[t], &cfg->servers[t], NULL, 0);
}

/* Explain what getopt_long rejected. ARG is the last word it consumed, OPT
 * its optopt: 0 for an unknown long option, the option's value for one
 * given a value it does not take (perhaps abbreviated), else the unknown
 * character. */
static void bad_option(const char *arg, int opt, char *err, size_t errlen)
{
	int id = options_id_of(opt);

	if (id >= 0 && strncmp(arg, "--", 2) == 0)
		snprintf(err, errlen, "option '--%s' takes no value", option_table[id].name);
	else if (opt == 0 && strncmp(arg, "--", 2) == 0)
		snprintf(err, errlen, "unknown option '%s'", arg);
	else
		snprintf(err, errlen, "unknown option '-%c'", opt);
}

/* A missing value. A long-only option's optopt is not a character: it is
 * named as it was typed. */
static void missing_value(const char *arg, int opt, char *err, size_t errlen)
{
	if (strncmp(arg, "--", 2) == 0)
		snprintf(err, errlen, "option '%s' needs a value", arg);
	else
		snprintf(err, errlen, "option '-%c' needs a value", opt);
}

/* Number the distinct servers of CFG's pools (config.h's server table). */
static void index_servers(struct config *cfg)
{
	struct server_table *tb = &cfg->table;

	tb->n = 0;
	for (int t = 0; t < DEV_TYPES; t++)
		for (int i = 0; i < cfg->servers[t].n; i++) {
			int s = 0;
			while (s < tb->n && !addr_same(config_server_addr(cfg, s), &cfg->servers[t].addr[i]))
				s++;
			if (s == tb->n) {
				tb->first[s].type = (unsigned char)t;
				tb->first[s].pos = (unsigned char)i;
				tb->n++;
			}
			tb->of[t][i] = (unsigned char)s;
		}
}

/* Option ID's value ARG into CFG: 0, or -1 with ERR filled. */
static int set_value(struct config *cfg, enum option_id id, char *arg, char *err, size_t errlen)
{
	int bad = 0;

	switch (id) {
	case OPT_PATTERN:
		cfg->pattern = arg;
		bad = *arg == '\0';
		break;
	case OPT_WORKERS:
		bad = parse_int(arg, 1, 4096, &cfg->workers);
		break;
	case OPT_ATTEMPTS:
		bad = parse_int(arg, 1, 100, &cfg->attempts);
		break;
	case OPT_TIMEOUT:
		bad = parse_int(arg, 1, 3600000, &cfg->timeout_ms);
		break;
	case OPT_IDFA:
	case OPT_GAID:
	case OPT_ADID:
	case OPT_DVID:
		return addr_parse_pool(arg, &cfg->servers[id - OPT_IDFA], err, errlen) < 0 ? -1 : 0;
	case OPT_MAX_ERROR_RATE:
		bad = parse_fraction(arg, &cfg->max_error_rate);
		break;
	case OPT_VERIFY:
		bad = parse_fraction(arg, &cfg->verify);
		break;
	case OPT_PROTOCOL:
		bad = parse_protocol(arg, &cfg->protocol);
		break;
	case OPT_SETTLE:
		bad = parse_int(arg, 0, MAX_SETTLE, &cfg->settle);
		break;
	case OPT_LOG:
		cfg->log_path = arg;
		break;
	case OPT_STATS_JSON:
		cfg->stats_json = arg;
		break;
	case OPT_METRICS:
		cfg->metrics = arg;
		break;
	/* --lock and --no-lock: the last one given wins. */
	case OPT_LOCK:
		cfg->lock_path = arg;
		cfg->no_lock = 0;
		break;
	case OPT_LOCK_WAIT:
		bad = parse_int(arg, 0, MAX_LOCK_WAIT, &cfg->lock_wait);
		break;
	default: /* the flags: set_flag's */
		break;
	}
	if (bad) {
		snprintf(err, errlen, "invalid value '%s' for --%s", arg, option_table[id].name);
		return -1;
	}
	return 0;
}

/* Option ID, one that takes no value, into CFG or ACTION. */
static void set_flag(struct config *cfg, enum option_id id, enum cli_action *action)
{
	switch (id) {
	case OPT_HOLD_BAD:
		cfg->hold_bad = 1;
		break;
	case OPT_DRY:
		cfg->dry = 1;
		break;
	case OPT_TEST:
		cfg->self_test = 1;
		break;
	case OPT_SYSLOG:
		cfg->syslog = 1;
		break;
	case OPT_NO_LOCK:
		cfg->lock_path = NULL;
		cfg->no_lock = 1;
		break;
	case OPT_SERIAL:
		cfg->serial = 1;
		break;
	case OPT_NO_PROGRESS:
		cfg->no_progress = 1;
		break;
	case OPT_QUIET:
		cfg->verbosity = -1;
		break;
	case OPT_VERBOSE:
		cfg->verbosity = 1;
		break;
	/* --help outranks --version and --list-options, given before or after. */
	case OPT_HELP:
		*action = CLI_HELP;
		break;
	case OPT_VERSION:
	case OPT_LIST_OPTIONS:
		if (*action != CLI_HELP)
			*action = id == OPT_VERSION ? CLI_VERSION : CLI_LIST_OPTIONS;
		break;
	default: /* the options with a value: set_value's */
		break;
	}
}

/* The combinations of options that make no sense. */
static int check_exclusive(const struct config *cfg, char *err, size_t errlen)
{
	/* libmemcached, which --serial uses to set, has no meta protocol. */
	if (cfg->serial && cfg->protocol == PROTOCOL_META) {
		snprintf(err, errlen, "--protocol meta does not apply to --serial, which speaks "
				      "libmemcached's text protocol");
		return -1;
	}
	/* One destination for the log: both would need a rule for which
	 * gets what, and a log file beside syslog is what syslog is for. */
	if (cfg->syslog && cfg->log_path != NULL) {
		snprintf(err, errlen, "--syslog and --log are exclusive: give one");
		return -1;
	}
	return 0;
}

enum cli_action cli_parse(int argc, char **argv, struct config *cfg, char *err, size_t errlen)
{
	struct option longopts[OPTION_COUNT + 1];
	char shortopts[OPTIONS_SHORT_MAX];
	enum cli_action action = CLI_RUN;
	int val;

	set_defaults(cfg);
	options_getopt(longopts, shortopts);
	optind = 0; /* GNU: start afresh, so the parser can run more than once */
	opterr = 0;
	while ((val = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int id = options_id_of(val);

		if (val == ':') {
			missing_value(argv[optind - 1], optopt, err, errlen);
			return CLI_ERROR;
		}
		if (id < 0) {
			bad_option(argv[optind - 1], optopt, err, errlen);
			return CLI_ERROR;
		}
		/* getopt_long takes any unique prefix; the hidden option, which
		 * no --help names, only in full, so a typo is not taken for it. */
		if (id == OPT_LIST_OPTIONS && strcmp(argv[optind - 1], "--list-options") != 0) {
			snprintf(err, errlen, "unknown option '%s'", argv[optind - 1]);
			return CLI_ERROR;
		}
		if (option_table[id].value == VALUE_NONE)
			set_flag(cfg, id, &action);
		else if (set_value(cfg, id, optarg, err, errlen) < 0)
			return CLI_ERROR;
	}
	if (check_exclusive(cfg, err, errlen) < 0)
		return CLI_ERROR;
	index_servers(cfg);
	cfg->files = argv + optind;
	cfg->nfiles = argc - optind;
	return action;
}
