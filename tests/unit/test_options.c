/* test_options.c -- the option table: what getopt_long, --help and
 * --list-options are made of must agree with each other and the parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "options.h"

/* What F prints to a stream, as a malloc'ed string. */
static char *printed(void (*f)(FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	f(out);
	fclose(out);
	return text;
}

static void names_and_letters_are_unique(void **state)
{
	(void)state;
	for (int i = 0; i < OPTION_COUNT; i++) {
		const struct option_spec *a = &option_table[i];

		assert_non_null(a->name);
		for (int j = i + 1; j < OPTION_COUNT; j++) {
			assert_string_not_equal(a->name, option_table[j].name);
			if (a->letter)
				assert_int_not_equal(a->letter, option_table[j].letter);
		}
	}
}

/* A value has a name in --help exactly when the option takes one; the
 * completion's words go with the kinds that use them. */
static void values_are_described(void **state)
{
	(void)state;
	for (int id = 0; id < OPTION_COUNT; id++) {
		const struct option_spec *o = &option_table[id];

		if (o->value == VALUE_NONE)
			assert_null(o->metavar);
		else
			assert_non_null(o->metavar);
		if (o->value == VALUE_WORD || o->value == VALUE_SERVERS)
			assert_non_null(o->words);
		else
			assert_null(o->words);
	}
}

static void getopt_arrays(void **state)
{
	struct option longopts[OPTION_COUNT + 1];
	char shortopts[OPTIONS_SHORT_MAX];

	(void)state;
	options_getopt(longopts, shortopts);
	/* As cli.c had it by hand. */
	assert_string_equal(shortopts, ":p:w:a:tl:qvhV");
	for (int id = 0; id < OPTION_COUNT; id++) {
		assert_string_equal(longopts[id].name, option_table[id].name);
		assert_int_equal(longopts[id].has_arg, option_table[id].value == VALUE_NONE
							   ? no_argument
							   : required_argument);
		assert_null(longopts[id].flag);
		assert_int_equal(options_id_of(longopts[id].val), id);
	}
	assert_null(longopts[OPTION_COUNT].name);
	assert_int_equal(options_id_of('?'), -1);
	assert_int_equal(options_id_of(':'), -1);
	assert_int_equal(options_id_of(0), -1);
}

/* Each option's column, then its help lines at column 26; the first on a
 * line of its own when the column is too wide for two blanks after it. */
static void help_layout(void **state)
{
	char *text = printed(options_help);
	static char expected[8192];
	size_t n = 0;

	(void)state;
	for (int id = 0; id < OPTION_COUNT; id++) {
		const struct option_spec *o = &option_table[id];
		char column[64];
		char lines[512];

		if (o->help == NULL)
			continue;
		if (o->letter)
			snprintf(column, sizeof(column), "  -%c, --%s", o->letter, o->name);
		else
			snprintf(column, sizeof(column), "      --%s", o->name);
		if (o->metavar)
			snprintf(column + strlen(column), sizeof(column) - strlen(column), " %s",
				 o->metavar);
		snprintf(lines, sizeof(lines), "%s", o->help);
		if (strlen(column) > 24)
			n += (size_t)snprintf(expected + n, sizeof(expected) - n, "%s\n", column);
		else
			n += (size_t)snprintf(expected + n, sizeof(expected) - n, "%-26s", column);
		for (char *save, *l = strtok_r(lines, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			n += (size_t)snprintf(
			    expected + n, sizeof(expected) - n, "%s%s\n",
			    n > 0 && expected[n - 1] != '\n' ? "" : "                          ",
			    l);
			assert_true(n < sizeof(expected));
		}
	}
	assert_string_equal(text, expected);
	free(text);
}

/* The hidden option is in neither --help nor the list. */
static void list_options(void **state)
{
	char *text = printed(options_list);
	char *help = printed(options_help);
	int lines = 0;

	(void)state;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, OPTION_COUNT - 1);
	assert_null(strstr(text, "list-options"));
	assert_null(strstr(help, "list-options"));
	assert_non_null(strstr(text, "--pattern\t-p\tGLOB\tglob\t\n"));
	assert_non_null(strstr(text, "--dry\t\t\tnone\t\n"));
	assert_non_null(strstr(text, "--protocol\t\tP\tword\tauto meta text\n"));
	assert_non_null(strstr(text, "--idfa\t\tSERVERS\tservers\t127.0.0.1:33013\n"));
	free(text);
	free(help);
}

/* Completion offers only what the parser takes, and every protocol. */
static void words_parse(void **state)
{
	struct config cfg;
	char err[256];
	int seen[3] = {0};

	(void)state;
	for (int id = 0; id < OPTION_COUNT; id++) {
		const struct option_spec *o = &option_table[id];
		char words[128];

		if (o->words == NULL)
			continue;
		snprintf(words, sizeof(words), "%s", o->words);
		for (char *save, *w = strtok_r(words, " ", &save); w;
		     w = strtok_r(NULL, " ", &save)) {
			char name[64];
			char *argv[] = {(char *)"memc_load", name, w, NULL};

			snprintf(name, sizeof(name), "--%s", o->name);
			assert_int_equal(cli_parse(3, argv, &cfg, err, sizeof(err)), CLI_RUN);
			if (id == OPT_PROTOCOL)
				seen[cfg.protocol]++;
		}
	}
	assert_true(seen[PROTOCOL_AUTO] == 1 && seen[PROTOCOL_META] == 1 &&
		    seen[PROTOCOL_TEXT] == 1);
}

/* A servers option's word is its default. */
static void server_words_are_defaults(void **state)
{
	struct config cfg;
	char err[256];
	char *argv[] = {(char *)"memc_load", NULL};

	(void)state;
	assert_int_equal(cli_parse(1, argv, &cfg, err, sizeof(err)), CLI_RUN);
	for (int t = 0; t < DEV_TYPES; t++)
		assert_string_equal(option_table[OPT_IDFA + t].words, cfg.servers[t].spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names_and_letters_are_unique),
	    cmocka_unit_test(values_are_described),
	    cmocka_unit_test(getopt_arrays),
	    cmocka_unit_test(help_layout),
	    cmocka_unit_test(list_options),
	    cmocka_unit_test(words_parse),
	    cmocka_unit_test(server_words_are_defaults),
	};
	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
