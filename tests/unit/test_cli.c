/* test_cli.c -- option parsing: defaults, every option, and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"

static char err[512];

/* Parse a NULL-terminated argument list. */
static enum cli_action parse_args(struct config *cfg, const char **args)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = (char *)"memc_load";
	for (; *args && argc < 63; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	err[0] = '\0';
	return cli_parse(argc, argv, cfg, err, sizeof(err));
}

#define PARSE(cfg, ...) parse_args((cfg), (const char *[]){__VA_ARGS__, NULL})

static void defaults(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(parse_args(&cfg, (const char *[]){NULL}), CLI_RUN);
	assert_string_equal(cfg.pattern, "/data/appsinstalled/*.tsv.gz");
	assert_int_equal(cfg.workers, (int)sysconf(_SC_NPROCESSORS_ONLN));
	assert_int_equal(cfg.attempts, 3);
	assert_int_equal(cfg.timeout_ms, 1000);
	assert_true(cfg.max_error_rate == 0.01);
	assert_string_equal(cfg.servers[DEV_IDFA].addr[0].host, "127.0.0.1");
	assert_int_equal(cfg.servers[DEV_IDFA].addr[0].port, 33013);
	assert_int_equal(cfg.servers[DEV_GAID].addr[0].port, 33014);
	assert_int_equal(cfg.servers[DEV_ADID].addr[0].port, 33015);
	assert_int_equal(cfg.servers[DEV_DVID].addr[0].port, 33016);
	assert_false(cfg.dry || cfg.serial || cfg.self_test);
	assert_null(cfg.log_path);
	assert_int_equal(cfg.nfiles, 0);
	assert_null(cfg.lock_path);
	assert_false(cfg.no_lock);
	assert_int_equal(cfg.lock_wait, 0);
	assert_int_equal(cfg.protocol, PROTOCOL_AUTO);
}

static void every_option(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "-p", "/in/*.gz", "-w", "8", "-a", "5", "--timeout", "250",
			       "--idfa", "10.0.0.1:1", "--gaid", "h:2", "--adid", "localhost:3",
			       "--dvid", "::1:4", "--max-error-rate", "0.5", "--dry", "-l", "log.txt",
			       "--serial", "-v", "a.gz", "b.gz"),
			 CLI_RUN);
	assert_string_equal(cfg.pattern, "/in/*.gz");
	assert_int_equal(cfg.workers, 8);
	assert_int_equal(cfg.attempts, 5);
	assert_int_equal(cfg.timeout_ms, 250);
	assert_string_equal(cfg.servers[DEV_IDFA].addr[0].host, "10.0.0.1");
	assert_int_equal(cfg.servers[DEV_IDFA].addr[0].port, 1);
	assert_string_equal(cfg.servers[DEV_GAID].addr[0].host, "h");
	assert_string_equal(cfg.servers[DEV_ADID].addr[0].spec, "localhost:3");
	assert_string_equal(cfg.servers[DEV_DVID].addr[0].host, "::1");
	assert_int_equal(cfg.servers[DEV_DVID].addr[0].port, 4);
	assert_true(cfg.max_error_rate == 0.5);
	assert_true(cfg.dry && cfg.serial);
	assert_string_equal(cfg.log_path, "log.txt");
	assert_int_equal(cfg.verbosity, 1);
	assert_int_equal(cfg.nfiles, 2);
	assert_string_equal(cfg.files[0], "a.gz");
	assert_string_equal(cfg.files[1], "b.gz");
}

static void server_pools(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--idfa", "10.0.0.1:1,[::1]:11211,/run/mc.sock", "--gaid",
			       "[fe80::1]:2"),
			 CLI_RUN);
	assert_int_equal(cfg.servers[DEV_IDFA].n, 3);
	assert_string_equal(cfg.servers[DEV_IDFA].spec, "10.0.0.1:1,[::1]:11211,/run/mc.sock");
	assert_string_equal(cfg.servers[DEV_IDFA].addr[1].host, "::1");
	assert_int_equal(cfg.servers[DEV_IDFA].addr[1].port, 11211);
	assert_true(cfg.servers[DEV_IDFA].addr[2].is_unix);
	assert_string_equal(cfg.servers[DEV_IDFA].addr[2].host, "/run/mc.sock");
	assert_false(cfg.servers[DEV_IDFA].addr[0].is_unix);
	assert_string_equal(cfg.servers[DEV_GAID].addr[0].host, "fe80::1");
	assert_int_equal(cfg.servers[DEV_ADID].n, 1);
}

static void original_long_names(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--test", "--log", "x", "--pattern", "p", "--workers", "2",
			       "--attempts", "1", "--quiet"),
			 CLI_RUN);
	assert_true(cfg.self_test);
	assert_string_equal(cfg.log_path, "x");
	assert_string_equal(cfg.pattern, "p");
	assert_int_equal(cfg.workers, 2);
	assert_int_equal(cfg.attempts, 1);
	assert_int_equal(cfg.verbosity, -1);
	assert_int_equal(PARSE(&cfg, "-t", "-q"), CLI_RUN);
	assert_true(cfg.self_test);
	assert_int_equal(PARSE(&cfg, "--workers=3"), CLI_RUN);
	assert_int_equal(cfg.workers, 3);
}

static void protocol_option(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--protocol", "meta"), CLI_RUN);
	assert_int_equal(cfg.protocol, PROTOCOL_META);
	assert_int_equal(PARSE(&cfg, "--protocol=text"), CLI_RUN);
	assert_int_equal(cfg.protocol, PROTOCOL_TEXT);
	assert_int_equal(PARSE(&cfg, "--protocol", "meta", "--protocol", "auto"), CLI_RUN);
	assert_int_equal(cfg.protocol, PROTOCOL_AUTO);
	/* The help's default is the default. */
	assert_int_equal(PARSE(&cfg, "--protocol", DEFAULT_PROTOCOL_NAME), CLI_RUN);
	assert_int_equal(cfg.protocol, DEFAULT_PROTOCOL);
	assert_int_equal(PARSE(&cfg, "--protocol", "binary"), CLI_ERROR);
	assert_string_equal(err, "invalid value 'binary' for --protocol");
	assert_int_equal(PARSE(&cfg, "--protocol", "Meta"), CLI_ERROR);
	assert_int_equal(PARSE(&cfg, "--protocol", ""), CLI_ERROR);
	assert_int_equal(PARSE(&cfg, "--protocol"), CLI_ERROR);
	/* libmemcached, behind --serial, speaks text only. */
	assert_int_equal(PARSE(&cfg, "--serial", "--protocol", "text"), CLI_RUN);
	assert_int_equal(PARSE(&cfg, "--serial", "--protocol", "auto"), CLI_RUN);
	assert_int_equal(PARSE(&cfg, "--protocol", "meta", "--serial"), CLI_ERROR);
	assert_string_equal(err, "--protocol meta does not apply to --serial, which speaks "
				 "libmemcached's text protocol");
}

static void lock_options(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--lock", "/run/l", "--lock-wait", "86400"), CLI_RUN);
	assert_string_equal(cfg.lock_path, "/run/l");
	assert_false(cfg.no_lock);
	assert_int_equal(cfg.lock_wait, 86400);
	assert_int_equal(PARSE(&cfg, "--lock=/run/l", "--no-lock", "--lock-wait=0"), CLI_RUN);
	assert_null(cfg.lock_path);
	assert_true(cfg.no_lock);
	assert_int_equal(cfg.lock_wait, 0);
	assert_int_equal(PARSE(&cfg, "--no-lock", "--lock", "/run/m"), CLI_RUN);
	assert_string_equal(cfg.lock_path, "/run/m");
	assert_false(cfg.no_lock);
}

static void metrics_and_syslog(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "a.gz"), CLI_RUN);
	assert_null(cfg.metrics);
	assert_false(cfg.syslog);
	assert_int_equal(PARSE(&cfg, "--metrics", "/var/lib/m.prom", "--syslog", "-q"), CLI_RUN);
	assert_string_equal(cfg.metrics, "/var/lib/m.prom");
	assert_true(cfg.syslog);
	assert_null(cfg.log_path);
	assert_int_equal(PARSE(&cfg, "--metrics=m.prom", "--stats-json", "s.json"), CLI_RUN);
	assert_string_equal(cfg.metrics, "m.prom");
	assert_string_equal(cfg.stats_json, "s.json");
	/* One log destination: syslog or a file, whichever comes first. */
	assert_int_equal(PARSE(&cfg, "--syslog", "-l", "log.txt"), CLI_ERROR);
	assert_string_equal(err, "--syslog and --log are exclusive: give one");
	assert_int_equal(PARSE(&cfg, "--log=log.txt", "--syslog"), CLI_ERROR);
	assert_string_equal(err, "--syslog and --log are exclusive: give one");
}

static void help_and_version(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "-h"), CLI_HELP);
	assert_int_equal(PARSE(&cfg, "--help"), CLI_HELP);
	assert_int_equal(PARSE(&cfg, "-V"), CLI_VERSION);
	assert_int_equal(PARSE(&cfg, "--version"), CLI_VERSION);
	assert_int_equal(PARSE(&cfg, "-V", "-h"), CLI_HELP);
	/* The hidden --list-options is ranked like --version. */
	assert_int_equal(PARSE(&cfg, "--list-options"), CLI_LIST_OPTIONS);
	assert_int_equal(PARSE(&cfg, "--list-options", "-h"), CLI_HELP);
	assert_int_equal(PARSE(&cfg, "-h", "--list-options"), CLI_HELP);
}

static void expect_error(const char **args, const char *reason)
{
	struct config cfg;

	assert_int_equal(parse_args(&cfg, args), CLI_ERROR);
	if (strstr(err, reason) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, reason);
}

#define EXPECT_ERROR(reason, ...) expect_error((const char *[]){__VA_ARGS__, NULL}, reason)

static void bad_values(void **state)
{
	(void)state;
	EXPECT_ERROR("unknown option '--bogus'", "--bogus");
	/* The hidden option answers to its full name only: a typo such as
	 * --li must not print the table and exit 0 with nothing loaded. */
	EXPECT_ERROR("unknown option '--li'", "--li");
	EXPECT_ERROR("unknown option '--list-option'", "-V", "--list-option");
	EXPECT_ERROR("unknown option '-x'", "-x");
	EXPECT_ERROR("--workers", "-w", "0");
	EXPECT_ERROR("--workers", "-w", "x");
	EXPECT_ERROR("--workers", "-w", "4x");
	EXPECT_ERROR("--workers", "--workers", "");
	EXPECT_ERROR("--attempts", "-a", "0");
	EXPECT_ERROR("--attempts", "-a", "101");
	EXPECT_ERROR("--timeout", "--timeout", "-5");
	EXPECT_ERROR("--max-error-rate", "--max-error-rate", "2");
	EXPECT_ERROR("--max-error-rate", "--max-error-rate", "nan");
	EXPECT_ERROR("--max-error-rate", "--max-error-rate", "-0.1");
	EXPECT_ERROR("--lock-wait", "--lock-wait", "-1");
	EXPECT_ERROR("--lock-wait", "--lock-wait", "86401");
	EXPECT_ERROR("--lock-wait", "--lock-wait", "x");
	EXPECT_ERROR("option '--lock' needs a value", "--lock");
	EXPECT_ERROR("option '--no-lock' takes no value", "--no-lock=1");
	EXPECT_ERROR("needs a value", "-w");
	EXPECT_ERROR("option '--idfa' needs a value", "--idfa");
	EXPECT_ERROR("option '--workers' needs a value", "--workers");
	EXPECT_ERROR("option '-w' needs a value", "-qw");
	EXPECT_ERROR("HOST:PORT", "--idfa", "nocolon");
	EXPECT_ERROR("HOST:PORT", "--gaid", ":33013");
	EXPECT_ERROR("port", "--adid", "h:0");
	EXPECT_ERROR("port", "--adid", "h:65536");
	EXPECT_ERROR("port", "--dvid", "h:");
	EXPECT_ERROR("port", "--dvid", "h:+1");
	EXPECT_ERROR("empty entry", "--idfa", "h:1,,h:2");
	EXPECT_ERROR("empty entry", "--idfa", "h:1,");
	EXPECT_ERROR("given twice", "--idfa", "h:1,h:1");
	EXPECT_ERROR("[ADDRESS]:PORT", "--idfa", "[::1:5");
	EXPECT_ERROR("[ADDRESS]:PORT", "--idfa", "[]:5");
	EXPECT_ERROR("port", "--idfa", "[::1]:x");
	EXPECT_ERROR("socket path too long", "--idfa",
		     "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	EXPECT_ERROR("option '--dry' takes no value", "--dry=1");
	EXPECT_ERROR("option '--test' takes no value", "--test=1");
	EXPECT_ERROR("option '--syslog' takes no value", "--syslog=1");
	EXPECT_ERROR("option '--metrics' needs a value", "--metrics");
	EXPECT_ERROR("unknown option '--dryrun'", "--dryrun");
	/* Abbreviated, the option is named in full (it was a stray byte). */
	EXPECT_ERROR("option '--dry' takes no value", "--dr=1");
	EXPECT_ERROR("option '--no-progress' takes no value", "--no-p=1");
	EXPECT_ERROR("option '--test' takes no value", "--te=1");
	EXPECT_ERROR("unknown option '--ver'", "--ver");
	EXPECT_ERROR("unknown option '-x'", "-qx");
	EXPECT_ERROR("unknown option '-x'", "--dry", "-xq");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),         cmocka_unit_test(every_option),
		cmocka_unit_test(server_pools),
		cmocka_unit_test(original_long_names), cmocka_unit_test(help_and_version),
		cmocka_unit_test(protocol_option),
		cmocka_unit_test(lock_options),
		cmocka_unit_test(metrics_and_syslog),
		cmocka_unit_test(bad_values),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
