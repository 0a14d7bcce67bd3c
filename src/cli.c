/* cli.c -- getopt_long over the original memc_load.py's option names. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum long_only {
	OPT_TIMEOUT = 256,
	OPT_IDFA,
	OPT_GAID,
	OPT_ADID,
	OPT_DVID,
	OPT_MAX_ERROR_RATE,
	OPT_DRY,
	OPT_SERIAL,
	OPT_NO_PROGRESS,
	OPT_STATS_JSON,
	OPT_LOCK,
	OPT_LOCK_WAIT,
	OPT_NO_LOCK,
	OPT_VERIFY,
	OPT_PROTOCOL,
	OPT_METRICS,
	OPT_SYSLOG,
	OPT_SETTLE,
	OPT_HOLD_BAD,
};

static const struct option long_options[] = {
	{"pattern", required_argument, NULL, 'p'},
	{"workers", required_argument, NULL, 'w'},
	{"attempts", required_argument, NULL, 'a'},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"idfa", required_argument, NULL, OPT_IDFA},
	{"gaid", required_argument, NULL, OPT_GAID},
	{"adid", required_argument, NULL, OPT_ADID},
	{"dvid", required_argument, NULL, OPT_DVID},
	{"max-error-rate", required_argument, NULL, OPT_MAX_ERROR_RATE},
	{"dry", no_argument, NULL, OPT_DRY},
	{"test", no_argument, NULL, 't'},
	{"log", required_argument, NULL, 'l'},
	{"serial", no_argument, NULL, OPT_SERIAL},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{"stats-json", required_argument, NULL, OPT_STATS_JSON},
	{"metrics", required_argument, NULL, OPT_METRICS},
	{"syslog", no_argument, NULL, OPT_SYSLOG},
	{"lock", required_argument, NULL, OPT_LOCK},
	{"lock-wait", required_argument, NULL, OPT_LOCK_WAIT},
	{"no-lock", no_argument, NULL, OPT_NO_LOCK},
	{"verify", required_argument, NULL, OPT_VERIFY},
	{"protocol", required_argument, NULL, OPT_PROTOCOL},
	{"settle", required_argument, NULL, OPT_SETTLE},
	{"hold-bad", no_argument, NULL, OPT_HOLD_BAD},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static const char short_options[] = ":p:w:a:tl:qvhV";

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
	      "\n"
	      "  -p, --pattern GLOB      input files when no FILE is given\n"
	      "                          (default " DEFAULT_PATTERN ")\n"
	      "  -w, --workers N         most worker processes at once (default: online CPUs)\n"
	      "  -a, --attempts N        delivery attempts per record (default " CONFIG_STR(DEFAULT_ATTEMPTS) ")\n"
	      "      --timeout MS        memcached connect and I/O timeout (default " CONFIG_STR(DEFAULT_TIMEOUT_MS) ")\n"
	      "      --idfa SERVERS      server(s) for idfa records (default " DEFAULT_IDFA_SERVER ")\n"
	      "      --gaid SERVERS      server(s) for gaid records (default " DEFAULT_GAID_SERVER ")\n"
	      "      --adid SERVERS      server(s) for adid records (default " DEFAULT_ADID_SERVER ")\n"
	      "      --dvid SERVERS      server(s) for dvid records (default " DEFAULT_DVID_SERVER ")\n"
	      "                          SERVERS: HOST:PORT, [IPv6]:PORT or /socket/path, or a\n"
	      "                          comma-separated list of them: a ketama pool\n"
	      "      --max-error-rate R  highest acceptable error rate per file (default " CONFIG_STR(DEFAULT_MAX_ERROR_RATE) ")\n"
	      "      --verify FRACTION   read back this share of each file's records, chosen at\n"
	      "                          random, and compare (default " CONFIG_STR(DEFAULT_VERIFY) "; 0: none)\n"
	      "      --protocol P        how the sets speak to memcached: auto (meta when the\n"
	      "                          server speaks it, else text), meta or text\n"
	      "                          (default " DEFAULT_PROTOCOL_NAME "; --serial always speaks text)\n"
	      "      --settle SECONDS    a bad file unchanged this long is set aside as\n"
	      "                          .NAME.bad, an empty one loaded as an empty log\n"
	      "                          (default " CONFIG_STR(DEFAULT_SETTLE) ")\n"
	      "      --hold-bad          a bad or empty file fails and holds back every later\n"
	      "                          file, for a person to look at\n"
	      "      --dry               parse and pack only: connect to nothing, rename nothing\n"
	      "  -t, --test              run the protobuf round-trip self test and exit\n"
	      "  -l, --log FILE          append log lines to FILE instead of stderr\n"
	      "      --syslog            log to syslog (daemon facility) instead of stderr;\n"
	      "                          to both when stderr is a terminal\n"
	      "      --stats-json FILE   write each file's counts and the totals to FILE as JSON\n"
	      "      --metrics FILE      write the run's figures to FILE for Prometheus\n"
	      "                          (node_exporter's textfile collector)\n"
	      "      --lock FILE         lock FILE for the whole run: one run at a time\n"
	      "                          (default DIR/" DEFAULT_LOCK_NAME " if all inputs are in DIR)\n"
	      "      --lock-wait SECONDS\n"
	      "                          wait up to SECONDS for another run's lock (default 0)\n"
	      "      --no-lock           take no lock: runs over the same files may overlap\n"
	      "      --serial            the serial reference algorithm (benchmark baseline)\n"
	      "      --no-progress       no status line on a terminal\n"
	      "  -q, --quiet             log warnings and errors only (and no status line)\n"
	      "  -v, --verbose           log debug messages too\n"
	      "  -h, --help              show this help and exit\n"
	      "  -V, --version           show the version and library versions and exit\n"
	      "\n"
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

/* The long name of option OPT, for messages. */
static const char *option_name(int opt)
{
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

/* The long option named at the start of ARG ("--name" or "--name=value"). */
static const struct option *long_option_in(const char *arg)
{
	size_t len = strcspn(arg + 2, "=");

	for (const struct option *o = long_options; o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, arg + 2, len) == 0)
			return o;
	return NULL;
}

/* Explain what getopt_long rejected. ARG is the last word it consumed, OPT
 * its optopt: 0 for an unknown long option, else the option's value. */
static void bad_option(const char *arg, int opt, char *err, size_t errlen)
{
	const struct option *o = strncmp(arg, "--", 2) == 0 ? long_option_in(arg) : NULL;

	if (o != NULL && o->val == opt && strchr(arg, '=') != NULL)
		snprintf(err, errlen, "option '--%s' takes no value", o->name);
	else if (opt == 0 && strncmp(arg, "--", 2) == 0)
		snprintf(err, errlen, "unknown option '%s'", arg);
	else
		snprintf(err, errlen, "unknown option '-%c'", opt);
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

enum cli_action cli_parse(int argc, char **argv, struct config *cfg, char *err, size_t errlen)
{
	enum cli_action action = CLI_RUN;
	int opt;

	set_defaults(cfg);
	optind = 0; /* GNU: start afresh, so the parser can run more than once */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		int bad = 0;

		switch (opt) {
		case 'p':
			cfg->pattern = optarg;
			bad = *optarg == '\0';
			break;
		case 'w':
			bad = parse_int(optarg, 1, 4096, &cfg->workers);
			break;
		case 'a':
			bad = parse_int(optarg, 1, 100, &cfg->attempts);
			break;
		case OPT_TIMEOUT:
			bad = parse_int(optarg, 1, 3600000, &cfg->timeout_ms);
			break;
		case OPT_IDFA:
		case OPT_GAID:
		case OPT_ADID:
		case OPT_DVID:
			if (addr_parse_pool(optarg, &cfg->servers[opt - OPT_IDFA], err, errlen) < 0)
				return CLI_ERROR;
			break;
		case OPT_MAX_ERROR_RATE:
			bad = parse_fraction(optarg, &cfg->max_error_rate);
			break;
		case OPT_VERIFY:
			bad = parse_fraction(optarg, &cfg->verify);
			break;
		case OPT_PROTOCOL:
			bad = parse_protocol(optarg, &cfg->protocol);
			break;
		case OPT_SETTLE:
			bad = parse_int(optarg, 0, MAX_SETTLE, &cfg->settle);
			break;
		case OPT_HOLD_BAD:
			cfg->hold_bad = 1;
			break;
		case OPT_DRY:
			cfg->dry = 1;
			break;
		case 't':
			cfg->self_test = 1;
			break;
		case 'l':
			cfg->log_path = optarg;
			break;
		case OPT_SERIAL:
			cfg->serial = 1;
			break;
		case OPT_NO_PROGRESS:
			cfg->no_progress = 1;
			break;
		case OPT_STATS_JSON:
			cfg->stats_json = optarg;
			break;
		case OPT_METRICS:
			cfg->metrics = optarg;
			break;
		case OPT_SYSLOG:
			cfg->syslog = 1;
			break;
		/* --lock and --no-lock: the last one given wins. */
		case OPT_LOCK:
			cfg->lock_path = optarg;
			cfg->no_lock = 0;
			break;
		case OPT_NO_LOCK:
			cfg->lock_path = NULL;
			cfg->no_lock = 1;
			break;
		case OPT_LOCK_WAIT:
			bad = parse_int(optarg, 0, MAX_LOCK_WAIT, &cfg->lock_wait);
			break;
		case 'q':
			cfg->verbosity = -1;
			break;
		case 'v':
			cfg->verbosity = 1;
			break;
		case 'h':
			action = CLI_HELP;
			break;
		case 'V':
			if (action != CLI_HELP)
				action = CLI_VERSION;
			break;
		case ':':
			/* A long-only option's optopt is its value (256 and up),
			 * not a character: name it as it was typed. */
			if (strncmp(argv[optind - 1], "--", 2) == 0)
				snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			else
				snprintf(err, errlen, "option '-%c' needs a value", optopt);
			return CLI_ERROR;
		default:
			bad_option(argv[optind - 1], optopt, err, errlen);
			return CLI_ERROR;
		}
		if (bad) {
			snprintf(err, errlen, "invalid value '%s' for --%s", optarg, option_name(opt));
			return CLI_ERROR;
		}
	}
	/* libmemcached, which --serial uses to set, has no meta protocol. */
	if (cfg->serial && cfg->protocol == PROTOCOL_META) {
		snprintf(err, errlen, "--protocol meta does not apply to --serial, which speaks "
				      "libmemcached's text protocol");
		return CLI_ERROR;
	}
	/* One destination for the log: both would need a rule for which
	 * gets what, and a log file beside syslog is what syslog is for. */
	if (cfg->syslog && cfg->log_path != NULL) {
		snprintf(err, errlen, "--syslog and --log are exclusive: give one");
		return CLI_ERROR;
	}
	index_servers(cfg);
	cfg->files = argv + optind;
	cfg->nfiles = argc - optind;
	return action;
}
